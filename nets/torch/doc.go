// Package torch is gomioir's public tensor API over libtorch (PyTorch's C++
// library): tensors, every operation the five backbones use with its option
// types, autograd, the Adam/AdamW optimiser, losses, devices and image
// conversion. It is what a program imports to write, train and run a
// backbone of its own; nets/layers adds the building blocks (Conv2d, Linear,
// attention, ...) and state dicts on top of it.
//
// The package has no cgo of its own: it is built on the raw C ABI in
// internal/torch (one C function per operation, errors by value), and every
// operation is one call into libtorch.
//
// # Tensors and ownership
//
// A *Tensor owns one libtorch tensor. Memory is freed deterministically,
// never by waiting for the garbage collector:
//
//   - Close frees a tensor at once. It is idempotent, and safe on a nil or
//     errored tensor.
//   - A Scope frees, when closed, every tensor created in it. An operation
//     puts its result in the deepest scope among its inputs (NewScope makes
//     a top-level scope, Child a nested one), so the intermediates of a
//     forward pass belong to the scope of its input.
//   - Keep moves a result out of its scope: to the parent scope, or to the
//     caller, who then closes it. Run wraps the usual pattern: a scope for
//     one computation, its result kept, the rest freed.
//   - Use brings a tensor of an outer scope (a parameter, an input) into an
//     inner scope, so that results computed from it go to the inner one.
//   - Constructors (FromSlice, Full, Zeros, Generator.Randn, ...) take the
//     scope as their first argument; nil means the caller owns the result.
//     Parameters of a module are typically caller-owned.
//
// A cleanup attached to every tensor frees what was never closed when the
// garbage collector finds it, and counts it (GCFreedTensors); tests use that
// counter and LiveTensors to prove that loops return every tensor.
//
// # Errors
//
// Constructors return (tensor, error). Operations return a single tensor: if
// an input carries an error, or libtorch rejects the operation, the result
// carries that first error (Err) instead of data, and the result's scope
// records it too (Scope.Err). Network code therefore reads like the math and
// checks once, at the end of a chain or when reading values (ToSlice, Item,
// Backward all return the carried error).
//
// Errors are *Error values naming the operation ("torch: conv2d: ...") with
// libtorch's message on one line. errors.Is(err, ErrOutOfMemory) tells a
// failed allocation (CPU or GPU) apart, so tiled inference can back off;
// ErrClosed and ErrScopeClosed report use after Close. Failed lets code of
// one's own report an argument error through the same channel.
//
// # Autograd
//
// The autograd mode belongs to the scope that receives an operation's
// result, and is applied inside each call into libtorch (never left behind
// on an OS thread):
//
//   - Grad records the graph where an input requires a gradient (training);
//   - NoGrad records none;
//   - Inference is libtorch's inference mode: no graph and less
//     bookkeeping, the fastest for restoring images; its results must not
//     be used in autograd later.
//
// SetRequiresGrad makes a leaf (a parameter); Backward (or BackwardWith for
// a non-scalar) accumulates gradients into the leaves, Grad reads one and
// ZeroGrad drops it (set_to_none). Detach cuts a tensor from the graph and
// CopyFrom overwrites weights outside autograd. Adam / AdamW (NewAdam)
// reproduce torch.optim's update rule exactly, and EMAUpdate keeps an
// exponential moving average of weights. L1Loss, MSELoss and CrossEntropy
// are differentiable and reduce by the mean, as PyTorch's defaults.
//
// The backward pass does not depend on which OS threads recorded the graph:
// libtorch numbers autograd nodes per thread and runs them in that order,
// which decides the order in which the gradients of a tensor used three
// times or more are summed; every call first brings its thread's counter up
// to the latest number handed out, so the order is that of the calls, and a
// training step issued from one goroutine gives the same bits in every run
// (with one intra-op thread).
//
// # Options
//
// Options are passed by pointer and nil means the defaults, which are
// PyTorch's: ConvOptions (stride 1, no padding, dilation 1, groups 1) for
// Conv2d, Conv2dFused and ConvTranspose2d; InterpOptions (align_corners
// false, no scale factor) for Interpolate; Options (float32 on the CPU) for
// constructors; AdamConfig (torch.optim.Adam's defaults) for NewAdam. In
// ConvOptions and InterpOptions a zero field also means its default.
//
// No negative number means "off" in this API. Negative numbers keep
// PyTorch's meaning where PyTorch gives them one: a dimension index counts
// from the end, one size of Reshape may be -1 (inferred) and a size of
// Expand may be -1 (kept), a negative Pad size crops. The accessors Size,
// Dim and DType return -1 for an errored tensor, so that they can be used in
// expressions; Info and Err give the error itself.
//
// # Devices
//
// A Device is the CPU or one CUDA GPU (CUDA(i), ParseDevice("cuda:0")).
// Constructors take it through Options or an argument, To / ToDevice move
// tensors, and every input of an operation must be on the same device.
// CUDAAvailable reports whether this libtorch sees a GPU (Debian's libtorch
// is CPU-only; a CUDA build is chosen at build time, see the README).
// GPU operations are asynchronous: Synchronize before reading a clock.
// SetAllowTF32 chooses whether float32 convolutions and matrix products on
// a GPU may use TF32.
//
// # Threads
//
// libtorch runs one operation on several threads (intra-op parallelism).
// The package sets their count to the usable CPUs at start-up, for work
// issued from any goroutine; the environment variable MIOIR_NUM_THREADS or
// SetNumThreads override it. Goroutines may issue operations concurrently;
// a Scope and a Generator are safe for concurrent use. KeepAllocationsMapped
// (on by default; MIOIR_MALLOC_KEEP=0 turns it off) trades a resident size
// that stays at its high-water mark for far fewer page faults.
//
// # Several processes
//
// Group binds c10d, PyTorch's distributed engine: a TCPStore served by rank
// 0 for the rendezvous and a process group over Gloo (CPU tensors, TCP) or
// NCCL (CUDA tensors, in CUDA builds compiled with USE_C10D_NCCL) for
// AllReduce (bucketed, sum or mean), Broadcast and Barrier, on libtorch 1.13
// and 2.x alike. Every call has the group's timeout, and a peer that dies
// fails the others' next collective at once. Launch is torchrun's "env://"
// convention (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT):
//
//	l, ok, err := torch.LaunchFromEnv()
//	g, err := l.Join(ctx, nil) // every rank; rank 0 serves the rendezvous
//	defer g.Close()
//	err = g.AllReduce(grads, torch.Mean)
//
// Gloo binds to GroupOptions.Interface or GLOO_SOCKET_IFNAME; when both are
// unset, to the interface that routes to the master, not to whatever the
// hostname resolves to (often a loopback address). mioir/train builds
// data-parallel training on it.
//
// # Writing a module
//
// A module is a Go value that owns its parameters and has a forward method
// made of operations. Parameters are created caller-owned (nil scope), made
// leaves with SetRequiresGrad, and handed to the optimiser; the forward pass
// runs in a scope whose mode says whether to record the graph:
//
//	type block struct{ w, b *torch.Tensor }
//
//	func (m *block) forward(x *torch.Tensor) *torch.Tensor {
//		y := x.Pad([]int64{1, 1, 1, 1}, torch.PadReflect, 0).Conv2d(m.w, m.b, nil).LeakyReLU(0.2)
//		return torch.Cat([]*torch.Tensor{x, y}, 1) // a skip connection
//	}
//
//	// one training step
//	s := torch.NewScope(torch.Grad)
//	loss := torch.L1Loss(m.forward(s.Use(x)), target)
//	if err := loss.Backward(); err != nil { ... } // any error of the chain
//	if err := opt.Step(); err != nil { ... }
//	s.Close() // frees the step's intermediates; the parameters stay
//
// The package example below is this block trained for one step; the tests
// of this package train a small U-Net (max-pool down, attention, transposed
// convolution and bilinear up, concatenated skips) against PyTorch. FromHost
// and ToHost exchange tensors with nets/torch/host, which reads and writes
// the file formats; FromImage and ToImage convert images.
package torch
