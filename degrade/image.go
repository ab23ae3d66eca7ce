package degrade

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"sync/atomic"
)

// Image is a float32 RGB image in planar CHW layout: Pix holds the R plane,
// then G, then B, each H rows of W values, row-major. Values are nominally
// in [0,1]. This is exactly the memory layout of a 1x3xHxW NCHW tensor, so
// CHW returns Pix itself and tensor code converts without reordering.
type Image struct {
	W, H int
	Pix  []float32 // len 3*W*H
}

// Errors returned for bad input. Operator errors wrap one of these, so
// callers can test them with errors.Is.
var (
	// ErrEmptyImage: a nil image or one with zero width or height.
	ErrEmptyImage = errors.New("degrade: empty image")
	// ErrBadImage: an Image whose Pix length does not match 3*W*H.
	ErrBadImage = errors.New("degrade: malformed image")
	// ErrNaN: an image or depth map holding NaN or infinite values.
	ErrNaN = errors.New("degrade: image holds NaN or Inf")
	// ErrParam: an operator parameter outside its valid range.
	ErrParam = errors.New("degrade: invalid parameter")
)

// NewImage returns a black w x h image.
func NewImage(w, h int) *Image {
	if w < 0 || h < 0 {
		w, h = 0, 0
	}
	return &Image{W: w, H: h, Pix: make([]float32, 3*w*h)}
}

// FromCHW wraps a CHW slice (for example the data of a 1x3xHxW tensor) of
// length 3*w*h without copying.
func FromCHW(w, h int, chw []float32) (*Image, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%w: %dx%d", ErrEmptyImage, w, h)
	}
	if len(chw) != 3*w*h {
		return nil, fmt.Errorf("%w: CHW slice of length %d for %dx%d (want %d)", ErrBadImage, len(chw), w, h, 3*w*h)
	}
	return &Image{W: w, H: h, Pix: chw}, nil
}

// CHW returns the pixels as one CHW slice (R plane, G plane, B plane); it
// is Pix itself, not a copy.
func (m *Image) CHW() []float32 { return m.Pix }

// Plane returns channel c (0=R, 1=G, 2=B) as a row-major slice aliasing Pix.
func (m *Image) Plane(c int) []float32 {
	n := m.W * m.H
	return m.Pix[c*n : (c+1)*n : (c+1)*n]
}

// Clone returns a deep copy.
func (m *Image) Clone() *Image {
	return &Image{W: m.W, H: m.H, Pix: append([]float32(nil), m.Pix...)}
}

// Bounds returns the image rectangle (0,0)-(W,H).
func (m *Image) Bounds() image.Rectangle { return image.Rect(0, 0, m.W, m.H) }

// At returns the R, G, B values at (x, y).
func (m *Image) At(x, y int) (r, g, b float32) {
	n := m.W * m.H
	i := y*m.W + x
	return m.Pix[i], m.Pix[n+i], m.Pix[2*n+i]
}

// Crop returns a copy of the rectangle r (clipped to the image).
func (m *Image) Crop(r image.Rectangle) *Image {
	r = r.Intersect(m.Bounds())
	out := NewImage(r.Dx(), r.Dy())
	for c := 0; c < 3; c++ {
		src, dst := m.Plane(c), out.Plane(c)
		for y := 0; y < out.H; y++ {
			copy(dst[y*out.W:(y+1)*out.W], src[(r.Min.Y+y)*m.W+r.Min.X:])
		}
	}
	return out
}

// CropMod returns the top-left crop whose sides are multiples of k (the
// reference's mod-4 crop for rain and haze with k=4). It returns m itself
// when nothing is cut.
func (m *Image) CropMod(k int) *Image {
	if k <= 1 || (m.W%k == 0 && m.H%k == 0) {
		return m
	}
	return m.Crop(image.Rect(0, 0, m.W-m.W%k, m.H-m.H%k))
}

// Validate checks that m is non-empty, well formed and free of NaN/Inf.
func (m *Image) Validate() error {
	if m == nil || m.W <= 0 || m.H <= 0 {
		if m == nil {
			return ErrEmptyImage
		}
		return fmt.Errorf("%w: %dx%d", ErrEmptyImage, m.W, m.H)
	}
	if len(m.Pix) != 3*m.W*m.H {
		return fmt.Errorf("%w: %d values for %dx%d (want %d)", ErrBadImage, len(m.Pix), m.W, m.H, 3*m.W*m.H)
	}
	// NaN and ±Inf are exactly the float32 values with an all-ones exponent.
	var found atomic.Int64
	found.Store(math.MaxInt64)
	parallelRange(len(m.Pix), 1<<17, func(lo, hi int) {
		for i, v := range m.Pix[lo:hi] {
			if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
				for {
					old := found.Load()
					if int64(lo+i) >= old || found.CompareAndSwap(old, int64(lo+i)) {
						return
					}
				}
			}
		}
	})
	bad := -1
	if f := found.Load(); f != math.MaxInt64 {
		bad = int(f)
	}
	if bad >= 0 {
		n := m.W * m.H
		c, p := bad/n, bad%n
		return fmt.Errorf("%w: channel %d pixel (%d,%d) is %v", ErrNaN, c, p%m.W, p/m.W, m.Pix[bad])
	}
	return nil
}

// q8 is the reference 8-bit quantiser of one value:
// clamp(round_half_even(x*255), 0, 255) / 255, computed in float32 as torch does.
func q8(x float32) float32 {
	v := x * 255
	if !(v > 0) { // also maps NaN to 0
		return 0
	}
	if v >= 255 {
		return 1
	}
	return roundEven32(v) / 255
}

// roundEven32 rounds 0 <= v < 2^23 to the nearest integer, ties to even:
// adding and subtracting 2^23 in float32 leaves no fraction bits, and the
// FPU's default rounding is round-half-to-even.
func roundEven32(v float32) float32 {
	t := v + 0x1p23
	return t - 0x1p23
}

// toByte is tensor2img's conversion: clamp to [0,1], round(x*255) in
// float32, as uint8.
func toByte(x float32) uint8 {
	v := x * 255
	if !(v > 0) {
		return 0
	}
	if v >= 255 {
		return 255
	}
	// v + 2^23 holds round_half_even(v) in its low mantissa bits.
	return uint8(math.Float32bits(v + 0x1p23))
}

// Quantize8 applies the reference 8-bit quantisation
// clamp(round_half_even(x*255), 0, 255)/255 in place (float32 arithmetic,
// like torch) and returns m. NaN becomes 0.
func (m *Image) Quantize8() *Image {
	parallelRange(len(m.Pix), 1<<16, func(lo, hi int) {
		p := m.Pix[lo:hi]
		for i, v := range p {
			p[i] = q8(v)
		}
	})
	return m
}

// Bytes returns the image as interleaved 8-bit RGB (3*W*H bytes), with the
// reference tensor2img rounding (clamp, round half to even of x*255).
func (m *Image) Bytes() []byte {
	out := make([]byte, 3*m.W*m.H)
	r, g, b := m.Plane(0), m.Plane(1), m.Plane(2)
	w := m.W
	parallelRange(m.H, 32, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			rr, gg, bb := r[y*w:(y+1)*w], g[y*w:(y+1)*w], b[y*w:(y+1)*w]
			o := out[3*y*w : 3*(y+1)*w]
			gg, bb = gg[:len(rr)], bb[:len(rr)]
			for x, v := range rr {
				p := o[3*x : 3*x+3 : 3*x+3]
				p[0] = toByte(v)
				p[1] = toByte(gg[x])
				p[2] = toByte(bb[x])
			}
		}
	})
	return out
}

// ToImage converts m to an opaque *image.NRGBA with the reference
// tensor2img rounding.
func (m *Image) ToImage() *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, m.W, m.H))
	r, g, b := m.Plane(0), m.Plane(1), m.Plane(2)
	parallelRange(m.H, 16, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := out.Pix[y*out.Stride : y*out.Stride+4*m.W]
			for x := 0; x < m.W; x++ {
				i := y*m.W + x
				row[4*x] = toByte(r[i])
				row[4*x+1] = toByte(g[i])
				row[4*x+2] = toByte(b[i])
				row[4*x+3] = 255
			}
		}
	})
	return out
}

var lut8 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// FromImage converts any image.Image to an Image with values v/255 (v the
// 8-bit, non-premultiplied R, G, B; alpha is dropped, as cv2.imread does
// for a 3-channel read). Fast paths cover *image.RGBA, *image.NRGBA,
// *image.YCbCr and *image.Gray; other types go through color.NRGBAModel
// with 16-bit values rounded to 8 bits. The result is already on the 8-bit
// grid, so Quantize8 leaves it unchanged. The image's origin is moved to
// (0,0).
func FromImage(src image.Image) *Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	m := NewImage(w, h)
	if w <= 0 || h <= 0 {
		return m
	}
	n := w * h
	R, G, B := m.Pix[:n], m.Pix[n:2*n], m.Pix[2*n:]
	parallelRange(h, 16, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			o := y * w
			switch s := src.(type) {
			case *image.NRGBA:
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
				for x := 0; x < w; x++ {
					R[o+x], G[o+x], B[o+x] = lut8[row[4*x]], lut8[row[4*x+1]], lut8[row[4*x+2]]
				}
			case *image.RGBA:
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
				for x := 0; x < w; x++ {
					a := row[4*x+3]
					if a == 255 {
						R[o+x], G[o+x], B[o+x] = lut8[row[4*x]], lut8[row[4*x+1]], lut8[row[4*x+2]]
						continue
					}
					c := color.NRGBAModel.Convert(color.RGBA{row[4*x], row[4*x+1], row[4*x+2], a}).(color.NRGBA)
					R[o+x], G[o+x], B[o+x] = lut8[c.R], lut8[c.G], lut8[c.B]
				}
			case *image.Gray:
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
				for x := 0; x < w; x++ {
					v := lut8[row[x]]
					R[o+x], G[o+x], B[o+x] = v, v, v
				}
			case *image.YCbCr:
				for x := 0; x < w; x++ {
					yi := s.YOffset(b.Min.X+x, b.Min.Y+y)
					ci := s.COffset(b.Min.X+x, b.Min.Y+y)
					r8, g8, b8 := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
					R[o+x], G[o+x], B[o+x] = lut8[r8], lut8[g8], lut8[b8]
				}
			default:
				for x := 0; x < w; x++ {
					c := color.NRGBA64Model.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
					R[o+x], G[o+x], B[o+x] = lut8[to8(c.R)], lut8[to8(c.G)], lut8[to8(c.B)]
				}
			}
		}
	})
	return m
}

// to8 rounds a 16-bit sample to 8 bits.
func to8(v uint16) uint8 { return uint8((uint32(v)*255 + 32767) / 65535) }
