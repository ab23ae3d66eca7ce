package torch

import (
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/nets/torch/host"
)

var (
	refOnce sync.Once
	refs    *host.StateDict
	refErr  error
)

// ref returns the PyTorch-computed tensor name from testdata/ops.safetensors
// (made by scripts/fixtures_torch.py) as a tensor in scope s.
func ref(t testing.TB, s *Scope, name string) *Tensor {
	t.Helper()
	refOnce.Do(func() {
		var f *safetensors.File
		f, refErr = safetensors.ReadFile("testdata/ops.safetensors")
		if refErr == nil {
			refs = f.Tensors
		}
	})
	require.NoError(t, refErr)
	r, ok := refs.Get(name)
	require.True(t, ok, "no reference tensor %q", name)
	x, err := FromHost(s, r, CPU)
	require.NoError(t, err)
	return x
}

// floats returns t's elements as float64 whatever its dtype.
func floats(t testing.TB, x *Tensor) []float64 {
	t.Helper()
	require.NoError(t, x.Err())
	r, err := ToHost(x)
	require.NoError(t, err)
	v, err := r.Float64s()
	require.NoError(t, err)
	return v
}

// requireClose checks got against the reference want: same shape, and every
// element within atol + rtol*|want|. It returns the largest absolute error.
func requireClose(t testing.TB, got, want *Tensor, atol, rtol float64) float64 {
	t.Helper()
	require.NoError(t, got.Err())
	require.Equal(t, want.Shape(), got.Shape(), "shape")
	g, w := floats(t, got), floats(t, want)
	worst := 0.0
	for i := range w {
		d := math.Abs(g[i] - w[i])
		if math.IsNaN(g[i]) != math.IsNaN(w[i]) {
			require.Failf(t, "NaN mismatch", "element %d: got %v want %v", i, g[i], w[i])
		}
		if d > atol+rtol*math.Abs(w[i]) {
			require.Failf(t, "value mismatch", "element %d: got %.9g want %.9g (diff %.3g)", i, g[i], w[i], d)
		}
		worst = max(worst, d)
	}
	return worst
}

// closeRef compares got with the reference tensor name, float32 tolerance.
func closeRef(t testing.TB, s *Scope, got *Tensor, name string) {
	t.Helper()
	requireClose(t, got, ref(t, s, name), 1e-6, 1e-5)
}
