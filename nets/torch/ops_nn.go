package torch

/*
#include "shim.h"
*/
import "C"

func ptr64(v []int64) *C.int64_t { return shapePtr(v) }

// Reduce reductions; dims empty means all dimensions.
func (a *Tensor) reduce(code C.int, dims []int64, keepdim, unbiased bool) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_reduce(code, a.ptr(), ptr64(dims), C.int(len(dims)), cbool(keepdim), cbool(unbiased), mode, out)
	})
}

// Sum sums over dims (all dimensions when none are given).
func (a *Tensor) Sum(keepdim bool, dims ...int64) *Tensor {
	return a.reduce(C.TT_SUM, dims, keepdim, false)
}

// Mean averages over dims (all dimensions when none are given).
func (a *Tensor) Mean(keepdim bool, dims ...int64) *Tensor {
	return a.reduce(C.TT_MEAN, dims, keepdim, false)
}

// Amax is the maximum over dims.
func (a *Tensor) Amax(keepdim bool, dims ...int64) *Tensor {
	return a.reduce(C.TT_AMAX, dims, keepdim, false)
}

// Amin is the minimum over dims.
func (a *Tensor) Amin(keepdim bool, dims ...int64) *Tensor {
	return a.reduce(C.TT_AMIN, dims, keepdim, false)
}

// Var is the variance over dims; unbiased divides by n-1.
func (a *Tensor) Var(unbiased, keepdim bool, dims ...int64) *Tensor {
	return a.reduce(C.TT_VAR, dims, keepdim, unbiased)
}

// Std is the standard deviation over dims.
func (a *Tensor) Std(unbiased, keepdim bool, dims ...int64) *Tensor {
	return a.reduce(C.TT_STD, dims, keepdim, unbiased)
}

// Argmax returns the int64 indices of the maxima along dim.
func (a *Tensor) Argmax(dim int64, keepdim bool) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_argmax(a.ptr(), C.int64_t(dim), cbool(keepdim), mode, out)
	})
}

// Softmax normalises exp(a) along dim.
func (a *Tensor) Softmax(dim int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_softmax(a.ptr(), C.int64_t(dim), 0, mode, out)
	})
}

// LogSoftmax is log(Softmax(dim)), computed stably.
func (a *Tensor) LogSoftmax(dim int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_softmax(a.ptr(), C.int64_t(dim), 1, mode, out)
	})
}

// LayerNorm normalises over the trailing dimensions given by shape, then
// applies weight and bias (either may be nil).
func (a *Tensor) LayerNorm(shape []int64, weight, bias *Tensor, eps float64) *Tensor {
	return op([]*Tensor{a, weight, bias}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_layer_norm(a.ptr(), ptr64(shape), C.int(len(shape)), weight.ptr(), bias.ptr(), C.double(eps), mode, out)
	})
}

// Normalize divides by the p-norm along dim, clamped below at eps
// (torch.nn.functional.normalize).
func (a *Tensor) Normalize(p float64, dim int64, eps float64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_normalize(a.ptr(), C.double(p), C.int64_t(dim), C.double(eps), mode, out)
	})
}

// Matmul is torch.matmul (batched, broadcasting).
func (a *Tensor) Matmul(b *Tensor) *Tensor {
	return op([]*Tensor{a, b}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_matmul(a.ptr(), b.ptr(), mode, out)
	})
}

// Bmm is the batched matrix product of two 3-D tensors.
func (a *Tensor) Bmm(b *Tensor) *Tensor {
	return op([]*Tensor{a, b}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_bmm(a.ptr(), b.ptr(), mode, out)
	})
}

// Linear returns x W^T + b; bias may be nil.
func (x *Tensor) Linear(weight, bias *Tensor) *Tensor {
	return op([]*Tensor{x, weight, bias}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_linear(x.ptr(), weight.ptr(), bias.ptr(), mode, out)
	})
}

// ConvOptions are the geometry of a 2-D convolution. Zero values mean stride
// 1, padding 0, dilation 1, groups 1.
type ConvOptions struct {
	Stride, Padding, Dilation [2]int64
	OutputPadding             [2]int64 // transposed convolution only
	Groups                    int64
}

func (o ConvOptions) norm() ConvOptions {
	for i := range 2 {
		if o.Stride[i] == 0 {
			o.Stride[i] = 1
		}
		if o.Dilation[i] == 0 {
			o.Dilation[i] = 1
		}
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	return o
}

// Conv2d convolves an (N,C,H,W) input with weight (O,C/groups,kh,kw); bias may
// be nil.
func (x *Tensor) Conv2d(weight, bias *Tensor, o ConvOptions) *Tensor {
	o = o.norm()
	return op([]*Tensor{x, weight, bias}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_conv2d(x.ptr(), weight.ptr(), bias.ptr(), ptr64(o.Stride[:]), ptr64(o.Padding[:]),
			ptr64(o.Dilation[:]), C.int64_t(o.Groups), mode, out)
	})
}

// Activation is an activation fused into an operation (Conv2dFused).
type Activation struct {
	kind  C.int
	slope float64
}

// Activations for Conv2dFused.
var (
	NoActivation = Activation{kind: C.TT_ACT_NONE}
	ReLU         = Activation{kind: C.TT_ACT_RELU}
)

// LeakyReLU is the leaky ReLU activation with the given negative slope
// (which must not be negative when gradients are recorded).
func LeakyReLU(slope float64) Activation { return Activation{kind: C.TT_ACT_LEAKY_RELU, slope: slope} }

// Conv2dFused returns act(x.Conv2d(weight, bias, o)) + residual, residual
// being nil or of the output's exact shape. The values equal the unfused
// operations' bit for bit; the activation and the addition run in place on
// the convolution's fresh output, which saves one or two feature-map
// allocations (and their page faults) per call (when gradients are recorded
// through both an activation and a residual, the sum needs its own tensor).
// Gradients flow as through the unfused chain.
func (x *Tensor) Conv2dFused(weight, bias *Tensor, o ConvOptions, act Activation, residual *Tensor) *Tensor {
	o = o.norm()
	return op([]*Tensor{x, weight, bias, residual}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_conv2d_fused(x.ptr(), weight.ptr(), bias.ptr(), ptr64(o.Stride[:]), ptr64(o.Padding[:]),
			ptr64(o.Dilation[:]), C.int64_t(o.Groups), act.kind, C.double(act.slope), residual.ptr(), mode, out)
	})
}

// ConvTranspose2d is the transposed convolution with weight (C,O/groups,kh,kw).
func (x *Tensor) ConvTranspose2d(weight, bias *Tensor, o ConvOptions) *Tensor {
	o = o.norm()
	return op([]*Tensor{x, weight, bias}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_conv_transpose2d(x.ptr(), weight.ptr(), bias.ptr(), ptr64(o.Stride[:]), ptr64(o.Padding[:]),
			ptr64(o.OutputPadding[:]), ptr64(o.Dilation[:]), C.int64_t(o.Groups), mode, out)
	})
}

// Embedding returns the rows of weight selected by the int64 indices.
func Embedding(weight, indices *Tensor) *Tensor {
	return op([]*Tensor{weight, indices}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_embedding(weight.ptr(), indices.ptr(), mode, out)
	})
}

// PadMode is how Pad fills the border.
type PadMode int

// Padding modes (torch.nn.functional.pad).
const (
	PadConstant  PadMode = C.TT_PAD_CONSTANT
	PadReflect   PadMode = C.TT_PAD_REFLECT // mirror without repeating the edge
	PadReplicate PadMode = C.TT_PAD_REPLICATE
	PadCircular  PadMode = C.TT_PAD_CIRCULAR
)

// Pad pads the last dimensions: pad is (left, right, top, bottom, ...) as in
// torch.nn.functional.pad; value is used by PadConstant.
func (a *Tensor) Pad(pad []int64, m PadMode, value float64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_pad(a.ptr(), ptr64(pad), C.int(len(pad)), C.int(m), C.double(value), mode, out)
	})
}

// PixelShuffle rearranges (N,C*r*r,H,W) to (N,C,H*r,W*r).
func (a *Tensor) PixelShuffle(r int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_pixel_shuffle(a.ptr(), C.int64_t(r), 0, mode, out)
	})
}

// PixelUnshuffle is the inverse of PixelShuffle.
func (a *Tensor) PixelUnshuffle(r int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_pixel_shuffle(a.ptr(), C.int64_t(r), 1, mode, out)
	})
}

// Interp is an interpolation kernel for Interpolate.
type Interp int

// Interpolation kernels (torch.nn.functional.interpolate modes).
const (
	Nearest  Interp = C.TT_INTERP_NEAREST
	Bilinear Interp = C.TT_INTERP_BILINEAR
	Bicubic  Interp = C.TT_INTERP_BICUBIC // A = -0.75, as PyTorch
)

// InterpOptions complete Interpolate. With Scale set (as interpolate's
// scale_factor), source coordinates are computed from 1/Scale instead of the
// size ratio, as PyTorch does when scale_factor is given.
type InterpOptions struct {
	AlignCorners bool
	ScaleH       float64
	ScaleW       float64
}

// Interpolate resizes an (N,C,H,W) tensor to outH x outW.
func (a *Tensor) Interpolate(outH, outW int64, k Interp, o InterpOptions) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_interpolate(a.ptr(), C.int64_t(outH), C.int64_t(outW), C.int(k), cbool(o.AlignCorners),
			C.double(o.ScaleH), C.double(o.ScaleW), mode, out)
	})
}

// AvgPool2d averages over kernel windows.
func (a *Tensor) AvgPool2d(kernel, stride, padding [2]int64) *Tensor {
	return a.pool(C.TT_POOL_AVG, kernel, stride, padding)
}

// MaxPool2d takes the maximum over kernel windows.
func (a *Tensor) MaxPool2d(kernel, stride, padding [2]int64) *Tensor {
	return a.pool(C.TT_POOL_MAX, kernel, stride, padding)
}

func (a *Tensor) pool(kind C.int, kernel, stride, padding [2]int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_pool2d(a.ptr(), kind, ptr64(kernel[:]), ptr64(stride[:]), ptr64(padding[:]), mode, out)
	})
}

// AdaptiveAvgPool2d averages to an outH x outW output.
func (a *Tensor) AdaptiveAvgPool2d(outH, outW int64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_adaptive_avg_pool2d(a.ptr(), C.int64_t(outH), C.int64_t(outW), mode, out)
	})
}

// L1Loss is the mean absolute difference.
func L1Loss(pred, target *Tensor) *Tensor { return loss(C.TT_LOSS_L1, pred, target) }

// MSELoss is the mean squared difference.
func MSELoss(pred, target *Tensor) *Tensor { return loss(C.TT_LOSS_MSE, pred, target) }

func loss(kind C.int, pred, target *Tensor) *Tensor {
	return op([]*Tensor{pred, target}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_loss(kind, pred.ptr(), target.ptr(), mode, out)
	})
}

// CrossEntropy is the mean cross-entropy of logits (N,C) against int64 class
// indices (N) or float class probabilities (N,C).
func CrossEntropy(logits, target *Tensor) *Tensor {
	return op([]*Tensor{logits, target}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_cross_entropy(logits.ptr(), target.ptr(), mode, out)
	})
}
