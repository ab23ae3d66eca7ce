package mioir

import (
	"context"
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
