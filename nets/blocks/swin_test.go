package blocks

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

func TestDropPath(t *testing.T) {
	s := torch.NewScope(torch.Grad)
	defer s.Close()
	x, err := torch.Ones(s, []int64{64, 4, 3}, nil)
	require.NoError(t, err)
	require.Same(t, x, DropPath(x, 0, nil))

	draw := func(seed uint64) []float32 {
		g, err := torch.NewGenerator(seed)
		require.NoError(t, err)
		defer g.Close()
		v, err := torch.ToSlice[float32](DropPath(x, 0.5, g))
		require.NoError(t, err)
		return v
	}
	v := draw(1)
	dropped := 0
	for i := range 64 {
		sample := v[i*12 : (i+1)*12]
		switch sample[0] {
		case 0:
			dropped++
		case 2:
		default:
			t.Fatalf("sample %d: %v is neither dropped nor scaled by 1/(1-p)", i, sample[0])
		}
		for _, e := range sample {
			require.Equal(t, sample[0], e, "one draw per sample")
		}
	}
	require.Greater(t, dropped, 16)
	require.Less(t, dropped, 48)
	require.Equal(t, v, draw(1), "seeded")
	require.NotEqual(t, v, draw(2))
}

// TestSwinBlockDropPathOnlyInTraining checks that stochastic depth needs both
// a generator and a Grad-mode scope.
func TestSwinBlockDropPathOnlyInTraining(t *testing.T) {
	g, err := torch.NewGenerator(5)
	require.NoError(t, err)
	defer g.Close()
	b, err := NewSwinBlock(g, SwinBlockConfig{Dim: 8, Heads: 2, WindowSize: 4, Shift: 2, MLPRatio: 2, DropPath: 0.5})
	require.NoError(t, err)
	defer b.Close()
	run := func(mode torch.Mode, rnd *torch.Generator) []float32 {
		b.Rand = rnd
		out, err := torch.Run(mode, func(s *torch.Scope) *torch.Tensor {
			x, err := torch.Ones(s, []int64{16, 8 * 8, 8}, nil)
			require.NoError(t, err)
			return b.Forward(x.MulScalar(0.5), 8, 8)
		})
		require.NoError(t, err)
		defer out.Close()
		v, err := torch.ToSlice[float32](out)
		require.NoError(t, err)
		return v
	}
	plain := run(torch.Inference, nil)
	require.Equal(t, plain, run(torch.Inference, g))
	require.Equal(t, plain, run(torch.Grad, nil))
	require.NotEqual(t, plain, run(torch.Grad, g))

	_, err = NewSwinBlock(nil, SwinBlockConfig{Dim: 8, Heads: 2, WindowSize: 4, DropPath: 1})
	require.Error(t, err)
}

// TestWindowOrderMatchesRollAndPartition checks windowOrder against the
// reference's torch.roll by -shift followed by WindowPartition, and
// windowGather against composing the orders.
func TestWindowOrderMatchesRollAndPartition(t *testing.T) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	const h, w, ws = 16, 24, 8
	vals := make([]float32, h*w)
	for i := range vals {
		vals[i] = float32(i)
	}
	x, err := torch.FromSlice(s, vals, 1, h, w, 1)
	require.NoError(t, err)
	for _, shift := range []int{0, 4} {
		p := WindowPartition(x.Roll([]int64{-int64(shift), -int64(shift)}, []int64{1, 2}), ws)
		got, err := torch.ToSlice[float32](p)
		require.NoError(t, err)
		order := windowOrder(h, w, ws, shift)
		for k, r := range order {
			require.Equal(t, float32(r), got[k], "shift %d token %d", shift, k)
		}
	}
	require.Equal(t, windowOrder(h, w, ws, raster), func() []int64 {
		id := make([]int64, h*w)
		for i := range id {
			id[i] = int64(i)
		}
		return id
	}())
	g, err := windowGather(h, w, ws, 0, 4)
	require.NoError(t, err)
	o0, o4 := windowOrder(h, w, ws, 0), windowOrder(h, w, ws, 4)
	for k := range g {
		require.Equal(t, o4[k], o0[g[k]])
	}
	_, err = windowGather(12, w, ws, raster, 0)
	require.Error(t, err)
}

// TestSwinBlocksWindowOrderEqualsReference checks that running a stage in
// window order gives the reference sequence's values (roll, partition,
// attention, reverse, roll back per block), for a batch of two on a
// non-square map, plain and shifted blocks, with and without a mask cache.
func TestSwinBlocksWindowOrderEqualsReference(t *testing.T) {
	g, err := torch.NewGenerator(11)
	require.NoError(t, err)
	defer g.Close()
	var cache MaskCache
	defer cache.Close()
	var bs SwinBlocks
	for i := range 3 {
		b, err := NewSwinBlock(g, SwinBlockConfig{Dim: 12, Heads: 3, WindowSize: 4, Shift: int64(i%2) * 2,
			MLPRatio: 2, Resolution: [2]int64{8, 8}})
		require.NoError(t, err)
		require.NoError(t, TruncNormalLinears(g, b))
		for _, p := range layers.Params(b) {
			if !p.Buffer {
				require.NoError(t, g.Uniform(p.Tensor(), -0.5, 0.5))
			}
		}
		bs = append(bs, b)
	}
	defer bs.Close()
	const h, w = 8, 12
	run := func(f func(x *torch.Tensor) *torch.Tensor) []float32 {
		out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			x, err := g.Rand(s, []int64{2, h * w, 12}, nil)
			require.NoError(t, err)
			return f(x)
		})
		require.NoError(t, err)
		defer out.Close()
		v, err := torch.ToSlice[float32](out)
		require.NoError(t, err)
		return v
	}
	st := mustState(t, g)
	ref := run(func(x *torch.Tensor) *torch.Tensor { return bs.forwardRaster(x, h, w) })
	require.NoError(t, g.SetState(st))
	got := run(func(x *torch.Tensor) *torch.Tensor { return bs.Forward(x, h, w) })
	requireClose(t, ref, got, 1e-6)
	for _, b := range bs {
		b.Masks = &cache
	}
	require.NoError(t, g.SetState(st))
	cached := run(func(x *torch.Tensor) *torch.Tensor { return bs.Forward(x, h, w) })
	require.Equal(t, got, cached)
	require.Positive(t, cache.Len())

	// A size that is not whole windows gives an error, not a result.
	_, err = torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.Zeros(s, []int64{1, 6 * 8, 12}, nil)
		require.NoError(t, err)
		return bs.Forward(x, 6, 8)
	})
	require.Error(t, err)
}

func mustState(t *testing.T, g *torch.Generator) []byte {
	st, err := g.State()
	require.NoError(t, err)
	return st
}

func requireClose(t *testing.T, want, got []float32, tol float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.InDelta(t, want[i], got[i], tol, "element %d", i)
	}
}
