package metrics

import (
	"image"
	"image/color"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/parallel"
)

// RGB8 is an 8-bit RGB image in planar layout: Pix holds the R plane, then
// the G plane, then the B plane, each H rows of W bytes. It is the form in
// which BasicSR measures images (uint8 after cv2.imread or tensor2img);
// every input is converted to it first. It is an image.Image (opaque
// color.NRGBA pixels), which Measure uses without converting it again.
type RGB8 struct {
	W, H int
	Pix  []uint8 // len 3*W*H
}

// NewRGB8 returns a black w x h image.
func NewRGB8(w, h int) *RGB8 {
	if w < 0 || h < 0 {
		w, h = 0, 0
	}
	return &RGB8{W: w, H: h, Pix: make([]uint8, 3*w*h)}
}

// Plane returns channel c (0=R, 1=G, 2=B) as a row-major slice aliasing Pix.
func (m *RGB8) Plane(c int) []uint8 {
	n := m.W * m.H
	return m.Pix[c*n : (c+1)*n : (c+1)*n]
}

// Bounds returns the rectangle (0,0)-(W,H).
func (m *RGB8) Bounds() image.Rectangle { return image.Rect(0, 0, m.W, m.H) }

// ColorModel returns color.NRGBAModel.
func (m *RGB8) ColorModel() color.Model { return color.NRGBAModel }

// At returns the opaque color.NRGBA of pixel (x, y), or transparent black
// outside the bounds.
func (m *RGB8) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= m.W || y >= m.H {
		return color.NRGBA{}
	}
	i, n := y*m.W+x, m.W*m.H
	return color.NRGBA{m.Pix[i], m.Pix[n+i], m.Pix[2*n+i], 255}
}

// validate checks that m is non-nil, non-empty and well formed.
func (m *RGB8) validate(op string) error {
	if m == nil {
		return newError(op, ErrEmpty, "nil image")
	}
	if m.W <= 0 || m.H <= 0 {
		return newError(op, ErrEmpty, "%dx%d", m.W, m.H)
	}
	if len(m.Pix) != 3*m.W*m.H {
		return newError(op, ErrLength, "%d bytes for %dx%d (want %d)", len(m.Pix), m.W, m.H, 3*m.W*m.H)
	}
	return nil
}

// ToRGB8 converts an image.Image to RGB8 the way cv2.imread reads a file
// for BasicSR: the 8-bit, non-premultiplied R, G, B samples, alpha dropped.
// *image.RGBA, *image.NRGBA, *image.Gray and *image.YCbCr take fast paths;
// other types go through color.NRGBA64Model with 16-bit samples rounded to
// 8 bits. The origin of the image moves to (0,0). An *RGB8 is returned as it
// is (not copied). The conversion is internal/imgconv.RGB8Planes, the same
// reading degrade.FromImage does.
func ToRGB8(img image.Image) (*RGB8, error) { return toRGB8("ToRGB8", img) }

func toRGB8(op string, src image.Image) (*RGB8, error) {
	switch m := src.(type) {
	case nil:
		return nil, newError(op, ErrEmpty, "nil image")
	case *RGB8:
		if err := m.validate(op); err != nil {
			return nil, err
		}
		return m, nil
	}
	pix, w, h := imgconv.RGB8Planes(src)
	if pix == nil {
		return nil, newError(op, ErrEmpty, "%dx%d", w, h)
	}
	return &RGB8{W: w, H: h, Pix: pix}, nil
}

// fromCHW converts a float32 RGB image in CHW layout (the data of a
// 1x3xHxW tensor, or degrade.Image.Pix) to RGB8 with tensor2img rounding.
func fromCHW(op string, w, h int, chw []float32) (*RGB8, error) {
	if w <= 0 || h <= 0 {
		return nil, newError(op, ErrEmpty, "%dx%d", w, h)
	}
	if len(chw) != 3*w*h {
		return nil, newError(op, ErrLength, "%d values for %dx%d (want %d)", len(chw), w, h, 3*w*h)
	}
	m := NewRGB8(w, h)
	// Workers stop at their first NaN; the lowest index found is reported,
	// so the message does not depend on scheduling.
	var first parallel.MinIndex
	parallel.For(len(chw), 1<<15, func(lo, hi int) {
		src, dst := chw[lo:hi], m.Pix[lo:hi]
		for i, v := range src {
			if v != v {
				first.Offer(lo + i)
				return
			}
			dst[i] = imgconv.Byte(v)
		}
	})
	if badIdx := first.Get(); badIdx >= 0 {
		p := badIdx % (w * h)
		return nil, newError(op, ErrNaN, "channel %d pixel (%d,%d)", badIdx/(w*h), p%w, p/w)
	}
	return m, nil
}

// Round8 is tensor2img's conversion of one float32 value to 8 bits: clamp to
// [0,1], x*255 in float32, round half to even. NaN gives 0 (MeasureFloat
// rejects NaN before rounding). It is internal/imgconv.Byte, the
// rounding degrade uses for its 8-bit output.
func Round8(x float32) uint8 { return imgconv.Byte(x) }
