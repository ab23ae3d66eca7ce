// Command degrade synthesises MiOIR's single-degradation training or test
// pairs from a folder of clean images.
//
//	go run ./examples/degrade -in DIR -out DIR [-tasks sbnjrhd] [-preset indis|outdis|train] [-seed N] [-depth DIR]
//
// For every image in -in (PNG, JPEG, GIF, BMP, TIFF, WebP) it writes
// OUT/GT/<name>.png (cropped top-left to a multiple of 4, so that every
// pair aligns, including rain and haze which the reference crops) and
// OUT/<task>/<name>.png for each task (sr, blur, noise, jpeg, rain, haze,
// dark), plus OUT/manifest.json with the parameters drawn per image and
// the files that could not be read. Parameters are drawn by
// degrade.Sampler from (seed, task, file name), so a run repeated with the
// same seed writes identical files, whatever the number of workers.
//
// Other flags: -jpeg codec uses a real JPEG encoder (image/jpeg) instead of
// the reference's DiffJPEG model; -workers N sets the number of images
// processed concurrently (default: all CPUs); -q silences progress;
// -cpuprofile FILE writes a CPU profile. Progress is shown on a terminal.
//
// Every output file (the PNGs and the manifest) is written atomically: to a
// temporary file in the same folder, synced, then renamed over its name.
// After a crash an output is either absent, the previous run's, or
// complete, never truncated; a run that fails removes its temporary files.
//
// -depth DIR supplies haze depth maps as DIR/<stem>.npy (2-D float array)
// or DIR/<stem>.png (grey, larger = farther), either at quarter resolution
// (the reference layout) or at the cropped image size; without one the
// package's documented pseudo-depth is used.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	_ "image/gif"
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/examples/internal/cli"
	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/internal/npy"
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// imageResult is one image's entry in the manifest.
type imageResult struct {
	Name   string                    `json:"name"`
	Width  int                       `json:"width"`
	Height int                       `json:"height"`
	Depth  string                    `json:"depth,omitempty"`
	Params map[string]degrade.Params `json:"params"`
}

type badFile struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

type manifest struct {
	Preset        string         `json:"preset"`
	Seed          uint64         `json:"seed"`
	Tasks         string         `json:"tasks"`
	JPEGMode      string         `json:"jpeg_mode"`
	Images        []imageResult  `json:"images"`
	Skipped       []badFile      `json:"skipped"`
	Distributions degrade.Preset `json:"preset_distributions"`
}

func main() {
	in := flag.String("in", "", "folder of clean images (required)")
	out := flag.String("out", "", "output folder (required)")
	tasks := flag.String("tasks", "sbnjrhd", "tasks as one-letter codes (s b n j r h d) or comma-separated names")
	presetName := flag.String("preset", "indis", "parameter distributions: indis (= train) or outdis")
	seed := flag.Uint64("seed", 0, "global seed; the same seed gives identical outputs")
	depthDir := flag.String("depth", "", "optional folder of haze depth maps <stem>.npy or <stem>.png")
	jpegMode := flag.String("jpeg", "diff", "JPEG model: diff (the reference's DiffJPEG) or codec (a real encoder, image/jpeg)")
	workers := flag.Int("workers", runtime.NumCPU(), "images processed concurrently")
	quiet := flag.Bool("q", false, "no progress output")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	// Every operator allocates whole images; a larger GC target trades
	// some memory for far fewer collections.
	debug.SetGCPercent(400)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "degrade:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*in, *out, *tasks, *presetName, *seed, *depthDir, *jpegMode, *workers, !*quiet); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "degrade:", err)
		os.Exit(1)
	}
}

func run(in, out, taskList, presetName string, seed uint64, depthDir, jpegMode string, workers int, progress bool) error {
	if in == "" || out == "" {
		flag.Usage()
		return errors.New("-in and -out are required")
	}
	ts, err := degrade.ParseTasks(taskList)
	if err != nil {
		return err
	}
	preset, err := degrade.PresetByName(presetName)
	if err != nil {
		return err
	}
	switch jpegMode {
	case "diff":
	case "codec":
		preset.JPEGCodec = true
	default:
		return fmt.Errorf("-jpeg %q: want diff or codec", jpegMode)
	}
	entries, err := os.ReadDir(in)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return fmt.Errorf("no files in %s", in)
	}
	for _, d := range append([]string{"GT"}, taskNames(ts)...) {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	sampler := degrade.NewSampler(preset, seed)
	results := make([]*imageResult, len(names))
	failures := make([]error, len(names))
	var done atomic.Int64
	start := time.Now()
	isTTY := progress && cli.IsTerminal(os.Stderr)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(1, workers); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i], failures[i] = processOne(in, out, names[i], depthDir, ts, sampler)
				n := done.Add(1)
				if isTTY {
					el := time.Since(start).Seconds()
					fmt.Fprintf(os.Stderr, "\r[%d/%d] %.1f img/s  %-40.40s", n, len(names), float64(n)/el, names[i])
				}
			}
		}()
	}
	for i := range names {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if isTTY {
		fmt.Fprintln(os.Stderr)
	}
	m := manifest{Preset: preset.Name, Seed: seed, Tasks: degrade.TaskCodes(ts), JPEGMode: jpegMode,
		Images: []imageResult{}, Skipped: []badFile{}, Distributions: preset}
	for i, name := range names {
		if failures[i] != nil {
			m.Skipped = append(m.Skipped, badFile{name, failures[i].Error()})
			fmt.Fprintf(os.Stderr, "degrade: skipped %s: %v\n", name, failures[i])
			continue
		}
		m.Images = append(m.Images, *results[i])
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(out, "manifest.json"), append(data, '\n')); err != nil {
		return err
	}
	if progress {
		el := time.Since(start).Seconds()
		fmt.Fprintf(os.Stderr, "degrade: %d images (%d skipped) x %d tasks in %.2fs (%.2f images/s)\n",
			len(m.Images), len(m.Skipped), len(ts), el, float64(len(m.Images))/el)
	}
	if len(m.Images) == 0 {
		return errors.New("no image could be processed")
	}
	return nil
}

func taskNames(ts []degrade.Task) []string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Name()
	}
	return s
}

func stem(name string) string { return strings.TrimSuffix(name, filepath.Ext(name)) }

// processOne degrades one file into all tasks.
func processOne(in, out, name, depthDir string, ts []degrade.Task, s *degrade.Sampler) (*imageResult, error) {
	img, err := cli.DecodeImage(filepath.Join(in, name))
	if err != nil {
		return nil, err
	}
	gt := degrade.FromImage(img).CropMod(4)
	if err := gt.Validate(); err != nil {
		return nil, err
	}
	if gt.W < 4 || gt.H < 4 {
		return nil, fmt.Errorf("image %dx%d too small", gt.W, gt.H)
	}
	res := &imageResult{Name: name, Width: gt.W, Height: gt.H, Params: map[string]degrade.Params{}}
	var depth *degrade.DepthMap
	if depthDir != "" && slices.Contains(ts, degrade.Haze) {
		depth, res.Depth, err = loadDepth(depthDir, stem(name))
		if err != nil {
			return nil, err
		}
	}
	base := stem(name) + ".png"
	if err := writePNG(filepath.Join(out, "GT", base), gt); err != nil {
		return nil, err
	}
	key := degrade.Key(name)
	for _, t := range ts {
		lq, p, err := s.Degrade(gt, t, key, depth)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		if err := writePNG(filepath.Join(out, t.Name(), base), lq); err != nil {
			return nil, err
		}
		res.Params[t.Name()] = p
	}
	return res, nil
}

// loadDepth reads DIR/<stem>.npy or DIR/<stem>.png; a missing file means
// "use the pseudo-depth" (empty source).
func loadDepth(dir, st string) (*degrade.DepthMap, string, error) {
	p := filepath.Join(dir, st+".npy")
	if _, err := os.Stat(p); err == nil {
		t, err := npy.ReadFile(p)
		if err != nil {
			return nil, "", fmt.Errorf("depth %s: %w", p, err)
		}
		if len(t.Shape) != 2 {
			return nil, "", fmt.Errorf("depth %s: shape %v, want 2-D", p, t.Shape)
		}
		v, err := t.Float64s()
		if err != nil {
			return nil, "", fmt.Errorf("depth %s: %w", p, err)
		}
		return &degrade.DepthMap{W: t.Shape[1], H: t.Shape[0], D: v}, filepath.Base(p), nil
	}
	p = filepath.Join(dir, st+".png")
	f, err := os.Open(p)
	if err != nil {
		return nil, "", nil
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, "", fmt.Errorf("depth %s: %w", p, err)
	}
	b := img.Bounds()
	d := &degrade.DepthMap{W: b.Dx(), H: b.Dy(), D: make([]float64, b.Dx()*b.Dy())}
	for y := 0; y < d.H; y++ {
		for x := 0; x < d.W; x++ {
			r, _, _, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			d.D[y*d.W+x] = float64(r) / 65535
		}
	}
	return d, filepath.Base(p), nil
}
