package degrade

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/parallel"
)

// Standard JPEG quantisation tables (ITU-T T.81 Annex K), natural order:
// row = vertical frequency.
var stdLuma = [8][8]float32{
	{16, 11, 10, 16, 24, 40, 51, 61},
	{12, 12, 14, 19, 26, 58, 60, 55},
	{14, 13, 16, 24, 40, 57, 69, 56},
	{14, 17, 22, 29, 51, 87, 80, 62},
	{18, 22, 37, 56, 68, 109, 103, 77},
	{24, 35, 55, 64, 81, 104, 113, 92},
	{49, 64, 78, 87, 103, 121, 120, 101},
	{72, 92, 95, 98, 112, 100, 103, 99},
}

var stdChroma = func() (t [8][8]float32) {
	top := [4][4]float32{{17, 18, 24, 47}, {18, 21, 26, 66}, {24, 26, 56, 99}, {47, 66, 99, 99}}
	for u := range t {
		for v := range t[u] {
			t[u][v] = 99
			if u < 4 && v < 4 {
				t[u][v] = top[u][v]
			}
		}
	}
	return
}()

// JPEGQualityFactor is DiffJPEG's quality-to-table-scale mapping:
// (5000/q)/100 for q < 50 and (200-2q)/100 otherwise.
func JPEGQualityFactor(q int) float64 {
	if q < 50 {
		return (5000 / float64(q)) / 100
	}
	return (200 - 2*float64(q)) / 100
}

// dctTables holds the float32 DCT basis values used by DiffJPEG
// (cos((2x+1)uπ/16) per axis), and the DC scale factors.
var (
	dctCos   [8][8]float64 // [x][u]
	dctScale [8][8]float32 // 0.25*alpha(u)*alpha(v)
	idctA    [8][8]float32 // alpha(u)*alpha(v)
)

func init() {
	for x := 0; x < 8; x++ {
		for u := 0; u < 8; u++ {
			dctCos[x][u] = math.Cos(float64((2*x+1)*u) * math.Pi / 16)
		}
	}
	alpha := func(i int) float64 {
		if i == 0 {
			return 1 / math.Sqrt(2)
		}
		return 1
	}
	for u := 0; u < 8; u++ {
		for v := 0; v < 8; v++ {
			dctScale[u][v] = float32(alpha(u) * alpha(v) * 0.25)
			idctA[u][v] = float32(alpha(u) * alpha(v))
		}
	}
}

// dct8 is the 8-point DCT-II sum X[u] = sum_x v[x] cos((2x+1)uπ/16),
// with the even/odd symmetry of the basis (cos[7-x][u] = ±cos[x][u])
// halving the multiplications. float64.
func dct8(v *[8]float64, out *[8]float64) {
	var s, d [4]float64
	for x := 0; x < 4; x++ {
		s[x] = v[x] + v[7-x]
		d[x] = v[x] - v[7-x]
	}
	for u := 0; u < 8; u += 2 {
		out[u] = s[0]*dctCos[0][u] + s[1]*dctCos[1][u] + s[2]*dctCos[2][u] + s[3]*dctCos[3][u]
		out[u+1] = d[0]*dctCos[0][u+1] + d[1]*dctCos[1][u+1] + d[2]*dctCos[2][u+1] + d[3]*dctCos[3][u+1]
	}
}

// idct8 is the transpose sum out[x] = sum_u c[u] cos((2x+1)uπ/16), using
// out[7-x] = even(x) - odd(x).
func idct8(c *[8]float64, out *[8]float64) {
	for x := 0; x < 4; x++ {
		k := &dctCos[x]
		e := c[0]*k[0] + c[2]*k[2] + c[4]*k[4] + c[6]*k[6]
		o := c[1]*k[1] + c[3]*k[3] + c[5]*k[5] + c[7]*k[7]
		out[x] = e + o
		out[7-x] = e - o
	}
}

// jpegPlane runs DiffJPEG's per-component path on a plane of size w x h
// (multiples of 8) in place: DCT of (v-128), divide by the scaled table,
// round half to even, multiply back, inverse DCT, +128. The transforms run
// in float64 (so they are at least as accurate as the reference's float32
// tensordot); every value the reference holds as float32 is rounded to
// float32 at the same point.
func jpegPlane(p []float32, w, h int, table *[8][8]float32) {
	bw, bh := w/8, h/8
	parallel.For(bh, 1, func(lo, hi int) {
		var blk, tmp [8][8]float64
		var col, res [8]float64
		for by := lo; by < hi; by++ {
			for bx := 0; bx < bw; bx++ {
				o := by*8*w + bx*8
				for x := 0; x < 8; x++ {
					row := p[o+x*w : o+x*w+8]
					for y, v := range row {
						col[y] = float64(v - 128)
					}
					dct8(&col, &tmp[x]) // tmp[x][v]: along the row
				}
				for v := 0; v < 8; v++ {
					for x := 0; x < 8; x++ {
						col[x] = tmp[x][v]
					}
					dct8(&col, &res) // res[u]
					for u := 0; u < 8; u++ {
						c := dctScale[u][v] * float32(res[u])
						q := table[u][v]
						c = float32(math.RoundToEven(float64(c/q))) * q
						blk[u][v] = float64(c * idctA[u][v])
					}
				}
				// Inverse: along v for each u, then along u.
				for u := 0; u < 8; u++ {
					idct8(&blk[u], &tmp[u]) // tmp[u][y]
				}
				for y := 0; y < 8; y++ {
					for u := 0; u < 8; u++ {
						col[u] = tmp[u][y]
					}
					idct8(&col, &res) // res[x]
					for x := 0; x < 8; x++ {
						p[o+x*w+y] = 0.25*float32(res[x]) + 128
					}
				}
			}
		}
	})
}

// JPEGDiff applies the reference JPEG degradation (task j): the numerics
// of BasicSR's DiffJPEG(differentiable=False) at quality q (1..100), then
// the 8-bit quantisation. DiffJPEG is not libjpeg: the standard tables are
// scaled by JPEGQualityFactor without rounding or clamping (and used
// transposed, as DiffJPEG does), the image is zero-padded to multiples of
// 16, chroma is 2x2-averaged and upsampled by replication, coefficients
// are rounded half to even and nothing is entropy coded. Use JPEGCodec for
// what a real encoder produces.
func JPEGDiff(src *Image, q int) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if q < 1 || q > 100 {
		return nil, fmt.Errorf("%w: JPEG quality %d (want 1..100)", ErrParam, q)
	}
	f := float32(JPEGQualityFactor(q))
	var yt, ct [8][8]float32
	for u := 0; u < 8; u++ {
		for v := 0; v < 8; v++ {
			// DiffJPEG stores the tables transposed.
			yt[u][v] = stdLuma[v][u] * f
			ct[u][v] = stdChroma[v][u] * f
		}
	}
	w, h := src.W, src.H
	pw, ph := (w+15)/16*16, (h+15)/16*16
	cw, ch := pw/2, ph/2
	Y := make([]float32, pw*ph)
	Cb := make([]float32, cw*ch)
	Cr := make([]float32, cw*ch)
	R, G, B := src.Plane(0), src.Plane(1), src.Plane(2)
	// Colour conversion on the zero-padded image, then 2x2 chroma average.
	fullCb := make([]float32, pw*ph)
	fullCr := make([]float32, pw*ph)
	parallel.For(ph, 16, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			for x := 0; x < pw; x++ {
				var r, g, b float32
				if y < h && x < w {
					i := y*w + x
					r, g, b = clampTo(R[i], 1)*255, clampTo(G[i], 1)*255, clampTo(B[i], 1)*255
				}
				j := y*pw + x
				Y[j] = r*0.299 + g*0.587 + b*0.114
				fullCb[j] = (r*-0.168736 + g*-0.331264 + b*0.5) + 128
				fullCr[j] = (r*0.5 + g*-0.418688 + b*-0.081312) + 128
			}
		}
	})
	parallel.For(ch, 16, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			for x := 0; x < cw; x++ {
				a, b := 2*y*pw+2*x, (2*y+1)*pw+2*x
				Cb[y*cw+x] = (fullCb[a] + fullCb[a+1] + fullCb[b] + fullCb[b+1]) / 4
				Cr[y*cw+x] = (fullCr[a] + fullCr[a+1] + fullCr[b] + fullCr[b+1]) / 4
			}
		}
	})
	jpegPlane(Y, pw, ph, &yt)
	jpegPlane(Cb, cw, ch, &ct)
	jpegPlane(Cr, cw, ch, &ct)
	dst := NewImage(w, h)
	oR, oG, oB := dst.Plane(0), dst.Plane(1), dst.Plane(2)
	parallel.For(h, 16, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			for x := 0; x < w; x++ {
				yy := Y[y*pw+x]
				cb := Cb[(y/2)*cw+x/2] - 128
				cr := Cr[(y/2)*cw+x/2] - 128
				i := y*w + x
				oR[i] = imgconv.Quantize(clampTo(yy+cr*1.402, 255) / 255)
				oG[i] = imgconv.Quantize(clampTo(yy+cb*-0.344136+cr*-0.714136, 255) / 255)
				oB[i] = imgconv.Quantize(clampTo(yy+cb*1.772, 255) / 255)
			}
		}
	})
	return dst, nil
}

// JPEGCodec compresses src with a real baseline JPEG encoder (Go's
// image/jpeg: libjpeg-style rounded and clamped tables, 4:2:0 chroma,
// Huffman coding) at quality q (1..100) and decodes it again: the artefacts
// of what users' photos actually contain. The result is on the 8-bit grid.
func JPEGCodec(src *Image, q int) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if q < 1 || q > 100 {
		return nil, fmt.Errorf("%w: JPEG quality %d (want 1..100)", ErrParam, q)
	}
	var buf bytes.Buffer
	// image/jpeg has a fast path for *image.RGBA (opaque here, so RGBA and
	// NRGBA hold the same bytes).
	nrgba := src.ToImage()
	rgba := &image.RGBA{Pix: nrgba.Pix, Stride: nrgba.Stride, Rect: nrgba.Rect}
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("degrade: JPEG encode: %w", err)
	}
	dec, err := jpeg.Decode(&buf)
	if err != nil {
		return nil, fmt.Errorf("degrade: JPEG decode: %w", err)
	}
	return FromImage(dec), nil
}

// clampTo clamps v to [0, hi]; NaN passes through unchanged.
func clampTo(v, hi float32) float32 {
	if v < 0 {
		return 0
	}
	if v > hi {
		return hi
	}
	return v
}
