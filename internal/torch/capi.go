package capi

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import "unsafe"

// Tensor is an opaque handle to one libtorch tensor (a tt_tensor). The zero
// value is no tensor: it stands for an absent optional argument, and a
// function given it where a tensor is required returns an error.
type Tensor struct{ p unsafe.Pointer }

// IsNil reports whether t is the zero handle.
func (t Tensor) IsNil() bool { return t.p == nil }

func (t Tensor) c() C.tt_tensor { return C.tt_tensor(t.p) }

func tensor(p C.tt_tensor) Tensor { return Tensor{unsafe.Pointer(p)} }

// cTensors views ts as a C array of tt_tensor. Tensor is a struct of one
// pointer, laid out as tt_tensor; the memory holds only C pointers, which
// the cgo pointer check allows.
func cTensors(ts []Tensor) *C.tt_tensor {
	if len(ts) == 0 {
		return nil
	}
	return (*C.tt_tensor)(unsafe.Pointer(&ts[0]))
}

// Generator is an opaque handle to one libtorch random number generator.
type Generator struct{ p unsafe.Pointer }

// IsNil reports whether g is the zero handle.
func (g Generator) IsNil() bool { return g.p == nil }

func (g Generator) c() C.tt_generator { return C.tt_generator(g.p) }

// Error is a failed shim call: the operation (e.g. "conv2d"), libtorch's
// message on one line, and whether the failure was an allocation failure
// (c10::OutOfMemoryError, std::bad_alloc, or a message saying so).
type Error struct {
	Op  string
	Msg string
	OOM bool
}

func (e *Error) Error() string { return e.Op + ": " + e.Msg }

// check converts a shim error; nil (success) stays nil. It is small enough
// to inline, so a successful call costs one comparison.
func check(e C.tt_error) error {
	if e == nil {
		return nil
	}
	return takeError(e)
}

// takeError converts and frees a shim error. The shim writes "op: message".
func takeError(e C.tt_error) error {
	defer C.tt_error_free(e)
	msg := C.GoString(e.msg)
	op := ""
	for i := 0; i+1 < len(msg); i++ {
		if msg[i] == ':' && msg[i+1] == ' ' {
			op, msg = msg[:i], msg[i+2:]
			break
		}
	}
	return &Error{Op: op, Msg: msg, OOM: e.kind == C.TT_ERR_OOM}
}

// Mode is the autograd mode of one call.
type Mode int

// Autograd modes (TT_MODE_*).
const (
	ModeGrad      Mode = C.TT_MODE_GRAD
	ModeNoGrad    Mode = C.TT_MODE_NO_GRAD
	ModeInference Mode = C.TT_MODE_INFERENCE
)

// DType is an element type code (TT_FLOAT32, ...).
type DType int

// Element type codes.
const (
	Float32 DType = C.TT_FLOAT32
	Float64 DType = C.TT_FLOAT64
	Int64   DType = C.TT_INT64
	Uint8   DType = C.TT_UINT8
	Bool    DType = C.TT_BOOL
	Int32   DType = C.TT_INT32
	Float16 DType = C.TT_FLOAT16
)

// DeviceType is a device type code (TT_CPU, TT_CUDA).
type DeviceType int

// Device type codes.
const (
	CPU  DeviceType = C.TT_CPU
	CUDA DeviceType = C.TT_CUDA
)

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func ints(v []int64) *C.int64_t {
	if len(v) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&v[0]))
}

func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}
