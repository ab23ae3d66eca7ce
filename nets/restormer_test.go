package nets

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// restormerFixtureConfig reads the constructor kwargs of a Restormer
// fixture (Restormer, Restormer_EP, Restormer_AP).
func restormerFixtureConfig(t testing.TB, name string) RestormerConfig {
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
			DualPixelTask       bool    `json:"dual_pixel_task"`
			GlobalResidual      *bool   `json:"global_residual"`
		} `json:"kwargs"`
	}
	testutil.ModelJSON(t, name+".config.json", &f)
	k := f.Kwargs
	norm, err := blocks.ParseNormType(k.LayerNormType)
	require.NoError(t, err)
	return RestormerConfig{InChannels: k.InpChannels, OutChannels: k.OutChannels, Dim: k.Dim,
		Blocks: k.NumBlocks, RefinementBlocks: k.NumRefinementBlocks, Heads: k.Heads, FFNExpansion: k.FFN,
		Bias: k.Bias, Norm: norm, DualPixelTask: k.DualPixelTask,
		NoGlobalResidual: k.GlobalResidual != nil && !*k.GlobalResidual}
}

// loadRestormerFixture builds the plain fixture's configuration and loads
// the given section of its .pth strictly.
func loadRestormerFixture(t testing.TB, section string) *Restormer {
	t.Helper()
	n, err := NewRestormer(nil, restormerFixtureConfig(t, "Restormer"))
	require.NoError(t, err)
	ck, err := pth.Load(fixtures.Path(t, "models", "Restormer.pth"))
	require.NoError(t, err)
	sd, err := ck.StateDict(section)
	require.NoError(t, err)
	require.NoError(t, layers.LoadStateDict(n, sd, nil))
	return n
}

// restormerRun runs n on vals (shape) in an inference scope.
func restormerRun(t testing.TB, n *Restormer, vals []float32, shape []int64, hook Hook) ([]float32, []int64) {
	t.Helper()
	return testutil.Forward(t, vals, shape, func(x *torch.Tensor) *torch.Tensor { return n.Forward(x, hook) })
}

func TestRestormerPaperParamsAndKeys(t *testing.T) {
	n, err := NewRestormer(nil, RestormerConfig{})
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, int64(26_126_644), layers.NumParams(n))
	require.Equal(t, testutil.Keys(t, "Restormer.full.keys.json"), swinModuleKeys(n))
	require.Equal(t, int64(64), n.Config.Pad().Multiple)

	c := RestormerPaperConfig()
	require.Equal(t, RestormerConfig{InChannels: 3, OutChannels: 3, Dim: 48, Blocks: []int{4, 6, 6, 8},
		RefinementBlocks: 4, Heads: []int64{1, 2, 4, 8}, FFNExpansion: 2.66}, c)
	require.Equal(t, blocks.NormWithBias, c.Norm)
	m := n.Modulation()
	require.Equal(t, []string{"F_ext_net1", "F_ext_net2", "F_ext_net3", "F_ext_net4"}, m.Extractors)
	require.Equal(t, []ModulationPoint{
		{Name: "latent", Channels: 384, Extractor: 0, ScaleKey: "prompt_scale1", ShiftKey: "prompt_shift1"},
		{Name: "decoder_level3", Channels: 192, Extractor: 1, ScaleKey: "prompt_scale2", ShiftKey: "prompt_shift2"},
		{Name: "decoder_level2", Channels: 96, Extractor: 2, ScaleKey: "prompt_scale3", ShiftKey: "prompt_shift3"},
		{Name: "decoder_level1", Channels: 96, Extractor: 2, ScaleKey: "prompt_scale4", ShiftKey: "prompt_shift4"},
		{Name: "refinement", Channels: 96, Extractor: 2, ScaleKey: "prompt_scale5", ShiftKey: "prompt_shift5"},
		{Name: "out", Channels: 3, Extractor: 3, ScaleKey: "prompt_scaleout", ShiftKey: "prompt_shiftout"},
	}, m.Points)
}

func TestRestormerFixtureKeys(t *testing.T) {
	n, err := NewRestormer(nil, restormerFixtureConfig(t, "Restormer"))
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, testutil.Keys(t, "Restormer.keys.json"), swinModuleKeys(n))
	require.Equal(t, int64(56_085), layers.NumParams(n))
}

// TestRestormerPromptedBackboneKeys checks that the Restormer_EP /
// Restormer_AP checkpoints (fixture and paper configuration) are the prompt
// modules' keys followed by this backbone's keys: four extractors and one
// FC pair per modulation point, under the ScaleKey/ShiftKey that Modulation
// names, of shape (channels, 64).
func TestRestormerPromptedBackboneKeys(t *testing.T) {
	for _, tc := range []struct {
		file string
		cfg  func(t testing.TB) RestormerConfig
	}{
		{"Restormer_EP.keys.json", func(t testing.TB) RestormerConfig { return restormerFixtureConfig(t, "Restormer_EP") }},
		{"Restormer_AP.keys.json", func(t testing.TB) RestormerConfig { return restormerFixtureConfig(t, "Restormer_AP") }},
		{"Restormer_EP.full.keys.json", func(testing.TB) RestormerConfig { return RestormerPaperConfig() }},
		{"Restormer_AP.full.keys.json", func(testing.TB) RestormerConfig { return RestormerPaperConfig() }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			n, err := NewRestormer(nil, tc.cfg(t))
			require.NoError(t, err)
			defer n.Close()
			want := testutil.Keys(t, tc.file)
			prompt := map[string][]int64{}
			var backbone []testutil.Key
			for i, k := range want {
				if strings.HasPrefix(k.Name, "F_ext_net") || strings.HasPrefix(k.Name, "prompt_") {
					require.Empty(t, backbone, "prompt key %d (%s) after a backbone key", i, k.Name)
					prompt[k.Name] = k.Shape
					continue
				}
				backbone = append(backbone, k)
			}
			require.Equal(t, backbone, swinModuleKeys(n))
			m := n.Modulation()
			for _, e := range m.Extractors {
				require.Contains(t, prompt, e+".conv1.weight")
			}
			fc := 0
			for _, p := range m.Points {
				for _, key := range []string{p.ScaleKey, p.ShiftKey} {
					require.Equal(t, []int64{p.Channels, 64}, prompt[key+".weight"], key)
					require.Equal(t, []int64{p.Channels}, prompt[key+".bias"], key)
					fc += 2
				}
			}
			require.Len(t, prompt, fc+6*len(m.Extractors), "FC pairs plus three convolutions per extractor")
		})
	}
}

func TestRestormerParity(t *testing.T) {
	live := torch.LiveTensors()
	n := loadRestormerFixture(t, "params")
	in, inShape := testutil.ReadNpy(t, "Restormer.in.npy")
	want, wantShape := testutil.ReadNpy(t, "Restormer.out.npy")
	got, shape := restormerRun(t, n, in, inShape, nil)
	require.Equal(t, wantShape, shape)
	rel, maxAbs := testutil.RelL2(got, want)
	t.Logf("Restormer 64x64: relative L2 %.3g, max |diff| %.3g", rel, maxAbs)
	require.LessOrEqual(t, rel, 1e-5)
	require.Less(t, maxAbs, 1e-5)

	// The NCHW feature layout computes the same network.
	n.ChannelsFirst = true
	nchw, _ := restormerRun(t, n, in, inShape, nil)
	n.ChannelsFirst = false
	rel, maxAbs = testutil.RelL2(nchw, want)
	t.Logf("Restormer 64x64, NCHW features: relative L2 %.3g, max |diff| %.3g", rel, maxAbs)
	require.LessOrEqual(t, rel, 1e-5)

	// params_ema is a different network: manifest.json's
	// max_abs_diff_if_params_ema_loaded.
	ema := loadRestormerFixture(t, "params_ema")
	got2, _ := restormerRun(t, ema, in, inShape, nil)
	var d float64
	for i := range got {
		d = math.Max(d, math.Abs(float64(got2[i])-float64(got[i])))
	}
	require.InDelta(t, 0.012761592864990234, d, 1e-5)
	n.Close()
	ema.Close()
	require.Equal(t, live, torch.LiveTensors())
}

// TestRestormerPadsToEight checks that a size that is not a multiple of 8
// is reflect-padded and cropped, and equals padding by hand.
func TestRestormerPadsToEight(t *testing.T) {
	n := loadRestormerFixture(t, "params")
	defer n.Close()
	const h, w = 13, 21
	in := make([]float32, 3*h*w)
	for i := range in {
		in[i] = float32((i*37)%101) / 101
	}
	got, shape := restormerRun(t, n, in, []int64{1, 3, h, w}, nil)
	require.Equal(t, []int64{1, 3, h, w}, shape)
	want, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.FromSlice(s, in, 1, 3, h, w)
		require.NoError(t, err)
		p := x.Pad([]int64{0, 3, 0, 3}, torch.PadReflect, 0) // 16 x 24
		return n.Forward(p, nil).Narrow(2, 0, h).Narrow(3, 0, w).Contiguous()
	})
	require.NoError(t, err)
	defer want.Close()
	wv, err := torch.ToSlice[float32](want)
	require.NoError(t, err)
	require.Equal(t, wv, got)
}

// TestRestormerHook checks the modulation points: called in forward order
// with the documented channel counts and resolutions; an identity hook
// changes nothing; a hook on "out" acts before the input is added.
func TestRestormerHook(t *testing.T) {
	g, err := torch.NewGenerator(5)
	require.NoError(t, err)
	defer g.Close()
	n, err := NewRestormer(g, RestormerConfig{Dim: 4, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1})
	require.NoError(t, err)
	defer n.Close()
	const h, w = 16, 24
	in := make([]float32, 2*3*h*w)
	for i := range in {
		in[i] = float32((i*53)%97) / 97
	}
	shape := []int64{2, 3, h, w}
	plain, _ := restormerRun(t, n, in, shape, nil)

	var names []string
	var shapes [][]int64
	id := func(point string, f *torch.Tensor) *torch.Tensor {
		names = append(names, point)
		shapes = append(shapes, f.Shape())
		return f
	}
	got, _ := restormerRun(t, n, in, shape, id)
	require.Equal(t, plain, got)
	pts := n.Modulation().Points
	require.Len(t, names, len(pts))
	scale := []int64{8, 4, 2, 1, 1, 1}
	for i, p := range pts {
		require.Equal(t, p.Name, names[i])
		require.Equal(t, []int64{2, p.Channels, h / scale[i], w / scale[i]}, shapes[i], p.Name)
	}

	dbl := func(point string, f *torch.Tensor) *torch.Tensor {
		if point == RestormerOut {
			return f.MulScalar(2)
		}
		return f
	}
	got2, _ := restormerRun(t, n, in, shape, dbl)
	for i := range got2 {
		require.InDelta(t, 2*(plain[i]-in[i]), got2[i]-in[i], 1e-5)
	}
}

func TestRestormerConfigVariants(t *testing.T) {
	for _, c := range []RestormerConfig{
		{Blocks: []int{1, 1, 1}},
		{Heads: []int64{1, 2, 4}},
		{Dim: 6, Heads: []int64{4, 2, 4, 8}},
		{Blocks: []int{1, -1, 1, 1}},
		{Norm: blocks.NormType(7)},
		{DualPixelTask: true, NoGlobalResidual: true},
		{Dim: 5},
	} {
		_, err := NewRestormer(nil, c)
		require.Error(t, err, "%+v", c)
	}

	small := RestormerConfig{Dim: 4, Blocks: []int{1, 0, 1, 1}, RefinementBlocks: -1}
	g, err := torch.NewGenerator(2)
	require.NoError(t, err)
	defer g.Close()
	base, err := NewRestormer(g, small)
	require.NoError(t, err)
	defer base.Close()
	require.Empty(t, base.Encoder[1])
	require.Empty(t, base.Decoder[1])
	require.Empty(t, base.Refinement)

	// BiasFree drops the norms' biases; Bias adds the convolutions' biases
	// (reduce, output and every block convolution, not the embedding or
	// the resamplers, which the reference builds without); the dual-pixel
	// head adds skip_conv.
	bf := small
	bf.Norm = blocks.NormBiasFree
	nb, err := NewRestormer(nil, bf)
	require.NoError(t, err)
	defer nb.Close()
	var normBias int64
	for _, p := range layers.Params(base) {
		if strings.HasSuffix(p.Name, "body.bias") {
			normBias += p.Tensor().Numel()
		}
	}
	require.Positive(t, normBias)
	require.Equal(t, layers.NumParams(base)-normBias, layers.NumParams(nb))

	dp := small
	dp.DualPixelTask = true
	dp.InChannels = 6
	nd, err := NewRestormer(nil, dp)
	require.NoError(t, err)
	defer nd.Close()
	keys := map[string][]int64{}
	for _, k := range swinModuleKeys(nd) {
		keys[k.Name] = k.Shape
	}
	require.Equal(t, []int64{8, 4, 1, 1}, keys["skip_conv.weight"])
	require.Equal(t, []int64{4, 6, 3, 3}, keys["patch_embed.proj.weight"])
	var seen []string
	_, shape := restormerRun(t, nd, make([]float32, 6*8*8), []int64{1, 6, 8, 8}, func(p string, f *torch.Tensor) *torch.Tensor {
		seen = append(seen, p)
		return f
	})
	require.Equal(t, []int64{1, 3, 8, 8}, shape)
	require.NotContains(t, seen, RestormerOut)

	wb := small
	wb.Bias = true
	nw, err := NewRestormer(nil, wb)
	require.NoError(t, err)
	defer nw.Close()
	for _, p := range layers.Params(nw) {
		if strings.HasSuffix(p.Name, ".bias") && !strings.HasSuffix(p.Name, "body.bias") {
			require.NotContains(t, p.Name, "patch_embed")
			require.NotContains(t, p.Name, "body.0")
		}
	}
	_, ok := keys["output.bias"]
	require.False(t, ok)
	names := map[string]bool{}
	for _, p := range layers.Params(nw) {
		names[p.Name] = true
	}
	require.True(t, names["output.bias"])
	require.True(t, names["reduce_chan_level3.bias"])
	require.True(t, names["encoder_level1.0.attn.qkv.bias"])

	// Without the global residual, the output is the convolution alone:
	// the same weights (same seed) give base - input.
	ng := small
	ng.NoGlobalResidual = true
	g2, err := torch.NewGenerator(2)
	require.NoError(t, err)
	defer g2.Close()
	nn, err := NewRestormer(g2, ng)
	require.NoError(t, err)
	defer nn.Close()
	in := make([]float32, 3*8*16)
	for i := range in {
		in[i] = float32(i%7) / 7
	}
	withRes, _ := restormerRun(t, base, in, []int64{1, 3, 8, 16}, nil)
	noRes, _ := restormerRun(t, nn, in, []int64{1, 3, 8, 16}, nil)
	for i := range in {
		require.InDelta(t, withRes[i]-in[i], noRes[i], 1e-6)
	}
}

// TestRestormerBackward checks that a training step reaches every
// parameter.
func TestRestormerBackward(t *testing.T) {
	g, err := torch.NewGenerator(3)
	require.NoError(t, err)
	defer g.Close()
	n, err := NewRestormer(g, RestormerConfig{Dim: 4, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1})
	require.NoError(t, err)
	defer n.Close()
	require.NoError(t, layers.SetRequiresGrad(n, true))
	s := torch.NewScope(torch.Grad)
	defer s.Close()
	x, err := g.Rand(s, []int64{2, 3, 16, 16}, nil)
	require.NoError(t, err)
	loss := torch.L1Loss(n.Forward(x, nil), x.MulScalar(0.9))
	require.NoError(t, loss.Backward())
	require.NoError(t, s.Err())
	requireAllGrads(t, s, n)
}

func BenchmarkRestormerFixtureForward(b *testing.B) {
	n := loadRestormerFixture(b, "params")
	defer n.Close()
	in, shape := testutil.ReadNpy(b, "Restormer.in.npy")
	benchValues(b, n, in, shape)
}

// Exported for the external tests of restormer_prompt_test.go.
var (
	RestormerFixtureConfigForTest = restormerFixtureConfig
)

// TestRestormerForwardErrors checks that bad inputs give an error and leak
// nothing.
func TestRestormerForwardErrors(t *testing.T) {
	n, err := NewRestormer(nil, RestormerConfig{Dim: 4, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1})
	require.NoError(t, err)
	defer n.Close()
	before := torch.LiveTensors()
	for _, shape := range [][]int64{
		{1, 2, 16, 16}, // two channels for a three-channel network
		{1, 3, 3, 3},   // too small to reflect-pad to 8x8
		{3, 16, 16},    // no batch dimension
	} {
		_, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			x, err := torch.Zeros(s, shape, nil)
			require.NoError(t, err)
			return n.Forward(x, nil)
		})
		require.Error(t, err, "%v", shape)
	}
	require.Equal(t, before, torch.LiveTensors())
}
