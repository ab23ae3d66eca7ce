package torch

import (
	"runtime"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// Reshape returns a tensor with the same data and a new shape (one size may
// be -1).
func (a *Tensor) Reshape(shape ...int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Reshape(a.ptr(), shape, mode)
	})
}

// Permute reorders the dimensions.
func (a *Tensor) Permute(dims ...int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Permute(a.ptr(), dims, mode)
	})
}

// Transpose swaps two dimensions.
func (a *Tensor) Transpose(d0, d1 int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Transpose(a.ptr(), d0, d1, mode)
	})
}

// Expand broadcasts size-1 dimensions to shape (-1 keeps a size).
func (a *Tensor) Expand(shape ...int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Expand(a.ptr(), shape, mode)
	})
}

// Squeeze removes dimension dim if its size is 1.
func (a *Tensor) Squeeze(dim int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Squeeze(a.ptr(), dim, mode)
	})
}

// Unsqueeze inserts a dimension of size 1 at dim.
func (a *Tensor) Unsqueeze(dim int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Unsqueeze(a.ptr(), dim, mode)
	})
}

// Flatten merges dimensions start..end (inclusive).
func (a *Tensor) Flatten(start, end int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Flatten(a.ptr(), start, end, mode)
	})
}

// Narrow returns length elements of dim from start (a view).
func (a *Tensor) Narrow(dim, start, length int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Narrow(a.ptr(), dim, start, length, mode)
	})
}

// IndexSelect picks the entries of dim given by the int64 index tensor.
func (a *Tensor) IndexSelect(dim int64, index *Tensor) *Tensor {
	return op([]*Tensor{a, index}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.IndexSelect(a.ptr(), dim, index.ptr(), mode)
	})
}

func join(ts []*Tensor, dim int64, stack bool) *Tensor {
	name := "cat"
	if stack {
		name = "stack"
	}
	if len(ts) == 0 {
		return failed(nil, argError(name, "no tensors"))
	}
	ps := make([]capi.Tensor, len(ts))
	return op(ts, func(mode capi.Mode) (capi.Tensor, error) {
		for i, t := range ts {
			ps[i] = t.ptr()
		}
		return capi.Cat(ps, dim, stack, mode)
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
	outs, err := capi.Chunk(a.ptr(), n, dim, s.cmode())
	runtime.KeepAlive(a)
	if err != nil {
		return []*Tensor{failed(s, fromC(err))}
	}
	res := make([]*Tensor, len(outs))
	for i, p := range outs {
		res[i] = newTensor(p, s)
	}
	return res
}

// Roll shifts elements along dims, wrapping around (torch.roll).
func (a *Tensor) Roll(shifts, dims []int64) *Tensor {
	if len(shifts) != len(dims) || len(dims) == 0 {
		return failed(deepest([]*Tensor{a}), argError("roll", "%d shifts for %d dims", len(shifts), len(dims)))
	}
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Roll(a.ptr(), shifts, dims, mode)
	})
}

// To converts to another dtype and/or device.
func (a *Tensor) To(dt DType, dev Device) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.To(a.ptr(), capi.DType(dt), capi.DeviceType(dev.Type()), dev.Index(), mode)
	})
}

// ToDType converts the element type, keeping the device.
func (a *Tensor) ToDType(dt DType) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.To(a.ptr(), capi.DType(dt), capi.KeepDevice, 0, mode)
	})
}

// ToDevice moves to dev, keeping the element type.
func (a *Tensor) ToDevice(dev Device) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.To(a.ptr(), capi.KeepDType, capi.DeviceType(dev.Type()), dev.Index(), mode)
	})
}

// Clone copies the data.
func (a *Tensor) Clone() *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Clone(a.ptr(), mode)
	})
}

// Contiguous returns a tensor with row-major (NCHW) memory.
func (a *Tensor) Contiguous() *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Contiguous(a.ptr(), false, mode)
	})
}

// ChannelsLast returns a 4-D tensor with NHWC memory (same shape).
func (a *Tensor) ChannelsLast() *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Contiguous(a.ptr(), true, mode)
	})
}
