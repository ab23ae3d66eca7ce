package curriculum

import "math"

// Why a cosine of our own: the reference evaluates CPython's math.cos,
// that is the C library's cos, which is correctly rounded for all but a
// few of the arguments a schedule produces (glibc 2.36: 129 of the 100,001
// cosines of a 100k cycle are one ulp off; see doc.go). Go's math.Cos is
// not correctly rounded: 25,932 of those 100,001 cosines differ from the
// correctly rounded value (by up to 7 ulp where the cosine is near zero),
// and (1 + cos) near the end of a cycle turns that into rates a few ulp
// off. cosRN evaluates the cosine in double-double arithmetic (about 106
// bits) and rounds once, so it returns the correctly rounded cosine except
// for arguments within about 2^-100 relative of a rounding midpoint; the
// tests check it against every rate of the reference budgets.

// dd is an unevaluated sum hi + lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s = quickTwoSum(s.hi, s.lo+t.hi)
	return quickTwoSum(s.hi, s.lo+t.lo)
}

func ddMul(a, b dd) dd {
	p := twoProd(a.hi, b.hi)
	return quickTwoSum(p.hi, p.lo+(a.hi*b.lo+a.lo*b.hi))
}

// ddDiv divides by a small integer d (exact as a float64).
func ddDiv(a dd, d float64) dd {
	q := a.hi / d
	p := twoProd(q, d)
	r := (((a.hi - p.hi) - p.lo) + a.lo) / d
	return quickTwoSum(q, r)
}

// pi/2 = pio2[0] + pio2[1] + pio2[2] to about 160 bits.
var pio2 = [3]float64{
	math.Float64frombits(0x3ff921fb54442d18), // 1.5707963267948966
	math.Float64frombits(0x3c91a62633145c07), // 6.123233995736766e-17
	math.Float64frombits(0xb91f1976b7ed8fbc), // -1.4973849048591698e-33
}

// Taylor coefficients 1/n! in double-double, n = 0..taylorTerms.
const taylorTerms = 34

var invFact = func() [taylorTerms + 1]dd {
	var f [taylorTerms + 1]dd
	f[0] = dd{1, 0}
	for n := 1; n <= taylorTerms; n++ {
		f[n] = ddDiv(f[n-1], float64(n))
	}
	return f
}()

// cosRN returns cos(x) correctly rounded (see above) for 0 <= x <= 3.5,
// the range pi*[0,1] of the schedule; outside it, it returns math.Cos(x).
func cosRN(x float64) float64 {
	if !(x >= 0 && x <= 3.5) {
		return math.Cos(x)
	}
	// x = k*pi/2 + r with |r| <= pi/4 (plus rounding). k*pio2[0] is exact
	// (k = 0, 1 or 2) and x - k*pio2[0] is exact by Sterbenz's lemma.
	k := math.Round(x / pio2[0])
	r := dd{x - k*pio2[0], 0}
	r = ddAdd(r, dd{-k * pio2[1], 0})
	r = ddAdd(r, dd{-k * pio2[2], 0})
	var v dd
	switch int(k) {
	case 0:
		v = ddCosSmall(r)
	case 1:
		v = ddSinSmall(r)
		v = dd{-v.hi, -v.lo}
	default: // 2
		v = ddCosSmall(r)
		v = dd{-v.hi, -v.lo}
	}
	return v.hi
}

// ddCosSmall is the Taylor series of cos for |r| <= pi/4 (+ a little): the
// first omitted term is below 2^-120.
func ddCosSmall(r dd) dd {
	r2 := ddMul(r, r)
	// Horner in r2: sum_{n} (-1)^n r2^n / (2n)!
	const n = taylorTerms / 2
	acc := invFact[2*n]
	if n%2 == 1 {
		acc = dd{-acc.hi, -acc.lo}
	}
	for i := n - 1; i >= 0; i-- {
		c := invFact[2*i]
		if i%2 == 1 {
			c = dd{-c.hi, -c.lo}
		}
		acc = ddAdd(ddMul(acc, r2), c)
	}
	return acc
}

// ddSinSmall is the Taylor series of sin for |r| <= pi/4 (+ a little).
func ddSinSmall(r dd) dd {
	r2 := ddMul(r, r)
	const n = taylorTerms/2 - 1
	acc := invFact[2*n+1]
	if n%2 == 1 {
		acc = dd{-acc.hi, -acc.lo}
	}
	for i := n - 1; i >= 0; i-- {
		c := invFact[2*i+1]
		if i%2 == 1 {
			c = dd{-c.hi, -c.lo}
		}
		acc = ddAdd(ddMul(acc, r2), c)
	}
	return ddMul(acc, r)
}
