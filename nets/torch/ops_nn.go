package torch

import capi "github.com/gomioir/gomioir/internal/torch"

// reduce runs a reduction; dims empty means all dimensions.
func (a *Tensor) reduce(code capi.ReduceOp, dims []int64, keepdim, unbiased bool) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Reduce(code, a.ptr(), dims, keepdim, unbiased, mode)
	})
}

// Sum sums over dims (all dimensions when none are given).
func (a *Tensor) Sum(keepdim bool, dims ...int64) *Tensor {
	return a.reduce(capi.Sum, dims, keepdim, false)
}

// Mean averages over dims (all dimensions when none are given).
func (a *Tensor) Mean(keepdim bool, dims ...int64) *Tensor {
	return a.reduce(capi.Mean, dims, keepdim, false)
}

// Amax is the maximum over dims.
func (a *Tensor) Amax(keepdim bool, dims ...int64) *Tensor {
	return a.reduce(capi.Amax, dims, keepdim, false)
}

// Amin is the minimum over dims.
func (a *Tensor) Amin(keepdim bool, dims ...int64) *Tensor {
	return a.reduce(capi.Amin, dims, keepdim, false)
}

// Var is the variance over dims; unbiased divides by n-1.
func (a *Tensor) Var(unbiased, keepdim bool, dims ...int64) *Tensor {
	return a.reduce(capi.Var, dims, keepdim, unbiased)
}

// Std is the standard deviation over dims.
func (a *Tensor) Std(unbiased, keepdim bool, dims ...int64) *Tensor {
	return a.reduce(capi.Std, dims, keepdim, unbiased)
}

// Argmax returns the int64 indices of the maxima along dim.
func (a *Tensor) Argmax(dim int64, keepdim bool) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Argmax(a.ptr(), dim, keepdim, mode)
	})
}

// Softmax normalises exp(a) along dim.
func (a *Tensor) Softmax(dim int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Softmax(a.ptr(), dim, false, mode)
	})
}

// LogSoftmax is log(Softmax(dim)), computed stably.
func (a *Tensor) LogSoftmax(dim int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Softmax(a.ptr(), dim, true, mode)
	})
}

// LayerNorm normalises over the trailing dimensions given by shape, then
// applies weight and bias (either may be nil).
func (a *Tensor) LayerNorm(shape []int64, weight, bias *Tensor, eps float64) *Tensor {
	return op([]*Tensor{a, weight, bias}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.LayerNorm(a.ptr(), shape, weight.ptr(), bias.ptr(), eps, mode)
	})
}

// Normalize divides by the p-norm along dim, clamped below at eps
// (torch.nn.functional.normalize).
func (a *Tensor) Normalize(p float64, dim int64, eps float64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Normalize(a.ptr(), p, dim, eps, mode)
	})
}

// Matmul is torch.matmul (batched, broadcasting).
func (a *Tensor) Matmul(b *Tensor) *Tensor {
	return op([]*Tensor{a, b}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Matmul(a.ptr(), b.ptr(), mode)
	})
}

// Bmm is the batched matrix product of two 3-D tensors.
func (a *Tensor) Bmm(b *Tensor) *Tensor {
	return op([]*Tensor{a, b}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Bmm(a.ptr(), b.ptr(), mode)
	})
}

// Linear returns x W^T + b; bias may be nil.
func (x *Tensor) Linear(weight, bias *Tensor) *Tensor {
	return op([]*Tensor{x, weight, bias}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Linear(x.ptr(), weight.ptr(), bias.ptr(), mode)
	})
}

// ConvOptions are the geometry of a 2-D convolution, as the arguments of
// torch.nn.functional.conv2d and conv_transpose2d. A nil *ConvOptions, and
// any zero field, means PyTorch's default: stride 1, padding 0, dilation 1,
// output padding 0, groups 1. Each pair is (height, width).
type ConvOptions struct {
	Stride   [2]int64 // step between windows; 0 means 1
	Padding  [2]int64 // zeros added on both sides of each spatial dimension
	Dilation [2]int64 // spacing between kernel taps; 0 means 1
	// OutputPadding adds to one side of the output of a transposed
	// convolution (ConvTranspose2d only) to choose among the sizes that a
	// strided convolution maps to the same input size.
	OutputPadding [2]int64
	Groups        int64 // input and output channels split into Groups independent groups; 0 means 1
}

// norm returns the options with defaults filled in (o may be nil).
func (o *ConvOptions) norm() ConvOptions {
	var n ConvOptions
	if o != nil {
		n = *o
	}
	for i := range 2 {
		if n.Stride[i] == 0 {
			n.Stride[i] = 1
		}
		if n.Dilation[i] == 0 {
			n.Dilation[i] = 1
		}
	}
	if n.Groups == 0 {
		n.Groups = 1
	}
	return n
}

// Conv2d convolves an (N,C,H,W) input with weight (O,C/groups,kh,kw); bias
// (O) may be nil; o may be nil for the defaults (see ConvOptions).
func (x *Tensor) Conv2d(weight, bias *Tensor, o *ConvOptions) *Tensor {
	n := o.norm()
	return op([]*Tensor{x, weight, bias}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Conv2d(x.ptr(), weight.ptr(), bias.ptr(), n.Stride, n.Padding, n.Dilation, n.Groups, mode)
	})
}

// Activation is an activation fused into an operation (Conv2dFused),
// given by its slope for negative inputs: ReLU (0), NoActivation (1, the
// identity) or LeakyReLU(slope). Being a number, the named ones are
// constants.
type Activation float64

// Activations for Conv2dFused.
const (
	ReLU         Activation = 0 // max(x, 0), as Tensor.ReLU
	NoActivation Activation = 1 // the identity
)

// LeakyReLU is the leaky ReLU activation with the given negative slope
// (which must not be negative when gradients are recorded), as
// Tensor.LeakyReLU; slopes 0 and 1 are ReLU and NoActivation.
func LeakyReLU(slope float64) Activation { return Activation(slope) }

// kind is the shim's activation for a: the plain kernels for ReLU and the
// identity.
func (a Activation) kind() capi.Act {
	switch a {
	case ReLU:
		return capi.ActReLU
	case NoActivation:
		return capi.ActNone
	}
	return capi.ActLeakyReLU
}

// Conv2dFused returns act(x.Conv2d(weight, bias, o)) + residual, residual
// being nil or of the output's exact shape. The values equal the unfused
// operations' bit for bit; the activation and the addition run in place on
// the convolution's fresh output, which saves one or two feature-map
// allocations (and their page faults) per call (when gradients are recorded
// through both an activation and a residual, the sum needs its own tensor).
// Gradients flow as through the unfused chain.
func (x *Tensor) Conv2dFused(weight, bias *Tensor, o *ConvOptions, act Activation, residual *Tensor) *Tensor {
	n := o.norm()
	return op([]*Tensor{x, weight, bias, residual}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Conv2dFused(x.ptr(), weight.ptr(), bias.ptr(), n.Stride, n.Padding, n.Dilation, n.Groups,
			act.kind(), float64(act), residual.ptr(), mode)
	})
}

// ConvTranspose2d is the transposed convolution (the gradient of Conv2d
// with respect to its input, used for learned upsampling) with weight
// (C,O/groups,kh,kw); bias (O) may be nil; o may be nil for the defaults.
// The output side is (in-1)*stride - 2*padding + dilation*(k-1) +
// output_padding + 1.
func (x *Tensor) ConvTranspose2d(weight, bias *Tensor, o *ConvOptions) *Tensor {
	n := o.norm()
	return op([]*Tensor{x, weight, bias}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.ConvTranspose2d(x.ptr(), weight.ptr(), bias.ptr(), n.Stride, n.Padding, n.OutputPadding,
			n.Dilation, n.Groups, mode)
	})
}

// Embedding returns the rows of weight selected by the int64 indices.
func Embedding(weight, indices *Tensor) *Tensor {
	return op([]*Tensor{weight, indices}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Embedding(weight.ptr(), indices.ptr(), mode)
	})
}

// PadMode is how Pad fills the border.
type PadMode int

// Padding modes (torch.nn.functional.pad). The zero value is PadConstant.
const (
	PadConstant  PadMode = PadMode(capi.PadConstant)  // the value given to Pad
	PadReflect   PadMode = PadMode(capi.PadReflect)   // mirror without repeating the edge: 3 2 | 1 2 3 4 | 3 2
	PadReplicate PadMode = PadMode(capi.PadReplicate) // repeat the edge: 1 1 | 1 2 3 4 | 4 4
	PadCircular  PadMode = PadMode(capi.PadCircular)  // wrap around: 3 4 | 1 2 3 4 | 1 2
)

// Pad pads the last dimensions: pad is (left, right, top, bottom, ...) as in
// torch.nn.functional.pad, two sizes per dimension from the last one
// backwards; a negative size crops. value is used by PadConstant only.
// PadReflect needs each size below the dimension it pads.
func (a *Tensor) Pad(pad []int64, m PadMode, value float64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Pad(a.ptr(), pad, capi.PadMode(m), value, mode)
	})
}

// PixelShuffle rearranges (N,C*r*r,H,W) to (N,C,H*r,W*r).
func (a *Tensor) PixelShuffle(r int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.PixelShuffle(a.ptr(), r, false, mode)
	})
}

// PixelUnshuffle is the inverse of PixelShuffle.
func (a *Tensor) PixelUnshuffle(r int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.PixelShuffle(a.ptr(), r, true, mode)
	})
}

// Interp is an interpolation kernel for Interpolate.
type Interp int

// Interpolation kernels (torch.nn.functional.interpolate modes). The zero
// value is Nearest.
const (
	Nearest  Interp = Interp(capi.Nearest)  // PyTorch's "nearest" (floor of the source coordinate)
	Bilinear Interp = Interp(capi.Bilinear) // "bilinear"
	Bicubic  Interp = Interp(capi.Bicubic)  // "bicubic", A = -0.75 as PyTorch
)

// InterpOptions complete Interpolate. A nil *InterpOptions, and the zero
// value, mean align_corners=False and no scale factor (source coordinates
// from the ratio of the sizes), as interpolate(x, size=...) in PyTorch.
type InterpOptions struct {
	// AlignCorners maps the corner pixels' centres onto each other
	// (align_corners=True); Bilinear and Bicubic only.
	AlignCorners bool
	// ScaleH and ScaleW, when positive, are interpolate's scale_factor: the
	// source coordinate of output pixel i is computed from 1/Scale instead
	// of the size ratio, as PyTorch does when given scale_factor (the
	// output size must still be given: floor(in*scale)). Zero means not
	// given; a negative scale is an error.
	ScaleH, ScaleW float64
}

// Interpolate resizes an (N,C,H,W) tensor to outH x outW with kernel k; o
// may be nil (see InterpOptions).
func (a *Tensor) Interpolate(outH, outW int64, k Interp, o *InterpOptions) *Tensor {
	var n InterpOptions
	if o != nil {
		n = *o
	}
	if n.ScaleH < 0 || n.ScaleW < 0 {
		return failed(deepest([]*Tensor{a}), argError("interpolate", "negative scale %vx%v", n.ScaleH, n.ScaleW))
	}
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Interpolate(a.ptr(), outH, outW, capi.Interp(k), n.AlignCorners, n.ScaleH, n.ScaleW, mode)
	})
}

// AvgPool2d averages over kernel windows (torch.nn.functional.avg_pool2d,
// padding counted in the average). A zero stride in a dimension means the
// kernel size there, PyTorch's default; padding adds zeros on both sides.
func (a *Tensor) AvgPool2d(kernel, stride, padding [2]int64) *Tensor {
	return a.pool(capi.PoolAvg, kernel, stride, padding)
}

// MaxPool2d takes the maximum over kernel windows
// (torch.nn.functional.max_pool2d). A zero stride in a dimension means the
// kernel size there, PyTorch's default; padding adds -inf on both sides.
func (a *Tensor) MaxPool2d(kernel, stride, padding [2]int64) *Tensor {
	return a.pool(capi.PoolMax, kernel, stride, padding)
}

func (a *Tensor) pool(kind capi.Pool, kernel, stride, padding [2]int64) *Tensor {
	for i := range 2 {
		if stride[i] == 0 {
			stride[i] = kernel[i]
		}
	}
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Pool2d(a.ptr(), kind, kernel, stride, padding, mode)
	})
}

// AdaptiveAvgPool2d averages to an outH x outW output.
func (a *Tensor) AdaptiveAvgPool2d(outH, outW int64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.AdaptiveAvgPool2d(a.ptr(), outH, outW, mode)
	})
}

// L1Loss is the mean absolute difference of pred and target (same shape):
// torch.nn.functional.l1_loss with reduction "mean", differentiable (the
// gradient of |d| at d = 0 is 0, as PyTorch's).
func L1Loss(pred, target *Tensor) *Tensor { return loss(capi.LossL1, pred, target) }

// MSELoss is the mean squared difference of pred and target (same shape):
// torch.nn.functional.mse_loss with reduction "mean", differentiable.
func MSELoss(pred, target *Tensor) *Tensor { return loss(capi.LossMSE, pred, target) }

func loss(kind capi.LossKind, pred, target *Tensor) *Tensor {
	return op([]*Tensor{pred, target}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Loss(kind, pred.ptr(), target.ptr(), mode)
	})
}

// CrossEntropy is the mean cross-entropy of logits (N,C) against int64 class
// indices (N) or float class probabilities (N,C).
func CrossEntropy(logits, target *Tensor) *Tensor {
	return op([]*Tensor{logits, target}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.CrossEntropy(logits.ptr(), target.ptr(), mode)
	})
}
