package degrade

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/parallel"
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
	var found parallel.MinIndex
	parallel.For(len(m.Pix), 1<<17, func(lo, hi int) {
		for i, v := range m.Pix[lo:hi] {
			if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
				found.Offer(lo + i)
				return
			}
		}
	})
	bad := found.Get()
	if bad >= 0 {
		n := m.W * m.H
		c, p := bad/n, bad%n
		return fmt.Errorf("%w: channel %d pixel (%d,%d) is %v", ErrNaN, c, p%m.W, p/m.W, m.Pix[bad])
	}
	return nil
}

// Quantize8 applies the reference 8-bit quantisation
// clamp(round_half_even(x*255), 0, 255)/255 in place (float32 arithmetic,
// like torch) and returns m. NaN becomes 0.
func (m *Image) Quantize8() *Image {
	parallel.For(len(m.Pix), 1<<16, func(lo, hi int) {
		p := m.Pix[lo:hi]
		for i, v := range p {
			p[i] = imgconv.Quantize(v)
		}
	})
	return m
}

// Bytes returns the image as interleaved 8-bit RGB (3*W*H bytes), with the
// reference tensor2img rounding (clamp, round half to even of x*255).
func (m *Image) Bytes() []byte { return imgconv.Bytes(m.Pix, m.W, m.H) }

// ToImage converts m to an opaque *image.NRGBA with the reference
// tensor2img rounding.
func (m *Image) ToImage() *image.NRGBA { return imgconv.NRGBA(m.Pix, m.W, m.H) }

// FromImage converts any image.Image to an Image with values v/255 (v the
// 8-bit, non-premultiplied R, G, B; alpha is dropped, as cv2.imread does
// for a 3-channel read). Fast paths cover *image.RGBA, *image.NRGBA,
// *image.YCbCr and *image.Gray; other types go through color.NRGBA64Model
// with 16-bit values rounded to 8 bits. The result is already on the 8-bit
// grid, so Quantize8 leaves it unchanged. The image's origin is moved to
// (0,0). A nil image gives an empty Image (which Validate rejects). The
// conversion is internal/imgconv.CHW, shared with metrics and the tensor
// code.
func FromImage(src image.Image) *Image {
	chw, w, h := imgconv.CHW(src)
	if chw == nil {
		return NewImage(w, h)
	}
	return &Image{W: w, H: h, Pix: chw}
}
