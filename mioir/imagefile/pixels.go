package imagefile

import (
	"fmt"
	"image"
	"image/color"
	"slices"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/parallel"
)

// rowGrain is the minimum number of rows per goroutine.
const rowGrain = 16

// FromImage converts a decoded image: depth 16 for *image.Gray16,
// *image.RGBA64 and *image.NRGBA64 (the types Go's PNG and TIFF decoders
// give 16-bit files), 8 otherwise; Gray for *image.Gray and *image.Gray16;
// no format and no metadata. The origin moves to (0,0). An empty m gives an
// Image of size 0 that Write refuses.
func FromImage(m image.Image) *Image {
	if m == nil || m.Bounds().Empty() {
		return &Image{Depth: 8}
	}
	b := m.Bounds()
	im := &Image{Width: b.Dx(), Height: b.Dy(), Depth: 8}
	switch m.(type) {
	case *image.Gray:
		im.Gray = true
	case *image.Gray16:
		im.Gray, im.Depth = true, 16
	case *image.RGBA64, *image.NRGBA64:
		im.Depth = 16
	}
	if im.Depth == 16 {
		im.Pix = chw16(m)
	} else {
		// The 8-bit conversion is BasicSR's (cv2.imread, then /255), as
		// mioir.Model.Restore reads images.
		im.Pix, _, _ = imgconv.CHW(m)
	}
	im.Alpha = alphaOf(m)
	return im
}

// chw16 converts a 16-bit image to float CHW with FromWord.
func chw16(m image.Image) []float32 {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	pix := make([]float32, 3*n)
	R, G, B := pix[:n:n], pix[n:2*n:2*n], pix[2*n:]
	parallel.For(h, rowGrain, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			o := y * w
			r, g, bl := R[o:o+w], G[o:o+w], B[o:o+w]
			switch s := m.(type) {
			case *image.Gray16:
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:2*w]
				for x := range r {
					v := imgconv.FromWord(be16(row[2*x:]))
					r[x], g[x], bl[x] = v, v, v
				}
			case *image.NRGBA64:
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:8*w]
				for x := range r {
					p := row[8*x : 8*x+6]
					r[x], g[x], bl[x] = imgconv.FromWord(be16(p)), imgconv.FromWord(be16(p[2:])), imgconv.FromWord(be16(p[4:]))
				}
			case *image.RGBA64: // premultiplied: opaque PNGs, associated-alpha TIFFs
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:8*w]
				for x := range r {
					p := row[8*x : 8*x+8]
					c := color.RGBA64{be16(p), be16(p[2:]), be16(p[4:]), be16(p[6:])}
					if c.A != 0xffff {
						n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
						c.R, c.G, c.B = n.R, n.G, n.B
					}
					r[x], g[x], bl[x] = imgconv.FromWord(c.R), imgconv.FromWord(c.G), imgconv.FromWord(c.B)
				}
			}
		}
	})
	return pix
}

func be16(p []byte) uint16 { return uint16(p[0])<<8 | uint16(p[1]) }

// alphaOf returns m's alpha as 16-bit samples, or nil when m is opaque.
func alphaOf(m image.Image) []uint16 {
	if o, ok := m.(interface{ Opaque() bool }); ok && o.Opaque() {
		return nil
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	a := make([]uint16, w*h)
	parallel.For(h, rowGrain, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := a[y*w : (y+1)*w]
			switch s := m.(type) {
			case *image.NRGBA:
				alpha8(row, s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:4*w])
			case *image.RGBA:
				alpha8(row, s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:4*w])
			case *image.NRGBA64:
				alpha16(row, s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:8*w])
			case *image.RGBA64:
				alpha16(row, s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:8*w])
			default: // alpha is the same premultiplied or not
				for x := range row {
					_, _, _, av := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
					row[x] = uint16(av)
				}
			}
		}
	})
	if !slices.ContainsFunc(a, func(v uint16) bool { return v != 0xffff }) {
		return nil
	}
	return a
}

// alpha8 and alpha16 copy the alpha of a row of 4-sample pixels (the same
// layout premultiplied or not).
func alpha8(dst []uint16, p []byte) {
	for x := range dst {
		dst[x] = uint16(p[4*x+3]) * 0x101
	}
}

func alpha16(dst []uint16, p []byte) {
	for x := range dst {
		dst[x] = be16(p[8*x+6:])
	}
}

// orient turns the pixels upright for EXIF orientation o (1 to 8; other
// values are taken as 1): o names how the stored rows and columns lie on
// the display, and each case maps a displayed pixel (x, y) to the stored one.
func (im *Image) orient(o int) {
	w, h := im.Width, im.Height
	var at func(x, y int) (int, int)
	switch o {
	case 2: // mirrored left-right
		at = func(x, y int) (int, int) { return w - 1 - x, y }
	case 3: // rotated 180°
		at = func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
	case 4: // mirrored top-bottom
		at = func(x, y int) (int, int) { return x, h - 1 - y }
	case 5: // transposed: stored rows are displayed columns
		at = func(x, y int) (int, int) { return y, x }
	case 6: // stored image is displayed turned 90° clockwise
		at = func(x, y int) (int, int) { return y, h - 1 - x }
	case 7: // transversed
		at = func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }
	case 8: // stored image is displayed turned 90° counter-clockwise
		at = func(x, y int) (int, int) { return w - 1 - y, x }
	default:
		return
	}
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	n := w * h
	pix := make([]float32, 3*n)
	for c := range 3 {
		remap(pix[c*n:(c+1)*n], im.Pix[c*n:(c+1)*n], w, dw, dh, at)
	}
	im.Pix = pix
	if im.Alpha != nil {
		a := make([]uint16, n)
		remap(a, im.Alpha, w, dw, dh, at)
		im.Alpha = a
	}
	im.Width, im.Height = dw, dh
}

// remap fills the dw x dh plane dst from the plane src (stride sw) through at.
func remap[T any](dst, src []T, sw, dw, dh int, at func(x, y int) (int, int)) {
	parallel.For(dh, rowGrain, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := dst[y*dw : (y+1)*dw]
			for x := range row {
				sx, sy := at(x, y)
				row[x] = src[sy*sw+sx]
			}
		}
	})
}

// Luma returns the grayscale value of an RGB pixel of Pix, as written for a
// Gray image: ITU-R BT.601's Y = 0.299 R + 0.587 G + 0.114 B, the weights of
// Go's color.GrayModel and OpenCV's RGB2GRAY. A gray pixel (R = G = B) gives
// its value exactly.
func Luma(r, g, b float32) float32 {
	if r == g && g == b {
		return r
	}
	return 0.299*r + 0.587*g + 0.114*b
}

// Image returns im as an image.Image of the kind PNG and TIFF outputs are
// written from: *image.Gray or *image.Gray16 for a Gray image without alpha
// (the Luma of Pix), otherwise *image.NRGBA or *image.NRGBA64 with Alpha
// (a Gray image with alpha has equal R, G and B: Go's encoders write no
// gray+alpha files). Samples are rounded as imgconv.Byte (BasicSR's
// tensor2img) and imgconv.Word do.
func (im *Image) Image() (image.Image, error) {
	if err := im.check(); err != nil {
		return nil, err
	}
	return im.image(im.Depth, true), nil
}

// check refuses an Image whose fields do not agree.
func (im *Image) check() error {
	if im == nil {
		return fmt.Errorf("nil image")
	}
	w, h := im.Width, im.Height
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("empty image (%dx%d)", w, h)
	case len(im.Pix) != 3*w*h:
		return fmt.Errorf("%d values in Pix for %dx%d RGB", len(im.Pix), w, h)
	case im.Alpha != nil && len(im.Alpha) != w*h:
		return fmt.Errorf("%d alpha samples for %dx%d pixels", len(im.Alpha), w, h)
	case im.Depth != 8 && im.Depth != 16:
		return fmt.Errorf("depth %d, want 8 or 16", im.Depth)
	}
	return nil
}

// image builds the image.Image at depth (8 or 16), with im.Alpha unless
// withAlpha is false (JPEG).
func (im *Image) image(depth int, withAlpha bool) image.Image {
	w, h := im.Width, im.Height
	n := w * h
	R, G, B := im.Pix[:n:n], im.Pix[n:2*n:2*n], im.Pix[2*n:]
	alpha := im.Alpha
	if !withAlpha {
		alpha = nil
	}
	r := image.Rect(0, 0, w, h)
	// rows runs fn over the rows in parallel with the offset of row y's
	// first pixel.
	rows := func(fn func(y, o int)) {
		parallel.For(h, rowGrain, func(y0, y1 int) {
			for y := y0; y < y1; y++ {
				fn(y, y*w)
			}
		})
	}
	a16 := func(i int) uint16 {
		if alpha == nil {
			return 0xffff
		}
		return alpha[i]
	}
	switch {
	case im.Gray && alpha == nil && depth == 8:
		out := image.NewGray(r)
		rows(func(y, o int) {
			row := out.Pix[y*out.Stride:][:w]
			for x := range row {
				row[x] = imgconv.Byte(Luma(R[o+x], G[o+x], B[o+x]))
			}
		})
		return out
	case im.Gray && alpha == nil:
		out := image.NewGray16(r)
		rows(func(y, o int) {
			row := out.Pix[y*out.Stride:][:2*w]
			for x := range w {
				put16(row[2*x:], imgconv.Word(Luma(R[o+x], G[o+x], B[o+x])))
			}
		})
		return out
	case depth == 8:
		var out *image.NRGBA
		if im.Gray {
			out = image.NewNRGBA(r)
			rows(func(y, o int) {
				row := out.Pix[y*out.Stride:][:4*w]
				for x := range w {
					v := imgconv.Byte(Luma(R[o+x], G[o+x], B[o+x]))
					row[4*x], row[4*x+1], row[4*x+2] = v, v, v
				}
			})
		} else {
			out = imgconv.NRGBA(im.Pix, w, h) // BasicSR's tensor2img, opaque
		}
		if alpha != nil {
			rows(func(y, o int) {
				row := out.Pix[y*out.Stride:][:4*w]
				for x := range w {
					// 8-bit alpha a was stored as a*257: exact.
					row[4*x+3] = imgconv.Byte(imgconv.FromWord(alpha[o+x]))
				}
			})
		}
		return out
	default:
		out := image.NewNRGBA64(r)
		rows(func(y, o int) {
			row := out.Pix[y*out.Stride:][:8*w]
			for x := range w {
				p := row[8*x : 8*x+8]
				if im.Gray {
					v := imgconv.Word(Luma(R[o+x], G[o+x], B[o+x]))
					put16(p, v)
					put16(p[2:], v)
					put16(p[4:], v)
				} else {
					put16(p, imgconv.Word(R[o+x]))
					put16(p[2:], imgconv.Word(G[o+x]))
					put16(p[4:], imgconv.Word(B[o+x]))
				}
				put16(p[6:], a16(o+x))
			}
		})
		return out
	}
}

func put16(p []byte, v uint16) { p[0], p[1] = byte(v>>8), byte(v) }

// WithPixels returns an Image with the pixels pix (float32 RGB, CHW, w x h;
// taken over, not copied, and clamped to [0,1] in place) and everything else
// of im: depth, grayscale, format, metadata (copied), and the alpha channel
// unchanged. When pix is an integer multiple s of im's size (a
// super-resolution output) each alpha sample is repeated over s x s pixels,
// so that the alpha values stay those of the file; other sizes are refused
// for an image with alpha.
func (im *Image) WithPixels(pix []float32, w, h int) (*Image, error) {
	if w <= 0 || h <= 0 || len(pix) != 3*w*h {
		return nil, fmt.Errorf("imagefile: %d values for %dx%d RGB pixels", len(pix), w, h)
	}
	for i, v := range pix {
		pix[i] = min(max(v, 0), 1)
	}
	out := &Image{Width: w, Height: h, Pix: pix, Depth: im.Depth, Gray: im.Gray, Format: im.Format,
		EXIF: slices.Clone(im.EXIF), ICC: slices.Clone(im.ICC)}
	if im.Alpha == nil {
		return out, nil
	}
	s := w / im.Width
	if s < 1 || w != s*im.Width || h != s*im.Height {
		return nil, fmt.Errorf("imagefile: the alpha channel of a %dx%d image cannot follow pixels of %dx%d",
			im.Width, im.Height, w, h)
	}
	out.Alpha = make([]uint16, w*h)
	remap(out.Alpha, im.Alpha, im.Width, w, h, func(x, y int) (int, int) { return x / s, y / s })
	return out, nil
}
