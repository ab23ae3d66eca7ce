package layers

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/torch"
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
