package mioir

import (
	"fmt"
	"math"

	"github.com/gomioir/gomioir/nets/torch"
)

// The method's low-light degradation is a tone curve (x^gamma) applied to
// an 8-bit image and quantised again. Such a curve maps the 256 input codes
// onto fewer output codes where it is flatter than 1 (each output code
// collects two or three inputs in a fixed pattern) and skips codes where it
// is steeper: the histogram gets a comb whose teeth sit where the curve
// puts them, whatever the scene. toneCurveTrace correlates the histogram's
// fine structure (each bin over its smoothed neighbourhood) with that of
// every curve in a grid of darkening gammas and exposures and returns the
// best correlation: near 1 on a darkened 8-bit image, low on photos, noise,
// blur and upscales, whose histograms are smooth, and on JPEG, whose
// flat blocks give spikes that no tone curve explains. A camera's own dark
// exposure has no comb; the trace only adds low-light choices the
// classifier missed, it refuses none.
const (
	toneMinBin   = 20   // least smoothed count of a bin that is compared
	toneMinBins  = 8    // fewest such bins
	toneMinCount = 1000 // fewest values in them
	// toneMaxMissing is the largest share of the compared codes that a
	// curve maps inputs to and that may still be empty.
	toneMaxMissing = 0.1
	toneCodeSlack  = 0.01 // largest distance from a code of an 8-bit input
	toneStripVals  = 1 << 20
)

// toneKernel is the binomial smoothing of the histograms (9 taps).
var toneKernel = [9]float64{1. / 256, 8. / 256, 28. / 256, 56. / 256, 70. / 256, 56. / 256, 28. / 256, 8. / 256, 1. / 256}

// The grid of darkening curves: x^gamma for gamma from toneGammaMin to
// toneGammaMax in relative steps of toneGammaStep, and k*x for k from
// toneExposureMin to toneExposureMax in steps of toneExposureStep. A curve's
// comb depends on which side of a half code each input lands, so the steps
// move no output by more than 0.02 of a code (255*x^gamma*ln(x) is at most
// 255/(e*gamma) per unit gamma): the curve an image was darkened with,
// whatever its parameter, has a neighbour on the grid with nearly its comb.
const (
	toneGammaMin, toneGammaMax, toneGammaStep          = 1.1, 4.0, 0.02 * math.E / 255
	toneExposureMin, toneExposureMax, toneExposureStep = 0.2, 0.9, 0.02 / 255
)

// eachToneCurve calls fn with m, the number of 8-bit input codes that each
// output code receives, for every curve of the grid.
func eachToneCurve(fn func(m *[256]float64)) {
	var lnCode [256]float64
	for i := 1; i < 256; i++ {
		lnCode[i] = math.Log(float64(i) / 255)
	}
	var m [256]float64
	for g := toneGammaMin; g <= toneGammaMax; g *= 1 + toneGammaStep {
		m = [256]float64{}
		m[0]++ // 0^gamma
		for i := 1; i < 256; i++ {
			m[int(math.Floor(255*math.Exp(g*lnCode[i])+0.5))]++
		}
		fn(&m)
	}
	for n := 0; ; n++ {
		k := toneExposureMin + float64(n)*toneExposureStep
		if k > toneExposureMax {
			break
		}
		m = [256]float64{}
		for i := range 256 {
			m[int(math.Floor(k*float64(i)+0.5))]++
		}
		fn(&m)
	}
}

// smoothHistogram convolves h with toneKernel, zero outside.
func smoothHistogram(h *[256]float64) [256]float64 {
	var s [256]float64
	for k := range s {
		for j, w := range toneKernel {
			if i := k + j - len(toneKernel)/2; i >= 0 && i < 256 {
				s[k] += w * h[i]
			}
		}
	}
	return s
}

// toneCurveTrace returns the best correlation of x's (1, 3, H, W) 8-bit
// histogram, the three channels pooled, with a darkening tone curve's comb;
// 0 when x is not 8-bit (16-bit or computed input) or has too few values
// in well-filled bins to tell. It reads x in strips of rows.
func toneCurveTrace(x *torch.Tensor) (float64, error) {
	h, w := x.Size(2), x.Size(3)
	rows := max(1, toneStripVals/(3*w))
	var hist [256]float64
	for y0 := int64(0); y0 < h; y0 += rows {
		n := min(rows, h-y0)
		s := torch.NewScope(torch.Inference)
		v, err := torch.ToSlice[float32](s.Use(x).Narrow(2, y0, n).MulScalar(255).ToDevice(torch.CPU).Contiguous())
		s.Close()
		if err != nil {
			return 0, fmt.Errorf("mioir: restore: measuring the histogram: %w", err)
		}
		for _, f := range v {
			c := math.Round(float64(f))
			if !(math.Abs(float64(f)-c) <= toneCodeSlack && c >= 0 && c <= 255) { // NaN too
				return 0, nil
			}
			hist[int(c)]++
		}
	}
	return combCorrelation(&hist), nil
}

// combCorrelation returns the best weighted correlation between hist's fine
// structure and the comb of a curve of the grid over the bins 1-254 whose smoothed count
// is at least toneMinBin (the clipped ends and sparse tails say nothing),
// weighted by that count; 0 when too little is left.
func combCorrelation(hist *[256]float64) float64 {
	hs := smoothHistogram(hist)
	var idx []int
	total := 0.0
	for k := 1; k < 255; k++ {
		if hs[k] >= toneMinBin {
			idx = append(idx, k)
			total += hist[k]
		}
	}
	if len(idx) < toneMinBins || total < toneMinCount {
		return 0
	}
	a := make([]float64, len(idx))
	wsum, amean := 0.0, 0.0
	for i, k := range idx {
		a[i] = hist[k]/hs[k] - 1
		wsum += hs[k]
		amean += hs[k] * a[i]
	}
	amean /= wsum
	aa := 0.0
	for i, k := range idx {
		a[i] -= amean
		aa += hs[k] * a[i] * a[i]
	}
	best := 0.0
	b := make([]float64, len(idx))
	eachToneCurve(func(m *[256]float64) {
		// A curve that explains the histogram leaves few of the codes it
		// maps to empty (only where the source had no pixels): an 8-bit
		// contrast stretch of a smooth image has gaps like a steep curve's,
		// but out of step with every curve's.
		missing, mapped := 0, 0
		for _, k := range idx {
			if m[k] >= 1 {
				mapped++
				if hist[k] == 0 {
					missing++
				}
			}
		}
		if float64(missing) > toneMaxMissing*float64(mapped) {
			return
		}
		bmean := 0.0
		for i, k := range idx {
			ms := 0.0
			for j, w := range toneKernel {
				if n := k + j - len(toneKernel)/2; n >= 0 && n < 256 {
					ms += w * m[n]
				}
			}
			b[i] = m[k]/max(ms, 1e-9) - 1
			bmean += hs[k] * b[i]
		}
		bmean /= wsum
		ab, bb := 0.0, 0.0
		for i, k := range idx {
			d := b[i] - bmean
			ab += hs[k] * a[i] * d
			bb += hs[k] * d * d
		}
		if den := math.Sqrt(aa * bb); den > 0 {
			best = max(best, ab/den)
		}
	})
	return best
}
