package blocks

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/torch"
)

func tensorOf(t *testing.T, v []float32, shape ...int64) *torch.Tensor {
	t.Helper()
	x, err := torch.FromSlice(nil, v, shape...)
	require.NoError(t, err)
	return x
}

func scoped(t *testing.T, s *torch.Scope, v []float32, shape ...int64) *torch.Tensor {
	t.Helper()
	x, err := torch.FromSlice(s, v, shape...)
	require.NoError(t, err)
	return x
}

func values(t *testing.T, x *torch.Tensor) []float32 {
	t.Helper()
	v, err := torch.ToSlice[float32](x)
	require.NoError(t, err)
	return v
}
