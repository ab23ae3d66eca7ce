package metrics

import (
	"github.com/gomioir/gomioir/internal/parallel"
)

// psnr computes BasicSR's PSNR over the region. RGB differences are
// integers, so their squares are summed exactly in int64 (numpy's float64
// sum of these integers is exact too); Y values are summed in float64 per
// row and the row sums added in order, so the result does not depend on
// scheduling.
func (r *region) psnr() float64 {
	n := float64(r.w) * float64(r.h) * float64(r.channels())
	if !r.y {
		sums := make([]int64, r.h)
		parallel.For(r.h, 64, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				off := (i+r.crop)*r.a.W + r.crop
				var s int64
				for c := range 3 {
					pa := r.a.Plane(c)[off : off+r.w]
					pb := r.b.Plane(c)[off : off+r.w : off+r.w]
					for j, v := range pa {
						d := int64(v) - int64(pb[j])
						s += d * d
					}
				}
				sums[i] = s
			}
		})
		var total int64
		for _, s := range sums {
			total += s
		}
		return psnrFromMSE(float64(total) / n)
	}
	sums := make([]float64, r.h)
	parallel.For(r.h, 32, func(lo, hi int) {
		ya := make([]float64, r.w)
		yb := make([]float64, r.w)
		for i := lo; i < hi; i++ {
			r.row(r.a, 0, i, ya)
			r.row(r.b, 0, i, yb)
			var s float64
			for j, v := range ya {
				d := v - yb[j]
				s += d * d
			}
			sums[i] = s
		}
	})
	var total float64
	for _, s := range sums {
		total += s
	}
	return psnrFromMSE(total / n)
}
