package torch

/*
#include "shim.h"
*/
import "C"

func (a *Tensor) binary(code C.int, b *Tensor) *Tensor {
	return op([]*Tensor{a, b}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_binary(code, a.ptr(), b.ptr(), mode, out)
	})
}

func (a *Tensor) binaryScalar(code C.int, b float64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_binary_scalar(code, a.ptr(), C.double(b), mode, out)
	})
}

func (a *Tensor) unary(code C.int) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_unary(code, a.ptr(), mode, out)
	})
}

// Add returns a + b (broadcasting).
func (a *Tensor) Add(b *Tensor) *Tensor { return a.binary(C.TT_ADD, b) }

// Sub returns a - b.
func (a *Tensor) Sub(b *Tensor) *Tensor { return a.binary(C.TT_SUB, b) }

// Mul returns a * b.
func (a *Tensor) Mul(b *Tensor) *Tensor { return a.binary(C.TT_MUL, b) }

// Div returns a / b.
func (a *Tensor) Div(b *Tensor) *Tensor { return a.binary(C.TT_DIV, b) }

// Pow returns a ** b.
func (a *Tensor) Pow(b *Tensor) *Tensor { return a.binary(C.TT_POW, b) }

// Maximum returns the elementwise maximum.
func (a *Tensor) Maximum(b *Tensor) *Tensor { return a.binary(C.TT_MAXIMUM, b) }

// Minimum returns the elementwise minimum.
func (a *Tensor) Minimum(b *Tensor) *Tensor { return a.binary(C.TT_MINIMUM, b) }

// Eq returns the bool tensor a == b.
func (a *Tensor) Eq(b *Tensor) *Tensor { return a.binary(C.TT_EQ, b) }

// Ne returns a != b.
func (a *Tensor) Ne(b *Tensor) *Tensor { return a.binary(C.TT_NE, b) }

// Lt returns a < b.
func (a *Tensor) Lt(b *Tensor) *Tensor { return a.binary(C.TT_LT, b) }

// Le returns a <= b.
func (a *Tensor) Le(b *Tensor) *Tensor { return a.binary(C.TT_LE, b) }

// Gt returns a > b.
func (a *Tensor) Gt(b *Tensor) *Tensor { return a.binary(C.TT_GT, b) }

// Ge returns a >= b.
func (a *Tensor) Ge(b *Tensor) *Tensor { return a.binary(C.TT_GE, b) }

// AddScaled returns a + alpha*b (torch.add with alpha).
func (a *Tensor) AddScaled(b *Tensor, alpha float64) *Tensor {
	return op([]*Tensor{a, b}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_add_scaled(a.ptr(), b.ptr(), C.double(alpha), mode, out)
	})
}

// AddScalar returns a + v.
func (a *Tensor) AddScalar(v float64) *Tensor { return a.binaryScalar(C.TT_ADD, v) }

// SubScalar returns a - v.
func (a *Tensor) SubScalar(v float64) *Tensor { return a.binaryScalar(C.TT_SUB, v) }

// MulScalar returns a * v.
func (a *Tensor) MulScalar(v float64) *Tensor { return a.binaryScalar(C.TT_MUL, v) }

// DivScalar returns a / v.
func (a *Tensor) DivScalar(v float64) *Tensor { return a.binaryScalar(C.TT_DIV, v) }

// PowScalar returns a ** v.
func (a *Tensor) PowScalar(v float64) *Tensor { return a.binaryScalar(C.TT_POW, v) }

// EqScalar returns a == v.
func (a *Tensor) EqScalar(v float64) *Tensor { return a.binaryScalar(C.TT_EQ, v) }

// NeScalar returns a != v.
func (a *Tensor) NeScalar(v float64) *Tensor { return a.binaryScalar(C.TT_NE, v) }

// LtScalar returns a < v.
func (a *Tensor) LtScalar(v float64) *Tensor { return a.binaryScalar(C.TT_LT, v) }

// LeScalar returns a <= v.
func (a *Tensor) LeScalar(v float64) *Tensor { return a.binaryScalar(C.TT_LE, v) }

// GeScalar returns a >= v.
func (a *Tensor) GeScalar(v float64) *Tensor { return a.binaryScalar(C.TT_GE, v) }

// GtScalar returns a > v.
func (a *Tensor) GtScalar(v float64) *Tensor { return a.binaryScalar(C.TT_GT, v) }

// RSubScalar returns v - a.
func (a *Tensor) RSubScalar(v float64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_rsub_scalar(C.double(v), a.ptr(), mode, out)
	})
}

// Neg returns -a.
func (a *Tensor) Neg() *Tensor { return a.unary(C.TT_NEG) }

// Exp returns e**a.
func (a *Tensor) Exp() *Tensor { return a.unary(C.TT_EXP) }

// Log returns the natural logarithm.
func (a *Tensor) Log() *Tensor { return a.unary(C.TT_LOG) }

// Sqrt returns the square root.
func (a *Tensor) Sqrt() *Tensor { return a.unary(C.TT_SQRT) }

// Rsqrt returns 1/sqrt(a).
func (a *Tensor) Rsqrt() *Tensor { return a.unary(C.TT_RSQRT) }

// Abs returns |a|.
func (a *Tensor) Abs() *Tensor { return a.unary(C.TT_ABS) }

// Sigmoid returns 1/(1+e**-a).
func (a *Tensor) Sigmoid() *Tensor { return a.unary(C.TT_SIGMOID) }

// Tanh returns tanh(a).
func (a *Tensor) Tanh() *Tensor { return a.unary(C.TT_TANH) }

// Relu returns max(a, 0).
func (a *Tensor) Relu() *Tensor { return a.unary(C.TT_RELU) }

// Gelu returns the exact (erf) GELU, as nn.GELU().
func (a *Tensor) Gelu() *Tensor { return a.unary(C.TT_GELU) }

// GeluTanh returns the tanh approximation of GELU.
func (a *Tensor) GeluTanh() *Tensor { return a.unary(C.TT_GELU_TANH) }

// Silu returns a*sigmoid(a).
func (a *Tensor) Silu() *Tensor { return a.unary(C.TT_SILU) }

// Sin returns sin(a).
func (a *Tensor) Sin() *Tensor { return a.unary(C.TT_SIN) }

// Cos returns cos(a).
func (a *Tensor) Cos() *Tensor { return a.unary(C.TT_COS) }

// Floor rounds down.
func (a *Tensor) Floor() *Tensor { return a.unary(C.TT_FLOOR) }

// Round rounds to the nearest integer, halves to even (torch.round).
func (a *Tensor) Round() *Tensor { return a.unary(C.TT_ROUND) }

// Sign returns -1, 0 or 1.
func (a *Tensor) Sign() *Tensor { return a.unary(C.TT_SIGN) }

// Erfinv returns the inverse error function.
func (a *Tensor) Erfinv() *Tensor { return a.unary(C.TT_ERFINV) }

// Reciprocal returns 1/a.
func (a *Tensor) Reciprocal() *Tensor { return a.unary(C.TT_RECIPROCAL) }

// LogicalNot returns !a.
func (a *Tensor) LogicalNot() *Tensor { return a.unary(C.TT_LOGICAL_NOT) }

// LeakyRelu returns a for a >= 0 and slope*a otherwise.
func (a *Tensor) LeakyRelu(slope float64) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_leaky_relu(a.ptr(), C.double(slope), mode, out)
	})
}

// Clamp limits a to [lo, hi].
func (a *Tensor) Clamp(lo, hi float64) *Tensor { return a.clamp(lo, hi, true, true) }

// ClampMin limits a from below.
func (a *Tensor) ClampMin(lo float64) *Tensor { return a.clamp(lo, 0, true, false) }

// ClampMax limits a from above.
func (a *Tensor) ClampMax(hi float64) *Tensor { return a.clamp(0, hi, false, true) }

func (a *Tensor) clamp(lo, hi float64, hasLo, hasHi bool) *Tensor {
	return op([]*Tensor{a}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_clamp(a.ptr(), C.double(lo), C.double(hi), cbool(hasLo), cbool(hasHi), mode, out)
	})
}

// Addcmul returns a + value*t1*t2 (broadcast) in one pass: one result
// tensor where the separate operations make two. It rounds like them (the
// product, then the sum) unless the compiler fused the multiply-add into an
// FMA in libtorch's vector kernel, which changes the last bit at most.
func Addcmul(a, t1, t2 *Tensor, value float64) *Tensor {
	return op([]*Tensor{a, t1, t2}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_addcmul(a.ptr(), t1.ptr(), t2.ptr(), C.double(value), mode, out)
	})
}

// Where returns a where cond is true and b elsewhere.
func Where(cond, a, b *Tensor) *Tensor {
	return op([]*Tensor{cond, a, b}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_where(cond.ptr(), a.ptr(), b.ptr(), mode, out)
	})
}

// MaskedFill returns a with value where mask is true.
func (a *Tensor) MaskedFill(mask *Tensor, value float64) *Tensor {
	return op([]*Tensor{a, mask}, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_masked_fill(a.ptr(), mask.ptr(), C.double(value), mode, out)
	})
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
