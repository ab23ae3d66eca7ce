package metrics

// BT.601 luma weights of BasicSR's bgr2ycbcr (y_only) for R, G and B in
// [0,1], giving Y on the 16..235 scale.
const (
	lumaR = 65.481
	lumaG = 128.553
	lumaB = 24.966
)

// lumaTerms[c][v] is float64(float32(v)/255) times the weight of channel c
// (0=R, 1=G, 2=B): the rounded products BasicSR sums, precomputed.
var lumaTerms = func() (t [3][256]float64) {
	for v := range 256 {
		x := float64(float32(v) / 255) // img.astype(float32) / 255.
		t[0][v] = x * lumaR
		t[1][v] = x * lumaG
		t[2][v] = x * lumaB
	}
	return
}()

// Luma returns BasicSR's to_y_channel value of one 8-bit RGB pixel on the
// 0..255 scale, reproducing its casts: the samples divided by 255 in
// float32; the weighted sum (B, G, R order) plus 16 in float64; divided by
// 255 in float64 and cast to float32; times 255 in float32 (no rounding).
func Luma(r, g, b uint8) float64 {
	y := lumaTerms[2][b] + lumaTerms[1][g] + lumaTerms[0][r] + 16
	return float64(float32(y/255) * 255)
}

// row fills dst with row i of channel c of image m inside the region (c is
// ignored for the Y channel).
func (r *region) row(m *RGB8, c, i int, dst []float64) {
	off := (i+r.crop)*m.W + r.crop
	if !r.y {
		src := m.Plane(c)[off : off+r.w]
		for j, v := range src {
			dst[j] = float64(v)
		}
		return
	}
	R := m.Plane(0)[off : off+r.w]
	G := m.Plane(1)[off : off+r.w]
	B := m.Plane(2)[off : off+r.w]
	for j := range dst[:r.w] {
		dst[j] = Luma(R[j], G[j], B[j])
	}
}
