// Command unet shows that a program outside the gomioir module gets the
// whole method from public packages only: it writes its own backbone (a
// small U-Net, unet.go) from nets/torch, nets/layers and nets/blocks,
// registers it with nets.Register, trains it with explicit prompts along a
// sequential curriculum on clean images degraded on the fly, saves it,
// loads it back and restores an image.
//
// It prints one "name value" line per figure, which the test in
// examples/external reads:
//
//	arch UNet_EP
//	params 197385
//	plan 50                 iterations the curriculum asks for
//	iterations 50           iterations trained
//	loss_first 0.158        the L1 loss of the first and the last iteration
//	loss_last 0.126
//	task dark
//	size 62 50
//	psnr_degraded 10.64     the test image before and after restoration (dB)
//	psnr_restored 13.76
//	max_abs_diff 0          in-memory model vs the loaded file, same input
//
// Run it with `go run .` in this folder; it takes a few seconds on two
// cores. With MIOIR_NUM_THREADS=1 (one libtorch thread per operation) the
// training step is deterministic and every run prints the same figures. The
// module replaces gomioir by the checkout three folders up.
package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/train"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// The curriculum: sequential, low light first, then low light and noise,
// 25 iterations per stage. A real recipe has stages of 100k iterations.
var order = []degrade.Task{degrade.LowLight, degrade.Noise}

const stageIters = 25

// The backbone is registered once, with its training recipe: Adam at 2e-3
// (a tiny network and a short run can take a large rate) down to 1e-4,
// stages of stageIters, the order above, one cycle in the final stage.
// mioir.New, mioir.Load and the trainer find it in the registry by name.
func init() {
	err := nets.Register(nets.Arch{Config: UNetConfig{}, Recipe: nets.Recipe{
		Optimizer: torch.AdamConfig{LR: 2e-3},
		EtaMin:    1e-4, Period: stageIters, Order: order, FinalCycles: 1,
	}})
	if err != nil {
		panic(err)
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "unet:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, logs io.Writer) error {
	dir, err := os.MkdirTemp("", "unet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// 1. Data: three clean "photos" to train on, a fourth to test on. The
	// loader cuts patches from the clean ones and degrades them on the fly
	// with the training preset, reproducibly from the seed.
	cleanDir := filepath.Join(dir, "clean")
	if err := os.Mkdir(cleanDir, 0o755); err != nil {
		return err
	}
	for i := range 3 {
		if err := writePNG(filepath.Join(cleanDir, fmt.Sprintf("%d.png", i)), photo(96, 96, i)); err != nil {
			return err
		}
	}
	src, err := data.Clean(cleanDir, degrade.Train(), 1, nil)
	if err != nil {
		return err
	}

	// 2. The model: the registered U-Net with explicit prompts (one learned
	// map per task, which the prompt extractor turns into the vectors that
	// modulate the backbone's two modulation points).
	m, err := mioir.New(mioir.Config{Arch: "UNet", Net: UNetConfig{Features: 16}, Prompt: prompt.Explicit}, 1)
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintln(out, "arch", m.Config().Name())
	fmt.Fprintln(out, "params", m.NumParams())

	// 3. Training along the recipe's sequential plan. The optimiser (Adam,
	// lr from the plan) comes from the recipe too.
	a, err := nets.Lookup("UNet")
	if err != nil {
		return err
	}
	plan, err := a.Recipe.Plan(true)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "plan", plan.TotalIters())
	var losses []float64
	tr, err := train.NewTrainer(m, src, train.Config{
		Plan: plan, Batch: 2, Patch: 32, Seed: 1,
		LogEvery: stageIters, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		OnProgress: func(p train.Progress) { losses = append(losses, p.Loss) },
	})
	if err != nil {
		return err
	}
	err = tr.Run(ctx)
	iters := tr.Iter()
	tr.Close() // frees the optimiser and the EMA; the model keeps its trained weights
	if err != nil {
		return err
	}
	if len(losses) == 0 {
		return errors.New("no iteration ran")
	}
	fmt.Fprintln(out, "iterations", iters)
	fmt.Fprintln(out, "loss_first", losses[0])
	fmt.Fprintln(out, "loss_last", losses[len(losses)-1])

	// 4. Save and load: the file holds the configuration (as JSON), the
	// weights, the prompt maps; Load rebuilds the U-Net through the registry.
	path := filepath.Join(dir, "unet.safetensors")
	if err := m.Save(path); err != nil {
		return err
	}
	loaded, err := mioir.Load(path)
	if err != nil {
		return err
	}
	defer loaded.Close()

	// 5. Restore a degraded image the network never saw. 62x50 is no
	// multiple of 4: Restore pads as UNetConfig.Pad says and crops back.
	task := degrade.LowLight
	clean := degrade.FromImage(photo(62, 50, 3))
	lq, _, err := degrade.NewSampler(degrade.Train(), 7).Degrade(clean, task, degrade.Key("test"), nil)
	if err != nil {
		return err
	}
	restored, info, err := loaded.Restore(ctx, lq.ToImage(), &mioir.Options{Task: task})
	if err != nil {
		return err
	}
	before, err := metrics.Measure(lq.ToImage(), clean.ToImage(), &metrics.Options{CropBorder: 4, PSNROnly: true})
	if err != nil {
		return err
	}
	after, err := metrics.Measure(restored, clean.ToImage(), &metrics.Options{CropBorder: 4, PSNROnly: true})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "task", info.Task)
	fmt.Fprintln(out, "size", restored.Bounds().Dx(), restored.Bounds().Dy())
	fmt.Fprintln(out, "psnr_degraded", before.PSNR)
	fmt.Fprintln(out, "psnr_restored", after.PSNR)

	// 6. The loaded model computes exactly what the trained one does: the
	// float outputs of both on the same input, before any 8-bit rounding.
	diff, err := maxAbsDiff(ctx, m, loaded, lq.ToImage(), task)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "max_abs_diff", diff)
	return nil
}

// maxAbsDiff restores img with both models and returns the largest
// absolute difference between their float outputs.
func maxAbsDiff(ctx context.Context, a, b *mioir.Model, img image.Image, task degrade.Task) (float64, error) {
	// An inference scope owns the input and the difference; the outputs of
	// RestoreTensor belong to the caller, so they are closed here.
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x, err := torch.FromImage(s, img, torch.CPU)
	if err != nil {
		return 0, err
	}
	ya, _, err := a.RestoreTensor(ctx, x, &mioir.Options{Task: task})
	if err != nil {
		return 0, err
	}
	defer ya.Close()
	yb, _, err := b.RestoreTensor(ctx, x, &mioir.Options{Task: task})
	if err != nil {
		return 0, err
	}
	defer yb.Close()
	d := s.Use(ya).Sub(yb).Abs().Amax(false)
	return d.Item() // the error of any step of the chain, if one failed
}

// photo draws a smooth synthetic picture: colour waves and a soft disc,
// different for every i, the kind of content a denoiser or a brightness
// correction can learn from a few patches.
func photo(w, h, i int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fi := float64(i)
	cx, cy := float64(w)*(0.3+0.15*fi), float64(h)*(0.6-0.1*fi)
	for y := range h {
		for x := range w {
			fx, fy := float64(x), float64(y)
			disc := math.Exp(-((fx-cx)*(fx-cx) + (fy-cy)*(fy-cy)) / 300)
			r := 0.5 + 0.35*math.Sin(fx/(9+fi)+fi) + 0.15*disc
			g := 0.5 + 0.35*math.Cos(fy/(11-fi)) - 0.1*disc
			b := 0.4 + 0.3*math.Sin((fx+fy)/(14+2*fi)) + 0.2*disc
			img.SetNRGBA(x, y, color.NRGBA{byte8(r), byte8(g), byte8(b), 255})
		}
	}
	return img
}

func byte8(v float64) uint8 { return uint8(math.Round(255 * min(max(v, 0), 1))) }

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
