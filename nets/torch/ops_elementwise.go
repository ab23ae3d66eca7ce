package torch

import capi "github.com/gomioir/gomioir/internal/torch"

func (a *Tensor) binary(code capi.BinaryOp, b *Tensor) *Tensor {
	return op([]*Tensor{a, b}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Binary(code, a.ptr(), b.ptr(), mode)
	})
}

func (a *Tensor) binaryScalar(code capi.BinaryOp, b float64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.BinaryScalar(code, a.ptr(), b, mode)
	})
}

func (a *Tensor) unary(code capi.UnaryOp) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Unary(code, a.ptr(), mode)
	})
}

// Add returns a + b (broadcasting).
func (a *Tensor) Add(b *Tensor) *Tensor { return a.binary(capi.Add, b) }

// Sub returns a - b.
func (a *Tensor) Sub(b *Tensor) *Tensor { return a.binary(capi.Sub, b) }

// Mul returns a * b.
func (a *Tensor) Mul(b *Tensor) *Tensor { return a.binary(capi.Mul, b) }

// Div returns a / b.
func (a *Tensor) Div(b *Tensor) *Tensor { return a.binary(capi.Div, b) }

// Pow returns a ** b.
func (a *Tensor) Pow(b *Tensor) *Tensor { return a.binary(capi.Pow, b) }

// Maximum returns the elementwise maximum.
func (a *Tensor) Maximum(b *Tensor) *Tensor { return a.binary(capi.Maximum, b) }

// Minimum returns the elementwise minimum.
func (a *Tensor) Minimum(b *Tensor) *Tensor { return a.binary(capi.Minimum, b) }

// Eq returns the bool tensor a == b.
func (a *Tensor) Eq(b *Tensor) *Tensor { return a.binary(capi.Eq, b) }

// Ne returns a != b.
func (a *Tensor) Ne(b *Tensor) *Tensor { return a.binary(capi.Ne, b) }

// Lt returns a < b.
func (a *Tensor) Lt(b *Tensor) *Tensor { return a.binary(capi.Lt, b) }

// Le returns a <= b.
func (a *Tensor) Le(b *Tensor) *Tensor { return a.binary(capi.Le, b) }

// Gt returns a > b.
func (a *Tensor) Gt(b *Tensor) *Tensor { return a.binary(capi.Gt, b) }

// Ge returns a >= b.
func (a *Tensor) Ge(b *Tensor) *Tensor { return a.binary(capi.Ge, b) }

// AddScaled returns a + alpha*b (torch.add with alpha).
func (a *Tensor) AddScaled(b *Tensor, alpha float64) *Tensor {
	return op([]*Tensor{a, b}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.AddScaled(a.ptr(), b.ptr(), alpha, mode)
	})
}

// AddScalar returns a + v.
func (a *Tensor) AddScalar(v float64) *Tensor { return a.binaryScalar(capi.Add, v) }

// SubScalar returns a - v.
func (a *Tensor) SubScalar(v float64) *Tensor { return a.binaryScalar(capi.Sub, v) }

// MulScalar returns a * v.
func (a *Tensor) MulScalar(v float64) *Tensor { return a.binaryScalar(capi.Mul, v) }

// DivScalar returns a / v.
func (a *Tensor) DivScalar(v float64) *Tensor { return a.binaryScalar(capi.Div, v) }

// PowScalar returns a ** v.
func (a *Tensor) PowScalar(v float64) *Tensor { return a.binaryScalar(capi.Pow, v) }

// EqScalar returns a == v.
func (a *Tensor) EqScalar(v float64) *Tensor { return a.binaryScalar(capi.Eq, v) }

// NeScalar returns a != v.
func (a *Tensor) NeScalar(v float64) *Tensor { return a.binaryScalar(capi.Ne, v) }

// LtScalar returns a < v.
func (a *Tensor) LtScalar(v float64) *Tensor { return a.binaryScalar(capi.Lt, v) }

// LeScalar returns a <= v.
func (a *Tensor) LeScalar(v float64) *Tensor { return a.binaryScalar(capi.Le, v) }

// GeScalar returns a >= v.
func (a *Tensor) GeScalar(v float64) *Tensor { return a.binaryScalar(capi.Ge, v) }

// GtScalar returns a > v.
func (a *Tensor) GtScalar(v float64) *Tensor { return a.binaryScalar(capi.Gt, v) }

// RSubScalar returns v - a.
func (a *Tensor) RSubScalar(v float64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.RSubScalar(v, a.ptr(), mode)
	})
}

// Neg returns -a.
func (a *Tensor) Neg() *Tensor { return a.unary(capi.Neg) }

// Exp returns e**a.
func (a *Tensor) Exp() *Tensor { return a.unary(capi.Exp) }

// Log returns the natural logarithm.
func (a *Tensor) Log() *Tensor { return a.unary(capi.Log) }

// Sqrt returns the square root.
func (a *Tensor) Sqrt() *Tensor { return a.unary(capi.Sqrt) }

// Rsqrt returns 1/sqrt(a).
func (a *Tensor) Rsqrt() *Tensor { return a.unary(capi.Rsqrt) }

// Abs returns |a|.
func (a *Tensor) Abs() *Tensor { return a.unary(capi.Abs) }

// Sigmoid returns 1/(1+e**-a).
func (a *Tensor) Sigmoid() *Tensor { return a.unary(capi.Sigmoid) }

// Tanh returns tanh(a).
func (a *Tensor) Tanh() *Tensor { return a.unary(capi.Tanh) }

// ReLU returns max(a, 0).
func (a *Tensor) ReLU() *Tensor { return a.unary(capi.ReLU) }

// GELU returns the exact (erf) GELU, as nn.GELU().
func (a *Tensor) GELU() *Tensor { return a.unary(capi.GELU) }

// GELUTanh returns the tanh approximation of GELU (nn.GELU(approximate="tanh")).
func (a *Tensor) GELUTanh() *Tensor { return a.unary(capi.GELUTanh) }

// Silu returns a*sigmoid(a).
func (a *Tensor) Silu() *Tensor { return a.unary(capi.SiLU) }

// Sin returns sin(a).
func (a *Tensor) Sin() *Tensor { return a.unary(capi.Sin) }

// Cos returns cos(a).
func (a *Tensor) Cos() *Tensor { return a.unary(capi.Cos) }

// Floor rounds down.
func (a *Tensor) Floor() *Tensor { return a.unary(capi.Floor) }

// Round rounds to the nearest integer, halves to even (torch.round).
func (a *Tensor) Round() *Tensor { return a.unary(capi.Round) }

// Sign returns -1, 0 or 1.
func (a *Tensor) Sign() *Tensor { return a.unary(capi.Sign) }

// Erfinv returns the inverse error function.
func (a *Tensor) Erfinv() *Tensor { return a.unary(capi.Erfinv) }

// Reciprocal returns 1/a.
func (a *Tensor) Reciprocal() *Tensor { return a.unary(capi.Reciprocal) }

// LogicalNot returns !a.
func (a *Tensor) LogicalNot() *Tensor { return a.unary(capi.LogicalNot) }

// LeakyReLU returns a for a >= 0 and slope*a otherwise.
func (a *Tensor) LeakyReLU(slope float64) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.LeakyReLU(a.ptr(), slope, mode)
	})
}

// Clamp limits a to [lo, hi].
func (a *Tensor) Clamp(lo, hi float64) *Tensor { return a.clamp(lo, hi, true, true) }

// ClampMin limits a from below.
func (a *Tensor) ClampMin(lo float64) *Tensor { return a.clamp(lo, 0, true, false) }

// ClampMax limits a from above.
func (a *Tensor) ClampMax(hi float64) *Tensor { return a.clamp(0, hi, false, true) }

func (a *Tensor) clamp(lo, hi float64, hasLo, hasHi bool) *Tensor {
	return op([]*Tensor{a}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Clamp(a.ptr(), lo, hi, hasLo, hasHi, mode)
	})
}

// Addcmul returns a + value*t1*t2 (broadcast) in one pass: one result
// tensor where the separate operations make two. It rounds like them (the
// product, then the sum) unless the compiler fused the multiply-add into an
// FMA in libtorch's vector kernel, which changes the last bit at most.
func Addcmul(a, t1, t2 *Tensor, value float64) *Tensor {
	return op([]*Tensor{a, t1, t2}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Addcmul(a.ptr(), t1.ptr(), t2.ptr(), value, mode)
	})
}

// Where returns a where cond is true and b elsewhere.
func Where(cond, a, b *Tensor) *Tensor {
	return op([]*Tensor{cond, a, b}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Where(cond.ptr(), a.ptr(), b.ptr(), mode)
	})
}

// MaskedFill returns a with value where mask is true.
func (a *Tensor) MaskedFill(mask *Tensor, value float64) *Tensor {
	return op([]*Tensor{a, mask}, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.MaskedFill(a.ptr(), mask.ptr(), value, mode)
	})
}
