package layers

import "github.com/gomioir/gomioir/nets/torch"

// Step runs fn on x in a child scope of x's scope (same mode) and moves only
// fn's result into x's scope: every other tensor fn creates is freed when fn
// returns, instead of living until the whole forward pass's scope closes.
// Backbones wrap each block in a Step, and Close the previous block's output
// once the next one exists, so that a forward pass holds a few feature maps
// at a time rather than all of them (autograd keeps what backward needs by
// itself). Without a scope on x, Step is fn(x).
func Step(x *torch.Tensor, fn func(x *torch.Tensor) *torch.Tensor) *torch.Tensor {
	s := x.Scope()
	if s == nil {
		return fn(x)
	}
	cs := s.Child(s.Mode())
	defer cs.Close()
	return cs.Keep(fn(cs.Use(x)))
}
