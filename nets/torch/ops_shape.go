package torch

/*
#include "shim.h"
*/
import "C"

import "runtime"

// Reshape returns a tensor with the same data and a new shape (one size may
// be -1).
func (a *Tensor) Reshape(shape ...int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_reshape(a.ptr(), ptr64(shape), C.int(len(shape)), mode, out)
	})
}

// Permute reorders the dimensions.
func (a *Tensor) Permute(dims ...int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_permute(a.ptr(), ptr64(dims), C.int(len(dims)), mode, out)
	})
}

// Transpose swaps two dimensions.
func (a *Tensor) Transpose(d0, d1 int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_transpose(a.ptr(), C.int64_t(d0), C.int64_t(d1), mode, out)
	})
}

// Expand broadcasts size-1 dimensions to shape (-1 keeps a size).
func (a *Tensor) Expand(shape ...int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_expand(a.ptr(), ptr64(shape), C.int(len(shape)), mode, out)
	})
}

// Squeeze removes dimension dim if its size is 1.
func (a *Tensor) Squeeze(dim int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_squeeze(a.ptr(), C.int64_t(dim), mode, out)
	})
}

// Unsqueeze inserts a dimension of size 1 at dim.
func (a *Tensor) Unsqueeze(dim int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_unsqueeze(a.ptr(), C.int64_t(dim), mode, out)
	})
}

// Flatten merges dimensions start..end (inclusive).
func (a *Tensor) Flatten(start, end int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_flatten(a.ptr(), C.int64_t(start), C.int64_t(end), mode, out)
	})
}

// Narrow returns length elements of dim from start (a view).
func (a *Tensor) Narrow(dim, start, length int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_narrow(a.ptr(), C.int64_t(dim), C.int64_t(start), C.int64_t(length), mode, out)
	})
}

// IndexSelect picks the entries of dim given by the int64 index tensor.
func (a *Tensor) IndexSelect(dim int64, index *Tensor) *Tensor {
	return op([]*Tensor{a, index}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_index_select(a.ptr(), C.int64_t(dim), index.ptr(), mode, out)
	})
}

func join(ts []*Tensor, dim int64, stack bool) *Tensor {
	if len(ts) == 0 {
		return failed(nil, argError("cat", "no tensors"))
	}
	ps := make([]C.tt_tensor, len(ts))
	return op(ts, func(mode C.int, out *C.tt_tensor) C.tt_error {
		for i, t := range ts {
			ps[i] = t.ptr()
		}
		return C.tt_cat(&ps[0], C.int(len(ps)), C.int64_t(dim), cbool(stack), mode, out)
	})
}

// Cat concatenates tensors along dim.
func Cat(ts []*Tensor, dim int64) *Tensor { return join(ts, dim, false) }

// Stack joins tensors along a new dimension dim.
func Stack(ts []*Tensor, dim int64) *Tensor { return join(ts, dim, true) }

// Chunk splits a into up to n parts along dim (as torch.chunk, which may
// return fewer). On error the slice holds one errored tensor.
func (a *Tensor) Chunk(n int, dim int64) []*Tensor {
	s := deepest([]*Tensor{a})
	if err := a.Err(); err != nil {
		return []*Tensor{failed(s, err)}
	}
	if n < 1 {
		return []*Tensor{failed(s, argError("chunk", "chunks must be >= 1, got %d", n))}
	}
	outs := make([]C.tt_tensor, n)
	var got C.int
	err := takeError(C.tt_chunk(a.ptr(), C.int64_t(n), C.int64_t(dim), s.cmode(), &outs[0], C.int(n), &got))
	runtime.KeepAlive(a)
	if err != nil {
		return []*Tensor{failed(s, err)}
	}
	res := make([]*Tensor, int(got))
	for i := range res {
		res[i] = newTensor(outs[i], s)
	}
	return res
}

// Roll shifts elements along dims, wrapping around (torch.roll).
func (a *Tensor) Roll(shifts, dims []int64) *Tensor {
	if len(shifts) != len(dims) || len(dims) == 0 {
		return failed(deepest([]*Tensor{a}), argError("roll", "%d shifts for %d dims", len(shifts), len(dims)))
	}
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_roll(a.ptr(), ptr64(shifts), ptr64(dims), C.int(len(dims)), mode, out)
	})
}

// To converts to another dtype and/or device.
func (a *Tensor) To(dt DType, dev Device) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_to(a.ptr(), C.int(dt), C.int(dev.Type), C.int(dev.Index), mode, out)
	})
}

// ToDType converts the element type, keeping the device.
func (a *Tensor) ToDType(dt DType) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_to(a.ptr(), C.int(dt), -1, 0, mode, out)
	})
}

// ToDevice moves to dev, keeping the element type.
func (a *Tensor) ToDevice(dev Device) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_to(a.ptr(), -1, C.int(dev.Type), C.int(dev.Index), mode, out)
	})
}

// Clone copies the data.
func (a *Tensor) Clone() *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_clone(a.ptr(), mode, out)
	})
}

// Contiguous returns a tensor with row-major (NCHW) memory.
func (a *Tensor) Contiguous() *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_contiguous(a.ptr(), 0, mode, out)
	})
}

// ChannelsLast returns a 4-D tensor with NHWC memory (same shape).
func (a *Tensor) ChannelsLast() *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_contiguous(a.ptr(), 1, mode, out)
	})
}
