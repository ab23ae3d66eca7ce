package prompt

import (
	"testing"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/stretchr/testify/require"
)

// benchVariant is one network of the BenchmarkForward family.
type benchVariant struct {
	name    string
	build   func(b *testing.B, g *torch.Generator) layers.Module
	forward func(m layers.Module, x *torch.Tensor, maps *Maps, s *torch.Scope) *torch.Tensor
}

var benchVariants = []benchVariant{
	{"SRResNet",
		func(b *testing.B, g *torch.Generator) layers.Module {
			n, err := nets.NewSRResNet(g, nets.SRResNetConfig{})
			require.NoError(b, err)
			return n
		},
		func(m layers.Module, x *torch.Tensor, _ *Maps, _ *torch.Scope) *torch.Tensor {
			return m.(*nets.SRResNet).Forward(x, nil)
		}},
	{"SRResNet_EP",
		func(b *testing.B, g *torch.Generator) layers.Module { return newSRPrompted(b, g, Explicit) },
		func(m layers.Module, x *torch.Tensor, maps *Maps, s *torch.Scope) *torch.Tensor {
			p, err := maps.Prompt(s, torch.CPU, degrade.Blur)
			if err != nil {
				panic(err)
			}
			return m.(*srPrompted).Forward(x, p)
		}},
	{"SRResNet_AP",
		func(b *testing.B, g *torch.Generator) layers.Module { return newSRPrompted(b, g, Adaptive) },
		func(m layers.Module, x *torch.Tensor, _ *Maps, _ *torch.Scope) *torch.Tensor {
			return m.(*srPrompted).Forward(x, x)
		}},
	{"Classifier",
		func(b *testing.B, g *torch.Generator) layers.Module {
			c, err := NewClassifier(g)
			require.NoError(b, err)
			return c
		},
		func(m layers.Module, x *torch.Tensor, _ *Maps, _ *torch.Scope) *torch.Tensor {
			return m.(*Classifier).Forward(x)
		}},
}

// BenchmarkForward times one 1x3x256x256 inference-mode forward pass of each
// variant (seeded weights; the EP prompt is one 128x128 map).
func BenchmarkForward(b *testing.B) {
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			g, err := torch.NewGenerator(0)
			require.NoError(b, err)
			defer g.Close()
			m := v.build(b, g)
			defer layers.Close(m)
			maps, err := NewMaps(g, MapSize)
			require.NoError(b, err)
			defer maps.Close()
			x, err := g.Rand(nil, []int64{1, 3, 256, 256}, nil)
			require.NoError(b, err)
			defer x.Close()
			run := func() {
				out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
					return v.forward(m, s.Use(x), maps, s)
				})
				require.NoError(b, err)
				out.Close()
			}
			run() // warm-up
			b.ResetTimer()
			for b.Loop() {
				run()
			}
		})
	}
}
