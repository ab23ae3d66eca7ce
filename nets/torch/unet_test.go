package torch

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// unetParams are the parameter names of the tiny U-Net of
// scripts/fixtures_torch.py, in its order.
var unetParams = []string{"c1w", "c1b", "c2w", "c2b", "lnw", "lnb", "qkvw", "qkvb", "pw", "pb", "tw", "tb", "c3w", "c3b"}

// unet is the fixture script's U-Net written with the public API only.
func unet(x *Tensor, p map[string]*Tensor) *Tensor {
	reflect1 := []int64{1, 1, 1, 1}
	e1 := x.Pad(reflect1, PadReflect, 0).Conv2d(p["c1w"], p["c1b"], nil).LeakyReLU(0.2)
	e2 := e1.MaxPool2d([2]int64{2, 2}, [2]int64{}, [2]int64{}).
		Conv2d(p["c2w"], p["c2b"], &ConvOptions{Padding: [2]int64{1, 1}}).GELU()
	shape := e2.Shape()
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	tok := e2.Flatten(2, 3).Transpose(1, 2)
	qkv := tok.LayerNorm([]int64{c}, p["lnw"], p["lnb"], 1e-5).Linear(p["qkvw"], p["qkvb"]).Chunk(3, -1)
	q, k, v := qkv[0], qkv[1], qkv[2]
	att := q.Matmul(k.Transpose(1, 2)).MulScalar(math.Pow(float64(c), -0.5)).Softmax(-1).Matmul(v)
	tok = tok.Add(att.Linear(p["pw"], p["pb"]))
	a := tok.Transpose(1, 2).Reshape(n, c, h, w)
	u1 := a.ConvTranspose2d(p["tw"], p["tb"], &ConvOptions{Stride: [2]int64{2, 2}})
	u2 := a.Interpolate(2*h, 2*w, Bilinear, &InterpOptions{ScaleH: 2, ScaleW: 2})
	d := Cat([]*Tensor{e1, u1, u2}, 1)
	return d.Pad(reflect1, PadReflect, 0).Conv2d(p["c3w"], p["c3b"], nil).Add(x)
}

// A U-Net-like backbone (skip connections by concatenation, max-pool down,
// transposed-convolution and bilinear up, reflect padding, an attention
// block) trained for one step with L1 + MSE and Adam gives PyTorch's
// output, loss, gradients and updated weights.
func TestUNetTrainingStepMatchesPyTorch(t *testing.T) {
	s := NewScope(Grad)
	defer s.Close()
	p := map[string]*Tensor{}
	var params []*Tensor
	for _, name := range unetParams {
		w := ref(t, s, "unet."+name)
		require.NoError(t, w.SetRequiresGrad(true))
		p[name] = w
		params = append(params, w)
	}
	opt, err := NewAdam(params, nil) // PyTorch's defaults: lr 1e-3, betas (0.9, 0.999)
	require.NoError(t, err)
	defer opt.Close()
	x, target := ref(t, s, "unet.x"), ref(t, s, "unet.t")
	y := unet(x, p)
	loss := L1Loss(y, target).AddScaled(MSELoss(y, target), 0.5)
	require.NoError(t, s.Err())
	requireClose(t, y, ref(t, s, "unet.out"), 1e-5, 1e-5)
	requireClose(t, loss, ref(t, s, "unet.loss"), 1e-6, 1e-5)
	require.NoError(t, loss.Backward())
	for _, name := range unetParams {
		g, err := p[name].Grad()
		require.NoError(t, err)
		require.NotNil(t, g, name)
		worst := requireClose(t, g, ref(t, s, "unet.grad."+name), 1e-5, 1e-4)
		t.Logf("grad %-4s max |go - pytorch| = %.2g", name, worst)
		g.Close()
	}
	require.NoError(t, opt.Step())
	// Adam's first step moves a weight by lr*g/(|g|+eps). Where the exact
	// gradient is zero and the computed one rounding noise (the key bias:
	// softmax ignores a constant added to a row of scores), the step is
	// decided by the noise, which differs between libtorch versions: there
	// only its bound lr is checked.
	const lr = 1e-3
	for _, name := range unetParams {
		old, grad := floats(t, ref(t, s, "unet."+name)), floats(t, ref(t, s, "unet.grad."+name))
		got, want := floats(t, p[name]), floats(t, ref(t, s, "unet.step."+name))
		for i := range want {
			if math.Abs(grad[i]) < 1e-7 {
				require.LessOrEqual(t, math.Abs(got[i]-old[i]), lr*(1+1e-6), "%s[%d]: step beyond lr", name, i)
				continue
			}
			require.InDelta(t, want[i], got[i], 1e-6+1e-5*math.Abs(want[i]), "%s[%d] after the step", name, i)
		}
	}
}

func TestLossGradientsMatchPyTorch(t *testing.T) {
	s := NewScope(Grad)
	defer s.Close()
	p, q := ref(t, s, "lossgrad.p"), ref(t, s, "lossgrad.q")
	require.NoError(t, p.SetRequiresGrad(true))
	for name, f := range map[string]func(a, b *Tensor) *Tensor{"l1": L1Loss, "mse": MSELoss} {
		require.NoError(t, p.ZeroGrad())
		l := f(p, q)
		require.True(t, l.RequiresGrad())
		require.Empty(t, l.Shape(), "mean reduction gives a scalar")
		require.NoError(t, l.Backward())
		g, err := p.Grad()
		require.NoError(t, err)
		closeRef(t, s, g, "lossgrad."+name)
		g.Close()
	}
}

func TestLikeConstructors(t *testing.T) {
	s := NewScope(Grad)
	defer s.Close()
	x, err := Full(s, []int64{2, 3}, 7, &Options{DType: Float64})
	require.NoError(t, err)
	require.NoError(t, x.SetRequiresGrad(true))
	for want, got := range map[float64]*Tensor{0: ZerosLike(x), 1: OnesLike(x), -2.5: FullLike(x, -2.5)} {
		info, err := got.Info()
		require.NoError(t, err)
		require.Equal(t, Info{DType: Float64, Device: CPU, Shape: []int64{2, 3}}, info, "no gradient, x's dtype and shape")
		require.Equal(t, []float64{want, want, want, want, want, want}, floats(t, got))
		require.Same(t, s, got.Scope(), "in x's scope")
	}
	closed, err := Ones(nil, []int64{2}, nil)
	require.NoError(t, err)
	closed.Close()
	require.ErrorIs(t, ZerosLike(closed).Err(), ErrClosed)
}

// A nil options pointer is the defaults, equal to the zero value.
func TestNilOptionsAreDefaults(t *testing.T) {
	s := NewScope(Inference)
	defer s.Close()
	x, w, b := ref(t, s, "conv.x"), ref(t, s, "conv.w"), ref(t, s, "conv.b")
	exact := func(got, want *Tensor) { requireClose(t, got, want, 0, 0) }
	exact(x.Conv2d(w, b, nil), x.Conv2d(w, b, &ConvOptions{}))
	exact(x.Conv2d(w, b, nil), x.Conv2d(w, b, &ConvOptions{Stride: [2]int64{1, 1}, Dilation: [2]int64{1, 1}, Groups: 1}))
	exact(x.Conv2dFused(w, b, nil, NoActivation, nil), x.Conv2d(w, b, nil))
	tw := ref(t, s, "convt.w")
	exact(x.ConvTranspose2d(tw, nil, nil), x.ConvTranspose2d(tw, nil, &ConvOptions{}))
	ix := ref(t, s, "interp.x")
	closeRef(t, s, ix.Interpolate(7, 9, Bilinear, nil), "interp.bilinear")
	exact(ix.Interpolate(7, 9, Bicubic, nil), ix.Interpolate(7, 9, Bicubic, &InterpOptions{}))
	// A zero pooling stride is the kernel size, PyTorch's default.
	closeRef(t, s, ix.AvgPool2d([2]int64{2, 2}, [2]int64{}, [2]int64{}), "pool.avg")
	require.Equal(t, []int64{1, 3, 8, 6}, ix.MaxPool2d([2]int64{2, 2}, [2]int64{}, [2]int64{}).Shape())
	require.NoError(t, s.Err())
	require.ErrorContains(t, ix.Interpolate(7, 9, Bilinear, &InterpOptions{ScaleH: -1}).Err(), "negative scale")
}
