package degrade

import (
	"fmt"
	"math"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/parallel"
)

// LowLightGamma applies the reference low-light degradation (task d):
// x^gamma per value (float32 result), then the 8-bit quantisation. gamma
// must be > 0 (the reference draws 1..3 In-Dis and 3..4 Out-Dis). Negative
// inputs are clamped to 0 first. src is not modified.
func LowLightGamma(src *Image, gamma float64) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if !(gamma > 0) || math.IsInf(gamma, 0) {
		return nil, fmt.Errorf("%w: gamma %v (want > 0)", ErrParam, gamma)
	}
	dst := NewImage(src.W, src.H)
	// On the 8-bit grid (the usual input) a 256-entry table is exact.
	var lut [256]float32
	for i := range lut {
		lut[i] = imgconv.Quantize(float32(math.Pow(float64(float32(i)/255), gamma)))
	}
	parallel.For(len(src.Pix), 1<<15, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := src.Pix[i]
			if v <= 0 {
				dst.Pix[i] = imgconv.Quantize(float32(math.Pow(0, gamma)))
				continue
			}
			k := v * 255
			if ki := int(k); float32(ki) == k && ki <= 255 && imgconv.FromByte(uint8(ki)) == v {
				dst.Pix[i] = lut[ki]
				continue
			}
			dst.Pix[i] = imgconv.Quantize(float32(math.Pow(float64(v), gamma)))
		}
	})
	return dst, nil
}
