package torch

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScopeFreesIntermediates(t *testing.T) {
	start := LiveTensors()
	out, err := Run(Inference, func(s *Scope) *Tensor {
		x, err := Ones(s, []int64{4, 4}, nil)
		require.NoError(t, err)
		return x.MulScalar(3).ReLU().Sum(false)
	})
	require.NoError(t, err)
	require.Equal(t, start+1, LiveTensors(), "only the kept result is alive")
	v, err := out.Item()
	require.NoError(t, err)
	require.Equal(t, 48.0, v)
	require.Nil(t, out.Scope())
	out.Close()
	require.Equal(t, start, LiveTensors())

	_, err = Run(NoGrad, func(s *Scope) *Tensor {
		x, _ := Ones(s, []int64{4}, nil)
		return x.Reshape(3)
	})
	require.ErrorContains(t, err, "reshape")
	require.Equal(t, start, LiveTensors())
}

func TestChildScopesAndUse(t *testing.T) {
	start := LiveTensors()
	outer := NewScope(NoGrad)
	img, err := Ones(outer, []int64{1, 1, 8, 8}, nil)
	require.NoError(t, err)
	for range 5 {
		inner := outer.Child(Inference)
		tile := inner.Use(img).Narrow(2, 0, 4).MulScalar(2)
		require.Same(t, inner, tile.Scope(), "results of a borrowed tensor go to the inner scope")
		kept := inner.Keep(tile.Sum(false))
		require.Same(t, outer, kept.Scope(), "kept results move to the parent")
		inner.Close()
		v, err := kept.Item()
		require.NoError(t, err)
		require.Equal(t, 64.0, v)
	}
	require.Equal(t, start+1+5, LiveTensors(), "inner scopes freed their tiles")
	require.Equal(t, 1.0, must(img.Amax(false).Item()), "Use does not free the borrowed tensor")
	outer.Close()
	require.Equal(t, start, LiveTensors())
	outer.Close() // idempotent
}

// Operations put their result in the deepest scope among their inputs.
func TestDeepestScopeWins(t *testing.T) {
	outer := NewScope(NoGrad)
	defer outer.Close()
	inner := outer.Child(NoGrad)
	defer inner.Close()
	a, err := Ones(outer, []int64{2}, nil)
	require.NoError(t, err)
	b, err := Ones(inner, []int64{2}, nil)
	require.NoError(t, err)
	require.Same(t, inner, a.Add(b).Scope())
	require.Same(t, inner, b.Add(a).Scope())
	w, err := Ones(nil, []int64{2}, nil)
	require.NoError(t, err)
	defer w.Close()
	require.Same(t, outer, w.Mul(a).Scope())
}

func TestScopeIsSafeForConcurrentUse(t *testing.T) {
	start := LiveTensors()
	s := NewScope(Inference)
	x, err := Ones(s, []int64{16, 16}, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	sums := make([]float64, 8)
	for i := range sums {
		wg.Go(func() {
			y := x.MulScalar(float64(i)).Matmul(x).Sum(false)
			sums[i], _ = y.Item()
		})
	}
	wg.Wait()
	for i, v := range sums {
		require.Equal(t, float64(i*16*16*16), v)
	}
	require.NoError(t, s.Err())
	s.Close()
	require.Equal(t, start, LiveTensors())
}

func TestClosedScopeRejectsNewResults(t *testing.T) {
	s := NewScope(NoGrad)
	x, err := Ones(s, []int64{2}, nil)
	require.NoError(t, err)
	s.Close()
	_, err = Ones(s, []int64{2}, nil)
	require.ErrorIs(t, err, ErrScopeClosed)
	w, err := Ones(nil, []int64{2}, nil)
	require.NoError(t, err)
	defer w.Close()
	require.ErrorIs(t, x.Add(w).Err(), ErrClosed, "x was freed with its scope")
	inner := NewScope(NoGrad)
	v := inner.Use(w)
	inner.Close()
	require.ErrorIs(t, v.ReLU().Err(), ErrClosed)
	require.NoError(t, w.Err(), "closing a scope does not free borrowed tensors")
	require.ErrorIs(t, inner.Use(w).Err(), ErrScopeClosed)
}

func TestKeepMovesErroredTensorsToTheParent(t *testing.T) {
	start := LiveTensors()
	outer := NewScope(NoGrad)
	defer outer.Close()
	inner := outer.Child(NoGrad)
	x, err := Ones(inner, []int64{2}, nil)
	require.NoError(t, err)
	bad := inner.Keep(x.Reshape(3))
	require.Error(t, bad.Err())
	require.Same(t, outer, bad.Scope(), "an errored result keeps a scope for further work")
	inner.Close()
	w, err := Ones(nil, []int64{2}, nil)
	require.NoError(t, err)
	defer w.Close()
	u := bad.Scope().Use(w)
	require.Same(t, outer, u.Scope())
	outer.Close()
	require.Equal(t, start+1, LiveTensors(), "only w is alive")
}
