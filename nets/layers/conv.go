package layers

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/torch"
)

// ConvConfig is the geometry of a square-kernel convolution. Zero values
// mean stride 1, padding 0, dilation 1, groups 1, with a bias; a nil
// *ConvConfig means all of them.
type ConvConfig struct {
	Stride, Padding, Dilation, Groups int64
	// NoBias drops the bias (Restormer's convolutions have none).
	NoBias bool
}

// orZero returns *c, or the zero config for a nil c.
func (c *ConvConfig) orZero() ConvConfig {
	if c == nil {
		return ConvConfig{}
	}
	return *c
}

func (c ConvConfig) options() torch.ConvOptions {
	o := torch.ConvOptions{Groups: c.Groups}
	if c.Stride > 0 {
		o.Stride = [2]int64{c.Stride, c.Stride}
	}
	if c.Padding > 0 {
		o.Padding = [2]int64{c.Padding, c.Padding}
	}
	if c.Dilation > 0 {
		o.Dilation = [2]int64{c.Dilation, c.Dilation}
	}
	return o
}

func (c ConvConfig) groups() int64 {
	if c.Groups <= 0 {
		return 1
	}
	return c.Groups
}

// Conv2d is nn.Conv2d: Weight (out, in/groups, k, k) and an optional Bias
// (out).
type Conv2d struct {
	Weight, Bias *torch.Tensor
	Opts         torch.ConvOptions
}

// NewConv2d returns a convolution from in to out channels with a k x k
// kernel, initialised from g as PyTorch does by default (weight, then bias,
// uniform in +-1/sqrt(in/groups*k*k)). A nil g leaves the tensors at zero, for
// parameters that will be loaded. The tensors do not require a gradient; see
// SetRequiresGrad.
func NewConv2d(g *torch.Generator, in, out, k int64, o *ConvConfig) (*Conv2d, error) {
	c := o.orZero()
	gr := c.groups()
	if in <= 0 || out <= 0 || k <= 0 || in%gr != 0 || out%gr != 0 {
		return nil, fmt.Errorf("layers: new conv2d: bad geometry in=%d out=%d k=%d groups=%d", in, out, k, gr)
	}
	w, err := NewParam(out, in/gr, k, k)
	if err != nil {
		return nil, initErr("conv2d", err)
	}
	var b *torch.Tensor
	if !c.NoBias {
		if b, err = NewParam(out); err != nil {
			w.Close()
			return nil, initErr("conv2d", err)
		}
	}
	if err := DefaultInit(g, w, b, in/gr*k*k); err != nil {
		closeAll(w, b)
		return nil, initErr("conv2d", err)
	}
	return &Conv2d{Weight: w, Bias: b, Opts: c.options()}, nil
}

// Visit reports weight and bias.
func (c *Conv2d) Visit(v Visitor) {
	if c == nil {
		return
	}
	v.Param("weight", &c.Weight)
	v.Param("bias", &c.Bias)
}

// Forward convolves x (N, in, H, W).
func (c *Conv2d) Forward(x *torch.Tensor) *torch.Tensor {
	return x.Conv2d(c.Weight, c.Bias, &c.Opts)
}

// ForwardFused returns act(c(x)) + residual (residual may be nil) with the
// activation and the sum done in place on the convolution's output (see
// torch.Tensor.Conv2dFused): the values of the separate operations, fewer
// feature-map allocations.
func (c *Conv2d) ForwardFused(x *torch.Tensor, act torch.Activation, residual *torch.Tensor) *torch.Tensor {
	return x.Conv2dFused(c.Weight, c.Bias, &c.Opts, act, residual)
}

// Close frees the tensors.
func (c *Conv2d) Close() { Close(c) }

// ConvTranspose2d is nn.ConvTranspose2d: Weight (in, out/groups, k, k) and
// an optional Bias (out).
type ConvTranspose2d struct {
	Weight, Bias *torch.Tensor
	Opts         torch.ConvOptions
}

// NewConvTranspose2d returns a transposed convolution initialised as PyTorch
// does by default (its fan-in is out/groups*k*k, from the weight's second
// dimension). OutputPadding is left at 0; set Opts to change it.
func NewConvTranspose2d(g *torch.Generator, in, out, k int64, o *ConvConfig) (*ConvTranspose2d, error) {
	c := o.orZero()
	gr := c.groups()
	if in <= 0 || out <= 0 || k <= 0 || in%gr != 0 || out%gr != 0 {
		return nil, fmt.Errorf("layers: new conv_transpose2d: bad geometry in=%d out=%d k=%d groups=%d", in, out, k, gr)
	}
	w, err := NewParam(in, out/gr, k, k)
	if err != nil {
		return nil, initErr("conv_transpose2d", err)
	}
	var b *torch.Tensor
	if !c.NoBias {
		if b, err = NewParam(out); err != nil {
			w.Close()
			return nil, initErr("conv_transpose2d", err)
		}
	}
	if err := DefaultInit(g, w, b, out/gr*k*k); err != nil {
		closeAll(w, b)
		return nil, initErr("conv_transpose2d", err)
	}
	return &ConvTranspose2d{Weight: w, Bias: b, Opts: c.options()}, nil
}

// Visit reports weight and bias.
func (c *ConvTranspose2d) Visit(v Visitor) {
	if c == nil {
		return
	}
	v.Param("weight", &c.Weight)
	v.Param("bias", &c.Bias)
}

// Forward applies the transposed convolution to x (N, in, H, W).
func (c *ConvTranspose2d) Forward(x *torch.Tensor) *torch.Tensor {
	return x.ConvTranspose2d(c.Weight, c.Bias, &c.Opts)
}

// Close frees the tensors.
func (c *ConvTranspose2d) Close() { Close(c) }
