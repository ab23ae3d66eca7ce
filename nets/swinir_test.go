package nets

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// swinModuleKeys lists m's tensors as fixture rows.
func swinModuleKeys(m layers.Module) []testutil.Key {
	var keys []testutil.Key
	for _, p := range layers.Params(m) {
		keys = append(keys, testutil.Key{Name: p.Name, Shape: p.Tensor().Shape(), DType: p.Tensor().DType().String()})
	}
	return keys
}

// swinFixtureConfig reads the constructor kwargs of a SwinIR fixture.
func swinFixtureConfig(t testing.TB, name string) SwinIRConfig {
	t.Helper()
	var f struct {
		Kwargs struct {
			Upscale        int     `json:"upscale"`
			InChans        int64   `json:"in_chans"`
			ImgSize        int64   `json:"img_size"`
			WindowSize     int64   `json:"window_size"`
			ImgRange       float64 `json:"img_range"`
			Depths         []int   `json:"depths"`
			EmbedDim       int64   `json:"embed_dim"`
			NumHeads       []int64 `json:"num_heads"`
			MLPRatio       float64 `json:"mlp_ratio"`
			Upsampler      string  `json:"upsampler"`
			ResiConnection string  `json:"resi_connection"`
		} `json:"kwargs"`
	}
	testutil.ModelJSON(t, name+".config.json", &f)
	k := f.Kwargs
	return SwinIRConfig{InChannels: k.InChans, EmbedDim: k.EmbedDim, Depths: k.Depths, Heads: k.NumHeads,
		WindowSize: k.WindowSize, MLPRatio: k.MLPRatio, ImgSize: k.ImgSize, Upscale: k.Upscale,
		ImgRange: k.ImgRange, ResiConnection: k.ResiConnection, Upsampler: k.Upsampler}
}

// loadSwinFixture builds the fixture's configuration and loads its params.
func loadSwinFixture(t testing.TB, name string) *SwinIR {
	t.Helper()
	n, err := NewSwinIR(nil, swinFixtureConfig(t, name))
	require.NoError(t, err)
	ck, err := pth.Load(fixtures.Path(t, "models", name+".pth"))
	require.NoError(t, err)
	sd, err := ck.StateDict("params")
	require.NoError(t, err)
	require.NoError(t, layers.LoadStateDict(n, sd, nil))
	return n
}

// swinRun runs the backbone on vals (shape) in an inference scope and
// returns the output values and shape.
func swinRun(t testing.TB, n *SwinIR, vals []float32, shape []int64, hook Hook) ([]float32, []int64) {
	t.Helper()
	return testutil.Forward(t, vals, shape, func(x *torch.Tensor) *torch.Tensor { return n.Forward(x, hook) })
}

func TestSwinIRPaperParamsAndKeys(t *testing.T) {
	n, err := NewSwinIR(nil, SwinIRConfig{})
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, int64(11_604_775), layers.NumParams(n))
	require.Equal(t, testutil.Keys(t, "SwinIR.full.keys.json"), swinModuleKeys(n))
	require.Len(t, n.Modulation().Points, 6+3)

	c := SwinIRPaperConfig()
	require.Equal(t, int64(180), c.EmbedDim)
	require.Equal(t, []int{6, 6, 6, 6, 6, 6}, c.Depths)
	require.Equal(t, []int64{6, 6, 6, 6, 6, 6}, c.Heads)
	require.Equal(t, []float32{0.4488, 0.4371, 0.4040}, c.Mean)
	require.Equal(t, int64(8), n.Config.Pad().Multiple)
}

func TestSwinIRFixtureKeys(t *testing.T) {
	for _, name := range []string{"SwinIR"} {
		n, err := NewSwinIR(nil, swinFixtureConfig(t, name))
		require.NoError(t, err)
		require.Equal(t, testutil.Keys(t, name+".keys.json"), swinModuleKeys(n))
		require.Equal(t, int64(258_895), layers.NumParams(n))
		n.Close()
	}
}

// TestSwinIRPromptedBackboneKeys checks that the SwinIR_EP / SwinIR_AP
// checkpoints are this backbone's keys plus the prompt modules' keys: the
// extractor F_ext_net and one FC pair per modulation point, under the
// ScaleKey/ShiftKey that Modulation names, of shape (channels, 64).
func TestSwinIRPromptedBackboneKeys(t *testing.T) {
	for _, tc := range []struct {
		file string
		cfg  func() SwinIRConfig
	}{
		{"SwinIR_EP.keys.json", func() SwinIRConfig { return swinFixtureConfig(t, "SwinIR_EP") }},
		{"SwinIR_AP.keys.json", func() SwinIRConfig { return swinFixtureConfig(t, "SwinIR_AP") }},
		{"SwinIR_EP.full.keys.json", SwinIRPaperConfig},
		{"SwinIR_AP.full.keys.json", SwinIRPaperConfig},
	} {
		t.Run(tc.file, func(t *testing.T) {
			n, err := NewSwinIR(nil, tc.cfg())
			require.NoError(t, err)
			defer n.Close()
			want := testutil.Keys(t, tc.file)
			prompt := map[string][]int64{}
			var backbone []testutil.Key
			for _, k := range want {
				if strings.HasPrefix(k.Name, "F_ext_net.") || strings.Contains(k.Name, "prompt_") {
					prompt[k.Name] = k.Shape
					continue
				}
				backbone = append(backbone, k)
			}
			require.Equal(t, backbone, swinModuleKeys(n))
			m := n.Modulation()
			require.Equal(t, []string{"F_ext_net"}, m.Extractors)
			fc := 0
			for _, p := range m.Points {
				for _, key := range []string{p.ScaleKey, p.ShiftKey} {
					require.Equal(t, []int64{p.Channels, 64}, prompt[key+".weight"], key)
					require.Equal(t, []int64{p.Channels}, prompt[key+".bias"], key)
					fc += 2
				}
			}
			require.Len(t, prompt, fc+6, "FC pairs plus the extractor's three convolutions")
		})
	}
}

func TestSwinIRParity(t *testing.T) {
	n := loadSwinFixture(t, "SwinIR")
	defer n.Close()
	in, inShape := testutil.ReadNpy(t, "SwinIR.in.npy")
	want, wantShape := testutil.ReadNpy(t, "SwinIR.out.npy")
	got, shape := swinRun(t, n, in, inShape, nil)
	require.Equal(t, wantShape, shape)
	rel, maxAbs := testutil.RelL2(got, want)
	t.Logf("SwinIR 64x64: relative L2 %.3g, max |diff| %.3g", rel, maxAbs)
	require.LessOrEqual(t, rel, 1e-5)
	require.Less(t, maxAbs, 1e-5)
}

// TestSwinIRPadsToWindow checks that a size that is not a multiple of the
// window is reflect-padded and cropped, as the reference test procedure.
func TestSwinIRPadsToWindow(t *testing.T) {
	n := loadSwinFixture(t, "SwinIR")
	defer n.Close()
	const h, w = 13, 21
	in := make([]float32, 3*h*w)
	for i := range in {
		in[i] = float32((i*37)%101) / 101
	}
	got, shape := swinRun(t, n, in, []int64{1, 3, h, w}, nil)
	require.Equal(t, []int64{1, 3, h, w}, shape)

	// The same by hand: pad to 16x24, run, crop.
	want, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.FromSlice(s, in, 1, 3, h, w)
		require.NoError(t, err)
		p := x.Pad([]int64{0, 3, 0, 3}, torch.PadReflect, 0)
		return n.Forward(p, nil).Narrow(2, 0, h).Narrow(3, 0, w).Contiguous()
	})
	require.NoError(t, err)
	defer want.Close()
	wv, err := torch.ToSlice[float32](want)
	require.NoError(t, err)
	require.Equal(t, wv, got)
}

// TestSwinIRHook checks the modulation points: called in forward order, with
// the documented layouts and channel counts, and an identity hook changes
// nothing.
func TestSwinIRHook(t *testing.T) {
	n, err := NewSwinIR(nil, SwinIRConfig{EmbedDim: 12, Depths: []int{2, 1}, Heads: []int64{2, 3}, ImgSize: 16})
	require.NoError(t, err)
	defer n.Close()
	g, err := torch.NewGenerator(7)
	require.NoError(t, err)
	defer g.Close()
	for _, p := range layers.Params(n) {
		if !p.Buffer {
			require.NoError(t, g.Uniform(p.Tensor(), -0.3, 0.3))
		}
	}
	in := make([]float32, 2*3*16*24)
	for i := range in {
		in[i] = float32((i*53)%97) / 97
	}
	shape := []int64{2, 3, 16, 24}
	plain, _ := swinRun(t, n, in, shape, nil)

	var names []string
	var shapes [][]int64
	id := func(point string, f *torch.Tensor) *torch.Tensor {
		names = append(names, point)
		shapes = append(shapes, f.Shape())
		return f
	}
	got, _ := swinRun(t, n, in, shape, id)
	require.Equal(t, plain, got)

	pts := n.Modulation().Points
	require.Len(t, names, len(pts))
	for i, p := range pts {
		require.Equal(t, p.Name, names[i])
		switch p.Layout {
		case ChannelsLast:
			require.Equal(t, []int64{2, 16 * 24, p.Channels}, shapes[i], p.Name)
		default:
			require.Equal(t, []int64{2, p.Channels, 16, 24}, shapes[i], p.Name)
		}
	}
	require.Equal(t, []string{"layer0", "layer1", "after_body", "before_upsample", "last"}, names)

	// A hook that doubles the last feature doubles y - mean.
	dbl := func(point string, f *torch.Tensor) *torch.Tensor {
		if point == SwinIRLast {
			return f.MulScalar(2)
		}
		return f
	}
	got2, _ := swinRun(t, n, in, shape, dbl)
	mean := SwinIRPaperConfig().Mean
	for i := range got2 {
		c := (i / (16 * 24)) % 3
		require.InDelta(t, 2*(plain[i]-mean[c]), got2[i]-mean[c], 1e-5)
	}
}

func TestSwinIRConfigErrors(t *testing.T) {
	for _, c := range []SwinIRConfig{
		{Depths: []int{2}, Heads: []int64{6, 6}},
		{EmbedDim: 10, Heads: []int64{3}, Depths: []int{1}},
		{Upsampler: "pixelshuffledirect"},
		{ResiConnection: "2conv"},
		{Upscale: 5},
		{Mean: []float32{0.5}},
	} {
		_, err := NewSwinIR(nil, c)
		require.Error(t, err, "%+v", c)
	}
	// Upscale 2 adds one conv + pixel shuffle; "3conv" three convolutions.
	n, err := NewSwinIR(nil, SwinIRConfig{EmbedDim: 16, Depths: []int{1}, Heads: []int64{2}, Upscale: 2, ResiConnection: "3conv"})
	require.NoError(t, err)
	defer n.Close()
	names := map[string][]int64{}
	for _, k := range swinModuleKeys(n) {
		names[k.Name] = k.Shape
	}
	require.Equal(t, []int64{256, 64, 3, 3}, names["upsample.0.weight"])
	require.Equal(t, []int64{4, 16, 3, 3}, names["layers.0.conv.0.weight"])
	require.Equal(t, []int64{4, 4, 1, 1}, names["conv_after_body.2.weight"])
	require.Equal(t, []int64{16, 4, 3, 3}, names["conv_after_body.4.weight"])
	_, shape := swinRun(t, n, make([]float32, 3*8*8), []int64{1, 3, 8, 8}, nil)
	require.Equal(t, []int64{1, 3, 16, 16}, shape)
}

// TestSwinIRFreesEverything checks that a forward pass and Close return
// every tensor.
func TestSwinIRFreesEverything(t *testing.T) {
	before := torch.LiveTensors()
	n := loadSwinFixture(t, "SwinIR")
	in := make([]float32, 3*24*32)
	swinRun(t, n, in, []int64{1, 3, 24, 32}, nil)
	swinRun(t, n, in, []int64{1, 3, 24, 32}, nil)
	n.Close()
	n.Close()
	require.Equal(t, before, torch.LiveTensors())
}

func BenchmarkSwinIRForward(b *testing.B) {
	n := loadSwinFixture(b, "SwinIR")
	defer n.Close()
	in, shape := testutil.ReadNpy(b, "SwinIR.in.npy")
	benchValues(b, n, in, shape)
}

// BenchmarkSwinIRPaperForward128 runs the paper configuration (random
// weights) on a 128x128 image.
func BenchmarkSwinIRPaperForward128(b *testing.B) {
	if testing.Short() {
		b.Skip("paper-size SwinIR forward skipped under -short")
	}
	g, err := torch.NewGenerator(1)
	require.NoError(b, err)
	defer g.Close()
	n, err := NewSwinIR(g, SwinIRConfig{})
	require.NoError(b, err)
	defer n.Close()
	x, err := g.Rand(nil, []int64{1, 3, 128, 128}, nil)
	require.NoError(b, err)
	defer x.Close()
	benchForward(b, n, x)
}

// Exported for the external tests of swinir_prompt_test.go.
var (
	SwinFixtureConfigForTest = swinFixtureConfig
)

// TestSwinIRBackward checks that a training step reaches every parameter
// (relative position tables included, through the index gather) and no
// buffer.
func TestSwinIRBackward(t *testing.T) {
	g, err := torch.NewGenerator(3)
	require.NoError(t, err)
	defer g.Close()
	n, err := NewSwinIR(g, SwinIRConfig{EmbedDim: 12, Depths: []int{2}, Heads: []int64{3}, ImgSize: 16})
	require.NoError(t, err)
	defer n.Close()
	require.NoError(t, layers.SetRequiresGrad(n, true))
	s := torch.NewScope(torch.Grad)
	defer s.Close()
	x, err := g.Rand(s, []int64{2, 3, 16, 16}, nil)
	require.NoError(t, err)
	loss := torch.L1Loss(n.Forward(x, nil), x)
	require.NoError(t, loss.Backward())
	require.NoError(t, s.Err())
	requireAllGrads(t, s, n)
}

func TestSwinIRDropPathRates(t *testing.T) {
	r := dropPathRates(SwinIRPaperConfig())
	require.Len(t, r, 36)
	require.Zero(t, r[0])
	require.Equal(t, float64(float32(0.1)), r[35])
	require.Equal(t, float64(float32(0.1/35)), r[1])
	n, err := NewSwinIR(nil, SwinIRConfig{EmbedDim: 12, Depths: []int{2, 1}, Heads: []int64{3, 3}, ImgSize: 16})
	require.NoError(t, err)
	defer n.Close()
	require.Zero(t, n.Layers[0].Blocks[0].DropPath)
	require.Equal(t, float64(float32(0.05)), n.Layers[0].Blocks[1].DropPath)
	require.Equal(t, float64(float32(0.1)), n.Layers[1].Blocks[0].DropPath)
	off := dropPathRates(SwinIRConfig{DropPathRate: -1}.withDefaults())
	require.Equal(t, make([]float64, 36), off)
}

// TestSwinIRForwardFreesAsItGoes checks that each RSTB frees its
// temporaries before the next one runs: the live tensor count grows by the
// kept RSTB output only, not by every intermediate.
func TestSwinIRForwardFreesAsItGoes(t *testing.T) {
	n, err := NewSwinIR(nil, SwinIRConfig{EmbedDim: 12, Depths: []int{2, 2, 2, 2}, Heads: []int64{3, 3, 3, 3}, ImgSize: 16})
	require.NoError(t, err)
	defer n.Close()
	var live []int64
	hook := func(point string, f *torch.Tensor) *torch.Tensor {
		if strings.HasPrefix(point, "layer") {
			live = append(live, torch.LiveTensors())
		}
		return f
	}
	swinRun(t, n, make([]float32, 3*16*16), []int64{1, 3, 16, 16}, hook)
	require.Len(t, live, 4)
	for i := 1; i < 4; i++ {
		require.LessOrEqual(t, live[i]-live[i-1], int64(2), "RSTB %d kept %d tensors", i, live[i]-live[i-1])
	}
}

// TestSwinIRForwardErrors checks that bad inputs give errors, not results.
func TestSwinIRForwardErrors(t *testing.T) {
	n, err := NewSwinIR(nil, SwinIRConfig{EmbedDim: 12, Depths: []int{2}, Heads: []int64{3}, ImgSize: 16})
	require.NoError(t, err)
	defer n.Close()
	before := torch.LiveTensors() - int64(n.masks.Len())
	for _, shape := range [][]int64{
		{1, 2, 16, 16}, // two channels for a three-channel network
		{1, 3, 4, 4},   // too small to reflect-pad to one 8x8 window
	} {
		_, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			x, err := torch.Zeros(s, shape, nil)
			require.NoError(t, err)
			return n.Forward(x, nil)
		})
		require.Error(t, err, "%v", shape)
	}
	// Nothing is left but the cached window-order indices.
	require.Equal(t, before+int64(n.masks.Len()), torch.LiveTensors())
}

// TestSwinIRSetTraining checks that stochastic depth acts only once
// SetTraining gave it a generator, and only in Grad mode.
func TestSwinIRSetTraining(t *testing.T) {
	g, err := torch.NewGenerator(9)
	require.NoError(t, err)
	defer g.Close()
	n, err := NewSwinIR(g, SwinIRConfig{EmbedDim: 12, Depths: []int{4}, Heads: []int64{3}, ImgSize: 16, DropPathRate: 0.9})
	require.NoError(t, err)
	defer n.Close()
	in := make([]float32, 4*3*16*16)
	for i := range in {
		in[i] = float32(i%7) / 7
	}
	shape := []int64{4, 3, 16, 16}
	run := func(mode torch.Mode) []float32 {
		out, err := torch.Run(mode, func(s *torch.Scope) *torch.Tensor {
			x, err := torch.FromSlice(s, in, shape...)
			require.NoError(t, err)
			return n.Forward(x, nil).Detach()
		})
		require.NoError(t, err)
		defer out.Close()
		v, err := torch.ToSlice[float32](out)
		require.NoError(t, err)
		return v
	}
	plain := run(torch.Grad)
	n.SetTraining(g)
	require.Equal(t, plain, run(torch.Inference))
	require.NotEqual(t, plain, run(torch.Grad))
	n.SetTraining(nil)
	require.Equal(t, plain, run(torch.Grad))
}
