package mioir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// BenchmarkRestore measures Restore on a 256x256 image (image conversion,
// padding, prompt, forward pass and rounding included): SRResNet and its
// EP/AP variants in the paper configuration, SwinIR reduced as the fixture
// (embed 60, two RSTBs of two blocks) and the same with 128-pixel tiles.
func BenchmarkRestore(b *testing.B) {
	swin := nets.SwinIRConfig{EmbedDim: 60, Depths: []int{2, 2}, Heads: []int64{6, 6}, ImgSize: 16}
	for _, c := range []struct {
		name string
		cfg  Config
		o    *Options
	}{
		{"SRResNet", Config{Arch: "SRResNet"}, nil},
		{"SRResNet_EP", Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Prompted: true}, Prompt: prompt.Explicit},
			&Options{Task: degrade.Noise}},
		{"SRResNet_AP", Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Prompted: true}, Prompt: prompt.Adaptive}, nil},
		{"SwinIR_reduced", Config{Arch: "SwinIR", Net: swin}, nil},
		{"SwinIR_reduced_tiled128", Config{Arch: "SwinIR", Net: swin}, &Options{Tile: 128, Overlap: 16}},
	} {
		b.Run(c.name+"/256x256", func(b *testing.B) {
			m, err := New(c.cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			img := testImage(256, 256, 1)
			if _, _, err := m.Restore(context.Background(), img, c.o); err != nil { // warm-up (mask caches)
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := m.Restore(context.Background(), img, c.o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*256*256/1e6/b.Elapsed().Seconds(), "Mpx/s")
		})
	}
}

// BenchmarkRestoreOverhead compares, in one process, Restore of a 256x256
// image with the bare forward pass (Model.Forward on the float tensor) of
// the same SRResNet_AP, so that the cost of conversion, prompt precompute,
// padding and rounding shows apart from machine load.
func BenchmarkRestoreOverhead(b *testing.B) {
	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Prompted: true}, Prompt: prompt.Adaptive}, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	img := testImage(256, 256, 1)
	b.Run("Restore", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := m.Restore(context.Background(), img, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Forward", func(b *testing.B) {
		for b.Loop() {
			y, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
				x, err := torch.FromImage(s, img, torch.CPU)
				if err != nil {
					b.Fatal(err)
				}
				y, err := m.Forward(x, nil)
				if err != nil {
					b.Fatal(err)
				}
				return y
			})
			if err != nil {
				b.Fatal(err)
			}
			y.Close()
		}
	})
}

// BenchmarkRestoreLarge restores a 1536x1536 image with the paper's
// SRResNet_EP: with the default memory budget (the tiles it picks), in one
// pass (no budget) and in 512-pixel tiles, reporting the counted peak of
// CPU tensor storage.
func BenchmarkRestoreLarge(b *testing.B) {
	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Prompted: true}, Prompt: prompt.Explicit}, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x := randInput(b, s, 1536, 1536, 1)
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"budget=default", Options{}},
		{"budget=none", Options{MemoryBudget: -1}},
		{"tile=512", Options{Tile: 512}},
	} {
		b.Run(c.name, func(b *testing.B) {
			o := c.o
			o.Task = degrade.Noise
			var peak int64
			for range b.N {
				p, err := torch.PeakDuring(func() error {
					y, _, err := m.RestoreTensor(context.Background(), x, &o)
					if err == nil {
						y.Close()
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, p)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}

// BenchmarkGuardTraces measures the guard's traces on 8-bit images:
// signs and rainStreaks read at most 16 tiles of 256 pixels, so any photo
// from 1024x1024 on costs the same; toneCurve reads every value, then
// compares the histogram with every curve of its grid. MeasureTraces takes
// them all, with the dark channel and brightness: what a guard with a
// trace model (the default) measures once per image.
func BenchmarkGuardTraces(b *testing.B) {
	toneCurve := func(x *torch.Tensor) error {
		v, err := toneCurveTrace(x)
		if err == nil && v == 0 {
			err = errors.New("the 8-bit input read 0: nothing was compared")
		}
		return err
	}
	for _, c := range []struct {
		name string
		h, w int64
		fn   func(*torch.Tensor) error
	}{
		{"signs", 1024, 1024, func(x *torch.Tensor) error { _, err := measureSigns(x); return err }},
		{"rainStreaks", 1024, 1024, func(x *torch.Tensor) error { _, err := rainStreaks(x); return err }},
		{"toneCurve", 1024, 1024, toneCurve},
		{"toneCurve", 3024, 4032, toneCurve},
		{"darkChannel", 3024, 4032, func(x *torch.Tensor) error { _, err := darkChannel(x); return err }},
		{"MeasureTraces", 3024, 4032, func(x *torch.Tensor) error { _, err := MeasureTraces(x); return err }},
	} {
		b.Run(fmt.Sprintf("%s/%dx%d", c.name, c.w, c.h), func(b *testing.B) {
			s := torch.NewScope(torch.Inference)
			defer s.Close()
			x := randInput(b, s, c.h, c.w, 3).MulScalar(255).Round().DivScalar(255)
			for b.Loop() {
				if err := c.fn(x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStrength measures what a StrengthModel adds to a restoration of
// a 12-megapixel photo: the statistics of input and output (one pass over
// both, 8-bit histograms for the percentiles) and the blend.
func BenchmarkStrength(b *testing.B) {
	const w, h = 4032, 3024
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	in, err := torch.ToSlice[float32](randInput(b, s, h, w, 1))
	if err != nil {
		b.Fatal(err)
	}
	out, err := torch.ToSlice[float32](randInput(b, s, h, w, 2))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("stats", func(b *testing.B) {
		for b.Loop() {
			measureStrengthStats(in, out, w, h)
		}
	})
	b.Run("blend", func(b *testing.B) {
		dst := slices.Clone(out)
		for b.Loop() {
			blend(in, dst, 0.8)
		}
	})
}
