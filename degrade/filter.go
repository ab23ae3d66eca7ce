package degrade

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
	parallelRange(3*h, 8, func(lo, hi int) {
		buf := make([]float32, w+2*rx)
		for r := lo; r < hi; r++ {
			row := src.Pix[r*w : (r+1)*w]
			for i := range buf {
				buf[i] = row[reflect101(i-rx, w)]
			}
			out := tmp[r*w : (r+1)*w]
			for x := range out {
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
	parallelRange(3*h, 8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, y := r/h, r%h
			plane := tmp[c*n : (c+1)*n]
			out := dst.Pix[r*w : (r+1)*w]
			for x := range out {
				out[x] = 0
			}
			for j, k := range ky {
				yy := reflect101(y+j-ry, h)
				in := plane[yy*w : (yy+1)*w]
				for x, v := range in {
					out[x] += k * v
				}
			}
		}
	})
}
