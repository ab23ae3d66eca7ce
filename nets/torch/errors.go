package torch

import (
	"errors"
	"fmt"

	capi "github.com/gomioir/gomioir/internal/torch"
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

// fromC converts an error of the raw ABI (internal/torch) into an *Error;
// nil stays nil. It is small enough to inline, so success costs one
// comparison.
func fromC(err error) error {
	if err == nil {
		return nil
	}
	return convertError(err)
}

func convertError(err error) error {
	if ce, ok := err.(*capi.Error); ok {
		return &Error{Op: ce.Op, Msg: ce.Msg, oom: ce.OOM}
	}
	return err
}
