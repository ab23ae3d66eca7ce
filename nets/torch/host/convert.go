package host

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

var le = binary.LittleEndian

// Float32s returns the elements converted to float32. Float, integer, uint8
// and bool tensors are converted (float64 and int64 values may round); an
// unknown dtype or a malformed tensor is an error.
func (t *Tensor) Float32s() ([]float32, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	n := t.NumElements()
	out := make([]float32, n)
	if t.DType == Float32 {
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(t.Data[4*i:]))
		}
		return out, nil
	}
	vals, err := t.Float64s()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		out[i] = float32(v)
	}
	return out, nil
}

// Float64s returns the elements converted to float64 (exact for every
// supported dtype except int64 values beyond 2^53).
func (t *Tensor) Float64s() ([]float64, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	n := t.NumElements()
	out := make([]float64, n)
	d := t.Data
	switch t.DType {
	case Float64:
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(d[8*i:]))
		}
	case Float32:
		for i := range out {
			out[i] = float64(math.Float32frombits(le.Uint32(d[4*i:])))
		}
	case Float16:
		for i := range out {
			out[i] = float64(HalfToFloat32(le.Uint16(d[2*i:])))
		}
	case BFloat16:
		for i := range out {
			out[i] = float64(BFloat16ToFloat32(le.Uint16(d[2*i:])))
		}
	case Int64:
		for i := range out {
			out[i] = float64(int64(le.Uint64(d[8*i:])))
		}
	case Int32:
		for i := range out {
			out[i] = float64(int32(le.Uint32(d[4*i:])))
		}
	case Uint8, Bool:
		for i := range out {
			out[i] = float64(d[i])
		}
	default:
		return nil, fmt.Errorf("host: cannot convert %s to float64", t.DType)
	}
	return out, nil
}

// Int64s returns the elements of an integer, uint8 or bool tensor as int64.
// Floating-point tensors are an error (no silent truncation).
func (t *Tensor) Int64s() ([]int64, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	out := make([]int64, t.NumElements())
	d := t.Data
	switch t.DType {
	case Int64:
		for i := range out {
			out[i] = int64(le.Uint64(d[8*i:]))
		}
	case Int32:
		for i := range out {
			out[i] = int64(int32(le.Uint32(d[4*i:])))
		}
	case Uint8, Bool:
		for i := range out {
			out[i] = int64(d[i])
		}
	default:
		return nil, fmt.Errorf("host: cannot convert %s to int64", t.DType)
	}
	return out, nil
}

// Uint8s returns the elements of a uint8 or bool tensor. Other dtypes are an
// error.
func (t *Tensor) Uint8s() ([]uint8, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.DType != Uint8 && t.DType != Bool {
		return nil, fmt.Errorf("host: cannot convert %s to uint8", t.DType)
	}
	return slices.Clone(t.Data), nil
}

// FromFloat32 returns a float32 tensor of the given shape holding a copy of v.
// It panics if len(v) does not match the shape (a programming error).
func FromFloat32(shape []int, v []float32) *Tensor {
	t := alloc(Float32, shape, len(v))
	for i, x := range v {
		le.PutUint32(t.Data[4*i:], math.Float32bits(x))
	}
	return t
}

// FromFloat64 returns a float64 tensor of the given shape holding a copy of v.
// It panics if len(v) does not match the shape.
func FromFloat64(shape []int, v []float64) *Tensor {
	t := alloc(Float64, shape, len(v))
	for i, x := range v {
		le.PutUint64(t.Data[8*i:], math.Float64bits(x))
	}
	return t
}

// FromInt64 returns an int64 tensor of the given shape holding a copy of v.
// It panics if len(v) does not match the shape.
func FromInt64(shape []int, v []int64) *Tensor {
	t := alloc(Int64, shape, len(v))
	for i, x := range v {
		le.PutUint64(t.Data[8*i:], uint64(x))
	}
	return t
}

// FromUint8 returns a uint8 tensor of the given shape holding a copy of v.
// It panics if len(v) does not match the shape.
func FromUint8(shape []int, v []uint8) *Tensor {
	t := alloc(Uint8, shape, len(v))
	copy(t.Data, v)
	return t
}

func alloc(d DType, shape []int, n int) *Tensor {
	want, err := NumElements(shape)
	if err != nil {
		panic(err)
	}
	if want != n {
		panic(fmt.Sprintf("host: %d values for shape %v (%d elements)", n, shape, want))
	}
	return &Tensor{DType: d, Shape: slices.Clone(shape), Data: make([]byte, n*d.Size())}
}
