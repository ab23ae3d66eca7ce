package train

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/prompt"
)

// benchCleanDir writes n w x h noisy RGB PNGs for the training benchmarks.
func benchCleanDir(b *testing.B, n, w, h int) string {
	dir := b.TempDir()
	for i := range n {
		r := rand.New(rand.NewPCG(uint64(i), 5))
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetNRGBA(x, y, color.NRGBA{uint8(x + r.IntN(40)), uint8(y + r.IntN(40)), uint8(x ^ y), 255})
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, m); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.png", i)), buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkTrainStep times one training iteration of the paper's
// SRResNet_EP (64 features, 16 blocks) at batch 4 x 128 x 128 with Adam
// (lr 2e-4, betas 0.9/0.99) and the EMA update: zero grad, forward with the
// task maps, L1, backward, step, EMA (what scripts/bench_models.py --mode
// train times in PyTorch, plus the EMA).
//
//   - step: the step alone on one prepared batch (no loader);
//   - loader/workers=N: a whole iteration with the data loader drawing the
//     batch (Clean source, all seven tasks, degradation on the fly) with N
//     workers preparing the next batches while the step runs. When this
//     equals step, the loader is not the bottleneck (architecture rule 10).
func BenchmarkTrainStep(b *testing.B) {
	if testing.Short() {
		b.Skip("paper-configuration training step skipped under -short")
	}
	dir := benchCleanDir(b, 8, 300, 300) // the reference's 300 x 300 sub-images
	src, err := data.Clean(dir, degrade.Train(), 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := curriculum.Mixed(degrade.AllTasks(), []int{1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	cfg := mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Prompted: true}, Prompt: prompt.Explicit}
	newTrainer := func(b *testing.B, workers int) (*mioir.Model, *Trainer) {
		m, err := mioir.New(cfg, 0)
		if err != nil {
			b.Fatal(err)
		}
		tr, err := NewTrainer(m, src, Config{Plan: plan, Batch: 4, Patch: 128, Seed: 1, Workers: workers,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			m.Close()
			b.Fatal(err)
		}
		if err := tr.newOptimizer(); err != nil {
			b.Fatal(err)
		}
		return m, tr
	}
	b.Run("step", func(b *testing.B) {
		m, tr := newTrainer(b, 1)
		defer m.Close()
		defer tr.Close()
		batch, err := tr.loader.Batch(1, degrade.AllTasks())
		if err != nil {
			b.Fatal(err)
		}
		one := func() {
			if _, _, err := tr.target.step(tr.opt, batch, nil); err != nil {
				b.Fatal(err)
			}
			if err := tr.emaUpdate(); err != nil {
				b.Fatal(err)
			}
		}
		one() // warm-up (optimiser state)
		b.ResetTimer()
		for b.Loop() {
			one()
		}
	})
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("loader/workers=%d", w), func(b *testing.B) {
			m, tr := newTrainer(b, w)
			defer m.Close()
			defer tr.Close()
			iter := 0
			one := func() {
				iter++
				batch, err := tr.loader.BatchContext(context.Background(), iter, degrade.AllTasks())
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := tr.target.step(tr.opt, batch, nil); err != nil {
					b.Fatal(err)
				}
				if err := tr.emaUpdate(); err != nil {
					b.Fatal(err)
				}
			}
			one()
			b.ResetTimer()
			for b.Loop() {
				one()
			}
		})
	}
}
