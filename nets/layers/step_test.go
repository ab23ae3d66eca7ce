package layers

import (
	"testing"

	"github.com/gomioir/gomioir/nets/torch"
	"github.com/stretchr/testify/require"
)

func TestStepKeepsOnlyTheResult(t *testing.T) {
	live := torch.LiveTensors()
	for _, mode := range []torch.Mode{torch.Inference, torch.Grad} {
		s := torch.NewScope(mode)
		x, err := torch.Ones(s, []int64{2, 3}, nil)
		require.NoError(t, err)
		before := torch.LiveTensors()
		y := Step(x, func(x *torch.Tensor) *torch.Tensor {
			return x.MulScalar(2).AddScalar(1).ReLU().Neg().Abs()
		})
		require.Equal(t, before+1, torch.LiveTensors(), "only the result survives the step")
		require.Same(t, s, y.Scope())
		v, err := torch.ToSlice[float32](y)
		require.NoError(t, err)
		require.Equal(t, []float32{3, 3, 3, 3, 3, 3}, v)
		s.Close()
	}
	// Without a scope, Step is a plain call.
	x, err := torch.Ones(nil, []int64{1}, nil)
	require.NoError(t, err)
	y := Step(x, func(x *torch.Tensor) *torch.Tensor { return x.AddScalar(1) })
	require.Nil(t, y.Scope())
	y.Close()
	x.Close()
	require.Equal(t, live, torch.LiveTensors())
}
