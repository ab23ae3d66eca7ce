// Package torch is gomioir's binding to libtorch (PyTorch's C++ library).
//
// It has two layers. shim.h is a raw C ABI: every function returns its error by
// value and writes results through out-parameters, no C++ exception crosses
// it, and the autograd mode of each call is passed in and set by a guard inside
// the call (goroutines move between OS threads, so no thread-local state may be
// left behind between two calls). The Go API on top of it is safe to use:
//
//   - A *Tensor owns one libtorch tensor handle. Close frees it at once and is
//     idempotent; the garbage collector is only a safety net.
//   - A Scope frees every tensor created in it when it is closed, except those
//     moved out with Keep. Operations put their result in the deepest scope
//     among their inputs; Use brings a tensor of an outer scope into an inner
//     one. The scope's Mode (Grad, NoGrad, Inference) is the autograd mode of
//     every operation whose result it receives.
//   - Errors are values. Constructors return (tensor, error). Operations return
//     a tensor that carries the first error of its inputs or of the operation
//     itself (Err), and the scope records its first error too, so network code
//     reads like the math and checks once at the end. The error names the
//     failing operation; errors.Is(err, ErrOutOfMemory) tells out-of-memory
//     apart.
//
// The intra-op thread count defaults to the usable CPUs (MIOIR_NUM_THREADS or
// SetNumThreads override it) and holds for work issued from any goroutine.
// Likewise the backward pass does not depend on which OS threads recorded the
// graph: libtorch numbers autograd nodes per thread and runs them in that
// order, which decides the order in which the gradients of a tensor used
// three times or more are summed; every call first brings its thread's
// counter up to the latest number handed out, so the order is that of the
// calls, and a training step issued from one goroutine gives the same bits in
// every run (with one intra-op thread).
package torch
