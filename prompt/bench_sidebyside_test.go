package prompt_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/torch"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/prompt"
)

// sideBySideVariants are the paper configurations that
// scripts/bench_models.py times against its PyTorch restatements: a
// backbone, and for EP/AP the prompt modulator built first (the reference's
// construction order).
var sideBySideVariants = []struct {
	name  string
	kind  prompt.Kind // used only when prompted
	ep    bool
	build func(g *torch.Generator) (nets.Backbone, error)
}{
	{"SRResNet", 0, false, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewSRResNet(g, nets.SRResNetConfig{})
	}},
	{"SRResNet_EP", prompt.Explicit, true, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewSRResNet(g, nets.SRResNetConfig{Prompted: true})
	}},
	{"SRResNet_AP", prompt.Adaptive, false, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewSRResNet(g, nets.SRResNetConfig{Prompted: true})
	}},
	{"SwinIR", 0, false, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewSwinIR(g, nets.SwinIRConfig{})
	}},
	{"SwinIR_EP", prompt.Explicit, true, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewSwinIR(g, nets.SwinIRConfig{})
	}},
	{"SwinIR_AP", prompt.Adaptive, false, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewSwinIR(g, nets.SwinIRConfig{})
	}},
}

// BenchmarkSideBySide times one inference-mode forward pass of each paper
// configuration (seeded random weights) on a 1x3xSxS input, S = 128 and
// 256: plain net(x), EP net(x, map) with one 1x1x128x128 map, AP net(x, x).
// One untimed warm-up pass precedes the timed ones. Sub-benchmarks are
// named <variant>/<S>, e.g. -test.bench '^BenchmarkSideBySide$/^SwinIR$/^128$'.
// SwinIR at 256x256 takes about a minute per pass on two cores.
func BenchmarkSideBySide(b *testing.B) {
	if testing.Short() {
		b.Skip("paper-configuration forward passes skipped under -short")
	}
	for _, v := range sideBySideVariants {
		b.Run(v.name, func(b *testing.B) {
			for _, size := range []int64{128, 256} {
				b.Run(strconv.FormatInt(size, 10), func(b *testing.B) {
					benchSideBySide(b, v.name, v.kind, v.ep, v.build, size)
				})
			}
		})
	}
}

func benchSideBySide(b *testing.B, name string, kind prompt.Kind, ep bool,
	build func(g *torch.Generator) (nets.Backbone, error), size int64) {
	g, err := torch.NewGenerator(0)
	require.NoError(b, err)
	defer g.Close()
	net, err := build(g)
	require.NoError(b, err)
	defer net.Close()
	var mod *prompt.Modulator
	if name != "SRResNet" && name != "SwinIR" {
		mod, err = prompt.NewModulator(g, kind, net.Modulation())
		require.NoError(b, err)
		defer mod.Close()
	}
	x, err := g.Rand(nil, []int64{1, 3, size, size}, nil)
	require.NoError(b, err)
	defer x.Close()
	var pmap *torch.Tensor
	if ep {
		pmap, err = g.Rand(nil, []int64{1, 1, prompt.MapSize, prompt.MapSize}, nil)
		require.NoError(b, err)
		defer pmap.Close()
	}
	run := func() {
		out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			in := s.Use(x)
			var hook nets.Hook
			switch {
			case mod == nil:
			case ep:
				hook = mod.Hook(s.Use(pmap))
			default:
				hook = mod.Hook(in)
			}
			return net.Forward(in, hook)
		})
		require.NoError(b, err)
		out.Close()
	}
	run() // warm-up
	b.ResetTimer()
	for b.Loop() {
		run()
	}
}
