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
// reblurSigma over -reblurRadius..reblurRadius, in float64.
var reblurKernel = func() [2*reblurRadius + 1]float64 {
	k32, err := degrade.GaussianKernel1D(2*reblurRadius+1, reblurSigma)
	if err != nil {
		panic(err) // constant, valid arguments
	}
	var k [2*reblurRadius + 1]float64
	for i, v := range k32 {
		k[i] = float64(v)
	}
	return k
}()

// reblurRMS returns the RMS change of the luminance tile y (h lines of w)
// under the Gaussian of reblurSigma, over the pixels whose whole kernel
// lies inside the tile (no border rule to bias it), and false when there
// are none.
func reblurRMS(y []float32, h, w int) (float64, bool) {
	const r = reblurRadius
	if h <= 2*r || w <= 2*r {
		return 0, false
	}
	// Horizontal pass on the columns with a whole kernel, every line.
	iw := w - 2*r
	hp := make([]float64, h*iw)
	for i := range h {
		line := y[i*w : (i+1)*w]
		for j := range iw {
			var s float64
			for k, kv := range reblurKernel {
				s += kv * float64(line[j+k])
			}
			hp[i*iw+j] = s
		}
	}
	// Vertical pass on the lines with a whole kernel; the change against
	// the pixel itself.
	var sum float64
	ih := h - 2*r
	for i := range ih {
		for j := range iw {
			var s float64
			for k, kv := range reblurKernel {
				s += kv * hp[(i+k)*iw+j]
			}
			d := s - float64(y[(i+r)*w+j+r])
			sum += d * d
		}
	}
	return math.Sqrt(sum / float64(ih*iw)), true
}
