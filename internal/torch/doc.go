// Package capi is the raw C ABI over libtorch: the C++ shim (shim.h,
// shim_core.cpp, shim_ops.cpp) and one thin Go function per C function. It is
// internal; programs import github.com/gomioir/gomioir/nets/torch, the safe
// tensor API built on it (ownership, scopes, errors carried by tensors,
// options with defaults).
//
// The folder is internal/torch, as in the architecture's package map; the
// package is named capi so that it never has to be renamed where nets/torch
// (package torch) imports it, and so that its name says what it is: the C
// API, as torch-sys is to tch in Rust. Import it as
//
//	capi "github.com/gomioir/gomioir/internal/torch"
//
// # Contract
//
// Every function here is one cgo call. Arguments and results are Go types
// only: Tensor and Generator are opaque handles to libtorch objects (a
// pointer to C++ memory, never to Go memory; the zero value is "no tensor",
// which optional arguments use), sizes are []int64 or [2]int64, flags are
// bool, codes are small named integer types whose constants mirror shim.h.
// No C type leaves the package.
//
// Errors are returned by value: a C function returns its error (NULL on
// success) and writes results through out-parameters; the Go function
// returns nil or an *Error carrying the failing operation, libtorch's
// one-line message (no backtrace) and whether it was an allocation failure.
// No error state is kept between calls (goroutines move between OS
// threads).
//
// Handles are owned by the caller: every Tensor a function returns must be
// given to Free exactly once, every Generator to FreeGenerator. Nothing
// here tracks them; nets/torch does.
//
// The autograd mode of a call is an argument (Mode) applied by a guard
// inside the C function, never thread-local state left behind.
//
// cgo pointer rules: data from Go ([]byte, []int64) is read during the call
// only (libtorch copies it into storage it owns); results are copied into
// Go memory the caller provides. libtorch never keeps a pointer into Go
// memory.
package capi
