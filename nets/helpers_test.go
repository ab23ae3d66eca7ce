package nets

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// requireAllGrads checks, after a backward pass in scope s, that every
// parameter of m has a non-zero gradient and that no buffer has one.
func requireAllGrads(t *testing.T, s *torch.Scope, m layers.Module) {
	t.Helper()
	for _, p := range layers.Params(m) {
		gr, err := p.Tensor().Grad()
		require.NoError(t, err)
		if p.Buffer {
			require.Nil(t, gr, p.Name)
			continue
		}
		require.NotNil(t, gr, p.Name)
		sum, err := s.Use(gr).Abs().Sum(false).Item()
		require.NoError(t, err)
		require.Positive(t, sum, p.Name)
		gr.Close()
	}
}

// benchValues times inference-mode forward passes of n on one input, vals
// of the given shape.
func benchValues(b *testing.B, n Backbone, vals []float32, shape []int64) {
	x, err := torch.FromSlice(nil, vals, shape...)
	require.NoError(b, err)
	defer x.Close()
	benchForward(b, n, x)
}

// benchForward times inference-mode forward passes of n on x.
func benchForward(b *testing.B, n Backbone, x *torch.Tensor) {
	b.ResetTimer()
	for b.Loop() {
		out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			return n.Forward(s.Use(x), nil)
		})
		require.NoError(b, err)
		out.Close()
	}
}
