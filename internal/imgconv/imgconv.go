// Package imgconv converts between image.Image and the planar forms the
// library computes on: float32 RGB in CHW layout with values in [0,1] (the
// data of a 1x3xHxW tensor), and 8-bit RGB planes. It is the one place that
// implements the reference conventions, shared by degrade, metrics and the
// tensor code:
//
//   - reading follows cv2.imread for a 3-channel read: the 8-bit,
//     non-premultiplied R, G, B samples, alpha dropped; floats are v/255;
//   - writing follows BasicSR's tensor2img: clamp to [0,1], x*255 in
//     float32, round half to even (Byte).
//
// It is pure Go (no cgo); conversions run in parallel over rows and their
// results do not depend on GOMAXPROCS.
package imgconv

import (
	"image"
	"image/color"
	"math"

	"github.com/gomioir/gomioir/internal/parallel"
)

// rowGrain is the minimum number of rows per goroutine.
const rowGrain = 16

// floatOf holds v/255 in float32 for every 8-bit value v.
var floatOf = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// identity8 maps every 8-bit value to itself (the table of the 8-bit
// instantiation of decode).
var identity8 = func() (t [256]uint8) {
	for i := range t {
		t[i] = uint8(i)
	}
	return
}()

// FromByte returns v/255 in float32, the value cv2.imread(...)/255 gives.
func FromByte(v uint8) float32 { return floatOf[v] }

// Byte is tensor2img's conversion of one value to 8 bits: clamp to [0,1],
// x*255 in float32, rounded half to even. NaN gives 0 and ±Inf clamp to 0
// and 255 (callers that must reject NaN check for it first).
func Byte(x float32) uint8 {
	v := x * 255
	if !(v > 0) { // also NaN
		return 0
	}
	if v >= 255 {
		return 255
	}
	// 0 < v < 255: adding 2^23 leaves no fraction bits, the FPU rounds
	// half to even, and the integer is the low byte of the mantissa.
	return uint8(math.Float32bits(v + 0x1p23))
}

// Quantize returns x on the 8-bit grid: FromByte(Byte(x)), that is
// clamp(round_half_even(x*255), 0, 255)/255 in float32 arithmetic, as torch
// computes it. NaN gives 0.
func Quantize(x float32) float32 { return floatOf[Byte(x)] }

// FromWord returns v/65535 in float32: a 16-bit sample as a float, the
// counterpart of FromByte for 16-bit files.
func FromWord(v uint16) float32 { return float32(v) / 65535 }

// Word is Byte at 16 bits: clamp to [0,1], x*65535 in float32, rounded half
// to even; NaN gives 0. Word(FromWord(v)) == v for every v: the float32
// product is within 0.01 of v, far from a rounding boundary.
func Word(x float32) uint16 {
	v := x * 65535
	if !(v > 0) { // also NaN
		return 0
	}
	if v >= 65535 {
		return 65535
	}
	// As in Byte: 0 < v < 2^16 < 2^23, so after adding 2^23 the low
	// mantissa bits hold v rounded half to even.
	return uint16(math.Float32bits(v + 0x1p23))
}

// CHW converts img to float32 RGB in CHW layout (R plane, G plane, B plane,
// each h rows of w values) with values v/255, v the 8-bit non-premultiplied
// R, G, B samples (alpha dropped, as cv2.imread does for a 3-channel read).
// The result is on the 8-bit grid. *image.NRGBA, *image.RGBA, *image.Gray and
// *image.YCbCr take fast paths; other types go through color.NRGBA64Model
// with 16-bit samples rounded to the nearest 8-bit value. The image's origin
// moves to (0,0). w and h are the size of img's bounds; chw is nil when img
// is nil or empty.
func CHW(img image.Image) (chw []float32, w, h int) { return planes(img, &floatOf) }

// RGB8Planes converts img to 8-bit RGB planes (R plane, G plane, B plane,
// each h rows of w bytes) with the samples CHW reads: CHW's values are
// exactly FromByte of these bytes. pix is nil when img is nil or empty.
func RGB8Planes(img image.Image) (pix []uint8, w, h int) { return planes(img, &identity8) }

// planes allocates the three planes for img and decodes img into them.
func planes[T float32 | uint8](img image.Image, lut *[256]T) (dst []T, w, h int) {
	w, h = size(img)
	if w <= 0 || h <= 0 {
		return nil, w, h
	}
	dst = make([]T, 3*w*h)
	decode(img, dst, lut)
	return dst, w, h
}

func size(img image.Image) (w, h int) {
	if img == nil {
		return 0, 0
	}
	b := img.Bounds()
	return b.Dx(), b.Dy()
}

// decode fills the three planes of dst (len 3*w*h for img's w x h bounds)
// with lut of img's 8-bit R, G, B samples. One generic body serves the
// float32 and uint8 outputs; the two instantiations are compiled apart.
func decode[T float32 | uint8](src image.Image, dst []T, lut *[256]T) {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	R, G, B := dst[:n:n], dst[n:2*n:2*n], dst[2*n:3*n:3*n]
	parallel.For(h, rowGrain, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			o := y * w
			r, g, bl := R[o:o+w], G[o:o+w], B[o:o+w]
			switch s := src.(type) {
			case *image.NRGBA:
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
				for x := range r {
					p := row[4*x : 4*x+4 : 4*x+4]
					r[x], g[x], bl[x] = lut[p[0]], lut[p[1]], lut[p[2]]
				}
			case *image.RGBA:
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
				for x := range r {
					p := row[4*x : 4*x+4 : 4*x+4]
					if p[3] == 255 {
						r[x], g[x], bl[x] = lut[p[0]], lut[p[1]], lut[p[2]]
						continue
					}
					c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					r[x], g[x], bl[x] = lut[c.R], lut[c.G], lut[c.B]
				}
			case *image.Gray:
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:w]
				for x, v := range row {
					r[x], g[x], bl[x] = lut[v], lut[v], lut[v]
				}
			case *image.YCbCr:
				for x := range r {
					yi := s.YOffset(b.Min.X+x, b.Min.Y+y)
					ci := s.COffset(b.Min.X+x, b.Min.Y+y)
					r8, g8, b8 := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
					r[x], g[x], bl[x] = lut[r8], lut[g8], lut[b8]
				}
			default:
				for x := range r {
					c := color.NRGBA64Model.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
					r[x], g[x], bl[x] = lut[round16(c.R)], lut[round16(c.G)], lut[round16(c.B)]
				}
			}
		}
	})
}

// round16 rounds a 16-bit sample to the nearest 8-bit one.
func round16(v uint16) uint8 { return uint8((uint32(v)*255 + 32767) / 65535) }

// NRGBA converts a CHW float32 RGB image (len(chw) == 3*w*h) to an opaque
// *image.NRGBA with Byte rounding (BasicSR's tensor2img).
func NRGBA(chw []float32, w, h int) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	n := w * h
	R, G, B := chw[:n:n], chw[n:2*n:2*n], chw[2*n:3*n:3*n]
	parallel.For(h, rowGrain, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			o := y * w
			r, g, b := R[o:o+w], G[o:o+w], B[o:o+w]
			row := out.Pix[y*out.Stride : y*out.Stride+4*w]
			for x, v := range r {
				p := row[4*x : 4*x+4 : 4*x+4]
				p[0], p[1], p[2], p[3] = Byte(v), Byte(g[x]), Byte(b[x]), 255
			}
		}
	})
	return out
}

// Bytes converts a CHW float32 RGB image (len(chw) == 3*w*h) to interleaved
// 8-bit RGB (3*w*h bytes, row-major, R G B per pixel) with Byte rounding.
func Bytes(chw []float32, w, h int) []byte {
	out := make([]byte, 3*w*h)
	n := w * h
	R, G, B := chw[:n:n], chw[n:2*n:2*n], chw[2*n:3*n:3*n]
	parallel.For(h, 2*rowGrain, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			o := y * w
			r, g, b := R[o:o+w], G[o:o+w], B[o:o+w]
			row := out[3*o : 3*(o+w)]
			for x, v := range r {
				p := row[3*x : 3*x+3 : 3*x+3]
				p[0], p[1], p[2] = Byte(v), Byte(g[x]), Byte(b[x])
			}
		}
	})
	return out
}
