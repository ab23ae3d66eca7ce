package capi

/*
#include "shim.h"
*/
import "C"

// Every function here returns a new tensor computed by one libtorch
// operation in the given autograd mode. A zero Tensor given for an optional
// argument (a bias, a residual, a norm's weight) leaves it out.

// ---- elementwise ----

// BinaryOp is a binary elementwise operation (TT_ADD, ...).
type BinaryOp int

// Binary operations.
const (
	Add     BinaryOp = C.TT_ADD
	Sub     BinaryOp = C.TT_SUB
	Mul     BinaryOp = C.TT_MUL
	Div     BinaryOp = C.TT_DIV
	Pow     BinaryOp = C.TT_POW
	Maximum BinaryOp = C.TT_MAXIMUM
	Minimum BinaryOp = C.TT_MINIMUM
	Eq      BinaryOp = C.TT_EQ
	Ne      BinaryOp = C.TT_NE
	Lt      BinaryOp = C.TT_LT
	Le      BinaryOp = C.TT_LE
	Gt      BinaryOp = C.TT_GT
	Ge      BinaryOp = C.TT_GE
)

// Binary returns a op b, broadcasting.
func Binary(op BinaryOp, a, b Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_binary(C.int(op), a.c(), b.c(), C.int(mode), &out))
	return tensor(out), err
}

// BinaryScalar returns a op v.
func BinaryScalar(op BinaryOp, a Tensor, v float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_binary_scalar(C.int(op), a.c(), C.double(v), C.int(mode), &out))
	return tensor(out), err
}

// RSubScalar returns v - b.
func RSubScalar(v float64, b Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_rsub_scalar(C.double(v), b.c(), C.int(mode), &out))
	return tensor(out), err
}

// UnaryOp is a unary elementwise operation (TT_NEG, ...).
type UnaryOp int

// Unary operations.
const (
	Neg        UnaryOp = C.TT_NEG
	Exp        UnaryOp = C.TT_EXP
	Log        UnaryOp = C.TT_LOG
	Sqrt       UnaryOp = C.TT_SQRT
	Rsqrt      UnaryOp = C.TT_RSQRT
	Abs        UnaryOp = C.TT_ABS
	Sigmoid    UnaryOp = C.TT_SIGMOID
	Tanh       UnaryOp = C.TT_TANH
	ReLU       UnaryOp = C.TT_RELU
	GELU       UnaryOp = C.TT_GELU
	GELUTanh   UnaryOp = C.TT_GELU_TANH
	SiLU       UnaryOp = C.TT_SILU
	Sin        UnaryOp = C.TT_SIN
	Cos        UnaryOp = C.TT_COS
	Floor      UnaryOp = C.TT_FLOOR
	Round      UnaryOp = C.TT_ROUND
	Sign       UnaryOp = C.TT_SIGN
	Erfinv     UnaryOp = C.TT_ERFINV
	Reciprocal UnaryOp = C.TT_RECIPROCAL
	LogicalNot UnaryOp = C.TT_LOGICAL_NOT
)

// Unary returns op(a).
func Unary(op UnaryOp, a Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_unary(C.int(op), a.c(), C.int(mode), &out))
	return tensor(out), err
}

// LeakyReLU returns a where a >= 0, slope*a elsewhere.
func LeakyReLU(a Tensor, slope float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_leaky_relu(a.c(), C.double(slope), C.int(mode), &out))
	return tensor(out), err
}

// Clamp limits a to [lo, hi]; a bound whose has-flag is false is absent.
func Clamp(a Tensor, lo, hi float64, hasLo, hasHi bool, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_clamp(a.c(), C.double(lo), C.double(hi), cbool(hasLo), cbool(hasHi), C.int(mode), &out))
	return tensor(out), err
}

// Where returns a where cond, b elsewhere.
func Where(cond, a, b Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_where(cond.c(), a.c(), b.c(), C.int(mode), &out))
	return tensor(out), err
}

// Addcmul returns a + value*t1*t2 in one pass.
func Addcmul(a, t1, t2 Tensor, value float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_addcmul(a.c(), t1.c(), t2.c(), C.double(value), C.int(mode), &out))
	return tensor(out), err
}

// MaskedFill returns a with value where mask is true.
func MaskedFill(a, mask Tensor, value float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_masked_fill(a.c(), mask.c(), C.double(value), C.int(mode), &out))
	return tensor(out), err
}

// AddScaled returns a + alpha*b.
func AddScaled(a, b Tensor, alpha float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_add_scaled(a.c(), b.c(), C.double(alpha), C.int(mode), &out))
	return tensor(out), err
}

// ---- reductions, normalisation ----

// ReduceOp is a reduction (TT_SUM, ...).
type ReduceOp int

// Reductions.
const (
	Sum  ReduceOp = C.TT_SUM
	Mean ReduceOp = C.TT_MEAN
	Amax ReduceOp = C.TT_AMAX
	Amin ReduceOp = C.TT_AMIN
	Var  ReduceOp = C.TT_VAR
	Std  ReduceOp = C.TT_STD
)

// Reduce reduces a over dims (all dimensions when dims is empty); unbiased
// applies to Var and Std.
func Reduce(op ReduceOp, a Tensor, dims []int64, keepdim, unbiased bool, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_reduce(C.int(op), a.c(), ints(dims), C.int(len(dims)), cbool(keepdim), cbool(unbiased),
		C.int(mode), &out))
	return tensor(out), err
}

// Argmax returns the int64 indices of the maxima along dim.
func Argmax(a Tensor, dim int64, keepdim bool, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_argmax(a.c(), C.int64_t(dim), cbool(keepdim), C.int(mode), &out))
	return tensor(out), err
}

// Softmax is softmax (or log-softmax) along dim.
func Softmax(a Tensor, dim int64, log bool, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_softmax(a.c(), C.int64_t(dim), cbool(log), C.int(mode), &out))
	return tensor(out), err
}

// LayerNorm normalises over the trailing dimensions shape; w and b may be
// zero handles.
func LayerNorm(a Tensor, shape []int64, w, b Tensor, eps float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_layer_norm(a.c(), ints(shape), C.int(len(shape)), w.c(), b.c(), C.double(eps), C.int(mode), &out))
	return tensor(out), err
}

// Normalize divides by the p-norm along dim, clamped below at eps.
func Normalize(a Tensor, p float64, dim int64, eps float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_normalize(a.c(), C.double(p), C.int64_t(dim), C.double(eps), C.int(mode), &out))
	return tensor(out), err
}

// ---- linear algebra, convolution ----

// Matmul is torch.matmul.
func Matmul(a, b Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_matmul(a.c(), b.c(), C.int(mode), &out))
	return tensor(out), err
}

// Bmm is the batched product of two 3-D tensors.
func Bmm(a, b Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_bmm(a.c(), b.c(), C.int(mode), &out))
	return tensor(out), err
}

// Linear returns x w^T + b (b may be the zero handle).
func Linear(x, w, b Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_linear(x.c(), w.c(), b.c(), C.int(mode), &out))
	return tensor(out), err
}

// Conv2d is torch.nn.functional.conv2d (b may be the zero handle).
func Conv2d(x, w, b Tensor, stride, padding, dilation [2]int64, groups int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_conv2d(x.c(), w.c(), b.c(), ints(stride[:]), ints(padding[:]), ints(dilation[:]),
		C.int64_t(groups), C.int(mode), &out))
	return tensor(out), err
}

// Act is an activation fused into Conv2dFused (TT_ACT_*).
type Act int

// Fused activations.
const (
	ActNone      Act = C.TT_ACT_NONE
	ActReLU      Act = C.TT_ACT_RELU
	ActLeakyReLU Act = C.TT_ACT_LEAKY_RELU
)

// Conv2dFused returns act(conv2d(x, w, b)) + residual (residual may be the
// zero handle), computed in place on the convolution's output; slope is
// ActLeakyReLU's.
func Conv2dFused(x, w, b Tensor, stride, padding, dilation [2]int64, groups int64, act Act, slope float64, residual Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_conv2d_fused(x.c(), w.c(), b.c(), ints(stride[:]), ints(padding[:]), ints(dilation[:]),
		C.int64_t(groups), C.int(act), C.double(slope), residual.c(), C.int(mode), &out))
	return tensor(out), err
}

// ConvTranspose2d is torch.nn.functional.conv_transpose2d.
func ConvTranspose2d(x, w, b Tensor, stride, padding, outputPadding, dilation [2]int64, groups int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_conv_transpose2d(x.c(), w.c(), b.c(), ints(stride[:]), ints(padding[:]), ints(outputPadding[:]),
		ints(dilation[:]), C.int64_t(groups), C.int(mode), &out))
	return tensor(out), err
}

// Embedding returns the rows of weight selected by indices.
func Embedding(weight, indices Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_embedding(weight.c(), indices.c(), C.int(mode), &out))
	return tensor(out), err
}

// ---- shape ----

// Reshape returns a with a new shape.
func Reshape(a Tensor, shape []int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_reshape(a.c(), ints(shape), C.int(len(shape)), C.int(mode), &out))
	return tensor(out), err
}

// Permute reorders a's dimensions.
func Permute(a Tensor, dims []int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_permute(a.c(), ints(dims), C.int(len(dims)), C.int(mode), &out))
	return tensor(out), err
}

// Transpose swaps two dimensions.
func Transpose(a Tensor, d0, d1 int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_transpose(a.c(), C.int64_t(d0), C.int64_t(d1), C.int(mode), &out))
	return tensor(out), err
}

// Expand broadcasts a to shape.
func Expand(a Tensor, shape []int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_expand(a.c(), ints(shape), C.int(len(shape)), C.int(mode), &out))
	return tensor(out), err
}

// Squeeze removes dimension dim if its size is 1.
func Squeeze(a Tensor, dim int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_squeeze(a.c(), C.int64_t(dim), C.int(mode), &out))
	return tensor(out), err
}

// Unsqueeze inserts a dimension of size 1 at dim.
func Unsqueeze(a Tensor, dim int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_unsqueeze(a.c(), C.int64_t(dim), C.int(mode), &out))
	return tensor(out), err
}

// Flatten merges dimensions start..end.
func Flatten(a Tensor, start, end int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_flatten(a.c(), C.int64_t(start), C.int64_t(end), C.int(mode), &out))
	return tensor(out), err
}

// Narrow returns length entries of dim from start.
func Narrow(a Tensor, dim, start, length int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_narrow(a.c(), C.int64_t(dim), C.int64_t(start), C.int64_t(length), C.int(mode), &out))
	return tensor(out), err
}

// IndexSelect picks the entries of dim given by the int64 index tensor.
func IndexSelect(a Tensor, dim int64, index Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_index_select(a.c(), C.int64_t(dim), index.c(), C.int(mode), &out))
	return tensor(out), err
}

// Cat concatenates ts along dim, or stacks them along a new dimension dim.
func Cat(ts []Tensor, dim int64, stack bool, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_cat(cTensors(ts), C.int(len(ts)), C.int64_t(dim), cbool(stack), C.int(mode), &out))
	return tensor(out), err
}

// Chunk splits a into at most chunks parts along dim (torch.chunk may return
// fewer); the result holds the parts made.
func Chunk(a Tensor, chunks int, dim int64, mode Mode) ([]Tensor, error) {
	if chunks < 1 {
		return nil, &Error{Op: "chunk", Msg: "chunks must be >= 1"}
	}
	outs := make([]Tensor, chunks)
	var n C.int
	err := check(C.tt_chunk(a.c(), C.int64_t(chunks), C.int64_t(dim), C.int(mode), cTensors(outs), C.int(chunks), &n))
	if err != nil {
		return nil, err
	}
	return outs[:int(n)], nil
}

// Roll shifts a along dims, wrapping around; len(shifts) == len(dims).
func Roll(a Tensor, shifts, dims []int64, mode Mode) (Tensor, error) {
	if len(shifts) != len(dims) {
		return Tensor{}, &Error{Op: "roll", Msg: "shifts and dims differ in length"}
	}
	var out C.tt_tensor
	err := check(C.tt_roll(a.c(), ints(shifts), ints(dims), C.int(len(dims)), C.int(mode), &out))
	return tensor(out), err
}

// PadMode is a padding mode (TT_PAD_*).
type PadMode int

// Padding modes.
const (
	PadConstant  PadMode = C.TT_PAD_CONSTANT
	PadReflect   PadMode = C.TT_PAD_REFLECT
	PadReplicate PadMode = C.TT_PAD_REPLICATE
	PadCircular  PadMode = C.TT_PAD_CIRCULAR
)

// Pad pads the last dimensions (pad as torch.nn.functional.pad); value is
// PadConstant's.
func Pad(a Tensor, pad []int64, padMode PadMode, value float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_pad(a.c(), ints(pad), C.int(len(pad)), C.int(padMode), C.double(value), C.int(mode), &out))
	return tensor(out), err
}

// PixelShuffle is pixel_shuffle, or pixel_unshuffle for unshuffle.
func PixelShuffle(a Tensor, factor int64, unshuffle bool, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_pixel_shuffle(a.c(), C.int64_t(factor), cbool(unshuffle), C.int(mode), &out))
	return tensor(out), err
}

// Interp is an interpolation kernel (TT_INTERP_*).
type Interp int

// Interpolation kernels.
const (
	Nearest  Interp = C.TT_INTERP_NEAREST
	Bilinear Interp = C.TT_INTERP_BILINEAR
	Bicubic  Interp = C.TT_INTERP_BICUBIC
)

// Interpolate resizes an (N,C,H,W) tensor to outH x outW. A scale <= 0 is
// not given (source coordinates from the size ratio).
func Interpolate(a Tensor, outH, outW int64, interp Interp, alignCorners bool, scaleH, scaleW float64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_interpolate(a.c(), C.int64_t(outH), C.int64_t(outW), C.int(interp), cbool(alignCorners),
		C.double(scaleH), C.double(scaleW), C.int(mode), &out))
	return tensor(out), err
}

// Pool is a pooling kind (TT_POOL_*).
type Pool int

// Pooling kinds.
const (
	PoolAvg Pool = C.TT_POOL_AVG
	PoolMax Pool = C.TT_POOL_MAX
)

// Pool2d pools over kernel windows.
func Pool2d(a Tensor, kind Pool, kernel, stride, padding [2]int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_pool2d(a.c(), C.int(kind), ints(kernel[:]), ints(stride[:]), ints(padding[:]), C.int(mode), &out))
	return tensor(out), err
}

// AdaptiveAvgPool2d averages to an outH x outW output.
func AdaptiveAvgPool2d(a Tensor, outH, outW int64, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_adaptive_avg_pool2d(a.c(), C.int64_t(outH), C.int64_t(outW), C.int(mode), &out))
	return tensor(out), err
}

// ---- losses ----

// LossKind is a pointwise loss (TT_LOSS_*).
type LossKind int

// Losses (mean reduction).
const (
	LossL1  LossKind = C.TT_LOSS_L1
	LossMSE LossKind = C.TT_LOSS_MSE
)

// Loss is the mean L1 or squared difference of pred and target (same shape).
func Loss(kind LossKind, pred, target Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_loss(C.int(kind), pred.c(), target.c(), C.int(mode), &out))
	return tensor(out), err
}

// CrossEntropy is the mean cross-entropy of logits against int64 class
// indices or class probabilities.
func CrossEntropy(logits, target Tensor, mode Mode) (Tensor, error) {
	var out C.tt_tensor
	err := check(C.tt_cross_entropy(logits.c(), target.c(), C.int(mode), &out))
	return tensor(out), err
}
