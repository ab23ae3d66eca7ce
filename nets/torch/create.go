package torch

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
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
// *Options means float32 on the CPU.
type Options struct {
	DType  DType
	Device Device
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

func shapePtr(shape []int64) *C.int64_t {
	if len(shape) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&shape[0]))
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
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	t, err := scopeOp(s, func(_ C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_from_data(p, shapePtr(shape), C.int(len(shape)), C.int(dtypeOf[T]()),
			C.int(dev.Type), C.int(dev.Index), out)
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
	var p unsafe.Pointer
	if len(out) > 0 {
		p = unsafe.Pointer(&out[0])
	}
	var z T
	if err := t.copyOut(p, len(out)*int(unsafe.Sizeof(z))); err != nil {
		return nil, err
	}
	return out, nil
}

// Item returns the value of a one-element tensor as a float64.
func (t *Tensor) Item() (float64, error) {
	if err := t.Err(); err != nil {
		return 0, err
	}
	var v C.double
	err := takeError(C.tt_item(t.ptr(), &v))
	runtime.KeepAlive(t)
	return float64(v), err
}

// Full returns a tensor of the given shape filled with value.
func Full(s *Scope, shape []int64, value float64, o *Options) (*Tensor, error) {
	if err := checkShape("full", shape); err != nil {
		return nil, err
	}
	dt, dev := o.get()
	return scopeOp(s, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_full(shapePtr(shape), C.int(len(shape)), C.double(value), C.int(dt),
			C.int(dev.Type), C.int(dev.Index), mode, out)
	})
}

// Zeros returns a tensor of zeros.
func Zeros(s *Scope, shape []int64, o *Options) (*Tensor, error) { return Full(s, shape, 0, o) }

// Ones returns a tensor of ones.
func Ones(s *Scope, shape []int64, o *Options) (*Tensor, error) { return Full(s, shape, 1, o) }

// Arange returns the values start, start+step, ... below end (as torch.arange).
func Arange(s *Scope, start, end, step float64, o *Options) (*Tensor, error) {
	if step == 0 || (end-start)/step > maxElements {
		return nil, argError("arange", "bad range start=%v end=%v step=%v", start, end, step)
	}
	dt, dev := o.get()
	return scopeOp(s, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_arange(C.double(start), C.double(end), C.double(step), C.int(dt),
			C.int(dev.Type), C.int(dev.Index), mode, out)
	})
}

// Scalar returns a 0-dimensional float32 CPU tensor.
func Scalar(s *Scope, v float32) (*Tensor, error) { return FromSlice(s, []float32{v}) }
