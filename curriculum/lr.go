package curriculum

import (
	"fmt"
	"math"
)

// CosineRestartLR returns the learning rate of the reference's
// CosineAnnealingRestartLR scheduler (BasicSR) at scheduler position
// lastEpoch, and the index of the cosine cycle it falls in.
//
// With cumsum the running sums of periods, the cycle is the first i with
// lastEpoch <= cumsum[i], restart is cumsum[i-1] (0 for i = 0) and
//
//	lr = etaMin + w[i] * 0.5 * (base - etaMin) * (1 + cos(pi * ((lastEpoch - restart) / periods[i])))
//
// evaluated in exactly this order in float64, as the reference does; nil
// weights mean 1 for every cycle. A cycle therefore ends on etaMin exactly
// (at lastEpoch = cumsum[i]) and the next one starts one step into its
// cosine, just below base*w[i+1], never on it.
//
// The reference calls scheduler.step() before every iteration but the first,
// so training iteration t (1-based) of a scheduler's life uses
// lastEpoch = t-1. Valid positions are 0..sum(periods); the reference
// scheduler fails past the end. CosineRestartLR returns an error for an
// invalid schedule or position.
func CosineRestartLR(base, etaMin float64, periods []int, weights []float64, lastEpoch int) (lr float64, cycle int, err error) {
	if err := validateLR(base, etaMin); err != nil {
		return 0, 0, err
	}
	if err := validatePeriods(periods, weights); err != nil {
		return 0, 0, err
	}
	if lastEpoch < 0 || lastEpoch > sumInts(periods) {
		return 0, 0, fmt.Errorf("%w: scheduler position %d outside 0..%d", ErrInvalid, lastEpoch, sumInts(periods))
	}
	lr, cycle = cosineRestart(base, etaMin, periods, weights, lastEpoch)
	return lr, cycle, nil
}

// cosineRestart is CosineRestartLR without validation.
func cosineRestart(base, etaMin float64, periods []int, weights []float64, e int) (float64, int) {
	i, restart := cyclePos(periods, e)
	w := 1.0
	if weights != nil {
		w = weights[i]
	}
	return cosineValue(base, etaMin, w, e-restart, periods[i]), i
}

// cyclePos returns the reference's cycle index for scheduler position e
// (the first i with e <= cumsum[i]; the last cycle past the end) and the
// position where that cycle's cosine starts (cumsum[i-1], 0 for i = 0).
// Cycle 0 covers positions 0..cumsum[0]; cycle i > 0 covers
// cumsum[i-1]+1..cumsum[i].
func cyclePos(periods []int, e int) (i, restart int) {
	for ; i < len(periods)-1 && e > restart+periods[i]; i++ {
		restart += periods[i]
	}
	return i, restart
}

// cosineValue evaluates the reference's expression with Python's
// left-to-right order. The explicit float64 conversions forbid the compiler
// from fusing a multiply and an add into one FMA (allowed by the Go
// specification on some architectures), which would round differently from
// the reference on those machines.
func cosineValue(base, etaMin, w float64, offset, period int) float64 {
	x := float64(offset) / float64(period) // exact ints, one correctly rounded division, like Python's int/int
	c := cosRN(float64(math.Pi * x))
	amp := float64(float64(w*0.5) * (base - etaMin))
	return etaMin + float64(amp*(1+c))
}

func validateLR(base, etaMin float64) error {
	switch {
	case math.IsNaN(base) || math.IsInf(base, 0) || base <= 0:
		return fmt.Errorf("%w: base learning rate %v, want a finite value > 0", ErrInvalid, base)
	case math.IsNaN(etaMin) || math.IsInf(etaMin, 0) || etaMin < 0:
		return fmt.Errorf("%w: eta_min %v, want a finite value >= 0", ErrInvalid, etaMin)
	case etaMin > base:
		return fmt.Errorf("%w: eta_min %v is above the base learning rate %v", ErrInvalid, etaMin, base)
	}
	return nil
}

func validatePeriods(periods []int, weights []float64) error {
	if len(periods) == 0 {
		return fmt.Errorf("%w: no cosine period", ErrInvalid)
	}
	total := 0
	for i, p := range periods {
		if p <= 0 {
			return fmt.Errorf("%w: period %d is %d, want > 0", ErrInvalid, i, p)
		}
		if total > maxIters-p {
			return fmt.Errorf("%w: periods add up to more than %d iterations", ErrInvalid, maxIters)
		}
		total += p
	}
	if weights != nil {
		if len(weights) != len(periods) {
			return fmt.Errorf("%w: %d restart weights for %d periods", ErrInvalid, len(weights), len(periods))
		}
		for i, w := range weights {
			if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
				return fmt.Errorf("%w: restart weight %d is %v, want a finite value >= 0", ErrInvalid, i, w)
			}
		}
	}
	return nil
}

func sumInts(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}
