package torch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func requireCUDA(t *testing.T) {
	t.Helper()
	if !CUDAAvailable() {
		t.Skip("CUDA is not available to this libtorch (Debian's libtorch is CPU-only; see scripts/gpu-check.sh)")
	}
}

// The same computation on the GPU matches the CPU, tensors move both ways,
// and seeded random numbers are identical on both devices.
func TestCUDAMatchesCPU(t *testing.T) {
	requireCUDA(t)
	s := NewScope(Inference)
	defer s.Close()
	x, w, b := ref(t, s, "conv.x"), ref(t, s, "conv.w"), ref(t, s, "conv.b")
	gpu := CUDA(0)
	gx := x.ToDevice(gpu)
	require.Equal(t, gpu, gx.Device())
	out := gx.Conv2d(w.ToDevice(gpu), b.ToDevice(gpu), &ConvOptions{Padding: [2]int64{1, 1}}).GELU()
	requireClose(t, out.ToDevice(CPU), x.Conv2d(w, b, &ConvOptions{Padding: [2]int64{1, 1}}).GELU(), 1e-4, 1e-3)

	g, err := NewGenerator(42)
	require.NoError(t, err)
	defer g.Close()
	r, err := g.Randn(s, []int64{3, 5}, &Options{DType: Float32, Device: gpu})
	require.NoError(t, err)
	require.Equal(t, gpu, r.Device())
	requireClose(t, r, ref(t, s, "rng.randn"), 0, 0)

	direct, err := FromSliceOn(s, gpu, []float32{1, 2, 3}, 3)
	require.NoError(t, err)
	v, err := ToSlice[float32](direct.MulScalar(2))
	require.NoError(t, err)
	require.Equal(t, []float32{2, 4, 6}, v)
}

func TestCUDATrainingStep(t *testing.T) {
	requireCUDA(t)
	s := NewScope(Grad)
	defer s.Close()
	gpu := CUDA(0)
	p := ref(t, s, "optim.p0").ToDevice(gpu).Detach()
	require.NoError(t, p.SetRequiresGrad(true))
	opt, err := NewAdam([]*Tensor{p}, &AdamConfig{LR: 2e-4, Beta1: 0.9, Beta2: 0.99})
	require.NoError(t, err)
	defer opt.Close()
	require.NoError(t, p.Mul(ref(t, s, "optim.g0").ToDevice(gpu)).Sum(false).Backward())
	require.NoError(t, opt.Step())
	requireClose(t, p.ToDevice(CPU), ref(t, s, "optim.adam.p0"), 1e-6, 1e-5)
}

// Synchronize is a no-op on the CPU; on a GPU it waits for queued work, and
// for a GPU libtorch cannot use it returns an error instead of aborting.
func TestSynchronize(t *testing.T) {
	require.NoError(t, Synchronize(CPU))
	require.Error(t, Synchronize(CUDA(-1)))
	if !CUDAAvailable() {
		err := Synchronize(CUDA(0))
		require.Error(t, err)
		t.Logf("Synchronize(cuda:0) without a GPU: %v", err)
		return
	}
	require.NoError(t, Synchronize(CUDA(0)))
	require.Error(t, Synchronize(CUDA(CUDADeviceCount())))
	s := NewScope(Inference)
	defer s.Close()
	x, err := Full(s, []int64{256, 256}, 1, &Options{DType: Float32, Device: CUDA(0)})
	require.NoError(t, err)
	y := x.Matmul(x)
	require.NoError(t, Synchronize(CUDA(0)))
	v, err := ToSlice[float32](y.ToDevice(CPU))
	require.NoError(t, err)
	require.Equal(t, float32(256), v[0])
}
