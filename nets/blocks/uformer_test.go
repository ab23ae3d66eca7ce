package blocks

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// ufRandomize draws every trainable tensor of m uniformly in [-0.5, 0.5).
func ufRandomize(t *testing.T, m layers.Module, seed uint64) {
	t.Helper()
	g, err := torch.NewGenerator(seed)
	require.NoError(t, err)
	defer g.Close()
	for _, p := range layers.Params(m) {
		if !p.Buffer {
			require.NoError(t, g.Uniform(p.Tensor(), -0.5, 0.5))
		}
	}
}

func ufGelu(x float64) float64 { return x * (1 + math.Erf(x/math.Sqrt2)) / 2 }

// TestUformerAttentionEqualsWindowAttention checks Uformer's split projection
// against the fused one: with qkv = [to_q; to_kv] (weights and biases
// stacked), WindowAttention computes the same function, with and without a
// shifted-window mask.
func TestUformerAttentionEqualsWindowAttention(t *testing.T) {
	const dim, heads, ws = 8, 2, 4
	a, err := NewUformerAttention(nil, dim, heads, ws, false)
	require.NoError(t, err)
	defer a.Close()
	ufRandomize(t, a, 5)
	require.Equal(t, []string{"relative_position_bias_table", "relative_position_index", "qkv.to_q.weight",
		"qkv.to_q.bias", "qkv.to_kv.weight", "qkv.to_kv.bias", "proj.weight", "proj.bias"}, ufNames(a))

	w, err := NewWindowAttention(nil, dim, heads, ws, false)
	require.NoError(t, err)
	defer w.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	require.NoError(t, w.RelativePositionBiasTable.CopyFrom(a.RelativePositionBiasTable))
	require.NoError(t, w.QKV.Weight.CopyFrom(torch.Cat([]*torch.Tensor{s.Use(a.ToQ.Weight), s.Use(a.ToKV.Weight)}, 0)))
	require.NoError(t, w.QKV.Bias.CopyFrom(torch.Cat([]*torch.Tensor{s.Use(a.ToQ.Bias), s.Use(a.ToKV.Bias)}, 0)))
	require.NoError(t, layers.CopyParams(w.Proj, a.Proj))

	g, err := torch.NewGenerator(9)
	require.NoError(t, err)
	defer g.Close()
	// Two images of 8x8 tokens: 4 windows each.
	x, err := g.Rand(s, []int64{2 * 4, ws * ws, dim}, nil)
	require.NoError(t, err)
	mask, err := shiftedWindowMaskTensor(s, 8, 8, ws, ws/2, torch.CPU)
	require.NoError(t, err)
	for _, m := range []*torch.Tensor{nil, mask} {
		got, want := testutil.Values(t, a.Forward(x, m)), testutil.Values(t, w.Forward(x, m))
		require.Len(t, got, 2*4*ws*ws*dim)
		for i := range got {
			require.InDelta(t, want[i], got[i], 1e-6)
		}
	}
	require.NoError(t, s.Err())
}

func ufNames(m layers.Module) []string {
	var names []string
	for _, p := range layers.Params(m) {
		names = append(names, p.Name)
	}
	return names
}

// TestLeFFValues checks LeFF on a non-square map against a hand computation:
// with one channel, unit linears and a 3x3 kernel of ones, each output token
// is GELU(sum of GELU(x) over its 3x3 neighbourhood, zero-padded), in raster
// order.
func TestLeFFValues(t *testing.T) {
	l := &LeFF{
		Linear1: &layers.Linear{Weight: testutil.Tensor(t, nil, []float32{1}, 1, 1), Bias: testutil.Tensor(t, nil, []float32{0}, 1)},
		DWConv: &layers.Conv2d{Weight: testutil.Tensor(t, nil, []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 1, 3, 3),
			Bias: testutil.Tensor(t, nil, []float32{0.25}, 1), Opts: torch.ConvOptions{Padding: [2]int64{1, 1}, Groups: 1}},
		Linear2: &layers.Linear{Weight: testutil.Tensor(t, nil, []float32{2}, 1, 1), Bias: testutil.Tensor(t, nil, []float32{-1}, 1)},
	}
	defer l.Close()
	require.Equal(t, []string{"linear1.0.weight", "linear1.0.bias", "dwconv.0.weight", "dwconv.0.bias",
		"linear2.0.weight", "linear2.0.bias"}, ufNames(l))
	const h, w = 2, 3
	in := []float32{-1, 0.5, 2, 1, -0.25, 0.75}
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	got := testutil.Values(t, l.Forward(testutil.Tensor(t, s, in, 1, h*w, 1), h, w))
	for y := range h {
		for x := range w {
			sum := 0.25
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if yy, xx := y+dy, x+dx; yy >= 0 && yy < h && xx >= 0 && xx < w {
						sum += ufGelu(float64(in[yy*w+xx]))
					}
				}
			}
			require.InDelta(t, 2*ufGelu(sum)-1, float64(got[y*w+x]), 1e-6, "token (%d, %d)", y, x)
		}
	}
	// The constructor makes a depthwise convolution with the reference's
	// names and shapes.
	n, err := NewLeFF(nil, 4, 16)
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, []int64{16, 1, 3, 3}, n.DWConv.Weight.Shape())
	require.Equal(t, int64(4*16+16+16*9+16+16*4+4), layers.NumParams(n))
}

// TestLeWinBlockModulator checks the modulator: a block whose modulator is
// zero equals the same block without one, a non-zero modulator changes the
// output, and a shifted block differs from a plain one.
func TestLeWinBlockModulator(t *testing.T) {
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(2)
	require.NoError(t, err)
	defer g.Close()
	b, err := NewLeWinBlock(g, LeWinBlockConfig{Dim: 8, Heads: 2, WindowSize: 4, Shift: 2, Modulator: true})
	require.NoError(t, err)
	require.Equal(t, "modulator.weight", ufNames(b)[0])
	require.Equal(t, []int64{16, 8}, b.Modulator.Shape())
	require.Equal(t, []int64{32, 8}, b.MLP.Linear1.Weight.Shape())

	run := func(blk *LeWinBlock) []float32 {
		out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			x, err := g.Rand(s, []int64{2, 8 * 12, 8}, nil)
			require.NoError(t, err)
			return blk.Forward(x, 8, 12)
		})
		require.NoError(t, err)
		defer out.Close()
		require.Equal(t, []int64{2, 96, 8}, out.Shape())
		return testutil.Values(t, out)
	}
	state, err := g.State()
	require.NoError(t, err)
	reset := func() { require.NoError(t, g.SetState(state)) }

	withMod := run(b)
	reset()
	plain := *b
	plain.Modulator = nil
	noMod := run(&plain)
	require.NotEqual(t, withMod, noMod)

	require.NoError(t, layers.Fill(b.Modulator, 0))
	reset()
	zeroMod := run(b)
	require.Equal(t, noMod, zeroMod)

	reset()
	unshifted := plain
	unshifted.Shift = 0
	require.NotEqual(t, noMod, run(&unshifted))

	// A resolution not larger than the window means one window, no shift,
	// and a modulator cannot follow it.
	small, err := NewLeWinBlock(nil, LeWinBlockConfig{Dim: 8, Heads: 2, WindowSize: 8, Shift: 4, Resolution: 4})
	require.NoError(t, err)
	require.Equal(t, [2]int64{4, 0}, [2]int64{small.WindowSize, small.Shift})
	small.Close()
	_, err = NewLeWinBlock(nil, LeWinBlockConfig{Dim: 8, Heads: 2, WindowSize: 8, Resolution: 4, Modulator: true})
	require.Error(t, err)
	_, err = NewLeWinBlock(nil, LeWinBlockConfig{Dim: 8, Heads: 2, WindowSize: 4, Shift: 4})
	require.Error(t, err)

	b.Close()
	require.Equal(t, live, torch.LiveTensors())
}

// TestUformerSampling checks the token-sequence down/up-sampling and the
// projections by value, in raster token order.
func TestUformerSampling(t *testing.T) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()

	// Downsample: a 4x4 kernel of ones, stride 2, padding 1, on a 4x6 map of
	// ones: corner outputs cover 3x3 pixels, edge ones 3x4.
	d := &UformerDownsample{Conv: &layers.Conv2d{Weight: testutil.Tensor(t, nil, ufOnes(16), 1, 1, 4, 4),
		Bias: testutil.Tensor(t, nil, []float32{0}, 1), Opts: torch.ConvOptions{Stride: [2]int64{2, 2}, Padding: [2]int64{1, 1}}}}
	defer d.Close()
	require.Equal(t, []string{"conv.0.weight", "conv.0.bias"}, ufNames(d))
	out := d.Forward(testutil.Tensor(t, s, ufOnes(24), 1, 24, 1), 4, 6)
	require.Equal(t, []int64{1, 6, 1}, out.Shape())
	require.Equal(t, []float32{9, 12, 9, 9, 12, 9}, testutil.Values(t, out))

	// Upsample: each token becomes a 2x2 block scaled by the kernel.
	u := &UformerUpsample{Deconv: &layers.ConvTranspose2d{Weight: testutil.Tensor(t, nil, []float32{1, 2, 3, 4}, 1, 1, 2, 2),
		Opts: torch.ConvOptions{Stride: [2]int64{2, 2}}}}
	defer u.Close()
	require.Equal(t, []string{"deconv.0.weight"}, ufNames(u))
	up := u.Forward(testutil.Tensor(t, s, []float32{1, 10}, 1, 2, 1), 1, 2)
	require.Equal(t, []int64{1, 8, 1}, up.Shape())
	require.Equal(t, []float32{1, 2, 10, 20, 3, 4, 30, 40}, testutil.Values(t, up))

	// Input projection: convolution then LeakyReLU(0.01), as tokens.
	centre := make([]float32, 9)
	centre[4] = 1
	ip := &UformerInputProj{Conv: &layers.Conv2d{Weight: testutil.Tensor(t, nil, centre, 1, 1, 3, 3),
		Bias: testutil.Tensor(t, nil, []float32{0}, 1), Opts: torch.ConvOptions{Padding: [2]int64{1, 1}}}}
	defer ip.Close()
	require.Equal(t, []string{"proj.0.weight", "proj.0.bias"}, ufNames(ip))
	tok := ip.Forward(testutil.Tensor(t, s, []float32{-2, 1, 3, -4}, 1, 1, 2, 2))
	require.Equal(t, []int64{1, 4, 1}, tok.Shape())
	require.InDeltaSlice(t, []float32{-0.02, 1, 3, -0.04}, testutil.Values(t, tok), 1e-7)

	// Output projection: tokens back to an image.
	op := &UformerOutputProj{Conv: &layers.Conv2d{Weight: testutil.Tensor(t, nil, centre, 1, 1, 3, 3),
		Bias: testutil.Tensor(t, nil, []float32{0.5}, 1), Opts: torch.ConvOptions{Padding: [2]int64{1, 1}}}}
	defer op.Close()
	img := op.Forward(testutil.Tensor(t, s, []float32{1, 2, 3, 4, 5, 6}, 1, 6, 1), 2, 3)
	require.Equal(t, []int64{1, 1, 2, 3}, img.Shape())
	require.Equal(t, []float32{1.5, 2.5, 3.5, 4.5, 5.5, 6.5}, testutil.Values(t, img))
	require.NoError(t, s.Err())
}

func ufOnes(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// TestLeWinBlockInit checks the seeded initialisation's distributions:
// LayerNorms ones and zeros, Linear biases zero and weights within the
// truncation (+-2, std 0.02), the modulator standard normal.
func TestLeWinBlockInit(t *testing.T) {
	g, err := torch.NewGenerator(11)
	require.NoError(t, err)
	defer g.Close()
	b, err := NewLeWinBlock(g, LeWinBlockConfig{Dim: 32, Heads: 1, WindowSize: 8, Modulator: true})
	require.NoError(t, err)
	defer b.Close()
	stats := func(x *torch.Tensor) (mean, std, maxAbs float64) {
		v, err := torch.ToSlice[float32](x)
		require.NoError(t, err)
		for _, f := range v {
			mean += float64(f)
			maxAbs = max(maxAbs, math.Abs(float64(f)))
		}
		mean /= float64(len(v))
		for _, f := range v {
			std += (float64(f) - mean) * (float64(f) - mean)
		}
		return mean, math.Sqrt(std / float64(len(v))), maxAbs
	}
	_, std, _ := stats(b.Attn.ToKV.Weight)
	require.InDelta(t, 0.02, std, 0.002)
	_, _, maxAbs := stats(b.Attn.ToQ.Bias)
	require.Zero(t, maxAbs)
	_, std, _ = stats(b.Modulator)
	require.InDelta(t, 1, std, 0.05)
	_, std, _ = stats(b.MLP.Linear1.Weight)
	require.InDelta(t, 0.02, std, 0.002)
	mean, std, _ := stats(b.Norm1.Weight)
	require.Equal(t, [2]float64{1, 0}, [2]float64{mean, std})
	_, std, _ = stats(b.Attn.RelativePositionBiasTable)
	require.InDelta(t, 0.02, std, 0.003)
	// The depthwise convolution keeps PyTorch's default: uniform in
	// +-1/sqrt(9).
	_, _, maxAbs = stats(b.MLP.DWConv.Weight)
	require.LessOrEqual(t, maxAbs, 1.0/3)
	require.Greater(t, maxAbs, 0.3)
}

// TestLeWinBlockBadGeometry checks that a map whose sides are not multiples
// of the window fails (shifted or not) instead of attending across windows.
func TestLeWinBlockBadGeometry(t *testing.T) {
	for _, shift := range []int64{0, 2} {
		b, err := NewLeWinBlock(nil, LeWinBlockConfig{Dim: 4, Heads: 1, WindowSize: 4, Shift: shift})
		require.NoError(t, err)
		_, err = torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			x, err := torch.Zeros(s, []int64{1, 6 * 8, 4}, nil)
			require.NoError(t, err)
			return b.Forward(x, 6, 8)
		})
		require.Error(t, err, "shift %d", shift)
		b.Close()
	}
}
