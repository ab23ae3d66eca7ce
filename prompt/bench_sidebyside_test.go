package prompt_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/torch"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/prompt"
)

type sideBySideVariant struct {
	name     string
	prompted bool
	kind     prompt.Kind // of a prompted variant
	build    func(g *torch.Generator) (nets.Backbone, error)
}

// sideBySideVariants are the paper configurations (seeded random weights)
// that scripts/bench_models.py times against its PyTorch restatements: each
// backbone alone and, where the reference has them, its EP and AP variants.
var sideBySideVariants = func() []sideBySideVariant {
	var vs []sideBySideVariant
	add := func(name string, prompts bool, build func(g *torch.Generator) (nets.Backbone, error)) {
		if !prompts {
			vs = append(vs, sideBySideVariant{name, false, 0, build})
			return
		}
		vs = append(vs, sideBySideVariant{name + "_EP", true, prompt.Explicit, build},
			sideBySideVariant{name + "_AP", true, prompt.Adaptive, build})
	}
	add("SRResNet", false, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewSRResNet(g, nets.SRResNetConfig{})
	})
	add("SRResNet", true, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewSRResNet(g, nets.SRResNetConfig{Prompted: true})
	})
	for _, p := range []bool{false, true} {
		add("SwinIR", p, func(g *torch.Generator) (nets.Backbone, error) {
			return nets.NewSwinIR(g, nets.SwinIRConfig{})
		})
		add("Restormer", p, func(g *torch.Generator) (nets.Backbone, error) {
			return nets.NewRestormer(g, nets.RestormerConfig{})
		})
		add("Uformer", p, func(g *torch.Generator) (nets.Backbone, error) {
			return nets.NewUformer(g, nets.UformerConfig{})
		})
	}
	add("PromptIR", false, func(g *torch.Generator) (nets.Backbone, error) {
		return nets.NewPromptIR(g, nets.PromptIRConfig{})
	})
	return vs
}()

// BenchmarkSideBySide times one inference-mode forward pass of each paper
// configuration on a 1x3xSxS input, S = 128 and 256: plain net(x), EP
// net(x, map) with one 1x1x128x128 map, AP net(x, x). One untimed warm-up
// pass precedes the timed ones. Sub-benchmarks are named <variant>/<S>, e.g.
// -test.bench '^BenchmarkSideBySide$/^SwinIR_EP$/^128$'. SwinIR at 256x256
// takes about a minute per pass on two cores.
func BenchmarkSideBySide(b *testing.B) {
	if testing.Short() {
		b.Skip("paper-configuration forward passes skipped under -short")
	}
	for _, v := range sideBySideVariants {
		b.Run(v.name, func(b *testing.B) {
			for _, size := range []int64{128, 256} {
				b.Run(strconv.FormatInt(size, 10), func(b *testing.B) {
					benchSideBySide(b, v.kind, v.prompted, v.build, size)
				})
			}
		})
	}
}

func benchSideBySide(b *testing.B, kind prompt.Kind, prompted bool,
	build func(g *torch.Generator) (nets.Backbone, error), size int64) {
	g, err := torch.NewGenerator(0)
	require.NoError(b, err)
	defer g.Close()
	net, err := build(g)
	require.NoError(b, err)
	defer net.Close()
	var mod *prompt.Modulator
	if prompted {
		mod, err = prompt.NewModulator(g, kind, net.Modulation())
		require.NoError(b, err)
		defer mod.Close()
	}
	x, err := g.Rand(nil, []int64{1, 3, size, size}, nil)
	require.NoError(b, err)
	defer x.Close()
	var pmap *torch.Tensor
	ep := prompted && kind == prompt.Explicit
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
