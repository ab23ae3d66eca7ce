package mioir

import (
	"math"

	"github.com/gomioir/gomioir/degrade"
)

// Reblur: how much a Gaussian blur still changes an image. A blur takes
// away the detail it acts on, so blurring a blurred photo again changes it
// less than blurring the sharp one, but a blurred photo of a scene with
// edges or texture still changes by several 8-bit levels. An image that
// changes by less than its own 8-bit rounding (whose error, uniform over
// one level, has an RMS of 0.29 levels, 0.27 after this filter; a smooth
// gradient's rounding, correlated along it, reads 0.18) holds no detail a
// blur could have taken: a sky, a gradient, a wall. Restoring it
// as blurred cannot bring back anything visible, and the blur prompt moves
// such near-flat images by fractions of a level, away from the truth as
// often as towards it.

const (
	// reblurSigma is the Gaussian's standard deviation in pixels, inside
	// the method's blur range (1-3): light enough to leave a blurred
	// photo's edges something to soften.
	reblurSigma = 1.5
	// reblurRadius is the kernel's half-width: 4 sigma, as OpenCV sizes a
	// kernel from sigma alone for float images.
	reblurRadius = 6
)

// reblurKernel is the method's blur kernel (degrade.GaussianKernel1D) of
// reblurSigma over -reblurRadius..reblurRadius.
var reblurKernel = func() []float32 {
	k, err := degrade.GaussianKernel1D(2*reblurRadius+1, reblurSigma)
	if err != nil {
		panic(err) // constant, valid arguments
	}
	return k
}()

// reblurRMS returns the RMS change of the luminance tile y (h lines of w)
// under the Gaussian of reblurSigma (gaussianBlur, as the streak trace
// smooths), over the pixels whose whole kernel lies inside the tile, where
// the border rule plays no part, and false when there are none.
func reblurRMS(y []float32, h, w int) (float64, bool) {
	const r = reblurRadius
	if h <= 2*r || w <= 2*r {
		return 0, false
	}
	g := gaussianBlur(y, h, w, reblurKernel)
	var sum float64
	for i := r; i < h-r; i++ {
		for j := r; j < w-r; j++ {
			d := float64(g[i*w+j] - y[i*w+j])
			sum += d * d
		}
	}
	return math.Sqrt(sum / float64((h-2*r)*(w-2*r))), true
}
