package torch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestElementwiseMatchesPyTorch(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	a, b := ref(t, s, "ew.a"), ref(t, s, "ew.b")
	cases := map[string]*Tensor{
		"add":            a.Add(b),
		"sub":            a.Sub(b),
		"mul":            a.Mul(b),
		"div":            a.Div(b.Abs().AddScalar(0.5)),
		"maximum":        a.Maximum(b),
		"minimum":        a.Minimum(b),
		"add_scaled":     a.AddScaled(b, -0.3),
		"pow_scalar":     a.Abs().PowScalar(1.7),
		"rsub_scalar":    a.RSubScalar(1),
		"neg":            a.Neg(),
		"exp":            a.Exp(),
		"log":            a.Abs().AddScalar(0.1).Log(),
		"sqrt":           a.Abs().Sqrt(),
		"rsqrt":          a.Abs().AddScalar(0.1).Rsqrt(),
		"abs":            a.Abs(),
		"sigmoid":        a.Sigmoid(),
		"tanh":           a.Tanh(),
		"relu":           a.ReLU(),
		"gelu":           a.GELU(),
		"gelu_tanh":      a.GELUTanh(),
		"silu":           a.Silu(),
		"sin":            a.Sin(),
		"cos":            a.Cos(),
		"floor":          a.MulScalar(3).Floor(),
		"sign":           a.Sign(),
		"erfinv":         a.MulScalar(0.9).Erfinv(),
		"leaky_relu_0.1": a.LeakyReLU(0.1),
		"leaky_relu_0.2": a.LeakyReLU(0.2),
		"clamp":          a.Clamp(-0.25, 0.5),
	}
	for name, got := range cases {
		t.Run(name, func(t *testing.T) { closeRef(t, s, got, "ew."+name) })
	}
	closeRef(t, s, a.Abs().AddScalar(0.1).Pow(b), "ew.pow")
	closeRef(t, s, a.ClampMin(0.2), "ew.clamp_min")
	closeRef(t, s, a.ClampMax(-0.1), "ew.clamp_max")
	cmp := map[string][2]*Tensor{
		"eq": {a.Eq(b), a.EqScalar(0.1)}, "ne": {a.Ne(b), a.NeScalar(0.1)},
		"lt": {a.Lt(b), a.LtScalar(0.1)}, "le": {a.Le(b), a.LeScalar(0.1)},
		"gt": {a.Gt(b), a.GtScalar(0.1)}, "ge": {a.Ge(b), a.GeScalar(0.1)},
	}
	for name, got := range cmp {
		require.Equal(t, Bool, got[0].DType())
		requireClose(t, got[0], ref(t, s, "cmp."+name), 0, 0)
		requireClose(t, got[1], ref(t, s, "cmp."+name+"_scalar"), 0, 0)
	}
	// Exact equality on values that coincide.
	r := ref(t, s, "cmp.a_rounded")
	require.Equal(t, floats(t, r.Eq(r.Clone())), floats(t, r.GeScalar(-10)))
	cond := a.GtScalar(0.1)
	closeRef(t, s, Where(cond, a, b.Expand(a.Shape()...)), "where.out")
	closeRef(t, s, a.MaskedFill(cond, -7), "masked_fill.out")
	// Rounding halves to even, as torch.round.
	requireClose(t, ref(t, s, "round.x").Round(), ref(t, s, "round.out"), 0, 0)
	require.Equal(t, []float64{-2, -2, -0, 0, 2, 2, 4, 0, 254, 256}, floats(t, ref(t, s, "round.out")))
	require.NoError(t, s.Err())
}

func TestReductionsMatchPyTorch(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	x := ref(t, s, "red.x")
	closeRef(t, s, x.Sum(false), "red.sum_all")
	closeRef(t, s, x.Sum(true, 1, 3), "red.sum_13")
	closeRef(t, s, x.Mean(false, 2), "red.mean_2")
	closeRef(t, s, x.Amax(false, 1), "red.amax_1")
	closeRef(t, s, x.Amin(true, -1), "red.amin_m1")
	closeRef(t, s, x.Var(false, false, 3), "red.var_3")
	closeRef(t, s, x.Std(true, false, 3), "red.std_3u")
	requireClose(t, x.Argmax(1, false), ref(t, s, "red.argmax_1"), 0, 0)
	closeRef(t, s, x.Softmax(-1), "red.softmax")
	closeRef(t, s, x.LogSoftmax(1), "red.log_softmax")
	closeRef(t, s, x.LayerNorm([]int64{5}, ref(t, s, "ln.w"), ref(t, s, "ln.b"), 1e-5), "ln.out")
	closeRef(t, s, x.LayerNorm([]int64{4, 5}, nil, nil, 1e-6), "ln.out_nowb")
	closeRef(t, s, x.Normalize(2, -1, 1e-12), "norm.out")
	require.NoError(t, s.Err())
}

func TestLinearAlgebraAndConvMatchPyTorch(t *testing.T) {
	s := NewScope(Inference)
	defer s.Close()
	a, b, c := ref(t, s, "mm.a"), ref(t, s, "mm.b"), ref(t, s, "mm.c")
	closeRef(t, s, a.Matmul(b), "mm.matmul")
	closeRef(t, s, a.Bmm(c), "mm.bmm")
	lx, lw, lb := ref(t, s, "lin.x"), ref(t, s, "lin.w"), ref(t, s, "lin.b")
	closeRef(t, s, lx.Linear(lw, lb), "lin.out")
	closeRef(t, s, lx.Linear(lw, nil), "lin.out_nobias")
	x, w, bias := ref(t, s, "conv.x"), ref(t, s, "conv.w"), ref(t, s, "conv.b")
	closeRef(t, s, x.Conv2d(w, bias, &ConvOptions{Padding: [2]int64{1, 1}}), "conv.s1p1")
	closeRef(t, s, x.Conv2d(w, bias, &ConvOptions{Stride: [2]int64{2, 2}}), "conv.s2p0")
	closeRef(t, s, x.Conv2d(w, nil, &ConvOptions{Padding: [2]int64{2, 2}, Dilation: [2]int64{2, 2}}), "conv.d2p2")
	closeRef(t, s, x.Conv2d(ref(t, s, "conv.dw"), nil, &ConvOptions{Padding: [2]int64{1, 1}, Groups: 4}), "conv.depthwise")
	closeRef(t, s, x.ConvTranspose2d(ref(t, s, "convt.w"), ref(t, s, "convt.b"), &ConvOptions{Stride: [2]int64{2, 2}}), "convt.s2")
	closeRef(t, s, Embedding(ref(t, s, "emb.w"), ref(t, s, "emb.idx")), "emb.out")
	require.NoError(t, s.Err())
}

func TestShapeOpsMatchPyTorch(t *testing.T) {
	s := NewScope(Inference)
	defer s.Close()
	x := ref(t, s, "shape.x")
	exact := func(got *Tensor, name string) { requireClose(t, got, ref(t, s, name), 0, 0) }
	exact(x.Permute(0, 2, 3, 1), "shape.permute")
	exact(x.Transpose(1, 3), "shape.transpose")
	exact(x.Flatten(2, 3), "shape.flatten")
	exact(x.Narrow(3, 1, 4), "shape.narrow")
	exact(x.IndexSelect(2, ref(t, s, "shape.sel")), "shape.index_select")
	exact(Cat([]*Tensor{x, x.MulScalar(2)}, 1), "shape.cat")
	exact(Stack([]*Tensor{x, x.MulScalar(2)}, 0), "shape.stack")
	chunks := x.Chunk(3, 3)
	require.Len(t, chunks, 3)
	for i, c := range chunks {
		exact(c, "shape.chunk"+string(rune('0'+i)))
	}
	exact(x.Roll([]int64{3, -2}, []int64{2, 3}), "shape.roll")
	exact(x.Narrow(1, 0, 1).Expand(2, 5, 4, 6), "shape.expand")
	exact(x.Pad([]int64{2, 1, 3, 0}, PadReflect, 0), "pad.reflect")
	exact(x.Pad([]int64{2, 1, 3, 0}, PadReplicate, 0), "pad.replicate")
	exact(x.Pad([]int64{2, 1, 3, 0}, PadCircular, 0), "pad.circular")
	exact(x.Pad([]int64{1, 2, 0, 3}, PadConstant, 0.25), "pad.constant")
	exact(ref(t, s, "ps.x").PixelShuffle(2), "ps.shuffle")
	exact(x.PixelUnshuffle(2), "ps.unshuffle")
	exact(x.Reshape(2, -1).Reshape(x.Shape()...), "shape.x")
	exact(x.Unsqueeze(0).Squeeze(0), "shape.x")
	exact(x.Permute(0, 2, 3, 1).Contiguous().Permute(0, 3, 1, 2), "shape.x")
	exact(x.ChannelsLast(), "shape.x")
	require.NoError(t, s.Err())
}

func TestInterpolationAndPoolingMatchPyTorch(t *testing.T) {
	s := NewScope(Inference)
	defer s.Close()
	x := ref(t, s, "interp.x")
	closeRef(t, s, x.Interpolate(7, 9, Bilinear, nil), "interp.bilinear")
	closeRef(t, s, x.Interpolate(7, 9, Bilinear, &InterpOptions{AlignCorners: true}), "interp.bilinear_ac")
	closeRef(t, s, x.Interpolate(20, 30, Bicubic, nil), "interp.bicubic")
	closeRef(t, s, x.Interpolate(4, 3, Bicubic, &InterpOptions{ScaleH: 0.25, ScaleW: 0.25}), "interp.bicubic_sf")
	closeRef(t, s, x.Interpolate(5, 7, Nearest, nil), "interp.nearest")
	closeRef(t, s, x.AvgPool2d([2]int64{2, 2}, [2]int64{2, 2}, [2]int64{}), "pool.avg")
	closeRef(t, s, x.MaxPool2d([2]int64{3, 3}, [2]int64{2, 2}, [2]int64{1, 1}), "pool.max")
	closeRef(t, s, x.AdaptiveAvgPool2d(1, 1), "pool.adaptive")
	require.NoError(t, s.Err())
}

func TestLossesMatchPyTorch(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	p, q := ref(t, s, "loss.p"), ref(t, s, "loss.q")
	closeRef(t, s, L1Loss(p, q), "loss.l1")
	closeRef(t, s, MSELoss(p, q), "loss.mse")
	logits := ref(t, s, "ce.logits")
	closeRef(t, s, CrossEntropy(logits, ref(t, s, "ce.cls")), "ce.idx")
	closeRef(t, s, CrossEntropy(logits, ref(t, s, "ce.probs")), "ce.prob")
	require.NoError(t, s.Err())
}
