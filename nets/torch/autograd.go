package torch

import (
	"runtime"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// SetRequiresGrad marks t as a leaf whose gradient Backward accumulates.
func (t *Tensor) SetRequiresGrad(on bool) error {
	if err := t.Err(); err != nil {
		return err
	}
	err := capi.SetRequiresGrad(t.ptr(), on)
	runtime.KeepAlive(t)
	return fromC(err)
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
	err := capi.Backward(t.ptr(), grad.ptr())
	runtime.KeepAlive(t)
	runtime.KeepAlive(grad)
	return fromC(err)
}

// Grad returns a new handle to t's accumulated gradient, owned by the caller,
// or nil when no gradient has been computed since the last ZeroGrad.
func (t *Tensor) Grad() (*Tensor, error) {
	if err := t.Err(); err != nil {
		return nil, err
	}
	out, err := capi.Grad(t.ptr())
	runtime.KeepAlive(t)
	if err != nil || out.IsNil() {
		return nil, fromC(err)
	}
	return newTensor(out, nil), nil
}

// ZeroGrad drops t's gradient (PyTorch's zero_grad(set_to_none=True)).
func (t *Tensor) ZeroGrad() error {
	if err := t.Err(); err != nil {
		return err
	}
	err := capi.ZeroGrad(t.ptr())
	runtime.KeepAlive(t)
	return fromC(err)
}

// Detach returns a tensor sharing t's data that is cut from the graph.
func (t *Tensor) Detach() *Tensor {
	return op([]*Tensor{t}, func(capi.Mode) (capi.Tensor, error) {
		return capi.Detach(t.ptr())
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
	err := capi.CopyInto(t.ptr(), src.ptr())
	runtime.KeepAlive(t)
	runtime.KeepAlive(src)
	return fromC(err)
}

// ptrs returns the handles of ts for an array argument.
func ptrs(ts []*Tensor) ([]capi.Tensor, error) {
	ps := make([]capi.Tensor, len(ts))
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
	err = capi.EMAUpdate(e, p, decay)
	runtime.KeepAlive(ema)
	runtime.KeepAlive(params)
	return fromC(err)
}
