package capi

import (
	"encoding/binary"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests check the contract of the raw ABI (errors by value, handles,
// copies in and out, modes) with exact values; the ops themselves are
// checked against PyTorch through nets/torch.

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.NativeEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func f32s(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.NativeEndian.Uint32(b[4*i:]))
	}
	return v
}

func fromF32(t *testing.T, shape []int64, v ...float32) Tensor {
	t.Helper()
	x, err := FromData(f32bytes(v...), shape, Float32, CPU, 0)
	require.NoError(t, err)
	require.False(t, x.IsNil())
	t.Cleanup(func() { Free(x) })
	return x
}

func values(t *testing.T, x Tensor) []float32 {
	t.Helper()
	info, err := TensorInfo(x)
	require.NoError(t, err)
	require.Equal(t, Float32, info.DType)
	n := int64(1)
	for _, d := range info.Shape {
		n *= d
	}
	b := make([]byte, 4*n)
	require.NoError(t, CopyOut(x, b))
	return f32s(b)
}

func TestVersionOfTheLinkedLibtorch(t *testing.T) {
	v, err := Version()
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`^(1\.13|2\.[0-9]+)\.[0-9]+$`), v)
}

// Data from Go is copied: changing the Go slice afterwards does not change
// the tensor, and CopyOut fills memory Go owns.
func TestFromDataCopiesAndCopyOutRoundTrips(t *testing.T) {
	src := f32bytes(1, -2, 3.5, 4, 5, 6)
	x, err := FromData(src, []int64{2, 3}, Float32, CPU, 0)
	require.NoError(t, err)
	defer Free(x)
	copy(src, f32bytes(9, 9, 9, 9, 9, 9))
	require.Equal(t, []float32{1, -2, 3.5, 4, 5, 6}, values(t, x))
	info, err := TensorInfo(x)
	require.NoError(t, err)
	require.Equal(t, Info{DType: Float32, DeviceType: CPU, DeviceIndex: 0, Shape: []int64{2, 3}}, info)
	err = CopyOut(x, make([]byte, 8))
	require.ErrorContains(t, err, "destination holds 8 bytes")
	v, err := Item(fromF32(t, []int64{1}, 2.5))
	require.NoError(t, err)
	require.Equal(t, 2.5, v)
}

// Errors come back by value with the operation's name and one line, and the
// out-of-memory flag tells an allocation failure apart.
func TestErrorsByValue(t *testing.T) {
	a := fromF32(t, []int64{2, 3}, 1, 2, 3, 4, 5, 6)
	b := fromF32(t, []int64{4}, 1, 2, 3, 4)
	out, err := Binary(Add, a, b, ModeNoGrad)
	require.True(t, out.IsNil())
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "add", e.Op)
	require.False(t, e.OOM)
	require.NotContains(t, e.Msg, "\n")
	require.NotContains(t, e.Msg, "Exception raised from")
	require.True(t, strings.HasPrefix(err.Error(), "add: "), err.Error())

	_, err = Full([]int64{1 << 19, 1 << 19}, 0, Float32, CPU, 0, ModeNoGrad)
	require.ErrorAs(t, err, &e)
	require.True(t, e.OOM, "a 1 TiB tensor: %v", err)

	// The zero handle where a tensor is required is an error, not a crash.
	_, err = Unary(ReLU, Tensor{}, ModeNoGrad)
	require.ErrorContains(t, err, "tensor is nil or closed")
	_, err = Chunk(a, 0, 0, ModeNoGrad)
	require.Error(t, err)
}

// The mode argument decides whether the graph is recorded; a zero handle
// for an optional argument leaves it out.
func TestModesAndOptionalArguments(t *testing.T) {
	w := fromF32(t, []int64{2}, 1, 2)
	require.NoError(t, SetRequiresGrad(w, true))
	for _, c := range []struct {
		mode Mode
		rg   bool
	}{{ModeGrad, true}, {ModeNoGrad, false}, {ModeInference, false}} {
		y, err := BinaryScalar(Mul, w, 3, c.mode)
		require.NoError(t, err)
		info, err := TensorInfo(y)
		require.NoError(t, err)
		require.Equal(t, c.rg, info.RequiresGrad, "mode %d", c.mode)
		require.Equal(t, []float32{3, 6}, values(t, y))
		Free(y)
	}
	y, err := BinaryScalar(Mul, w, 3, ModeGrad)
	require.NoError(t, err)
	s, err := Reduce(Sum, y, nil, false, false, ModeGrad)
	require.NoError(t, err)
	require.NoError(t, Backward(s, Tensor{}))
	g, err := Grad(w)
	require.NoError(t, err)
	require.Equal(t, []float32{3, 3}, values(t, g))
	for _, h := range []Tensor{y, s, g} {
		Free(h)
	}
	require.NoError(t, ZeroGrad(w))
	g, err = Grad(w)
	require.NoError(t, err)
	require.True(t, g.IsNil())

	// x (1,1,2,2) convolved with a 1x1 kernel of 2, without and with a bias.
	x := fromF32(t, []int64{1, 1, 2, 2}, 1, 2, 3, 4)
	k := fromF32(t, []int64{1, 1, 1, 1}, 2)
	bias := fromF32(t, []int64{1}, 0.5)
	one := [2]int64{1, 1}
	c, err := Conv2d(x, k, Tensor{}, one, [2]int64{}, one, 1, ModeInference)
	require.NoError(t, err)
	require.Equal(t, []float32{2, 4, 6, 8}, values(t, c))
	Free(c)
	c, err = Conv2d(x, k, bias, one, [2]int64{}, one, 1, ModeInference)
	require.NoError(t, err)
	require.Equal(t, []float32{2.5, 4.5, 6.5, 8.5}, values(t, c))
	Free(c)
}

// Arrays of handles go in (Cat) and come out (Chunk).
func TestHandleArrays(t *testing.T) {
	a := fromF32(t, []int64{1, 2}, 1, 2)
	b := fromF32(t, []int64{1, 2}, 3, 4)
	c, err := Cat([]Tensor{a, b, a}, 0, false, ModeNoGrad)
	require.NoError(t, err)
	defer Free(c)
	require.Equal(t, []float32{1, 2, 3, 4, 1, 2}, values(t, c))
	parts, err := Chunk(c, 4, 0, ModeNoGrad)
	require.NoError(t, err)
	require.Len(t, parts, 3, "torch.chunk may return fewer parts")
	for i, p := range parts {
		require.Equal(t, values(t, []Tensor{a, b, a}[i]), values(t, p))
		Free(p)
	}
	st, err := Cat([]Tensor{a, b}, 0, true, ModeNoGrad)
	require.NoError(t, err)
	defer Free(st)
	info, err := TensorInfo(st)
	require.NoError(t, err)
	require.Equal(t, []int64{2, 1, 2}, info.Shape)
}

// Adam's state slices are read and, for the step counts, written in place.
func TestAdamStepCountsSteps(t *testing.T) {
	p := fromF32(t, []int64{2}, 1, -1)
	m := fromF32(t, []int64{2}, 0, 0)
	v := fromF32(t, []int64{2}, 0, 0)
	require.NoError(t, SetRequiresGrad(p, true))
	s, err := Reduce(Sum, p, nil, false, false, ModeGrad)
	require.NoError(t, err)
	require.NoError(t, Backward(s, Tensor{}))
	Free(s)
	steps := []int64{0}
	require.NoError(t, AdamStep([]Tensor{p}, []Tensor{m}, []Tensor{v}, steps, 0.1, 0.9, 0.999, 1e-8, 0, false))
	require.Equal(t, []int64{1}, steps)
	// The first step moves every parameter by lr against the gradient's
	// sign (m and v hats equal g and g*g).
	require.InDeltaSlice(t, []float32{0.9, -1.1}, values(t, p), 1e-6)
	require.Error(t, AdamStep([]Tensor{p}, nil, nil, steps, 0.1, 0.9, 0.999, 1e-8, 0, false))
}

func TestThreadsAndSettings(t *testing.T) {
	SetNumThreads(2)
	n, err := NumThreads()
	require.NoError(t, err)
	require.Equal(t, 2, n)
	got, err := ProbeThreads(64)
	require.NoError(t, err)
	require.LessOrEqual(t, got, 2)
	SetNumThreads(1)
	n, err = NumThreads()
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestAllowTF32Switches(t *testing.T) {
	conv, mm, err := AllowTF32()
	require.NoError(t, err)
	defer func() { require.NoError(t, SetAllowTF32(conv, mm)) }()
	require.NoError(t, SetAllowTF32(false, true))
	c2, m2, err := AllowTF32()
	require.NoError(t, err)
	require.Equal(t, [2]bool{false, true}, [2]bool{c2, m2})
}

// With a GPU: a tensor goes there and back and Synchronize waits; without
// one, Synchronize is an error, not a crash. Never skipped, so that
// scripts/gpu-check.sh sees it pass on the GPU.
func TestCUDADevicesAndSynchronize(t *testing.T) {
	n, err := CUDADeviceCount()
	require.NoError(t, err)
	require.Error(t, CUDASynchronize(n), "the device after the last one")
	if n == 0 {
		return
	}
	x, err := FromData(f32bytes(1, 2, 3), []int64{3}, Float32, CUDA, 0)
	require.NoError(t, err)
	defer Free(x)
	info, err := TensorInfo(x)
	require.NoError(t, err)
	require.Equal(t, CUDA, info.DeviceType)
	y, err := BinaryScalar(Mul, x, 2, ModeInference)
	require.NoError(t, err)
	defer Free(y)
	require.NoError(t, CUDASynchronize(0))
	require.Equal(t, []float32{2, 4, 6}, values(t, y))
}

func TestGeneratorStateRoundTrips(t *testing.T) {
	g, err := NewGenerator(42, CPU, 0)
	require.NoError(t, err)
	defer FreeGenerator(g)
	st, err := GeneratorState(g)
	require.NoError(t, err)
	defer Free(st)
	a, err := Random(g, Normal, []int64{4}, 0, 1, Float32, CPU, 0, ModeNoGrad)
	require.NoError(t, err)
	defer Free(a)
	require.NoError(t, SetGeneratorState(g, st))
	b, err := Random(g, Normal, []int64{4}, 0, 1, Float32, CPU, 0, ModeNoGrad)
	require.NoError(t, err)
	defer Free(b)
	require.Equal(t, values(t, a), values(t, b))
}
