// Command baselines measures classical restoration methods on the held-out
// table's inputs: every photo of -clean degraded with the In-Dis preset for
// seeds -seed .. -seed+seeds-1, exactly as
//
//	go run ./examples/evaluate -clean DIR -seed 1 -seeds 20
//
// draws them (eval.CleanTestSetsDraws, the In-Dis sets only), restored by one
// classical method per task where a common one exists, and measured as
// mioir/eval measures a model (metrics.Measure: RGB, crop border 4, BasicSR's
// PSNR and SSIM on 8-bit images; a cell is the mean over images).
//
//	go run ./scripts/baselines -clean DIR [-seed 1] [-seeds 20] [-tasks sbnjrhd]
//		[-ssim=true] [-images FILE.csv] [-keep DIR] [-python /usr/bin/python3]
//
// The Go side degrades the photos (and checks, for blur, noise, JPEG and low
// light, that the parameters it hands to the methods re-create the degraded
// image exactly), writes the degraded images as PNG with a JSON list of their
// drawn parameters, runs classical.py (next to this file; OpenCV and NumPy,
// Debian's python3-opencv, one thread) on them one task at a time, and reads
// the outputs back. The methods and their parameters:
//
//   - SR: none beyond bicubic, which the degraded input already is (the x4
//     bicubic down-and-up image); its cell repeats the input.
//   - Blur: Richardson-Lucy deconvolution with the drawn Gaussian kernel
//     (kernel size and sigma of the draw: an oracle kernel, which a user
//     lacks), reflect-101 borders as the degradation's, 200 iterations
//     starting from the blurred image (OpenCV separable filtering; the
//     update is scikit-image's richardson_lucy, which starts from 0.5 and
//     pads with zeros; given the same start and a reflect-101 padded
//     image, it gave the same 8-bit output on a test image).
//   - Noise: OpenCV's fastNlMeansDenoisingColored with h = hColor = 0.6 x
//     sigma, sigma the drawn noise level on the 0..255 scale (an oracle
//     sigma; a user would estimate it), 7x7 patches, 21x21 search window.
//   - JPEG: a light bilateral filter (OpenCV's bilateralFilter, 5x5 window,
//     sigmaColor 30, sigmaSpace 2). Common tools package no deblocking that
//     knows the 8x8 grid; non-local means with a small h only lowers PSNR.
//   - Rain: no classical deraining is packaged in common tools; the main row
//     leaves the cell empty. A separate row gives a 13x13 median filter as a
//     stand-in: it removes streaks by removing detail too.
//   - Haze: the dark channel prior (He, Sun and Tang 2009): 15x15 patches,
//     omega 0.95, t0 0.1, atmospheric light the brightest input pixel among
//     the 0.1 % of highest dark channel, transmission refined by a guided
//     filter (radius 60, eps 1e-3, grey guide; box means over the window
//     clipped to the image).
//   - Low light: CLAHE on the L channel of Lab (OpenCV's createCLAHE, clip
//     limit 2, 8x8 tiles), the better-known method, in the main row, and a
//     global gamma that maps the image's mean (all RGB values in [0,1]) to
//     0.5, x^(log 0.5 / log mean), in a row of its own.
//
// The free constants (NLM's 0.6, RL's 200 iterations, the bilateral's sigmas,
// the median's size) were chosen by calibrate.py on two of the default
// model's training photos (scikit-image's astronaut and chelsea, seeds 1-5),
// not on the held-out photos; the other constants are the methods' published
// or documented defaults.
//
// Output (stdout): a PSNR table in the README's layout (degraded input, the
// classical method of each task, the gain; alternative methods as extra
// rows), SSIM rows with -ssim, per-photo gains, and the methods' mean time
// per image. Progress goes to stderr. The Go side uses -procs cores
// (default 1), classical.py one thread.
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir/eval"
)

// method is one classical method: its key in classical.py, its row name
// and task, and whether it is its task's main row.
type method struct {
	key, row string
	task     degrade.Task
	main     bool
}

var methods = []method{
	{"rl", "Richardson-Lucy, oracle kernel, 200 it.", degrade.Blur, true},
	{"nlm", "OpenCV NLM, h = hColor = 0.6 sigma (oracle sigma)", degrade.Noise, true},
	{"bilateral", "bilateral 5x5, sigmaColor 30, sigmaSpace 2", degrade.JPEG, true},
	{"median", "rain stand-in: median 13x13", degrade.Rain, false},
	{"dcp", "dark channel prior + guided filter", degrade.Haze, true},
	{"clahe", "CLAHE on L of Lab (clip 2, 8x8 tiles)", degrade.LowLight, true},
	{"gamma-mean", "global gamma, mean to 0.5", degrade.LowLight, false},
}

// record is one degraded image as classical.py reads it.
type record struct {
	File   string         `json:"file"`
	Task   string         `json:"task"`
	Params degrade.Params `json:"params"`
	Kernel []float32      `json:"kernel,omitempty"` // blur: the 1-D Gaussian taps
}

// result is one image's measurement for one row ("input" or a method key).
type result struct {
	task    degrade.Task
	photo   string
	seed    uint64
	row     string
	r       metrics.Result
	seconds float64 // method time (0 for the input)
	pixels  int
}

type flags struct {
	clean, tasks, python, script, keep, images string
	seed                                       uint64
	seeds, procs                               int
	ssim, quiet                                bool
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "baselines:", err)
		os.Exit(1)
	}
}

func defaultPython() string {
	// Debian's python3-opencv lives in the system interpreter, which a
	// pyenv or venv python3 on PATH would hide.
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

func defaultScript() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("scripts", "baselines", "classical.py")
	}
	return filepath.Join(filepath.Dir(file), "classical.py")
}

func run(args []string, stdout, stderr io.Writer) error {
	f := &flags{}
	fs := flag.NewFlagSet("baselines", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.clean, "clean", "", "folder of clean photos (required)")
	fs.Uint64Var(&f.seed, "seed", 1, "first seed of the degradations")
	fs.IntVar(&f.seeds, "seeds", 20, "number of seeds (draws per photo)")
	fs.StringVar(&f.tasks, "tasks", "", "task codes, e.g. bnhd (default all seven)")
	fs.BoolVar(&f.ssim, "ssim", true, "measure SSIM too")
	fs.StringVar(&f.images, "images", "", "write per-image results to this CSV file")
	fs.StringVar(&f.keep, "keep", "", "keep the degraded images, parameters and outputs in this folder (default: a removed temporary folder)")
	fs.StringVar(&f.python, "python", defaultPython(), "Python interpreter with cv2 and numpy")
	fs.StringVar(&f.script, "script", defaultScript(), "classical.py")
	fs.IntVar(&f.procs, "procs", 1, "GOMAXPROCS of the Go side (degrading, measuring)")
	fs.BoolVar(&f.quiet, "q", false, "no progress output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case f.clean == "":
		fs.Usage()
		return errors.New("-clean is required")
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case f.seeds < 1 || f.seeds > 1000:
		return errors.New("-seeds must be in [1, 1000]")
	case f.procs < 1:
		return errors.New("-procs must be at least 1")
	}
	runtime.GOMAXPROCS(f.procs)
	var tasks []degrade.Task
	if f.tasks != "" {
		var err error
		if tasks, err = degrade.ParseTasks(f.tasks); err != nil {
			return err
		}
	}
	sets, err := eval.CleanTestSetsDraws(f.clean, f.seed, f.seeds, tasks)
	if err != nil {
		return err
	}
	sets = slices.DeleteFunc(sets, func(s eval.Set) bool { return s.Group != metrics.InDis })

	work := f.keep
	if work == "" {
		if work, err = os.MkdirTemp("", "baselines-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	mopts := metrics.DefaultOptions()
	mopts.PSNROnly = !f.ssim
	var results []result
	start := time.Now()
	for _, s := range sets {
		rs, err := runSet(f, s, work, &mopts, stderr)
		if err != nil {
			return fmt.Errorf("set %s: %w", s.Name, err)
		}
		results = append(results, rs...)
		if f.keep == "" {
			os.RemoveAll(filepath.Join(work, s.Name))
		}
	}
	if !f.quiet {
		fmt.Fprintf(stderr, "done in %s\n", time.Since(start).Round(time.Second))
	}
	if f.images != "" {
		if err := writeCSV(f.images, results); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "In-Dis, seeds %d-%d, photos of %s; PSNR dB (RGB, crop 4), mean over images:\n\n", f.seed, f.seed+uint64(f.seeds)-1, f.clean)
	fmt.Fprint(stdout, table(results, sets, false))
	if f.ssim {
		fmt.Fprint(stdout, "\nSSIM (RGB, crop 4):\n\n")
		fmt.Fprint(stdout, table(results, sets, true))
	}
	fmt.Fprint(stdout, "\nGain of each method (PSNR dB) per photo:\n\n")
	fmt.Fprint(stdout, perPhoto(results))
	fmt.Fprint(stdout, "\nTime per image (classical.py, one thread, reading and writing excluded):\n\n")
	fmt.Fprint(stdout, timings(results))
	return nil
}

// splitName returns the photo and seed of a pair named "PHOTO@seedS" (or
// "PHOTO" with one draw, seed def).
func splitName(name string, def uint64) (string, uint64, error) {
	i := strings.LastIndex(name, "@seed")
	if i < 0 {
		return name, def, nil
	}
	s, err := strconv.ParseUint(name[i+len("@seed"):], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("pair %q: %w", name, err)
	}
	return name[:i], s, nil
}

// runSet degrades the images of one set, restores them with classical.py and
// measures the input and every output.
func runSet(f *flags, s eval.Set, work string, mo *metrics.Options, stderr io.Writer) ([]result, error) {
	in, out := filepath.Join(work, s.Name, "in"), filepath.Join(work, s.Name, "out")
	if err := os.MkdirAll(in, 0o755); err != nil {
		return nil, err
	}
	gts := map[string]*metrics.RGB8{} // per photo: the same crop for every seed
	var recs []record
	var res []result
	pixels := map[string]int{}
	for i, p := range s.Pairs {
		if !f.quiet {
			fmt.Fprintf(stderr, "\r[%s %d/%d] degrading %s        ", s.Name, i+1, len(s.Pairs), p.Name)
		}
		photo, seed, err := splitName(p.Name, f.seed)
		if err != nil {
			return nil, err
		}
		lq, gt, err := p.Load()
		if err != nil {
			return nil, err
		}
		params, err := degrade.NewSampler(degrade.InDis(), seed).Draw(s.Task, degrade.Key(photo))
		if err != nil {
			return nil, err
		}
		rec := record{File: fmt.Sprintf("%s@seed%d.png", photo, seed), Task: s.Task.Name(), Params: params}
		if s.Task == degrade.Blur {
			if rec.Kernel, err = degrade.GaussianKernel1D(params.KernelSize, params.BlurSigma); err != nil {
				return nil, err
			}
		}
		switch s.Task {
		case degrade.Blur, degrade.Noise, degrade.JPEG, degrade.LowLight:
			// These keep the size, so gt is the clean photo: the
			// parameters must re-create the input exactly.
			again, err := degrade.Apply(gt, params, nil)
			if err != nil {
				return nil, err
			}
			if !bytes.Equal(again.ToImage().Pix, lq.ToImage().Pix) {
				return nil, fmt.Errorf("%s: the drawn parameters %+v do not re-create the degraded image", p.Name, params)
			}
		}
		ref := gts[photo]
		if ref == nil {
			if ref, err = metrics.ToRGB8(gt.ToImage()); err != nil {
				return nil, err
			}
			gts[photo] = ref
		}
		lqi := lq.ToImage()
		r, err := metrics.Measure(lqi, ref, mo)
		if err != nil {
			return nil, err
		}
		res = append(res, result{task: s.Task, photo: photo, seed: seed, row: "input", r: r, pixels: lq.W * lq.H})
		pixels[rec.File] = lq.W * lq.H
		if err := writePNG(filepath.Join(in, rec.File), lqi); err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	var mine []method
	for _, m := range methods {
		if m.task == s.Task {
			mine = append(mine, m)
		}
	}
	pj := filepath.Join(work, s.Name, "params.json")
	b, err := json.MarshalIndent(recs, "", " ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(pj, b, 0o644); err != nil {
		return nil, err
	}
	if len(mine) == 0 {
		if !f.quiet {
			fmt.Fprintf(stderr, "\r[%s] no classical method%40s\n", s.Name, "")
		}
		return res, nil
	}
	if !f.quiet {
		fmt.Fprintf(stderr, "\r[%s] classical.py on %d images%40s\n", s.Name, len(recs), "")
	}
	cmd := exec.Command(f.python, f.script, in, out, pj)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", f.python, f.script, err)
	}
	var times map[string]map[string]float64
	tb, err := os.ReadFile(filepath.Join(out, "times.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(tb, &times); err != nil {
		return nil, err
	}
	for _, m := range mine {
		for _, rec := range recs {
			photo, seed, err := splitName(strings.TrimSuffix(rec.File, ".png"), f.seed)
			if err != nil {
				return nil, err
			}
			img, err := readPNG(filepath.Join(out, m.key, rec.File))
			if err != nil {
				return nil, err
			}
			r, err := metrics.Measure(img, gts[photo], mo)
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", m.key, rec.File, err)
			}
			res = append(res, result{task: s.Task, photo: photo, seed: seed, row: m.key, r: r,
				seconds: times[m.key][rec.File], pixels: pixels[rec.File]})
		}
	}
	return res, nil
}

func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func readPNG(path string) (image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// columns are the README table's columns.
var columns = []struct {
	task  degrade.Task
	label string
}{
	{degrade.SR, "SR"}, {degrade.Blur, "Blur"}, {degrade.Noise, "Noise"}, {degrade.JPEG, "JPEG"},
	{degrade.Rain, "Rain"}, {degrade.Haze, "Haze"}, {degrade.LowLight, "Low light"},
}

// mean returns the mean PSNR (or SSIM) of row on task over images, and
// whether there was any.
func mean(rs []result, row string, t degrade.Task, photo string, ssim bool) (float64, bool) {
	var sum float64
	n := 0
	for _, r := range rs {
		if r.row == row && r.task == t && (photo == "" || r.photo == photo) {
			if ssim {
				sum += r.r.SSIM
			} else {
				sum += r.r.PSNR
			}
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

func table(rs []result, sets []eval.Set, ssim bool) string {
	present := map[degrade.Task]bool{}
	for _, s := range sets {
		present[s.Task] = true
	}
	dec := 2
	if ssim {
		dec = 4
	}
	fmtv := func(v float64) string { return strconv.FormatFloat(v, 'f', dec, 64) }
	fmtg := func(v float64) string {
		s := fmtv(v)
		if v >= 0 {
			s = "+" + s
		}
		return s
	}
	var b strings.Builder
	b.WriteString("| |")
	for _, c := range columns {
		b.WriteString(" " + c.label + " |")
	}
	b.WriteString("\n|---|")
	for range columns {
		b.WriteString("---:|")
	}
	b.WriteString("\n| degraded input |")
	for _, c := range columns {
		v, ok := mean(rs, "input", c.task, "", ssim)
		if ok {
			b.WriteString(" " + fmtv(v) + " |")
		} else {
			b.WriteString(" |")
		}
	}
	// The main row: one method per task (SR: bicubic, the input itself).
	row := func(name string, pick func(degrade.Task) (method, bool), sr bool) {
		var vals, gains []string
		any := false
		for _, c := range columns {
			in, ok := mean(rs, "input", c.task, "", ssim)
			if !ok || !present[c.task] {
				vals, gains = append(vals, ""), append(gains, "")
				continue
			}
			if c.task == degrade.SR && sr {
				vals, gains = append(vals, fmtv(in)+" (bicubic = input)"), append(gains, fmtg(0))
				continue
			}
			m, ok := pick(c.task)
			var v float64
			if ok {
				v, ok = mean(rs, m.key, c.task, "", ssim)
			}
			if !ok {
				vals, gains = append(vals, "—"), append(gains, "")
				continue
			}
			any = true
			vals, gains = append(vals, fmtv(v)), append(gains, fmtg(v-in))
		}
		if !any {
			return
		}
		b.WriteString("\n| " + name + " |")
		for _, v := range vals {
			b.WriteString(" " + v + " |")
		}
		b.WriteString("\n| gain |")
		for _, g := range gains {
			b.WriteString(" " + g + " |")
		}
	}
	row("classical method, task given", func(t degrade.Task) (method, bool) {
		for _, m := range methods {
			if m.task == t && m.main {
				return m, true
			}
		}
		return method{}, false
	}, true)
	for _, m := range methods {
		if m.main {
			continue
		}
		row(m.row, func(t degrade.Task) (method, bool) {
			if t == m.task {
				return m, true
			}
			return method{}, false
		}, false)
	}
	b.WriteString("\n")
	if ssim {
		return b.String()
	}
	b.WriteString("\nMethods: ")
	var names []string
	for _, m := range methods {
		names = append(names, m.task.Name()+": "+m.row)
	}
	b.WriteString(strings.Join(names, "; ") + ".\n")
	return b.String()
}

// perPhoto is a table of each method's mean gain per photo.
func perPhoto(rs []result) string {
	var photos []string
	for _, r := range rs {
		if !slices.Contains(photos, r.photo) {
			photos = append(photos, r.photo)
		}
	}
	slices.Sort(photos)
	var b strings.Builder
	b.WriteString("| method | task |")
	for _, p := range photos {
		b.WriteString(" " + p + " |")
	}
	b.WriteString("\n|---|---|")
	for range photos {
		b.WriteString("---:|")
	}
	for _, m := range methods {
		line := "\n| " + m.key + " | " + m.task.Name() + " |"
		any := false
		for _, p := range photos {
			in, ok1 := mean(rs, "input", m.task, p, false)
			v, ok2 := mean(rs, m.key, m.task, p, false)
			if ok1 && ok2 {
				line += fmt.Sprintf(" %.2f → %.2f (%+.2f) |", in, v, v-in)
				any = true
			} else {
				line += " |"
			}
		}
		if any {
			b.WriteString(line)
		}
	}
	b.WriteString("\n")
	return b.String()
}

func timings(rs []result) string {
	var b strings.Builder
	b.WriteString("| method | images | mean s/image | mean s/megapixel | total s |\n|---|---:|---:|---:|---:|\n")
	for _, m := range methods {
		var sec, mp float64
		n := 0
		for _, r := range rs {
			if r.row == m.key {
				sec += r.seconds
				mp += float64(r.pixels) / 1e6
				n++
			}
		}
		if n == 0 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %d | %.3f | %.3f | %.1f |\n", m.key, n, sec/float64(n), sec/mp, sec)
	}
	return b.String()
}

func writeCSV(path string, rs []result) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"task", "photo", "seed", "row", "psnr", "ssim", "seconds", "pixels"})
	for _, r := range rs {
		w.Write([]string{r.task.Name(), r.photo, strconv.FormatUint(r.seed, 10), r.row,
			strconv.FormatFloat(r.r.PSNR, 'f', -1, 64), strconv.FormatFloat(r.r.SSIM, 'f', -1, 64),
			strconv.FormatFloat(r.seconds, 'f', 6, 64), strconv.Itoa(r.pixels)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
