// Command clsdata writes the task classifier's varied training set: crops of
// clean photos at several scales, each degraded by one of many
// implementations and parameter draws around the presets, in the paired
// layout (DST/GT and DST/{sr,blur,noise,jpeg,rain,haze,dark}) that
// examples/train -classifier reads.
//
// The bundled classifier used to learn from the library's own degradations
// only (DiffJPEG, one noise model, Gaussian blur) and took photos compressed
// by libjpeg for haze, rain or low light. Here every task draws from several
// implementations where they exist:
//
//	jpeg   libjpeg-turbo's cjpeg/djpeg (4:2:0, 4:2:2 or 4:4:4; integer or
//	       float DCT; smooth or replicated chroma), Go's image/jpeg and the
//	       library's DiffJPEG; quality 8-75
//	noise  Gaussian (sigma 5-70), grey grain, signal-dependent shot noise,
//	       the library's preset
//	blur   Gaussian (sigma 0.8-4.5), defocus disk (r 2-6), camera shake
//	       (length 5-15), the library's preset
//	sr     x3 or x4 down and up by the library (PyTorch's or MATLAB's
//	       bicubic) and by golang.org/x/image (Catmull-Rom, bilinear)
//	rain   the library's streaks, density 30-149
//	haze   the library's haze, beta 0.3-3, airlight 0.7-1
//	dark   gamma 1.3-4, exposure x0.12-0.6, or both
//
// A quarter of the crops of the other tasks are darkened first (x^u, u up to
// 2) and a tenth of all crops are made grey, so that neither a dark scene nor
// a grey one is evidence of low light or haze.
//
// The reference's classifier fine-tuned on two such sets is right more often
// on held-out photos but, under mioir.DefaultGuard, no better than the bundled
// one, which stays (README, "Automatic task choice"); the tool is kept to
// reproduce that measurement and for a classifier with more context.
//
//	go run ./scripts/default-model/clsdata -photos DIR -dst DIR [-per 8] [-crop 256] [-seed 1]
//	go run ./scripts/default-model/clsdata -export-bundled classifier.safetensors
package main

import (
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/image/draw"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/pretrained"
	"github.com/gomioir/gomioir/scripts/internal/outside"
)

func main() {
	photos := flag.String("photos", "", "folder of clean photos")
	dst := flag.String("dst", "", "output root (paired layout)")
	per := flag.Int("per", 8, "degraded crops per photo and task")
	crop := flag.Int("crop", 256, "side of the written crops")
	seed := flag.Uint64("seed", 1, "seed of every draw")
	export := flag.String("export-bundled", "", "write the bundled model's classifier to this file (a starting point for fine-tuning) and exit")
	flag.Parse()
	if err := run(*photos, *dst, *per, *crop, *seed, *export); err != nil {
		fmt.Fprintln(os.Stderr, "clsdata:", err)
		os.Exit(1)
	}
}

func run(photos, dst string, per, side int, seed uint64, export string) error {
	if export != "" {
		m, err := pretrained.Default()
		if err != nil {
			return err
		}
		defer m.Close()
		return mioir.SaveClassifier(export, m.Classifier(), nil)
	}
	if photos == "" || dst == "" {
		return fmt.Errorf("-photos and -dst are required")
	}
	if !outside.HaveLibJPEG() {
		return fmt.Errorf("cjpeg/djpeg not found (apt-get install libjpeg-turbo-progs)")
	}
	ents, err := os.ReadDir(photos)
	if err != nil {
		return err
	}
	type job struct {
		path string
		task degrade.Task
		v    int
	}
	var jobs []job
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		for _, t := range degrade.AllTasks() {
			for v := range per {
				jobs = append(jobs, job{filepath.Join(photos, e.Name()), t, v})
			}
		}
	}
	var (
		mu     sync.Mutex
		cache  = map[string]*degrade.Image{}
		manif  []string
		errs   []error
		next   = make(chan job)
		wg     sync.WaitGroup
		loaded = func(p string) (*degrade.Image, error) {
			mu.Lock()
			defer mu.Unlock()
			if m, ok := cache[p]; ok {
				return m, nil
			}
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			img, _, err := image.Decode(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			m := degrade.FromImage(img)
			cache[p] = m
			return m, nil
		}
	)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				clean, err := loaded(j.path)
				if err == nil {
					var line string
					line, err = one(clean, j.path, j.task, j.v, side, seed, dst)
					mu.Lock()
					manif = append(manif, line)
					mu.Unlock()
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s %v %d: %w", j.path, j.task, j.v, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	slices.Sort(manif)
	return os.WriteFile(filepath.Join(dst, "manifest.tsv"), []byte("file\tcase\n"+strings.Join(manif, "\n")+"\n"), 0o644)
}

// one writes one degraded crop and its clean crop; it returns the manifest line.
func one(clean *degrade.Image, path string, t degrade.Task, v, side int, seed uint64, dst string) (string, error) {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	key := degrade.Key(fmt.Sprintf("%s/%s/%d/%d", base, t, v, seed))
	rng := rand.New(rand.NewPCG(key, seed))
	gt := cropScaled(clean, side, rng)
	var notes []string
	if t != degrade.LowLight && rng.Float64() < 0.25 {
		u := 1 + rng.Float64()
		gt = outside.Pointwise(gt, func(x float64) float64 { return math.Pow(x, u) })
		notes = append(notes, fmt.Sprintf("darkened u%.2f", u))
	}
	if rng.Float64() < 0.1 {
		gt = grey(gt)
		notes = append(notes, "grey")
	}
	lq, what, err := degradeOne(gt, t, rng)
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s_%d.png", base, v)
	if t == degrade.Rain || t == degrade.Haze {
		// The library crops these to multiples of 4; side is one already.
		gt = gt.Crop(image.Rect(0, 0, lq.W, lq.H))
	}
	file := filepath.Join(t.Name(), base+"_"+t.Name()+name[len(base):])
	if err := outside.SavePNG(filepath.Join(dst, file), lq); err != nil {
		return "", err
	}
	if err := outside.SavePNG(filepath.Join(dst, "GT", filepath.Base(file)), gt); err != nil {
		return "", err
	}
	return file + "\t" + strings.Join(append([]string{what}, notes...), ", "), nil
}

// cropScaled takes a random square of side*s (s in [1, 2], within the photo)
// and shrinks it to side, so that the crops show the photos at several scales.
// Sides stay multiples of 4, as the library's rain and haze need.
func cropScaled(m *degrade.Image, side int, rng *rand.Rand) *degrade.Image {
	side = min(side, min(m.W, m.H)&^3) // a photo narrower than side (text.png): its height
	s := min(1+rng.Float64(), float64(min(m.W, m.H))/float64(side))
	n := max(side, int(float64(side)*s))
	x, y := rng.IntN(m.W-n+1), rng.IntN(m.H-n+1)
	c := m.Crop(image.Rect(x, y, x+n, y+n))
	if n == side {
		return c
	}
	return scale(c, side, side, draw.CatmullRom)
}

func scale(m *degrade.Image, w, h int, k draw.Interpolator) *degrade.Image {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	k.Scale(out, out.Bounds(), m.ToImage(), m.Bounds(), draw.Src, nil)
	return degrade.FromImage(out)
}

func grey(m *degrade.Image) *degrade.Image {
	n := m.W * m.H
	out := degrade.NewImage(m.W, m.H)
	for i := range n {
		y := 0.299*m.Pix[i] + 0.587*m.Pix[n+i] + 0.114*m.Pix[2*n+i]
		out.Pix[i], out.Pix[n+i], out.Pix[2*n+i] = y, y, y
	}
	return out.Quantize8()
}

// degradeOne draws an implementation and its parameters for task t.
func degradeOne(m *degrade.Image, t degrade.Task, rng *rand.Rand) (*degrade.Image, string, error) {
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	lib := func(p degrade.Preset) (*degrade.Image, string, error) {
		out, prm, err := degrade.NewSampler(p, rng.Uint64()).Degrade(m, t, rng.Uint64(), nil)
		return out, fmt.Sprintf("library %+v", prm), err
	}
	r := rng.Float64()
	switch t {
	case degrade.JPEG:
		q := 8 + rng.IntN(68)
		switch {
		case r < 0.2:
			p := degrade.Train()
			p.JPEGQuality = degrade.Range{Lo: 10, Hi: 70}
			return lib(p)
		case r < 0.4:
			out, err := outside.GoJPEG(m, q)
			return out, fmt.Sprintf("go-jpeg q%d", q), err
		default:
			o := outside.LibJPEGOptions{Sample: []string{"", "", "1x1", "2x1"}[rng.IntN(4)],
				FloatDCT: rng.Float64() < 0.3, NoSmooth: rng.Float64() < 0.3}
			out, err := outside.LibJPEG(m, q, o)
			return out, fmt.Sprintf("cjpeg q%d %+v", q, o), err
		}
	case degrade.Noise:
		switch {
		case r < 0.25:
			return lib(degrade.Train())
		case r < 0.6:
			s := u(5, 70)
			return outside.Noise(m, s, rng.Uint64()), fmt.Sprintf("gauss s%.1f", s), nil
		case r < 0.75:
			s := u(8, 40)
			return outside.LumaNoise(m, s, rng.Uint64()), fmt.Sprintf("luma s%.1f", s), nil
		default:
			a, b := u(0.001, 0.02), u(2, 10)
			return outside.ShotNoise(m, a, b, rng.Uint64()), fmt.Sprintf("shot a%.4f b%.1f", a, b), nil
		}
	case degrade.Blur:
		switch {
		case r < 0.3:
			return lib(degrade.Train())
		case r < 0.6:
			s := u(0.8, 4.5)
			return outside.Convolve(m, outside.GaussKernel(s)), fmt.Sprintf("gauss s%.2f", s), nil
		case r < 0.85:
			d := 2 + rng.IntN(5)
			return outside.Convolve(m, outside.DiskKernel(d)), fmt.Sprintf("defocus r%d", d), nil
		default:
			l, a := u(5, 15), u(0, math.Pi)
			return outside.Convolve(m, outside.MotionKernel(l, a)), fmt.Sprintf("motion l%.1f a%.2f", l, a), nil
		}
	case degrade.SR:
		f := 4
		if rng.Float64() < 0.3 {
			f = 3
		}
		switch {
		case r < 0.4:
			p := degrade.Train()
			if rng.Float64() < 0.5 {
				p.SRDown = degrade.DownMatlab
			}
			p.SRScale = f
			return lib(p)
		default:
			downs := []draw.Interpolator{draw.CatmullRom, draw.BiLinear, draw.ApproxBiLinear}
			ups := []draw.Interpolator{draw.CatmullRom, draw.BiLinear}
			di, ui := rng.IntN(len(downs)), rng.IntN(len(ups))
			small := scale(m, m.W/f, m.H/f, downs[di])
			return scale(small, m.W, m.H, ups[ui]), fmt.Sprintf("x/image x%d down%d up%d", f, di, ui), nil
		}
	case degrade.Rain:
		p := degrade.Train()
		p.RainValue = degrade.IntRange{Lo: 30, Hi: 149}
		return lib(p)
	case degrade.Haze:
		p := degrade.Train()
		p.HazeBeta = degrade.Range{Lo: 0.3, Hi: 3}
		p.HazeAirlight = degrade.Range{Lo: 0.7, Hi: 1}
		return lib(p)
	case degrade.LowLight:
		switch {
		case r < 0.4:
			g := u(1.3, 4)
			return outside.Pointwise(m, func(x float64) float64 { return math.Pow(x, g) }), fmt.Sprintf("gamma %.2f", g), nil
		case r < 0.7:
			e := u(0.12, 0.6)
			return outside.Pointwise(m, func(x float64) float64 { return e * x }), fmt.Sprintf("exposure x%.2f", e), nil
		default:
			g, e := u(1.2, 2.5), u(0.3, 0.8)
			return outside.Pointwise(m, func(x float64) float64 { return e * math.Pow(x, g) }), fmt.Sprintf("gamma %.2f exposure x%.2f", g, e), nil
		}
	}
	return nil, "", fmt.Errorf("task %v", t)
}
