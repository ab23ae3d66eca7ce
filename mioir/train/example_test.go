package train_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/train"
	"github.com/gomioir/gomioir/nets"
)

// ExampleTrainer trains a small SRResNet sequentially on noise, then noise
// and low light, from clean images degraded on the fly; it writes the
// training state, the stages' model files and the history to a folder, and
// the final EMA weights load as a model.
func ExampleTrainer() {
	dir, err := os.MkdirTemp("", "train")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	clean := filepath.Join(dir, "clean")
	os.Mkdir(clean, 0o755)
	for i := range 2 {
		m := image.NewNRGBA(image.Rect(0, 0, 64, 64))
		for y := range 64 {
			for x := range 64 {
				m.Set(x, y, color.NRGBA{uint8(4*x + 40*i), uint8(4 * y), uint8(x ^ y), 255})
			}
		}
		f, _ := os.Create(filepath.Join(clean, fmt.Sprintf("%d.png", i)))
		png.Encode(f, m)
		f.Close()
	}
	src, err := data.Clean(clean, degrade.Train(), 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	// Two stages of 5 iterations: noise, then noise + dark.
	plan, err := curriculum.Sequential([]degrade.Task{degrade.Noise, degrade.LowLight}, 5, 1)
	if err != nil {
		log.Fatal(err)
	}
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 16, Blocks: 2}}, 1)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	out := filepath.Join(dir, "out")
	tr, err := train.NewTrainer(m, src, train.Config{
		Plan: plan, Batch: 2, Patch: 32, Seed: 1, Dir: out, LogEvery: 5,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), // or slog.Default()
	})
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, p := range tr.History().Loss {
		fmt.Println("iteration", p.Iter, "tasks logged", len(p.Tasks))
	}
	ema, err := mioir.Load(filepath.Join(out, train.LatestEMAModel))
	if err != nil {
		log.Fatal(err)
	}
	defer ema.Close()
	fmt.Println(ema.Config().Name(), "trained for", tr.Iter(), "iterations")
	// Output:
	// iteration 5 tasks logged 1
	// iteration 10 tasks logged 2
	// SRResNet trained for 10 iterations
}
