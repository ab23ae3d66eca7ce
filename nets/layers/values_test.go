package layers

import (
	"math"
	"testing"

	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/stretchr/testify/require"
)

func TestLayerValues(t *testing.T) {
	live := torch.LiveTensors()
	s := torch.NewScope(torch.Inference)

	// Linear: x W^T + b.
	lin := &Linear{Weight: testutil.Tensor(t, nil, []float32{1, 2, 3, 4, 5, 6}, 2, 3), Bias: testutil.Tensor(t, nil, []float32{0.5, -1}, 2)}
	x := testutil.Tensor(t, s, []float32{1, 0, -1}, 1, 3)
	require.Equal(t, []float32{1 - 3 + 0.5, 4 - 6 - 1}, testutil.Values(t, lin.Forward(x)))

	// Conv2d 2x2 kernel, stride 1, no padding, on a 3x3 ramp.
	conv := &Conv2d{Weight: testutil.Tensor(t, nil, []float32{1, 0, 0, -1}, 1, 1, 2, 2), Bias: testutil.Tensor(t, nil, []float32{10}, 1),
		Opts: ConvConfig{}.options()}
	img := testutil.Tensor(t, s, []float32{0, 1, 2, 3, 4, 5, 6, 7, 8}, 1, 1, 3, 3)
	require.Equal(t, []float32{6, 6, 6, 6}, testutil.Values(t, conv.Forward(img)))

	// ConvTranspose2d with stride 2 scatters each input pixel into a 2x2 block.
	ct := &ConvTranspose2d{Weight: testutil.Tensor(t, nil, []float32{1, 2, 3, 4}, 1, 1, 2, 2),
		Opts: ConvConfig{Stride: 2}.options()}
	one := testutil.Tensor(t, s, []float32{1, 10}, 1, 1, 1, 2)
	require.Equal(t, []float32{1, 2, 10, 20, 3, 4, 30, 40}, testutil.Values(t, ct.Forward(one)))

	// LayerNorm: zero mean, unit (biased) variance, then weight and bias.
	ln, err := NewLayerNorm(4, 0, false)
	require.NoError(t, err)
	y := testutil.Values(t, ln.Forward(testutil.Tensor(t, s, []float32{1, 2, 3, 4}, 1, 4)))
	inv := 1 / math.Sqrt(1.25+1e-5)
	for i, v := range y {
		require.InDelta(t, (float64(i)-1.5)*inv, float64(v), 1e-6)
	}

	// ZeroPad2d and LeakyReLU as sequence members.
	seq := Sequential{ZeroPad2d(1), LeakyReLU(0.5)}
	p := testutil.Values(t, seq.Forward(testutil.Tensor(t, s, []float32{-2}, 1, 1, 1, 1)))
	require.Equal(t, []float32{0, 0, 0, 0, -1, 0, 0, 0, 0}, p)
	require.NoError(t, s.Err())
	s.Close()
	Close(Sequential{lin, conv, ct, ln})
	require.Equal(t, live, torch.LiveTensors())
}

func TestKaimingNormalScale(t *testing.T) {
	g, err := torch.NewGenerator(4)
	require.NoError(t, err)
	defer g.Close()
	w, err := NewParam(64, 64, 3, 3)
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, KaimingNormal(g, w, 64*9, 0.1))
	var s2 float64
	v := testutil.Values(t, w)
	for _, x := range v {
		s2 += float64(x) * float64(x)
	}
	require.InDelta(t, 0.1*math.Sqrt(2.0/576), math.Sqrt(s2/float64(len(v))), 0.0003)
}

func TestRequiresGradCopyAndTo(t *testing.T) {
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(5)
	require.NoError(t, err)
	defer g.Close()
	a, err := NewLinear(g, 3, 2, false)
	require.NoError(t, err)
	b, err := NewLinear(nil, 3, 2, false)
	require.NoError(t, err)
	require.False(t, a.Weight.RequiresGrad())
	require.NoError(t, SetRequiresGrad(a, true))
	require.True(t, a.Weight.RequiresGrad() && a.Bias.RequiresGrad())
	require.NoError(t, CopyParams(b, a))
	require.Equal(t, testutil.Values(t, a.Weight), testutil.Values(t, b.Weight))
	require.NoError(t, To(a, torch.CPU))
	require.True(t, a.Weight.RequiresGrad())
	c, err := NewLinear(nil, 3, 2, true) // no bias
	require.NoError(t, err)
	require.ErrorContains(t, CopyParams(c, a), "2 tensors into 1")
	Close(Modules{a, b, c})
	require.Equal(t, live, torch.LiveTensors())
}

func TestToCUDA(t *testing.T) {
	if !torch.CUDAAvailable() {
		t.Skip("no CUDA device")
	}
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(5)
	require.NoError(t, err)
	defer g.Close()
	a, err := NewConv2d(g, 3, 4, 3, &ConvConfig{Padding: 1})
	require.NoError(t, err)
	want := testutil.Values(t, a.Weight)
	require.NoError(t, To(a, torch.CUDA(0)))
	require.Equal(t, torch.CUDA(0), a.Weight.Device())
	require.NoError(t, To(a, torch.CPU))
	require.Equal(t, want, testutil.Values(t, a.Weight))
	a.Close()
	require.Equal(t, live, torch.LiveTensors())
}
