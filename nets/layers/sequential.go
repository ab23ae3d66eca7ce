package layers

import (
	"strconv"

	"github.com/gomioir/gomioir/nets/torch"
)

// Func is a layer without tensors (an activation, a padding, a reshape).
// In a Sequential it takes an index, as in PyTorch, so that the indices of
// the following layers match the reference names ("CondNet.2.weight").
type Func func(x *torch.Tensor) *torch.Tensor

// Visit reports nothing: a Func has no tensors.
func (f Func) Visit(Visitor) {}

// Forward calls f.
func (f Func) Forward(x *torch.Tensor) *torch.Tensor { return f(x) }

// ReLU returns the ReLU activation as a layer.
func ReLU() Func { return func(x *torch.Tensor) *torch.Tensor { return x.ReLU() } }

// LeakyReLU returns the leaky ReLU activation with the given negative slope.
func LeakyReLU(slope float64) Func {
	return func(x *torch.Tensor) *torch.Tensor { return x.LeakyReLU(slope) }
}

// GELU returns the exact (erf) GELU activation.
func GELU() Func { return func(x *torch.Tensor) *torch.Tensor { return x.GELU() } }

// ZeroPad2d returns nn.ZeroPad2d(p): p zeros on each side of the last two
// dimensions.
func ZeroPad2d(p int64) Func {
	return func(x *torch.Tensor) *torch.Tensor {
		return x.Pad([]int64{p, p, p, p}, torch.PadConstant, 0)
	}
}

// Sequential is nn.Sequential: layers applied in order, named by their index.
type Sequential []Layer

// Visit reports each layer's tensors under its index.
func (s Sequential) Visit(v Visitor) {
	for i, l := range s {
		v.Module(strconv.Itoa(i), l)
	}
}

// Forward applies the layers in order.
func (s Sequential) Forward(x *torch.Tensor) *torch.Tensor {
	for _, l := range s {
		x = l.Forward(x)
	}
	return x
}

// Close frees every layer's tensors.
func (s Sequential) Close() { Close(s) }
