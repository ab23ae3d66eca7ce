package torch

/*
#include "shim.h"
*/
import "C"

import "runtime"

// SetRequiresGrad marks t as a leaf whose gradient Backward accumulates.
func (t *Tensor) SetRequiresGrad(on bool) error {
	if err := t.Err(); err != nil {
		return err
	}
	err := takeError(C.tt_set_requires_grad(t.ptr(), cbool(on)))
	runtime.KeepAlive(t)
	return err
}

// RequiresGrad reports whether t requires a gradient.
func (t *Tensor) RequiresGrad() bool {
	info, err := t.Info()
	return err == nil && info.RequiresGrad
}

// Backward computes the gradients of the scalar t with respect to every leaf
// that requires a gradient, accumulating them into the leaves' Grad.
func (t *Tensor) Backward() error { return t.BackwardWith(nil) }

// BackwardWith is Backward for a non-scalar t, seeded with grad (same shape).
func (t *Tensor) BackwardWith(grad *Tensor) error {
	if err := t.Err(); err != nil {
		return err
	}
	if grad != nil {
		if err := grad.Err(); err != nil {
			return err
		}
	}
	err := takeError(C.tt_backward(t.ptr(), grad.ptr()))
	runtime.KeepAlive(t)
	runtime.KeepAlive(grad)
	return err
}

// Grad returns a new handle to t's accumulated gradient, owned by the caller,
// or nil when no gradient has been computed since the last ZeroGrad.
func (t *Tensor) Grad() (*Tensor, error) {
	if err := t.Err(); err != nil {
		return nil, err
	}
	var out C.tt_tensor
	err := takeError(C.tt_grad(t.ptr(), &out))
	runtime.KeepAlive(t)
	if err != nil || out == nil {
		return nil, err
	}
	return newTensor(out, nil), nil
}

// ZeroGrad drops t's gradient (PyTorch's zero_grad(set_to_none=True)).
func (t *Tensor) ZeroGrad() error {
	if err := t.Err(); err != nil {
		return err
	}
	err := takeError(C.tt_zero_grad(t.ptr()))
	runtime.KeepAlive(t)
	return err
}

// Detach returns a tensor sharing t's data that is cut from the graph.
func (t *Tensor) Detach() *Tensor {
	return op([]*Tensor{t}, func(_ C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_detach(t.ptr(), out)
	})
}

// CopyFrom overwrites t's elements with src's (same shape; dtype and device
// are converted), outside autograd. It is how weights are loaded.
func (t *Tensor) CopyFrom(src *Tensor) error {
	if err := t.Err(); err != nil {
		return err
	}
	if err := src.Err(); err != nil {
		return err
	}
	err := takeError(C.tt_copy_(t.ptr(), src.ptr()))
	runtime.KeepAlive(t)
	runtime.KeepAlive(src)
	return err
}

// ptrs returns the handles of ts for an array argument.
func ptrs(ts []*Tensor) ([]C.tt_tensor, error) {
	ps := make([]C.tt_tensor, len(ts))
	for i, t := range ts {
		if err := t.Err(); err != nil {
			return nil, err
		}
		ps[i] = t.ptr()
	}
	return ps, nil
}

// EMAUpdate sets ema[i] = ema[i]*decay + params[i]*(1-decay) in place, outside
// autograd (BasicSR's model_ema).
func EMAUpdate(ema, params []*Tensor, decay float64) error {
	if len(ema) != len(params) {
		return argError("ema_update", "%d EMA tensors for %d parameters", len(ema), len(params))
	}
	if len(ema) == 0 {
		return nil
	}
	e, err := ptrs(ema)
	if err != nil {
		return err
	}
	p, err := ptrs(params)
	if err != nil {
		return err
	}
	err = takeError(C.tt_ema_update(&e[0], &p[0], C.int(len(e)), C.double(decay)))
	runtime.KeepAlive(ema)
	runtime.KeepAlive(params)
	return err
}
