package nets

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// uformerFixtureConfig reads the constructor kwargs of a Uformer fixture.
func uformerFixtureConfig(t testing.TB, name string) UformerConfig {
	t.Helper()
	var f struct {
		Kwargs struct {
			InChans         int64  `json:"in_chans"`
			EmbedDim        int64  `json:"embed_dim"`
			WinSize         int64  `json:"win_size"`
			TokenProjection string `json:"token_projection"`
			TokenMLP        string `json:"token_mlp"`
			Depths          []int  `json:"depths"`
			Modulator       bool   `json:"modulator"`
		} `json:"kwargs"`
	}
	testutil.ModelJSON(t, name+".config.json", &f)
	k := f.Kwargs
	return UformerConfig{InChannels: k.InChans, EmbedDim: k.EmbedDim, WindowSize: k.WinSize,
		TokenProjection: k.TokenProjection, TokenMLP: k.TokenMLP, Depths: k.Depths, NoModulator: !k.Modulator}
}

// loadUformerFixture builds the fixture's configuration and loads its params.
func loadUformerFixture(t testing.TB, name string) *Uformer {
	t.Helper()
	n, err := NewUformer(nil, uformerFixtureConfig(t, name))
	require.NoError(t, err)
	ck, err := pth.Load(fixtures.Path(t, "models", name+".pth"))
	require.NoError(t, err)
	sd, err := ck.StateDict("params")
	require.NoError(t, err)
	require.NoError(t, layers.LoadStateDict(n, sd, nil))
	return n
}

// uformerRun runs the backbone on vals (shape) in an inference scope.
func uformerRun(t testing.TB, n *Uformer, vals []float32, shape []int64, hook Hook) ([]float32, []int64) {
	t.Helper()
	return testutil.Forward(t, vals, shape, func(x *torch.Tensor) *torch.Tensor { return n.Forward(x, hook) })
}

// uformerSmall is a small configuration for structural tests (window 4, so
// 64x64 is the smallest legal input).
func uformerSmall() UformerConfig {
	return UformerConfig{EmbedDim: 4, Depths: []int{2, 1, 1, 1, 2, 1, 1, 1, 2}, WindowSize: 4}
}

func TestUformerPaperParamsAndKeys(t *testing.T) {
	n, err := NewUformer(nil, UformerConfig{})
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, int64(50_880_946), layers.NumParams(n))
	require.Equal(t, testutil.Keys(t, "Uformer.full.keys.json"), swinModuleKeys(n))

	c := UformerPaperConfig()
	require.Equal(t, int64(32), c.EmbedDim)
	require.Equal(t, []int{1, 2, 8, 8, 2, 8, 8, 2, 1}, c.Depths)
	require.Equal(t, []int64{1, 2, 4, 8, 16, 16, 8, 4, 2}, c.Heads)
	require.Equal(t, int64(8), c.WindowSize)
	require.Equal(t, 4.0, c.MLPRatio)
	require.Equal(t, int64(256), c.ImgSize)
	require.Equal(t, "linear", c.TokenProjection)
	require.Equal(t, "leff", c.TokenMLP)
	require.False(t, c.NoShift)
	require.False(t, c.NoModulator)
	require.Equal(t, int64(128), n.Config.Pad().Multiple)
	// Shifted windows on the odd blocks of every layer, modulators only in
	// the decoder.
	require.Equal(t, int64(4), n.Encoder[1].Blocks[1].Shift)
	require.Zero(t, n.Encoder[1].Blocks[0].Shift)
	require.Nil(t, n.Bottleneck.Blocks[1].Modulator)
	require.Equal(t, []int64{64, 512}, n.Decoder[0].Blocks[0].Modulator.Shape())
}

func TestUformerFixtureKeys(t *testing.T) {
	n, err := NewUformer(nil, uformerFixtureConfig(t, "Uformer"))
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, testutil.Keys(t, "Uformer.keys.json"), swinModuleKeys(n))
	require.Equal(t, int64(225_471), layers.NumParams(n))
}

// TestUformerPromptedBackboneKeys checks that the Uformer_EP / Uformer_AP
// checkpoints are this backbone's keys plus, first, the prompt modules' keys:
// the five extractors F_ext_net1..5 and one FC pair per modulation point
// under the ScaleKey/ShiftKey that Modulation names, of shape (channels, 64).
func TestUformerPromptedBackboneKeys(t *testing.T) {
	for _, tc := range []struct {
		file string
		cfg  func() UformerConfig
	}{
		{"Uformer_EP.keys.json", func() UformerConfig { return uformerFixtureConfig(t, "Uformer_EP") }},
		{"Uformer_AP.keys.json", func() UformerConfig { return uformerFixtureConfig(t, "Uformer_AP") }},
		{"Uformer_EP.full.keys.json", UformerPaperConfig},
		{"Uformer_AP.full.keys.json", UformerPaperConfig},
	} {
		t.Run(tc.file, func(t *testing.T) {
			n, err := NewUformer(nil, tc.cfg())
			require.NoError(t, err)
			defer n.Close()
			want := testutil.Keys(t, tc.file)
			prompt := map[string][]int64{}
			var backbone []testutil.Key
			for i, k := range want {
				if strings.HasPrefix(k.Name, "F_ext_net") || strings.HasPrefix(k.Name, "prompt_") {
					require.Empty(t, backbone, "prompt key %d %s after the backbone's", i, k.Name)
					prompt[k.Name] = k.Shape
					continue
				}
				backbone = append(backbone, k)
			}
			require.Equal(t, backbone, swinModuleKeys(n))
			m := n.Modulation()
			require.Equal(t, tc.cfg().Modulation(), m)
			require.Equal(t, []string{"F_ext_net1", "F_ext_net2", "F_ext_net3", "F_ext_net4", "F_ext_net5"}, m.Extractors)
			require.Equal(t, []int{0, 0, 1, 2, 3, 4}, []int{m.Points[0].Extractor, m.Points[1].Extractor,
				m.Points[2].Extractor, m.Points[3].Extractor, m.Points[4].Extractor, m.Points[5].Extractor})
			fc := 0
			for _, p := range m.Points {
				for _, key := range []string{p.ScaleKey, p.ShiftKey} {
					require.Equal(t, []int64{p.Channels, 64}, prompt[key+".weight"], key)
					require.Equal(t, []int64{p.Channels}, prompt[key+".bias"], key)
					fc += 2
				}
			}
			require.Len(t, prompt, fc+5*6, "FC pairs plus five extractors of three convolutions")
		})
	}
}

func TestUformerParity(t *testing.T) {
	n := loadUformerFixture(t, "Uformer")
	defer n.Close()
	in, inShape := testutil.ReadNpy(t, "Uformer.in.npy")
	want, wantShape := testutil.ReadNpy(t, "Uformer.out.npy")
	got, shape := uformerRun(t, n, in, inShape, nil)
	require.Equal(t, wantShape, shape)
	rel, maxAbs := testutil.RelL2(got, want)
	t.Logf("Uformer 128x128: relative L2 %.3g, max |diff| %.3g", rel, maxAbs)
	require.LessOrEqual(t, rel, 1e-5)
	require.Less(t, maxAbs, 1e-5)
}

func TestUformerPadding(t *testing.T) {
	n, err := NewUformer(nil, UformerConfig{EmbedDim: 4, Depths: []int{1, 1, 1, 1, 1, 1, 1, 1, 1}})
	require.NoError(t, err)
	defer n.Close()
	for _, tc := range []UformerPadding{
		{H: 128, W: 128, Side: 128},
		{H: 256, W: 256, Side: 256},
		{H: 65, W: 65, Bottom: 63, Right: 63, Side: 128},
		{H: 100, W: 120, Bottom: 28, Right: 8, Side: 128},
		// Wider than high: rows are added above and below.
		{H: 200, W: 300, Bottom: 56, Right: 84, Top: 64, BottomSq: 64, Side: 384},
		// Higher than wide: columns left and right.
		{H: 300, W: 200, Bottom: 84, Right: 56, Left: 64, RightSq: 64, Side: 384},
		{H: 129, W: 128, Bottom: 127, Left: 64, RightSq: 64, Side: 256},
	} {
		got, err := n.Padding(tc.H, tc.W)
		require.NoError(t, err, "%dx%d", tc.H, tc.W)
		require.Equal(t, tc, got)
		require.Equal(t, tc.H == 128 && tc.W == 128 || tc.H == 256 && tc.W == 256, got.None())
	}
	for _, hw := range [][2]int64{{64, 64}, {10, 200}, {128, 384}, {384, 100}, {0, 128}} {
		_, err := n.Padding(hw[0], hw[1])
		require.Error(t, err, "%v", hw)
		require.Contains(t, err.Error(), "nets: Uformer:")
	}
}

// TestUformerForwardPads checks that Forward pads a non-square input as the
// reference test procedure does (reflect to multiples of 128, then to a
// square) and crops back, and that a size the reference cannot pad fails.
func TestUformerForwardPads(t *testing.T) {
	n := loadUformerFixture(t, "Uformer")
	defer n.Close()
	const h, w = 100, 150
	in := make([]float32, 3*h*w)
	for i := range in {
		in[i] = float32((i*37)%101) / 101
	}
	got, shape := uformerRun(t, n, in, []int64{1, 3, h, w}, nil)
	require.Equal(t, []int64{1, 3, h, w}, shape)

	// The same by hand: 100x150 -> 128x256 -> 256x256 (64 rows above and
	// below), run, crop.
	want, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.FromSlice(s, in, 1, 3, h, w)
		require.NoError(t, err)
		p := x.Pad([]int64{0, 106, 0, 28}, torch.PadReflect, 0).Pad([]int64{0, 0, 64, 64}, torch.PadReflect, 0)
		require.Equal(t, []int64{1, 3, 256, 256}, p.Shape())
		return n.Forward(p, nil).Narrow(2, 64, h).Narrow(3, 0, w).Contiguous()
	})
	require.NoError(t, err)
	defer want.Close()
	wv, err := torch.ToSlice[float32](want)
	require.NoError(t, err)
	require.Equal(t, wv, got)

	// Too small to reflect-pad: the error comes back through the scope.
	_, err = torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.Zeros(s, []int64{1, 3, 32, 32}, nil)
		require.NoError(t, err)
		return n.Forward(x, nil)
	})
	require.Error(t, err)
}

// TestUformerHook checks the modulation points: called in forward order,
// with the documented layouts and channel counts; an identity hook changes
// nothing, and scaling the output residual scales out - in.
func TestUformerHook(t *testing.T) {
	n, err := NewUformer(nil, uformerSmall())
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
	const side = 64
	in := make([]float32, 2*3*side*side)
	for i := range in {
		in[i] = float32((i*53)%97) / 97
	}
	shape := []int64{2, 3, side, side}
	plain, _ := uformerRun(t, n, in, shape, nil)

	var names []string
	var shapes [][]int64
	id := func(point string, f *torch.Tensor) *torch.Tensor {
		names = append(names, point)
		shapes = append(shapes, f.Shape())
		return f
	}
	got, _ := uformerRun(t, n, in, shape, id)
	require.Equal(t, plain, got)

	pts := n.Modulation().Points
	require.Equal(t, []string{"bottleneck", "decoder0", "decoder1", "decoder2", "decoder3", "output"}, names)
	require.Len(t, pts, len(names))
	sides := []int64{4, 8, 16, 32, 64}
	for i, p := range pts {
		require.Equal(t, p.Name, names[i])
		if p.Layout == ChannelsLast {
			require.Equal(t, []int64{2, sides[i] * sides[i], p.Channels}, shapes[i], p.Name)
		} else {
			require.Equal(t, []int64{2, p.Channels, side, side}, shapes[i], p.Name)
		}
	}
	require.Equal(t, []int64{64, 64, 32, 16, 8, 3}, []int64{pts[0].Channels, pts[1].Channels, pts[2].Channels,
		pts[3].Channels, pts[4].Channels, pts[5].Channels})

	dbl := func(point string, f *torch.Tensor) *torch.Tensor {
		if point == UformerOutput {
			return f.MulScalar(2)
		}
		return f
	}
	got2, _ := uformerRun(t, n, in, shape, dbl)
	for i := range got2 {
		require.InDelta(t, 2*(plain[i]-in[i]), got2[i]-in[i], 1e-5)
	}
}

func TestUformerConfigErrors(t *testing.T) {
	for _, c := range []UformerConfig{
		{Depths: []int{1, 1, 1}},
		{Heads: []int64{1, 2, 4, 8, 16, 16, 8, 4}},
		{EmbedDim: 6, Heads: []int64{4, 2, 4, 8, 16, 16, 8, 4, 2}},
		{TokenProjection: "conv"},
		{TokenMLP: "ffn"},
		{InChannels: 1},
		{DropPathRate: 1},
		// Modulated decoder layers cannot shrink their window to the
		// resolution (img_size/8 = 4 < 8), as in the reference.
		{ImgSize: 32},
	} {
		_, err := NewUformer(nil, c)
		require.Error(t, err, "%+v", c)
	}
	// Without modulators a small img_size shrinks the windows of the deep
	// layers and turns their shift off, as the reference does.
	n, err := NewUformer(nil, UformerConfig{EmbedDim: 4, Depths: []int{1, 1, 1, 1, 2, 1, 1, 1, 1}, ImgSize: 64, NoModulator: true})
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, int64(4), n.Bottleneck.Blocks[1].WindowSize)
	require.Zero(t, n.Bottleneck.Blocks[1].Shift)
	require.Equal(t, []int64{49, 16}, n.Bottleneck.Blocks[1].Attn.RelativePositionBiasTable.Shape())
	require.Equal(t, int64(8), n.Encoder[0].Blocks[0].WindowSize)
	// dd_in 1: no input skip; the output has InChannels channels.
	m, err := NewUformer(nil, UformerConfig{EmbedDim: 4, Depths: []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, DDIn: 1, InChannels: 2, WindowSize: 2})
	require.NoError(t, err)
	defer m.Close()
	_, shape := uformerRun(t, m, make([]float32, 32*32), []int64{1, 1, 32, 32}, nil)
	require.Equal(t, []int64{1, 2, 32, 32}, shape)
}

func TestUformerDropPathRates(t *testing.T) {
	r := uformerDropPathRates(UformerPaperConfig())
	require.Len(t, r, 9)
	require.Equal(t, []float64{0}, r[0])
	require.Equal(t, float64(float32(0.1/18)), r[1][0])
	require.Equal(t, float64(float32(0.1)), r[3][7])
	require.Equal(t, []float64{0.1, 0.1}, r[4])
	require.Equal(t, r[3][7], r[5][0])
	require.Equal(t, r[3][0], r[5][7])
	require.Equal(t, []float64{0}, r[8])
	require.Equal(t, r[1][1], r[7][0])

	off := uformerDropPathRates(UformerConfig{DropPathRate: -1}.withDefaults())
	for _, l := range off {
		for _, v := range l {
			require.Zero(t, v)
		}
	}
	n, err := NewUformer(nil, uformerSmall())
	require.NoError(t, err)
	defer n.Close()
	require.Zero(t, n.Encoder[0].Blocks[0].DropPath)
	require.Equal(t, float64(float32(0.025)), n.Encoder[0].Blocks[1].DropPath)
	require.Equal(t, 0.1, n.Bottleneck.Blocks[1].DropPath)
	require.Zero(t, n.Decoder[3].Blocks[1].DropPath)
}

// TestUformerBackward checks that a training step reaches every parameter
// (modulators and relative position tables included) and no buffer.
func TestUformerBackward(t *testing.T) {
	g, err := torch.NewGenerator(3)
	require.NoError(t, err)
	defer g.Close()
	n, err := NewUformer(g, uformerSmall())
	require.NoError(t, err)
	defer n.Close()
	n.SetTraining(g)
	require.NoError(t, layers.SetRequiresGrad(n, true))
	s := torch.NewScope(torch.Grad)
	defer s.Close()
	x, err := g.Rand(s, []int64{2, 3, 64, 64}, nil)
	require.NoError(t, err)
	loss := torch.L1Loss(n.Forward(x, nil), x)
	require.NoError(t, loss.Backward())
	require.NoError(t, s.Err())
	requireAllGrads(t, s, n)
}

// TestUformerCUDA runs the fixture on the GPU, padded and not (the mask
// cache keeps per-device masks), and compares with the reference output.
// cuDNN may use TF32 convolutions, hence the looser tolerance.
func TestUformerCUDA(t *testing.T) {
	if !torch.CUDAAvailable() {
		t.Skip("no CUDA device")
	}
	n := loadUformerFixture(t, "Uformer")
	defer n.Close()
	require.NoError(t, layers.To(n, torch.CUDA(0)))
	in, inShape := testutil.ReadNpy(t, "Uformer.in.npy")
	want, _ := testutil.ReadNpy(t, "Uformer.out.npy")
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.FromSliceOn(s, torch.CUDA(0), in, inShape...)
		require.NoError(t, err)
		y := n.Forward(x, nil)
		require.Equal(t, torch.CUDA(0), y.Device())
		n.Forward(x.Narrow(2, 0, 100), nil) // padded: 100x128 -> 128x128
		return y.ToDevice(torch.CPU)
	})
	require.NoError(t, err)
	defer out.Close()
	got, err := torch.ToSlice[float32](out)
	require.NoError(t, err)
	rel, maxAbs := testutil.RelL2(got, want)
	t.Logf("Uformer on CUDA: relative L2 %.3g, max |diff| %.3g", rel, maxAbs)
	require.LessOrEqual(t, rel, 1e-3)
}

// TestUformerFreesEverything checks that forward passes (padded or not) and
// Close return every tensor.
func TestUformerFreesEverything(t *testing.T) {
	before := torch.LiveTensors()
	n := loadUformerFixture(t, "Uformer")
	uformerRun(t, n, make([]float32, 3*128*128), []int64{1, 3, 128, 128}, nil)
	uformerRun(t, n, make([]float32, 3*100*140), []int64{1, 3, 100, 140}, nil)
	n.Close()
	n.Close()
	require.Equal(t, before, torch.LiveTensors())
}

// uformerBench times forward passes of n on a seeded 1x3xside x side image.
func uformerBench(b *testing.B, n *Uformer, side int64) {
	g, err := torch.NewGenerator(1)
	require.NoError(b, err)
	defer g.Close()
	x, err := g.Rand(nil, []int64{1, 3, side, side}, nil)
	require.NoError(b, err)
	defer x.Close()
	run := func() {
		out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			return n.Forward(s.Use(x), nil)
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

// BenchmarkUformerForward times an inference-mode forward pass of the fixture
// configuration (embed 4) at 128x128 and, unless -short, of the paper
// configuration (Uformer-B, random weights) at 128x128 and 256x256.
func BenchmarkUformerForward(b *testing.B) {
	b.Run("fixture-128", func(b *testing.B) {
		n := loadUformerFixture(b, "Uformer")
		defer n.Close()
		uformerBench(b, n, 128)
	})
	for _, side := range []int64{128, 256} {
		b.Run("paper-"+strconv.FormatInt(side, 10), func(b *testing.B) {
			if testing.Short() {
				b.Skip("paper-size Uformer forward skipped under -short")
			}
			g, err := torch.NewGenerator(1)
			require.NoError(b, err)
			defer g.Close()
			n, err := NewUformer(g, UformerConfig{})
			require.NoError(b, err)
			defer n.Close()
			uformerBench(b, n, side)
		})
	}
}

// Exported for the external tests of uformer_prompt_test.go.
var UformerFixtureConfigForTest = uformerFixtureConfig
