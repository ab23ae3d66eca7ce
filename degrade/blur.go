package degrade

import (
	"fmt"
	"math"
)

// GaussianKernel1D returns the normalised 1-D Gaussian weights
// exp(-x²/(2σ²)) on x = -(ksize/2)..ksize/2, computed in float64 and cast
// to float32. The reference's 2-D kernel is the outer product of this
// kernel with itself (the 2-D normalisation factorises).
func GaussianKernel1D(ksize int, sigma float64) ([]float32, error) {
	if ksize < 1 || ksize%2 == 0 {
		return nil, fmt.Errorf("%w: blur kernel size %d (want odd and >= 1)", ErrParam, ksize)
	}
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return nil, fmt.Errorf("%w: blur sigma %v (want > 0)", ErrParam, sigma)
	}
	r := ksize / 2
	k64 := make([]float64, ksize)
	var sum float64
	for i := range k64 {
		x := float64(i - r)
		k64[i] = math.Exp(-0.5 * x * x / (sigma * sigma))
		sum += k64[i]
	}
	k := make([]float32, ksize)
	for i := range k {
		k[i] = float32(k64[i] / sum)
	}
	return k, nil
}

// GaussianBlur applies the reference isotropic Gaussian blur (task b): kernel size
// ksize (odd; the reference draws 7..21) and standard deviation sigma in
// pixels, reflect-101 borders, separable float32 filtering, then the 8-bit
// quantisation. src is not modified.
func GaussianBlur(src *Image, ksize int, sigma float64) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	k, err := GaussianKernel1D(ksize, sigma)
	if err != nil {
		return nil, err
	}
	dst := NewImage(src.W, src.H)
	sepFilter32(src, dst, k, k)
	return dst.Quantize8(), nil
}
