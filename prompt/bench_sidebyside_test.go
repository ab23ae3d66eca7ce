package prompt_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
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

// sideBySideDevice is the device the side-by-side benchmarks run on:
// MIOIR_BENCH_DEVICE (set by scripts/bench_models.py --device), "cpu" (the
// default), "cuda" or "cuda:N". The model is built on the CPU (seeded, as
// before) and then moved; the inputs are drawn on the CPU and moved, so they
// are the same numbers on every device.
func sideBySideDevice(b *testing.B) torch.Device {
	b.Helper()
	dev, err := torch.ParseDevice(os.Getenv("MIOIR_BENCH_DEVICE"))
	require.NoError(b, err, "MIOIR_BENCH_DEVICE")
	require.NoError(b, dev.Check(), "MIOIR_BENCH_DEVICE=%s", dev)
	return dev
}

// sideBySideSizes are the input sides of BenchmarkSideBySide: 128 and 256,
// or the comma-separated list in MIOIR_BENCH_SIZES (set by
// scripts/bench_models.py to the size it times, so that any --sizes works).
func sideBySideSizes(b *testing.B) []int64 {
	env := os.Getenv("MIOIR_BENCH_SIZES")
	if env == "" {
		return []int64{128, 256}
	}
	var sizes []int64
	for f := range strings.SplitSeq(env, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		require.NoError(b, err, "MIOIR_BENCH_SIZES")
		require.Positive(b, n, "MIOIR_BENCH_SIZES")
		sizes = append(sizes, n)
	}
	return sizes
}

// BenchmarkSideBySide times one inference-mode forward pass of each paper
// configuration on a 1x3xSxS input, S = 128 and 256 (or MIOIR_BENCH_SIZES):
// plain net(x), EP net(x, map) with one 1x1x128x128 map, AP net(x, x). One
// untimed warm-up pass precedes the timed ones. Sub-benchmarks are named
// <variant>/<S>, e.g. -test.bench '^BenchmarkSideBySide$/^SwinIR_EP$/^128$'.
// SwinIR at 256x256 takes about a minute per pass on two cores. With
// MIOIR_BENCH_DEVICE=cuda the model and inputs live on the GPU and every pass
// ends with a device synchronisation, so a pass's time is that of its
// completed GPU work.
func BenchmarkSideBySide(b *testing.B) {
	if testing.Short() {
		b.Skip("paper-configuration forward passes skipped under -short")
	}
	for _, v := range sideBySideVariants {
		b.Run(v.name, func(b *testing.B) {
			for _, size := range sideBySideSizes(b) {
				b.Run(strconv.FormatInt(size, 10), func(b *testing.B) {
					benchSideBySide(b, v.kind, v.prompted, v.build, size)
				})
			}
		})
	}
}

func benchSideBySide(b *testing.B, kind prompt.Kind, prompted bool,
	build func(g *torch.Generator) (nets.Backbone, error), size int64) {
	dev := sideBySideDevice(b)
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
	if dev != torch.CPU {
		require.NoError(b, layers.To(net, dev))
		if mod != nil {
			require.NoError(b, layers.To(mod, dev))
		}
	}
	on := &torch.Options{DType: torch.Float32, Device: dev}
	x, err := g.Rand(nil, []int64{1, 3, size, size}, on)
	require.NoError(b, err)
	defer x.Close()
	var pmap *torch.Tensor
	ep := prompted && kind == prompt.Explicit
	if ep {
		pmap, err = g.Rand(nil, []int64{1, 1, prompt.MapSize, prompt.MapSize}, on)
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
		require.NoError(b, torch.Synchronize(dev)) // the GPU's work is done (no-op on the CPU)
		out.Close()
	}
	run() // warm-up
	b.ResetTimer()
	for b.Loop() {
		run()
	}
}

// sideBySideTrain is the training setting of each backbone in the
// reference's timings (reference-speed.md): batch x crop, and the optimiser
// (lr 2e-4, betas 0.9/0.99; AdamW with its weight decay, or Adam).
var sideBySideTrain = map[string]struct {
	batch, crop int64
	adamW       bool
	decay       float64
}{
	"SRResNet":  {4, 64, false, 0},
	"SwinIR":    {1, 64, false, 0},
	"Restormer": {4, 64, true, 0},
	"Uformer":   {1, 128, true, 0.02},
	"PromptIR":  {4, 64, true, 0},
}

// BenchmarkSideBySideTrain times one training step of each paper
// configuration: zero grad, forward (stochastic depth on where the network
// has it), mean L1 loss against a random target, backward, optimiser step;
// no EMA. EP steps get one random 128x128 map per sample, AP steps the
// input. One untimed step precedes the timed ones (it also creates the
// optimiser state). Sub-benchmarks are named <variant>. Each runs on one
// locked OS thread, as mioir's Trainer.Run does. MIOIR_BENCH_DEVICE selects
// the device as for BenchmarkSideBySide; each step ends with a device
// synchronisation.
func BenchmarkSideBySideTrain(b *testing.B) {
	if testing.Short() {
		b.Skip("paper-configuration training steps skipped under -short")
	}
	for _, v := range sideBySideVariants {
		b.Run(v.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			dev := sideBySideDevice(b)
			backbone, _, _ := strings.Cut(v.name, "_")
			tr := sideBySideTrain[backbone]
			if c := os.Getenv("MIOIR_BENCH_TRAIN_CROP"); c != "" { // set by scripts/bench_models.py --train-crop
				n, err := strconv.ParseInt(c, 10, 64)
				require.NoError(b, err)
				tr.crop = n
			}
			g, err := torch.NewGenerator(0)
			require.NoError(b, err)
			defer g.Close()
			net, err := v.build(g)
			require.NoError(b, err)
			defer net.Close()
			if t, ok := net.(interface{ SetTraining(*torch.Generator) }); ok {
				t.SetTraining(g)
			}
			model := layers.Modules{net}
			var mod *prompt.Modulator
			if v.prompted {
				mod, err = prompt.NewModulator(g, v.kind, net.Modulation())
				require.NoError(b, err)
				defer mod.Close()
				model = layers.Modules{mod, net}
			}
			if dev != torch.CPU {
				require.NoError(b, layers.To(model, dev))
			}
			require.NoError(b, layers.SetRequiresGrad(model, true))
			opt, err := torch.NewAdam(layers.Parameters(model), &torch.AdamConfig{
				LR: 2e-4, Beta1: 0.9, Beta2: 0.99, WeightDecay: tr.decay, Decoupled: tr.adamW})
			require.NoError(b, err)
			defer opt.Close()
			on := &torch.Options{DType: torch.Float32, Device: dev}
			x, err := g.Rand(nil, []int64{tr.batch, 3, tr.crop, tr.crop}, on)
			require.NoError(b, err)
			defer x.Close()
			target, err := g.Rand(nil, []int64{tr.batch, 3, tr.crop, tr.crop}, on)
			require.NoError(b, err)
			defer target.Close()
			var pmap *torch.Tensor
			if v.prompted && v.kind == prompt.Explicit {
				pmap, err = g.Rand(nil, []int64{tr.batch, 1, prompt.MapSize, prompt.MapSize}, on)
				require.NoError(b, err)
				defer pmap.Close()
			}
			step := func() {
				s := torch.NewScope(torch.Grad)
				defer s.Close()
				require.NoError(b, opt.ZeroGrad())
				in := s.Use(x)
				var hook nets.Hook
				switch {
				case mod == nil:
				case pmap != nil:
					hook = mod.Hook(s.Use(pmap))
				default:
					hook = mod.Hook(in)
				}
				loss := torch.L1Loss(net.Forward(in, hook), s.Use(target))
				require.NoError(b, loss.Backward())
				require.NoError(b, s.Err())
				require.NoError(b, opt.Step())
				require.NoError(b, torch.Synchronize(dev)) // the GPU's work is done (no-op on the CPU)
			}
			step() // warm-up
			b.ResetTimer()
			for b.Loop() {
				step()
			}
		})
	}
}
