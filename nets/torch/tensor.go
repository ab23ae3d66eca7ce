package torch

import (
	"fmt"
	"runtime"
	"sync/atomic"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// Tensor is an n-dimensional array held by libtorch. See the package
// documentation for ownership (Close, Scope) and errors (Err).
type Tensor struct {
	h     *handle
	scope *Scope // the scope that frees it; nil when the caller owns it
	err   error  // set instead of h when the tensor is the result of a failure
}

// handle owns one libtorch tensor. It is a separate allocation so that the
// garbage collector's safety-net cleanup can free it without the Tensor.
type handle struct {
	p     capi.Tensor
	freed atomic.Bool
}

var (
	liveTensors atomic.Int64 // handles created and not yet freed
	gcFreed     atomic.Int64 // handles freed by the GC safety net (a leak)
)

// LiveTensors is the number of tensor handles not yet freed. Tests use it to
// prove that loops return every tensor they create.
func LiveTensors() int64 { return liveTensors.Load() }

// GCFreedTensors is the number of tensors that were never closed and were
// freed by the garbage collector instead: each one is a leak in the caller.
func GCFreedTensors() int64 { return gcFreed.Load() }

func (h *handle) free() bool {
	if h.freed.Swap(true) {
		return false
	}
	capi.Free(h.p)
	liveTensors.Add(-1)
	return true
}

// newTensor takes ownership of p (which must not be NULL) and places the
// tensor in scope s (nil: owned by the caller).
func newTensor(p capi.Tensor, s *Scope) *Tensor {
	h := &handle{p: p}
	liveTensors.Add(1)
	t := &Tensor{h: h}
	runtime.AddCleanup(t, func(h *handle) {
		if h.free() {
			gcFreed.Add(1)
		}
	}, h)
	if s != nil {
		s.add(t)
	}
	return t
}

// failed returns an errored tensor and records err in s.
func failed(s *Scope, err error) *Tensor {
	if s != nil {
		s.setErr(err)
	}
	return &Tensor{err: err, scope: s}
}

// Failed returns a tensor that carries err, as an operation that failed
// does; s (which may be nil) records err as its first error if it has none.
// Code composing operations uses it to report its own argument checks
// through the same channel as libtorch's errors.
func Failed(s *Scope, err error) *Tensor {
	if err == nil {
		err = argError("failed", "nil error")
	}
	return failed(s, err)
}

// Err returns the error that produced t (nil for a valid tensor), or ErrClosed.
func (t *Tensor) Err() error {
	switch {
	case t == nil:
		return argError("tensor", "nil tensor")
	case t.err != nil:
		return t.err
	case t.h == nil || t.h.freed.Load():
		return ErrClosed
	}
	return nil
}

// Close frees the tensor now. It is idempotent and safe on errored tensors.
func (t *Tensor) Close() {
	if t == nil || t.h == nil {
		return
	}
	t.h.free()
}

// ptr returns the handle for a call, or the zero handle for a nil tensor (an
// absent optional argument). Callers check Err first.
func (t *Tensor) ptr() capi.Tensor {
	if t == nil || t.h == nil {
		return capi.Tensor{}
	}
	return t.h.p
}

// Info is a tensor's metadata.
type Info struct {
	DType        DType
	Device       Device
	Shape        []int64
	RequiresGrad bool
}

// Info returns dtype, device, shape and whether t requires a gradient.
func (t *Tensor) Info() (Info, error) {
	if err := t.Err(); err != nil {
		return Info{}, err
	}
	info, err := capi.TensorInfo(t.ptr())
	runtime.KeepAlive(t)
	if err != nil {
		return Info{}, fromC(err)
	}
	return Info{DType: DType(info.DType), Device: deviceOf(DeviceType(info.DeviceType), info.DeviceIndex),
		Shape: info.Shape, RequiresGrad: info.RequiresGrad}, nil
}

// Shape returns the sizes of t's dimensions (nil for an errored tensor).
func (t *Tensor) Shape() []int64 {
	info, err := t.Info()
	if err != nil {
		return nil
	}
	return info.Shape
}

// Size returns the size of dimension dim (negative counts from the end), or
// -1 when t is errored or dim is out of range.
func (t *Tensor) Size(dim int) int64 {
	s := t.Shape()
	if dim < 0 {
		dim += len(s)
	}
	if dim < 0 || dim >= len(s) {
		return -1
	}
	return s[dim]
}

// Dim returns the number of dimensions (-1 for an errored tensor).
func (t *Tensor) Dim() int {
	info, err := t.Info()
	if err != nil {
		return -1
	}
	return len(info.Shape)
}

// DType returns the element type (-1 for an errored tensor).
func (t *Tensor) DType() DType {
	info, err := t.Info()
	if err != nil {
		return -1
	}
	return info.DType
}

// Device returns the device t lives on.
func (t *Tensor) Device() Device {
	info, _ := t.Info()
	return info.Device
}

// Numel returns the number of elements.
func (t *Tensor) Numel() int64 {
	return numel(t.Shape())
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, s := range shape {
		n *= s
	}
	return n
}

func (t *Tensor) String() string {
	if err := t.Err(); err != nil {
		return "Tensor(" + err.Error() + ")"
	}
	info, _ := t.Info()
	return fmt.Sprintf("Tensor(%v, %v, %v)", info.Shape, info.DType, info.Device)
}

// Scope returns the scope that frees t, or nil when the caller owns it.
func (t *Tensor) Scope() *Scope { return t.scope }

// copyOut copies t's elements, unconverted, into dst (whose length must be
// t's size in bytes).
func (t *Tensor) copyOut(dst []byte) error {
	if err := t.Err(); err != nil {
		return err
	}
	err := capi.CopyOut(t.ptr(), dst)
	runtime.KeepAlive(t)
	return fromC(err)
}
