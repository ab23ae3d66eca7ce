// Command peakrss restores one image and prints the time, the process's
// peak resident memory, the CPU time split into user and system (page
// faults show as system time) and the backbone's arithmetic rate against
// this machine's measured peak (a float32 matrix product). Run one
// configuration per process so each peak is its own:
//
//	go run ./scripts/peakrss -arch Restormer -size 1024 -tile 512      # paper configuration, random weights
//	go run ./scripts/peakrss -model bundled:default -in photo.jpg       # default options: the memory budget picks tiles
//	go run ./scripts/peakrss -model bundled:default -in photo.jpg -budget -1   # the whole image in one pass
//	go run ./scripts/peakrss -arch SwinIR -size 2048 -max-tiles 2      # stop after two tiles; estimate the rest
//	go run ./scripts/peakrss -in src.jpg -make photo.jpg                # build the README's 12 MP test photo
//
// -make builds the noisy 12-megapixel photo the README's "Real photos"
// figures are measured on, from any source photo: its centre 4:3 crop,
// bicubic to 4032x3024, Gaussian noise of sigma 15 (seed 1), JPEG quality
// 92. The README's source is picosdeeuropa_by_Aitzol_Berasategi.jpg of
// Debian's lomiri-wallpapers-16.04 as the package has it (3264x2448), one
// of the photos scripts/default-model/photos.sh holds out of training.
//
// -max-tiles bounds a run that would take hours: every tile has the same
// size (edge tiles are shifted inward, not cut), so the peak of the first
// tiles is the run's peak up to the final stitching, and the time per tile
// gives an estimate of the whole.
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"log"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/imagefile"
	_ "github.com/gomioir/gomioir/mioir/pretrained" // bundled:default
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

func main() {
	arch := flag.String("arch", "Restormer", "registered backbone (SRResNet, SwinIR, Restormer, Uformer, PromptIR) of a paper-configuration model")
	kind := flag.String("prompt", "none", "prompt kind of the paper-configuration model: none, ep or ap")
	model := flag.String("model", "", "a model to open instead (a file, or bundled:default)")
	in := flag.String("in", "", "an image file to restore (default: a synthetic -size square)")
	size := flag.Int("size", 1024, "side of the synthetic image")
	tile := flag.Int("tile", 0, "tile side (0: chosen from the memory budget)")
	budget := flag.Int64("budget", 0, "memory budget in bytes (0: mioir.DefaultMemoryBudget(); -1: none)")
	auto := flag.Bool("auto", false, "let the classifier choose the task (default: noise)")
	maxTiles := flag.Int("max-tiles", 0, "stop after this many tiles and estimate the full time (0: run to the end)")
	mk := flag.String("make", "", "write the 12-megapixel test photo built from -in to this file and exit")
	cache := flag.Int64("cache", -1, "bytes of freed CPU tensor storage kept for reuse (torch.SetCPUCacheLimit; -1: the default)")
	flag.Parse()
	log.SetFlags(0)
	if *cache >= 0 {
		torch.SetCPUCacheLimit(*cache)
	}

	if *mk != "" {
		if *in == "" {
			log.Fatal("peakrss: -make needs a source photo (-in)")
		}
		if err := makePhoto(*in, *mk); err != nil {
			log.Fatal(err)
		}
		return
	}

	var m *mioir.Model
	var err error
	if *model != "" {
		m, err = mioir.Open(*model, nil)
	} else {
		k, perr := mioir.ParsePromptKind(*kind)
		if err = perr; err == nil {
			m, err = mioir.New(mioir.Config{Arch: *arch, Prompt: k}, 1)
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	var img image.Image
	if *in != "" {
		f, err := imagefile.Read(*in, nil)
		if err != nil {
			log.Fatal(err)
		}
		if img, err = f.Image(); err != nil {
			log.Fatal(err)
		}
	} else {
		g := image.NewNRGBA(image.Rect(0, 0, *size, *size))
		for y := range *size {
			for x := range *size {
				g.SetNRGBA(x, y, color.NRGBA{uint8(x ^ y), uint8(x * 3), uint8(y * 5), 255})
			}
		}
		img = g
	}
	peak := peakGFLOPs()
	o := &mioir.Options{Task: degrade.Noise, Tile: *tile, MemoryBudget: *budget}
	if *auto {
		o.Task, o.Auto = 0, true
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var done, total int
	var firstTile time.Duration
	start := time.Now()
	if *maxTiles > 0 {
		o.Progress = func(d, t int) {
			done, total = d, t
			if d == 1 {
				firstTile = time.Since(start)
			}
			if d >= *maxTiles && d < t {
				cancel()
			}
		}
	}
	_, info, err := m.Restore(ctx, img, o)
	el := time.Since(start).Seconds()
	stopped := err != nil && ctx.Err() != nil
	if err != nil && !stopped {
		log.Fatal(err)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	usage := fmt.Sprintf("peak RSS %.2f GiB, CPU user %.1f s system %.1f s", float64(ru.Maxrss)/(1<<20), tv(ru.Utime), tv(ru.Stime))
	b := img.Bounds()
	px := float64(b.Dx() * b.Dy())
	name := m.Config().Name()
	if *model != "" {
		name = *model + " (" + name + ")"
	}
	if stopped {
		per := el // one tile: its time
		if done > 1 {
			per = (el - firstTile.Seconds()) / float64(done-1)
		}
		fmt.Printf("%s %dx%d: stopped after %d of %d tiles in %.1f s (first tile %.1f s, then %.1f s per tile; all %d tiles: about %.0f s), %s\n",
			name, b.Dx(), b.Dy(), done, total, el, firstTile.Seconds(), per, total, firstTile.Seconds()+per*float64(total-1), usage)
		return
	}
	fmt.Printf("%s %dx%d task %v strength %.3f tile %d (%d tiles, %d retries): %.1f s, %s\n",
		name, b.Dx(), b.Dy(), info.Task, info.Strength, info.Tile, info.Tiles, info.Retries, el, usage)
	if fb := info.Fallback; fb != nil && fb.Use != 0 {
		fmt.Printf("the guard used %v instead of the classifier's %v: %s\n", fb.Use, fb.Chosen, fb.Reason)
	} else if fb != nil {
		fmt.Printf("the guard refused the classifier's %v: %s\n", fb.Chosen, fb.Reason)
	}
	if f := convFLOPsPerPixel(m); f > 0 && info.Tiles > 0 {
		rate := f * px / el / 1e9
		fmt.Printf("backbone convolutions: %.1f GFLOP per megapixel, %.1f GFLOP/s over the whole restoration; measured float32 peak %.1f GFLOP/s (%.0f %%)\n",
			f*1e6/1e9, rate, peak, 100*rate/peak)
	} else {
		fmt.Printf("measured float32 peak %.1f GFLOP/s\n", peak)
	}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// convFLOPsPerPixel counts 2 x the weights of every 2-d convolution of the
// backbone: the multiply-adds per output pixel of a network whose
// convolutions all run at the input's resolution (SRResNet); 0 for others.
func convFLOPsPerPixel(m *mioir.Model) float64 {
	if !strings.HasPrefix(m.Config().Arch, "SRResNet") {
		return 0
	}
	var n int64
	for _, p := range layers.Params(m.Backbone()) {
		if t := *p.Ref; !p.Buffer && strings.HasSuffix(p.Name, ".weight") && len(t.Shape()) == 4 {
			n += t.Numel()
		}
	}
	return 2 * float64(n)
}

// peakGFLOPs is this machine's measured float32 peak: the best of 10 runs
// of a 2048 x 2048 matrix product and of a 64-to-64-channel 3x3
// convolution on 256 x 256 and on 512 x 512 pixels, the kernels a
// restoration spends its time in. Each run's result is freed before the
// next, so that, as in a network's forward pass, the runs reuse memory
// instead of timing the page faults of fresh allocations.
func peakGFLOPs() float64 {
	// One OS thread, as Restore runs on: one OpenMP team.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	g, err := torch.NewGenerator(1)
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	rand := func(shape ...int64) *torch.Tensor {
		t, err := g.Rand(s, shape, nil)
		if err != nil {
			log.Fatal(err)
		}
		return t
	}
	a, w := rand(2048, 2048), rand(64, 64, 3, 3)
	type kernel struct {
		flops float64
		run   func(c *torch.Scope) *torch.Tensor
	}
	kernels := []kernel{{2 * 2048 * 2048 * 2048, func(c *torch.Scope) *torch.Tensor { return c.Use(a).Matmul(c.Use(a)) }}}
	for _, side := range []int64{256, 512} {
		x := rand(1, 64, side, side)
		kernels = append(kernels, kernel{float64(2 * 64 * 64 * 9 * side * side), func(c *torch.Scope) *torch.Tensor {
			return c.Use(x).Conv2d(c.Use(w), nil, &torch.ConvOptions{Padding: [2]int64{1, 1}})
		}})
	}
	best := 0.0
	for _, k := range kernels {
		for range 10 {
			c := s.Child(torch.Inference)
			t := time.Now()
			if err := k.run(c).Err(); err != nil {
				log.Fatal(err)
			}
			best = max(best, k.flops/time.Since(t).Seconds()/1e9)
			c.Close()
		}
	}
	return best
}

// makePhoto writes the 12-megapixel test photo built from the photo at src
// to dst (see the package comment).
func makePhoto(src, dst string) error {
	f, err := imagefile.Read(src, nil)
	if err != nil {
		return err
	}
	im, err := degrade.FromCHW(f.Width, f.Height, f.Pix)
	if err != nil {
		return err
	}
	w, h := im.W, im.W*3/4
	if h > im.H {
		w, h = im.H*4/3, im.H
	}
	x0, y0 := (im.W-w)/2, (im.H-h)/2
	big, err := degrade.ResizeBicubic(im.Crop(image.Rect(x0, y0, x0+w, y0+h)), 4032, 3024)
	if err != nil {
		return err
	}
	noisy, err := degrade.GaussianNoise(big, 15, 1)
	if err != nil {
		return err
	}
	if err := imagefile.Write(dst, imagefile.FromImage(noisy.ToImage()), &imagefile.Options{Quality: 92}); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %dx%d centre of %s (%dx%d), bicubic to 4032x3024, noise sigma 15, JPEG quality 92\n",
		dst, w, h, src, im.W, im.H)
	return nil
}
