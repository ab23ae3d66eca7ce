package capi

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import "unsafe"

// ---- process-wide state ----

// Version returns the libtorch version the shim was compiled against
// ("1.13.0", "2.6.0").
func Version() (string, error) {
	var p *C.char
	if err := check(C.tt_version(&p)); err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p), nil
}

// SetNumThreads sets the intra-op thread count every later call applies to
// its OS thread before doing work (n <= 0 leaves libtorch's own count).
func SetNumThreads(n int) { C.tt_set_num_threads(C.int(n)) }

// NumThreads returns the intra-op thread count on the OS thread running
// the call, after the shim brought it up to date.
func NumThreads() (int, error) {
	var n C.int
	err := check(C.tt_num_threads(&n))
	return int(n), err
}

// ProbeThreads runs an ATen parallel loop of work items and returns how
// many distinct threads executed it.
func ProbeThreads(work int64) (int, error) {
	var n C.int
	err := check(C.tt_probe_threads(C.int64_t(work), &n))
	return int(n), err
}

// CUDADeviceCount returns the number of CUDA GPUs libtorch can use.
func CUDADeviceCount() (int, error) {
	var n C.int
	err := check(C.tt_cuda_device_count(&n))
	return int(n), err
}

// CUDASynchronize waits for all work queued on GPU index.
func CUDASynchronize(index int) error { return check(C.tt_cuda_synchronize(C.int(index))) }

// ManualSeed seeds libtorch's default generators (torch.manual_seed).
func ManualSeed(seed uint64) { C.tt_manual_seed(C.uint64_t(seed)) }

// MallocKeepMapped asks glibc to keep freed memory mapped (no mmap for large
// blocks, no trimming), process-wide. It reports whether mallopt accepted
// both settings.
func MallocKeepMapped() bool { return C.tt_malloc_keep_mapped() == 1 }

// MallocTrim gives glibc's free memory and the counting allocator's cached
// blocks back to the system (malloc_trim).
func MallocTrim() { C.tt_malloc_trim() }

// SetCPUCacheLimit bounds the bytes of freed large blocks the counting
// allocator keeps mapped for reuse.
func SetCPUCacheLimit(bytes int64) { C.tt_set_cpu_cache_limit(C.int64_t(bytes)) }

// CPUCachedBytes returns the bytes of freed large blocks kept for reuse.
func CPUCachedBytes() int64 { return int64(C.tt_cpu_cached_bytes()) }

// CountCPUMemory installs the counting CPU allocator; false if libtorch
// kept another one.
func CountCPUMemory() bool { return C.tt_count_cpu_memory() == 1 }

// CPUMemory returns the counted bytes of live CPU tensors, their
// high-water mark number mark (0 or 1) and the largest block since that
// mark's reset, which resetPeak then performs.
func CPUMemory(mark int, resetPeak bool) (current, peak, largest int64) {
	var c, p, l C.int64_t
	C.tt_cpu_memory(&c, &p, &l, C.int(mark), cbool(resetPeak))
	return int64(c), int64(p), int64(l)
}

// SetAllowTF32 sets whether cuDNN convolutions (conv) and cuBLAS matrix
// products (matmul) may use TF32 for float32 work, process-wide.
func SetAllowTF32(conv, matmul bool) error {
	return check(C.tt_set_allow_tf32(cbool(conv), cbool(matmul)))
}

// AllowTF32 returns the TF32 settings of SetAllowTF32.
func AllowTF32() (conv, matmul bool, err error) {
	var c, m C.int
	err = check(C.tt_allow_tf32(&c, &m))
	return c != 0, m != 0, err
}

// ---- lifetime, metadata, data transfer ----

// Free frees a tensor handle. Freeing the zero handle is a no-op.
func Free(t Tensor) { C.tt_free(t.c()) }

// ShallowCopy returns a new handle to t's data.
func ShallowCopy(t Tensor) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_shallow_copy(t.c(), &out))
	return tensor(out), err
}

// MaxDims is the most dimensions Info reports (tensors with more are an
// error).
const MaxDims = 16

// Info is a tensor's metadata.
type Info struct {
	DType        DType // -1 for an element type the shim has no code for
	DeviceType   DeviceType
	DeviceIndex  int
	Shape        []int64
	RequiresGrad bool
}

// TensorInfo returns t's element type, device, shape and requires-grad flag.
func TensorInfo(t Tensor) (Info, error) {
	var dt, devType, devIndex, ndim, rg C.int
	var shape [MaxDims]C.int64_t
	if err := check(C.tt_info(t.c(), &dt, &devType, &devIndex, &ndim, &shape[0], &rg)); err != nil {
		return Info{}, err
	}
	s := make([]int64, int(ndim))
	for i := range s {
		s[i] = int64(shape[i])
	}
	return Info{DType: DType(dt), DeviceType: DeviceType(devType), DeviceIndex: int(devIndex),
		Shape: s, RequiresGrad: rg != 0}, nil
}

// FromData returns a new tensor of the given shape and element type on the
// device, whose bytes are copied from data (row-major, native byte order;
// len(data) must be the tensor's size in bytes, which the caller checks).
// libtorch keeps no pointer into data.
func FromData(data []byte, shape []int64, dtype DType, dev DeviceType, index int) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_from_data(bytesPtr(data), ints(shape), C.int(len(shape)), C.int(dtype),
		C.int(dev), C.int(index), &out))
	return tensor(out), err
}

// CopyOut copies t's elements (row-major, on the CPU) into dst, whose length
// must equal t's size in bytes.
func CopyOut(t Tensor, dst []byte) error {
	return check(C.tt_copy_out(t.c(), bytesPtr(dst), C.int64_t(len(dst))))
}

// Item returns the value of a one-element tensor.
func Item(t Tensor) (float64, error) {
	var v C.double
	err := check(C.tt_item(t.c(), &v))
	return float64(v), err
}

// ---- creation ----

// Full returns a tensor of the given shape filled with value.
func Full(shape []int64, value float64, dtype DType, dev DeviceType, index int, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_full(ints(shape), C.int(len(shape)), C.double(value), C.int(dtype), C.int(dev),
		C.int(index), C.int(mode), &out))
	return tensor(out), err
}

// FullLike returns a tensor of t's shape, element type and device filled with
// value.
func FullLike(t Tensor, value float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_full_like(t.c(), C.double(value), C.int(mode), &out))
	return tensor(out), err
}

// Arange returns start, start+step, ... below end.
func Arange(start, end, step float64, dtype DType, dev DeviceType, index int, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_arange(C.double(start), C.double(end), C.double(step), C.int(dtype), C.int(dev),
		C.int(index), C.int(mode), &out))
	return tensor(out), err
}

// NewGenerator returns a CPU generator seeded with seed (numbers for another
// device are drawn on the CPU and moved, so dev and index are accepted for
// the future and ignored).
func NewGenerator(seed uint64, dev DeviceType, index int) (Generator, error) {
	var out C.tt_generator
	err := check(C.tt_generator_new(C.uint64_t(seed), C.int(dev), C.int(index), &out))
	return Generator{unsafe.Pointer(out)}, err
}

// FreeGenerator frees a generator handle.
func FreeGenerator(g Generator) { C.tt_generator_free(g.c()) }

// GeneratorState returns g's state as a uint8 tensor.
func GeneratorState(g Generator) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_generator_get_state(g.c(), &out))
	return tensor(out), err
}

// SetGeneratorState restores a state returned by GeneratorState.
func SetGeneratorState(g Generator, state Tensor) error {
	return check(C.tt_generator_set_state(g.c(), state.c()))
}

// Distribution selects what Random and RandomFill draw.
type Distribution int

// Distributions: Uniform in [a, b), Normal with mean a and deviation b.
const (
	Uniform Distribution = 0
	Normal  Distribution = 1
)

// Random returns a new tensor drawn from g.
func Random(g Generator, kind Distribution, shape []int64, a, b float64, dtype DType, dev DeviceType, index int, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_random(g.c(), C.int(kind), ints(shape), C.int(len(shape)), C.double(a), C.double(b),
		C.int(dtype), C.int(dev), C.int(index), C.int(mode), &out))
	return tensor(out), err
}

// RandomFill fills t in place with numbers drawn from g, outside autograd.
func RandomFill(g Generator, kind Distribution, t Tensor, a, b float64) error {
	return check(C.tt_random_(g.c(), C.int(kind), t.c(), C.double(a), C.double(b)))
}

// ---- conversion ----

// KeepDType and KeepDevice, given to To, keep t's element type or device.
const (
	KeepDType  DType      = -1
	KeepDevice DeviceType = -1
)

// To converts t to dtype on the device (KeepDType / KeepDevice keep t's).
func To(t Tensor, dtype DType, dev DeviceType, index int, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_to(t.c(), C.int(dtype), C.int(dev), C.int(index), C.int(mode), &out))
	return tensor(out), err
}

// Clone copies t's data.
func Clone(t Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_clone(t.c(), C.int(mode), &out))
	return tensor(out), err
}

// Contiguous returns t in row-major memory, or NHWC for channelsLast.
func Contiguous(t Tensor, channelsLast bool, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_contiguous(t.c(), cbool(channelsLast), C.int(mode), &out))
	return tensor(out), err
}

// ---- autograd ----

// SetRequiresGrad sets whether autograd records operations on the leaf t.
func SetRequiresGrad(t Tensor, on bool) error { return check(C.tt_set_requires_grad(t.c(), cbool(on))) }

// Backward runs the backward pass from t, seeded with grad (zero handle: t
// must be a scalar).
func Backward(t, grad Tensor) error { return check(C.tt_backward(t.c(), grad.c())) }

// Grad returns a new handle to t's gradient, or the zero handle when t has
// none.
func Grad(t Tensor) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_grad(t.c(), &out))
	return tensor(out), err
}

// ZeroGrad drops t's gradient (set_to_none).
func ZeroGrad(t Tensor) error { return check(C.tt_zero_grad(t.c())) }

// Detach returns a handle to t's data cut from the graph.
func Detach(t Tensor) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_detach(t.c(), &out))
	return tensor(out), err
}

// CopyInto copies src's elements into dst (same shape) in place, outside
// autograd (tt_copy_).
func CopyInto(dst, src Tensor) error { return check(C.tt_copy_(dst.c(), src.c())) }

// ---- optimisation ----

// AdamStep makes one Adam (or, decoupled, AdamW) step over the parameters
// that have a gradient, with PyTorch's update rule; steps[i] is parameter
// i's update count and is incremented. All slices have the same length.
func AdamStep(params, expAvg, expAvgSq []Tensor, steps []int64, lr, beta1, beta2, eps, weightDecay float64, decoupled bool) error {
	if len(params) == 0 {
		return nil
	}
	if len(expAvg) != len(params) || len(expAvgSq) != len(params) || len(steps) != len(params) {
		return &Error{Op: "adam_step", Msg: "state slices differ in length from the parameters"}
	}
	return check(C.tt_adam_step(cTensors(params), cTensors(expAvg), cTensors(expAvgSq), ints(steps),
		C.int(len(params)), C.double(lr), C.double(beta1), C.double(beta2), C.double(eps),
		C.double(weightDecay), cbool(decoupled)))
}

// EMAUpdate sets ema[i] = ema[i]*decay + params[i]*(1-decay) in place,
// outside autograd.
func EMAUpdate(ema, params []Tensor, decay float64) error {
	if len(ema) != len(params) {
		return &Error{Op: "ema_update", Msg: "ema and params differ in length"}
	}
	if len(ema) == 0 {
		return nil
	}
	return check(C.tt_ema_update(cTensors(ema), cTensors(params), C.int(len(ema)), C.double(decay)))
}
