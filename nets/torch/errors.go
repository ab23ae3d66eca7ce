package torch

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// ErrOutOfMemory is matched (errors.Is) by every error caused by a failed
// allocation, on the CPU or a GPU. Callers such as tiled inference back off on it.
var ErrOutOfMemory = errors.New("torch: out of memory")

// ErrClosed is matched by errors from using a tensor after Close.
var ErrClosed = errors.New("torch: tensor is closed")

// Error is a failed libtorch operation or a rejected argument.
type Error struct {
	Op  string // the operation, e.g. "conv2d"
	Msg string // one line, without libtorch's backtrace
	oom bool
}

func (e *Error) Error() string { return "torch: " + e.Op + ": " + e.Msg }

// Is reports whether the error is ErrOutOfMemory.
func (e *Error) Is(target error) bool { return target == ErrOutOfMemory && e.oom }

// argError reports an argument rejected on the Go side, before calling libtorch.
func argError(op, format string, args ...any) error {
	return &Error{Op: op, Msg: fmt.Sprintf(format, args...)}
}

// takeError converts and frees a shim error; nil stays nil.
func takeError(e C.tt_error) error {
	if e == nil {
		return nil
	}
	defer C.tt_error_free(e)
	msg := C.GoString(e.msg)
	op := ""
	for i := 0; i+1 < len(msg); i++ {
		if msg[i] == ':' && msg[i+1] == ' ' {
			op, msg = msg[:i], msg[i+2:]
			break
		}
	}
	return &Error{Op: op, Msg: msg, oom: e.kind == C.TT_ERR_OOM}
}
