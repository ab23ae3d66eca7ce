package torch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGeneratorMatchesPyTorch(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	g, err := NewGenerator(42)
	require.NoError(t, err)
	defer g.Close()
	x, err := g.Randn(s, []int64{3, 5}, nil)
	require.NoError(t, err)
	requireClose(t, x, ref(t, s, "rng.randn"), 0, 0)
	state, err := g.State()
	require.NoError(t, err)
	x, err = g.Rand(s, []int64{4, 2}, nil)
	require.NoError(t, err)
	requireClose(t, x, ref(t, s, "rng.rand"), 0, 0)
	u, err := Zeros(s, []int64{6}, nil)
	require.NoError(t, err)
	require.NoError(t, g.Uniform(u, -2, 3))
	requireClose(t, u, ref(t, s, "rng.uniform"), 0, 0)
	n, err := Zeros(s, []int64{2, 3}, nil)
	require.NoError(t, err)
	require.NoError(t, g.Normal(n, 0.5, 2))
	requireClose(t, n, ref(t, s, "rng.normal"), 0, 0)

	// Restoring the state replays the same numbers.
	require.NoError(t, g.SetState(state))
	again, err := g.Rand(s, []int64{4, 2}, nil)
	require.NoError(t, err)
	requireClose(t, again, ref(t, s, "rng.rand"), 0, 0)

	g64, err := NewGenerator(7)
	require.NoError(t, err)
	defer g64.Close()
	d, err := g64.Randn(s, []int64{7}, &Options{DType: Float64})
	require.NoError(t, err)
	requireClose(t, d, ref(t, s, "rng.randn64"), 0, 0)

	g.Close()
	_, err = g.Rand(s, []int64{1}, nil)
	require.ErrorContains(t, err, "closed")
}

func TestConstructorsAndTransfer(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	z, err := Zeros(s, []int64{2, 3}, &Options{DType: Int64})
	require.NoError(t, err)
	zi, err := ToSlice[int64](z)
	require.NoError(t, err)
	require.Equal(t, make([]int64, 6), zi)
	f, err := Full(s, []int64{2}, 2.5, &Options{DType: Float64})
	require.NoError(t, err)
	fv, err := ToSlice[float64](f)
	require.NoError(t, err)
	require.Equal(t, []float64{2.5, 2.5}, fv)
	r, err := Arange(s, 0, 5, 1.5, nil)
	require.NoError(t, err)
	rv, err := ToSlice[float32](r)
	require.NoError(t, err)
	require.Equal(t, []float32{0, 1.5, 3, 4.5}, rv)
	_, err = ToSlice[float64](r)
	require.ErrorContains(t, err, "tensor is float32, asked for float64")

	for _, dt := range []DType{Float32, Float64, Int64, Uint8, Bool, Int32} {
		c := r.ToDType(dt)
		require.Equal(t, dt, c.DType(), "dtype %v", dt)
	}
	u, err := FromSlice(s, []uint8{0, 7, 255}, 3)
	require.NoError(t, err)
	uv, err := ToSlice[uint8](u.ToDType(Float32).MulScalar(1).ToDType(Uint8))
	require.NoError(t, err)
	require.Equal(t, []uint8{0, 7, 255}, uv)
	b, err := FromSlice(s, []bool{true, false}, 2)
	require.NoError(t, err)
	bv, err := ToSlice[bool](b.LogicalNot())
	require.NoError(t, err)
	require.Equal(t, []bool{false, true}, bv)

	one, err := Scalar(s, 3.25)
	require.NoError(t, err)
	v, err := one.Item()
	require.NoError(t, err)
	require.Equal(t, 3.25, v)
	require.Equal(t, 0, one.Dim())
	_, err = r.Item()
	require.ErrorContains(t, err, "one element")

	c := r.Clone()
	require.Equal(t, rv, must(ToSlice[float32](c)))
	empty, err := FromSlice(s, []float32{}, 0, 3)
	require.NoError(t, err)
	require.Equal(t, []int64{0, 3}, empty.Shape())
	ev, err := ToSlice[float32](empty)
	require.NoError(t, err)
	require.Empty(t, ev)
	require.Equal(t, "Tensor([0 3], float32, cpu)", empty.String())
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
