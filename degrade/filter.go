package degrade

import (
	"github.com/gomioir/gomioir/internal/parallel"
)

// reflect101 maps an index into [0,n) with reflect-101 borders (the edge
// sample is not repeated: -1 -> 1, n -> n-2), as OpenCV BORDER_REFLECT_101
// and PyTorch 'reflect' padding. It folds repeatedly, so any offset is valid.
func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	p := 2 * (n - 1)
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - i
	}
	return i
}

// clampIndex clamps i into [0,n).
func clampIndex(i, n int) int {
	if i < 0 {
		return 0
	}
	if i >= n {
		return n - 1
	}
	return i
}

// sepFilter32 filters the three planes of src with the separable kernel
// (kx along rows, then ky along columns; both odd, centred) using
// reflect-101 borders and float32 arithmetic, writing into dst (which must
// not alias src).
func sepFilter32(src, dst *Image, kx, ky []float32) {
	w, h := src.W, src.H
	tmp := make([]float32, len(src.Pix))
	rx, ry := len(kx)/2, len(ky)/2
	// Horizontal pass, one padded row buffer per worker.
	parallel.For(3*h, 8, func(lo, hi int) {
		buf := make([]float32, w+2*rx)
		for r := lo; r < hi; r++ {
			row := src.Pix[r*w : (r+1)*w]
			copy(buf[rx:], row)
			for i := 0; i < rx; i++ {
				buf[i] = row[reflect101(i-rx, w)]
				buf[rx+w+i] = row[reflect101(w+i, w)]
			}
			out := tmp[r*w : (r+1)*w]
			x := 0
			// Four outputs at a time share each kernel tap load.
			for ; x+4 <= len(out); x += 4 {
				win := buf[x : x+len(kx)+3]
				var s0, s1, s2, s3 float32
				for j, k := range kx {
					w4 := win[j : j+4 : j+4]
					s0 += k * w4[0]
					s1 += k * w4[1]
					s2 += k * w4[2]
					s3 += k * w4[3]
				}
				out[x], out[x+1], out[x+2], out[x+3] = s0, s1, s2, s3
			}
			for ; x < len(out); x++ {
				win := buf[x : x+len(kx)]
				var s float32
				for j, k := range kx {
					s += k * win[j]
				}
				out[x] = s
			}
		}
	})
	// Vertical pass: accumulate whole rows.
	n := w * h
	parallel.For(3*h, 8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, y := r/h, r%h
			plane := tmp[c*n : (c+1)*n]
			out := dst.Pix[r*w : (r+1)*w]
			row := func(j int) []float32 {
				yy := reflect101(y+j-ry, h)
				return plane[yy*w : (yy+1)*w][:len(out)]
			}
			in0 := row(0)
			k0 := ky[0]
			for x, v := range in0 {
				out[x] = k0 * v
			}
			// Remaining taps four rows at a time, summed in tap order.
			j := 1
			for ; j+4 <= len(ky); j += 4 {
				a, b, c, d := row(j), row(j+1), row(j+2), row(j+3)
				ka, kb, kc, kd := ky[j], ky[j+1], ky[j+2], ky[j+3]
				for x := range out {
					out[x] = out[x] + ka*a[x] + kb*b[x] + kc*c[x] + kd*d[x]
				}
			}
			for ; j < len(ky); j++ {
				a, ka := row(j), ky[j]
				for x := range out {
					out[x] += ka * a[x]
				}
			}
		}
	})
}
