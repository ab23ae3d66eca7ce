package torch

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConv2dFusedEqualsUnfused: act(conv) + residual computed in place on
// the convolution's output equals the chain of separate operations bit for
// bit, in inference and in grad mode, and so do the gradients of the input,
// the weight, the bias and the residual.
func TestConv2dFusedEqualsUnfused(t *testing.T) {
	g, err := NewGenerator(3)
	require.NoError(t, err)
	defer g.Close()
	acts := map[string]struct {
		fused   Activation
		unfused func(*Tensor) *Tensor
	}{
		"none":  {NoActivation, func(x *Tensor) *Tensor { return x }},
		"relu":  {ReLU, (*Tensor).ReLU},
		"leaky": {LeakyReLU(0.1), func(x *Tensor) *Tensor { return x.LeakyReLU(0.1) }},
	}
	o := &ConvOptions{Padding: [2]int64{1, 1}}
	for name, a := range acts {
		for _, withRes := range []bool{false, true} {
			for _, mode := range []Mode{Inference, Grad} {
				s := NewScope(mode)
				leaf := func(shape ...int64) *Tensor {
					v, err := g.Randn(s, shape, nil)
					require.NoError(t, err)
					if mode == Grad {
						require.NoError(t, v.SetRequiresGrad(true))
					}
					return v
				}
				x, w, b := leaf(2, 4, 9, 7), leaf(6, 4, 3, 3), leaf(6)
				var res *Tensor
				if withRes {
					res = leaf(2, 6, 9, 7)
				}
				want := a.unfused(x.Conv2d(w, b, o))
				if withRes {
					want = res.Add(want)
				}
				got := x.Conv2dFused(w, b, o, a.fused, res)
				require.NoError(t, got.Err())
				require.Equal(t, vals(t, want), vals(t, got), "%s residual=%v mode=%v", name, withRes, mode)
				if mode == Grad {
					leaves := []*Tensor{x, w, b}
					if withRes {
						leaves = append(leaves, res)
					}
					// A weighted sum, so that every output element's
					// gradient differs.
					wts, err := g.Randn(s, want.Shape(), nil)
					require.NoError(t, err)
					gw, gg := weightedGrads(t, want, wts, leaves), weightedGrads(t, got, wts, leaves)
					require.Equal(t, gw, gg, "%s residual=%v: gradients", name, withRes)
				}
				s.Close()
			}
		}
	}
}

// weightedGrads returns the gradients of sum(y*wts) with respect to leaves,
// zeroing them first.
func weightedGrads(t *testing.T, y, wts *Tensor, leaves []*Tensor) [][]float32 {
	t.Helper()
	for _, l := range leaves {
		require.NoError(t, l.ZeroGrad())
	}
	require.NoError(t, y.Mul(wts).Sum(false).Backward())
	var out [][]float32
	for _, l := range leaves {
		gr, err := l.Grad()
		require.NoError(t, err)
		out = append(out, vals(t, gr))
		gr.Close()
	}
	return out
}

func vals(t *testing.T, x *Tensor) []float32 {
	t.Helper()
	v, err := ToSlice[float32](x)
	require.NoError(t, err)
	return v
}

// TestConv2dFusedErrors: a residual of another shape is refused, not
// broadcast; errors of inputs propagate.
func TestConv2dFusedErrors(t *testing.T) {
	s := NewScope(Inference)
	defer s.Close()
	x, err := Ones(s, []int64{1, 2, 5, 5}, nil)
	require.NoError(t, err)
	w, err := Ones(s, []int64{3, 2, 3, 3}, nil)
	require.NoError(t, err)
	bad, err := Ones(s, []int64{1, 3, 1, 1}, nil)
	require.NoError(t, err)
	y := x.Conv2dFused(w, nil, &ConvOptions{Padding: [2]int64{1, 1}}, ReLU, bad)
	require.ErrorContains(t, y.Err(), "conv2d")
	require.ErrorContains(t, y.Err(), "does not match the convolution's output")
	y = x.Conv2dFused(w, nil, &ConvOptions{}, LeakyReLU(0.2), nil)
	require.NoError(t, y.Err())
	v := vals(t, y)
	require.Len(t, v, 3*3*3)
	for _, e := range v {
		require.Equal(t, float32(18), e) // 2 channels x 9 taps of 1
	}
}

// TestAddcmul: a + v*t1*t2 with broadcasting equals the separate operations
// (to the last bit but for a possible FMA in libtorch's kernel), and its
// gradients equal theirs within float32 rounding.
func TestAddcmul(t *testing.T) {
	g, err := NewGenerator(4)
	require.NoError(t, err)
	defer g.Close()
	s := NewScope(Grad)
	defer s.Close()
	leaf := func(shape ...int64) *Tensor {
		v, err := g.Randn(s, shape, nil)
		require.NoError(t, err)
		require.NoError(t, v.SetRequiresGrad(true))
		return v
	}
	b, f, s1 := leaf(2, 5, 1, 1), leaf(2, 5, 6, 7), leaf(2, 5, 1, 1)
	want := f.Mul(s1).MulScalar(0.5).Add(b)
	got := Addcmul(b, f, s1, 0.5)
	require.Equal(t, []int64{2, 5, 6, 7}, got.Shape())
	w, gv := vals(t, want), vals(t, got)
	for i := range w {
		require.InDelta(t, w[i], gv[i], 1e-6*(1+math.Abs(float64(w[i]))), "element %d", i)
	}
	wts, err := g.Randn(s, want.Shape(), nil)
	require.NoError(t, err)
	leaves := []*Tensor{b, f, s1}
	gw, gg := weightedGrads(t, want, wts, leaves), weightedGrads(t, got, wts, leaves)
	for k := range gw {
		for i := range gw[k] {
			require.InDelta(t, gw[k][i], gg[k][i], 1e-5*(1+math.Abs(float64(gw[k][i]))), "gradient %d element %d", k, i)
		}
	}
	bad, err := Ones(s, []int64{3, 1}, nil)
	require.NoError(t, err)
	require.ErrorContains(t, Addcmul(bad, f, s1, 1).Err(), "addcmul")
}
