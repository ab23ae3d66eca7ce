package torch

import (
	"runtime"
	"unsafe"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// Element is a Go type that maps to a tensor element type.
type Element interface {
	float32 | float64 | int64 | int32 | uint8 | bool
}

func dtypeOf[T Element]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case int64:
		return Int64
	case int32:
		return Int32
	case uint8:
		return Uint8
	}
	return Bool
}

// Options chooses the element type and device of a new tensor. A nil
// *Options means float32 on the CPU; a non-nil one is taken as it is (its
// zero value is also float32 on the CPU).
type Options struct {
	DType  DType  // element type; the zero value is Float32
	Device Device // where the tensor lives; the zero value is the CPU
}

func (o *Options) get() (DType, Device) {
	if o == nil {
		return Float32, CPU
	}
	return o.DType, o.Device
}

// maxElements bounds what a constructor accepts before asking libtorch, so a
// nonsense shape gives an error instead of an attempt to allocate it.
const maxElements = 1 << 40

func checkShape(op string, shape []int64) error {
	if len(shape) > 16 {
		return argError(op, "%d dimensions; at most 16 are supported", len(shape))
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return argError(op, "negative size in shape %v", shape)
		}
		if d > 0 && n > maxElements/d {
			return argError(op, "shape %v has more than 2^40 elements", shape)
		}
		n *= d
	}
	return nil
}

// FromSlice copies data into a new CPU tensor of the given shape, owned by s
// (nil: by the caller). libtorch keeps no pointer into data.
func FromSlice[T Element](s *Scope, data []T, shape ...int64) (*Tensor, error) {
	return FromSliceOn(s, CPU, data, shape...)
}

// FromSliceOn is FromSlice for any device.
func FromSliceOn[T Element](s *Scope, dev Device, data []T, shape ...int64) (*Tensor, error) {
	if err := checkShape("from_slice", shape); err != nil {
		return nil, err
	}
	if n := numel(shape); int64(len(data)) != n {
		return nil, argError("from_slice", "%d values for shape %v (%d elements)", len(data), shape, n)
	}
	bytes := elementBytes(data)
	t, err := scopeOp(s, func(capi.Mode) (capi.Tensor, error) {
		return capi.FromData(bytes, shape, capi.DType(dtypeOf[T]()), capi.DeviceType(dev.Type()), dev.Index())
	})
	runtime.KeepAlive(data)
	return t, err
}

// ToSlice copies t's elements (in row-major order) into a new Go slice. The
// element type must match t's dtype.
func ToSlice[T Element](t *Tensor) ([]T, error) {
	info, err := t.Info()
	if err != nil {
		return nil, err
	}
	if want := dtypeOf[T](); info.DType != want {
		return nil, argError("to_slice", "tensor is %v, asked for %v", info.DType, want)
	}
	out := make([]T, numel(info.Shape))
	if err := t.copyOut(elementBytes(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// elementBytes views the memory of a slice of elements as bytes, for one
// copy in or out of libtorch (the slice stays alive and unmoved during the
// call; libtorch keeps no pointer to it).
func elementBytes[T Element](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*int(unsafe.Sizeof(z)))
}

// Item returns the value of a one-element tensor as a float64.
func (t *Tensor) Item() (float64, error) {
	if err := t.Err(); err != nil {
		return 0, err
	}
	v, err := capi.Item(t.ptr())
	runtime.KeepAlive(t)
	return v, fromC(err)
}

// Full returns a tensor of the given shape filled with value.
func Full(s *Scope, shape []int64, value float64, o *Options) (*Tensor, error) {
	if err := checkShape("full", shape); err != nil {
		return nil, err
	}
	dt, dev := o.get()
	return scopeOp(s, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Full(shape, value, capi.DType(dt), capi.DeviceType(dev.Type()), dev.Index(), mode)
	})
}

// Zeros returns a tensor of zeros.
func Zeros(s *Scope, shape []int64, o *Options) (*Tensor, error) { return Full(s, shape, 0, o) }

// Ones returns a tensor of ones.
func Ones(s *Scope, shape []int64, o *Options) (*Tensor, error) { return Full(s, shape, 1, o) }

// FullLike returns a tensor of t's shape, element type and device filled with
// value (torch.full_like), in t's scope. It records no autograd history:
// the result does not require a gradient.
func FullLike(t *Tensor, value float64) *Tensor {
	return op([]*Tensor{t}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.FullLike(t.ptr(), value, mode)
	})
}

// ZerosLike is FullLike(t, 0).
func ZerosLike(t *Tensor) *Tensor { return FullLike(t, 0) }

// OnesLike is FullLike(t, 1).
func OnesLike(t *Tensor) *Tensor { return FullLike(t, 1) }

// Arange returns the values start, start+step, ... below end (as torch.arange).
func Arange(s *Scope, start, end, step float64, o *Options) (*Tensor, error) {
	if step == 0 || (end-start)/step > maxElements {
		return nil, argError("arange", "bad range start=%v end=%v step=%v", start, end, step)
	}
	dt, dev := o.get()
	return scopeOp(s, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Arange(start, end, step, capi.DType(dt), capi.DeviceType(dev.Type()), dev.Index(), mode)
	})
}

// Scalar returns a 0-dimensional float32 CPU tensor.
func Scalar(s *Scope, v float32) (*Tensor, error) { return FromSlice(s, []float32{v}) }
