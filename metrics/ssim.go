package metrics

import (
	"math"
	"runtime"

	"github.com/gomioir/gomioir/internal/parallel"
)

const (
	ssimWindow = 11  // side of the Gaussian window
	ssimSigma  = 1.5 // its standard deviation
	ssimHalf   = ssimWindow / 2
	ssimC1     = (0.01 * 255) * (0.01 * 255)
	ssimC2     = (0.03 * 255) * (0.03 * 255)
)

// gauss is cv2.getGaussianKernel(11, 1.5) as OpenCV computes it in float64:
// exp(-x^2 / (2 sigma^2)) for x = -5..5, then multiplied by the reciprocal
// of the sum. BasicSR's 2D window is its outer product, so filtering rows
// and then columns with it gives the same values up to float64 rounding.
var gauss = func() (k [ssimWindow]float64) {
	scale := -0.5 / (ssimSigma * ssimSigma)
	var sum float64
	for i := range k {
		x := float64(i) - (ssimWindow-1)*0.5
		k[i] = math.Exp(scale * x * x)
		sum += k[i]
	}
	inv := 1 / sum
	for i := range k {
		k[i] *= inv
	}
	return
}()

// ssim computes the mean SSIM over the valid region of every channel, then
// the mean over channels. Work is split into (channel, band of output
// rows) pieces run concurrently; each output row's sum is stored and the
// sums are added in a fixed order, so the result does not depend on the
// number of goroutines.
func (r *region) ssim() float64 {
	ow, oh := r.w-2*ssimHalf, r.h-2*ssimHalf
	nch := r.channels()
	procs := runtime.GOMAXPROCS(0)
	// Bands of at least 32 rows keep the 10 extra rows each band filters
	// horizontally a small overhead; aim for about two pieces per CPU.
	band := max(32, (oh*nch+2*procs-1)/(2*procs))
	band = min(band, oh)
	bands := (oh + band - 1) / band
	rowSums := make([]float64, nch*oh)
	parallel.For(nch*bands, 1, func(lo, hi int) {
		var s ssimScratch
		for t := lo; t < hi; t++ {
			c, bi := t/bands, t%bands
			i0 := bi * band
			i1 := min(i0+band, oh)
			r.ssimBand(c, i0, i1, ow, &s, rowSums[c*oh+i0:c*oh+i1])
		}
	})
	var total float64
	for c := range nch {
		var s float64
		for _, v := range rowSums[c*oh : (c+1)*oh] {
			s += v
		}
		total += s / (float64(ow) * float64(oh))
	}
	return total / float64(nch)
}

// ssimScratch holds the per-goroutine buffers of ssimBand.
type ssimScratch struct {
	xa, xb, xaa, xbb, xab []float64 // one input row and its products
	// ring[q][k] is the horizontally filtered input row r (r%11 == k) of
	// quantity q: a, b, a*a, b*b, a*b. Eleven rows, so the vertical pass
	// works in cache.
	ring [5][ssimWindow][]float64
	v    [5][]float64 // the vertically filtered output row
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// hfilter writes the horizontal valid filtering of src (len ow+10) to dst
// (len ow), pairing the symmetric taps.
func hfilter(dst, src []float64) {
	k0, k1, k2, k3, k4, k5 := gauss[0], gauss[1], gauss[2], gauss[3], gauss[4], gauss[5]
	src = src[:len(dst)+ssimWindow-1]
	for j := range dst {
		p := src[j : j+ssimWindow : j+ssimWindow]
		dst[j] = k0*(p[0]+p[10]) + k1*(p[1]+p[9]) + k2*(p[2]+p[8]) +
			k3*(p[3]+p[7]) + k4*(p[4]+p[6]) + k5*p[5]
	}
}

// vfilter writes to dst the vertical filtering of the eleven rows
// rows[0..10] (top to bottom), pairing the symmetric taps.
func vfilter(dst []float64, rows *[ssimWindow][]float64) {
	n := len(dst)
	r0, r1, r2, r3, r4, r5 := rows[0][:n], rows[1][:n], rows[2][:n], rows[3][:n], rows[4][:n], rows[5][:n]
	r6, r7, r8, r9, r10 := rows[6][:n], rows[7][:n], rows[8][:n], rows[9][:n], rows[10][:n]
	k0, k1, k2, k3, k4, k5 := gauss[0], gauss[1], gauss[2], gauss[3], gauss[4], gauss[5]
	for j := range dst {
		dst[j] = k0*(r0[j]+r10[j]) + k1*(r1[j]+r9[j]) + k2*(r2[j]+r8[j]) +
			k3*(r3[j]+r7[j]) + k4*(r4[j]+r6[j]) + k5*r5[j]
	}
}

// ssimBand computes the sums of the SSIM map rows i0..i1-1 (output
// coordinates) of channel c into sums.
func (r *region) ssimBand(c, i0, i1, ow int, s *ssimScratch, sums []float64) {
	w := r.w
	s.xa, s.xb = grow(s.xa, w), grow(s.xb, w)
	s.xaa, s.xbb, s.xab = grow(s.xaa, w), grow(s.xbb, w), grow(s.xab, w)
	for q := range s.ring {
		for k := range s.ring[q] {
			s.ring[q][k] = grow(s.ring[q][k], ow)
		}
		s.v[q] = grow(s.v[q], ow)
	}
	// filterRow filters input row k horizontally into its ring slot.
	filterRow := func(k int) {
		r.row(r.a, c, k, s.xa)
		r.row(r.b, c, k, s.xb)
		for j := range w {
			a, b := s.xa[j], s.xb[j]
			s.xaa[j], s.xbb[j], s.xab[j] = a*a, b*b, a*b
		}
		slot := k % ssimWindow
		hfilter(s.ring[0][slot], s.xa)
		hfilter(s.ring[1][slot], s.xb)
		hfilter(s.ring[2][slot], s.xaa)
		hfilter(s.ring[3][slot], s.xbb)
		hfilter(s.ring[4][slot], s.xab)
	}
	for k := i0; k < i0+ssimWindow-1; k++ {
		filterRow(k)
	}
	var rows [ssimWindow][]float64
	for i := i0; i < i1; i++ {
		filterRow(i + ssimWindow - 1)
		for q := range 5 {
			for k := range ssimWindow {
				rows[k] = s.ring[q][(i+k)%ssimWindow]
			}
			vfilter(s.v[q], &rows)
		}
		mu1, mu2, e11, e22, e12 := s.v[0][:ow], s.v[1][:ow], s.v[2][:ow], s.v[3][:ow], s.v[4][:ow]
		var sum float64
		for j := range mu1 {
			m1, m2 := mu1[j], mu2[j]
			m11, m22, m12 := m1*m1, m2*m2, m1*m2
			s11, s22, s12 := e11[j]-m11, e22[j]-m22, e12[j]-m12
			sum += ((2*m12 + ssimC1) * (2*s12 + ssimC2)) / ((m11 + m22 + ssimC1) * (s11 + s22 + ssimC2))
		}
		sums[i-i0] = sum
	}
}
