package nets

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/promptirrule"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// promptIRFixtureConfig reads the effective kwargs of the PromptIR fixture.
func promptIRFixtureConfig(t testing.TB) PromptIRConfig {
	t.Helper()
	var f struct {
		Kwargs struct {
			InpChannels         int64   `json:"inp_channels"`
			OutChannels         int64   `json:"out_channels"`
			Dim                 int64   `json:"dim"`
			NumBlocks           []int   `json:"num_blocks"`
			NumRefinementBlocks int     `json:"num_refinement_blocks"`
			Heads               []int64 `json:"heads"`
			FFN                 float64 `json:"ffn_expansion_factor"`
			Bias                bool    `json:"bias"`
			LayerNormType       string  `json:"LayerNorm_type"`
			Decoder             bool    `json:"decoder"`
		} `json:"effective_kwargs"`
	}
	testutil.ModelJSON(t, "PromptIR.config.json", &f)
	k := f.Kwargs
	require.True(t, k.Decoder)
	norm, err := blocks.ParseNormType(k.LayerNormType)
	require.NoError(t, err)
	return PromptIRConfig{InChannels: k.InpChannels, OutChannels: k.OutChannels, Dim: k.Dim, Blocks: k.NumBlocks,
		RefinementBlocks: k.NumRefinementBlocks, Heads: k.Heads, FFNExpansion: k.FFN, Bias: k.Bias, Norm: norm}
}

// promptIRFixtureWeights computes the fixture's closed-form weights.
func promptIRFixtureWeights(t testing.TB) *host.StateDict {
	t.Helper()
	raw, err := os.ReadFile(fixtures.Path(t, "models", "PromptIR.weights_rule.json"))
	require.NoError(t, err)
	rule, err := promptirrule.Parse(raw)
	require.NoError(t, err)
	sd, err := rule.StateDict()
	require.NoError(t, err)
	return sd
}

// loadPromptIRFixture builds the fixture configuration and loads the
// closed-form weights strictly.
func loadPromptIRFixture(t testing.TB) *PromptIR {
	t.Helper()
	n, err := NewPromptIR(nil, promptIRFixtureConfig(t))
	require.NoError(t, err)
	require.NoError(t, layers.LoadStateDict(n, promptIRFixtureWeights(t), nil))
	return n
}

// promptIRRun runs n on vals (shape) in an inference scope.
func promptIRRun(t testing.TB, n Backbone, vals []float32, shape []int64) ([]float32, []int64) {
	t.Helper()
	return testutil.Forward(t, vals, shape, func(x *torch.Tensor) *torch.Tensor { return n.Forward(x, nil) })
}

func TestPromptIRPaperParamsAndKeys(t *testing.T) {
	n, err := NewPromptIR(nil, PromptIRConfig{})
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, int64(35_376_967), layers.NumParams(n))
	require.Equal(t, testutil.Keys(t, "PromptIR.full.keys.json"), swinModuleKeys(n))
	var prompts int64
	for _, p := range []*blocks.PromptGenBlock{n.Prompt1, n.Prompt2, n.Prompt3} {
		prompts += p.PromptParam.Numel()
	}
	require.Equal(t, int64(2_375_680), prompts)
	require.Empty(t, n.Modulation().Points)
	require.Equal(t, int64(64), n.Config.Pad().Multiple)

	c := PromptIRPaperConfig()
	require.Equal(t, int64(48), c.Dim)
	require.Equal(t, []int{4, 6, 6, 8}, c.Blocks)
	require.Equal(t, 4, c.RefinementBlocks)
	require.Equal(t, []int64{1, 2, 4, 8}, c.Heads)
	require.Equal(t, 2.66, c.FFNExpansion)
	require.False(t, c.Bias)
	require.Equal(t, blocks.NormWithBias, c.Norm)
	require.Equal(t, int64(4), c.NoiseHeads)
}

func TestPromptIRFixtureKeys(t *testing.T) {
	n, err := NewPromptIR(nil, promptIRFixtureConfig(t))
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, testutil.Keys(t, "PromptIR.keys.json"), swinModuleKeys(n))
	require.Equal(t, int64(16_259_522), layers.NumParams(n))
}

func TestPromptIRParity(t *testing.T) {
	n := loadPromptIRFixture(t)
	defer n.Close()
	in, inShape := testutil.ReadNpy(t, "PromptIR.in.npy")
	want, wantShape := testutil.ReadNpy(t, "PromptIR.out.npy")
	got, shape := promptIRRun(t, n, in, inShape)
	require.Equal(t, wantShape, shape)
	rel, maxAbs := testutil.RelL2(got, want)
	t.Logf("PromptIR 64x64: relative L2 %.3g, max |diff| %.3g", rel, maxAbs)
	require.LessOrEqual(t, rel, 1e-5)
	require.Less(t, maxAbs, 1e-5)
	// The network changes the image (out - in is up to 0.27 in the
	// fixture), so matching it is not matching the skip alone.
	_, moved := testutil.RelL2(in, want)
	require.Greater(t, moved, 0.2)
}

// TestPromptIRParityDevices runs the fixture on each device libtorch offers
// (the CPU, and the first CUDA GPU when there is one) in full float32 (TF32
// off) and compares with the reference output computed on the CPU.
func TestPromptIRParityDevices(t *testing.T) {
	tf32, err := torch.AllowTF32()
	require.NoError(t, err)
	require.NoError(t, torch.SetAllowTF32(torch.TF32{}))
	defer func() { require.NoError(t, torch.SetAllowTF32(tf32)) }()
	devs := []torch.Device{torch.CPU}
	if torch.CUDAAvailable() {
		devs = append(devs, torch.CUDA(0))
	}
	n := loadPromptIRFixture(t)
	defer n.Close()
	in, inShape := testutil.ReadNpy(t, "PromptIR.in.npy")
	want, _ := testutil.ReadNpy(t, "PromptIR.out.npy")
	for _, dev := range devs {
		require.NoError(t, layers.To(n, dev))
		out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			x, err := torch.FromSliceOn(s, dev, in, inShape...)
			require.NoError(t, err)
			y := n.Forward(x, nil)
			require.Equal(t, dev, y.Device())
			return y.ToDevice(torch.CPU)
		})
		require.NoError(t, err)
		got, err := torch.ToSlice[float32](out)
		out.Close()
		require.NoError(t, err)
		rel, maxAbs := testutil.RelL2(got, want)
		t.Logf("PromptIR on %s: rel L2 %.3g, max abs %.3g", dev, rel, maxAbs)
		require.LessOrEqual(t, rel, 1e-4)
	}
}

// TestPromptIRPads checks that sizes that are not multiples of 8 are
// reflect-padded to the next multiple of 8 and cropped, and that the
// reference test procedure (padding to Config.Pad, 64, before Forward)
// gives other values near the border.
func TestPromptIRPads(t *testing.T) {
	n := loadPromptIRFixture(t)
	defer n.Close()
	const h, w = 40, 70
	in := make([]float32, 3*h*w)
	for i := range in {
		in[i] = float32((i*37)%101) / 101
	}
	got, shape := promptIRRun(t, n, in, []int64{1, 3, h, w})
	require.Equal(t, []int64{1, 3, h, w}, shape)

	byHand := func(ph, pw int64) []float32 {
		out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			x, err := torch.FromSlice(s, in, 1, 3, h, w)
			require.NoError(t, err)
			p := x.Pad([]int64{0, pw, 0, ph}, torch.PadReflect, 0)
			require.Equal(t, []int64{1, 3, h + ph, w + pw}, p.Shape())
			return n.Forward(p, nil).Narrow(2, 0, h).Narrow(3, 0, w).Contiguous()
		})
		require.NoError(t, err)
		defer out.Close()
		v, err := torch.ToSlice[float32](out)
		require.NoError(t, err)
		return v
	}
	require.Equal(t, byHand(0, 2), got)
	m := n.Config.Pad().Multiple
	ref := byHand(m-h, 2*m-w)
	rel, _ := testutil.RelL2(got, ref)
	require.Greater(t, rel, 1e-6, "padding to 64 should change the values (global attention, prompt pooling)")
}

// TestPromptIRNeverCallsHook checks that the plain network has no
// modulation points.
func TestPromptIRNeverCallsHook(t *testing.T) {
	g, err := torch.NewGenerator(5)
	require.NoError(t, err)
	defer g.Close()
	n, err := NewPromptIR(g, PromptIRConfig{Dim: 8, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1,
		PromptDims: [3]int64{4, 8, 12}, PromptSizes: [3]int64{8, 4, 2}})
	require.NoError(t, err)
	defer n.Close()
	called := 0
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := g.Rand(s, []int64{2, 3, 64, 64}, nil)
		require.NoError(t, err)
		return n.Forward(x, func(string, *torch.Tensor) *torch.Tensor { called++; return nil })
	})
	require.NoError(t, err)
	out.Close()
	require.Zero(t, called)
}

// TestPromptIRSeededInit checks the seeded constructor: the same seed gives
// the same weights, and each tensor kind has the reference's distribution
// (prompts in [0, 1), norms and temperatures at one, norm biases zero,
// convolution weights within 1/sqrt(fan_in)).
func TestPromptIRSeededInit(t *testing.T) {
	cfg := PromptIRConfig{Dim: 8, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1,
		PromptDims: [3]int64{4, 8, 12}, PromptSizes: [3]int64{8, 4, 2}}
	build := func(seed uint64) *host.StateDict {
		g, err := torch.NewGenerator(seed)
		require.NoError(t, err)
		defer g.Close()
		n, err := NewPromptIR(g, cfg)
		require.NoError(t, err)
		defer n.Close()
		sd, err := layers.StateDict(n)
		require.NoError(t, err)
		return sd
	}
	a, b, c := build(1), build(1), build(2)
	require.Equal(t, a.Keys(), b.Keys())
	differ := 0
	for i, e := range a.Entries {
		require.True(t, host.Equal(e.Tensor, b.Entries[i].Tensor), e.Name)
		if !host.Equal(e.Tensor, c.Entries[i].Tensor) {
			differ++
		}
		v, err := e.Tensor.Float32s()
		require.NoError(t, err)
		name := e.Name
		switch {
		case strings.HasSuffix(name, "prompt_param"):
			for _, x := range v {
				require.True(t, x >= 0 && x < 1, name)
			}
		case strings.HasSuffix(name, ".temperature"), strings.HasSuffix(name, "body.weight"):
			for _, x := range v {
				require.Equal(t, float32(1), x, name)
			}
		case strings.HasSuffix(name, "body.bias"):
			require.Equal(t, make([]float32, len(v)), v, name)
		default:
			shape := e.Tensor.Shape
			fan := 1
			for _, d := range shape[1:] {
				fan *= d
			}
			if len(shape) == 1 { // a linear bias: the fan-in of its weight
				w, ok := a.Get(strings.TrimSuffix(name, "bias") + "weight")
				require.True(t, ok, name)
				fan = w.Shape[1]
			}
			bound := 1 / math.Sqrt(float64(fan))
			for _, x := range v {
				require.LessOrEqual(t, math.Abs(float64(x)), bound+1e-7, name)
			}
		}
	}
	// Every randomly drawn tensor differs between seeds; norms and
	// temperatures (constants) do not.
	require.Greater(t, differ, len(a.Entries)/2)
}

func TestPromptIRConfigErrors(t *testing.T) {
	for _, c := range []PromptIRConfig{
		{Blocks: []int{1, 1, 1}},
		{Heads: []int64{1, 2, 4}},
		{Dim: 10, Heads: []int64{1, 2, 4, 3}},
		{OutChannels: 1},
		{NoiseHeads: 7},
		{Blocks: []int{1, 0, 1, 1}},
	} {
		_, err := NewPromptIR(nil, c)
		require.Error(t, err, "%+v", c)
	}
}

// TestPromptIRFreesEverything checks that a forward pass and Close return
// every tensor.
func TestPromptIRFreesEverything(t *testing.T) {
	before := torch.LiveTensors()
	g, err := torch.NewGenerator(3)
	require.NoError(t, err)
	n, err := NewPromptIR(g, PromptIRConfig{Dim: 8, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1,
		PromptDims: [3]int64{4, 8, 12}, PromptSizes: [3]int64{8, 4, 2}})
	require.NoError(t, err)
	in := make([]float32, 3*40*48)
	promptIRRun(t, n, in, []int64{1, 3, 40, 48})
	promptIRRun(t, n, in, []int64{1, 3, 40, 48})
	n.Close()
	n.Close()
	g.Close()
	require.Equal(t, before, torch.LiveTensors())
}

// TestPromptIRBackward checks that a training step reaches every parameter
// (the prompt components included, through the weighted sum and the
// resize).
func TestPromptIRBackward(t *testing.T) {
	g, err := torch.NewGenerator(4)
	require.NoError(t, err)
	defer g.Close()
	n, err := NewPromptIR(g, PromptIRConfig{Dim: 8, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1,
		PromptDims: [3]int64{4, 8, 12}, PromptSizes: [3]int64{8, 4, 2}})
	require.NoError(t, err)
	defer n.Close()
	require.NoError(t, layers.SetRequiresGrad(n, true))
	s := torch.NewScope(torch.Grad)
	defer s.Close()
	x, err := g.Rand(s, []int64{2, 3, 64, 64}, nil)
	require.NoError(t, err)
	loss := torch.L1Loss(n.Forward(x, nil), x.MulScalar(0.5))
	require.NoError(t, loss.Backward())
	require.NoError(t, s.Err())
	requireAllGrads(t, s, n)
}

func BenchmarkPromptIRForward(b *testing.B) {
	n := loadPromptIRFixture(b)
	defer n.Close()
	in, shape := testutil.ReadNpy(b, "PromptIR.in.npy")
	benchValues(b, n, in, shape)
}

// BenchmarkPromptIRPaperForward256 runs the paper configuration (random
// weights) on a 256x256 image.
func BenchmarkPromptIRPaperForward256(b *testing.B) {
	if testing.Short() {
		b.Skip("paper-size PromptIR forward skipped under -short")
	}
	g, err := torch.NewGenerator(1)
	require.NoError(b, err)
	defer g.Close()
	n, err := NewPromptIR(g, PromptIRConfig{})
	require.NoError(b, err)
	defer n.Close()
	x, err := g.Rand(nil, []int64{1, 3, 256, 256}, nil)
	require.NoError(b, err)
	defer x.Close()
	in, err := torch.ToSlice[float32](x)
	require.NoError(b, err)
	benchValues(b, n, in, []int64{1, 3, 256, 256})
}
