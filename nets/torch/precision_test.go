package torch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAllowTF32(t *testing.T) {
	def, err := AllowTF32()
	require.NoError(t, err)
	require.Equal(t, TF32{Conv: true, Matmul: false}, def, "PyTorch's defaults")
	defer func() { require.NoError(t, SetAllowTF32(def)) }()
	for _, p := range []TF32{{}, {Conv: true, Matmul: true}, {Matmul: true}} {
		require.NoError(t, SetAllowTF32(p))
		got, err := AllowTF32()
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
}
