package degrade

import (
	"fmt"
	"math"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/parallel"
)

// DepthMap is a single-channel depth map (row-major, W x H, float64),
// larger = farther. Only relative values matter: AddHaze divides by the
// maximum.
type DepthMap struct {
	W, H int
	D    []float64
}

// upsampleLinear4 enlarges d by 4 with OpenCV cv2.resize INTER_LINEAR
// semantics (half-pixel centres, edge samples beyond the border), rows first
// then columns, in float64: output index i reads source coordinate
// c = (i+0.5)/4-0.5.
func (d *DepthMap) upsampleLinear4() *DepthMap {
	ow, oh := 4*d.W, 4*d.H
	type tap struct {
		i0, i1 int
		f      float64
	}
	taps := func(in, out int) []tap {
		t := make([]tap, out)
		for i := range t {
			c := (float64(i)+0.5)/4 - 0.5
			fl := math.Floor(c)
			f := c - fl
			i0 := int(fl)
			switch {
			case c < 0:
				t[i] = tap{0, 0, 0}
			case i0 >= in-1:
				t[i] = tap{in - 1, in - 1, 0}
			default:
				t[i] = tap{i0, i0 + 1, f}
			}
		}
		return t
	}
	tx, ty := taps(d.W, ow), taps(d.H, oh)
	rows := make([]float64, d.H*ow)
	for y := 0; y < d.H; y++ {
		src := d.D[y*d.W : (y+1)*d.W]
		for x, t := range tx {
			rows[y*ow+x] = (1-t.f)*src[t.i0] + t.f*src[t.i1]
		}
	}
	out := &DepthMap{W: ow, H: oh, D: make([]float64, ow*oh)}
	for y, t := range ty {
		r0, r1 := rows[t.i0*ow:(t.i0+1)*ow], rows[t.i1*ow:(t.i1+1)*ow]
		o := out.D[y*ow : (y+1)*ow]
		for x := range o {
			o[x] = (1-t.f)*r0[x] + t.f*r1[x]
		}
	}
	return out
}

func (d *DepthMap) validate() error {
	if d.W <= 0 || d.H <= 0 || len(d.D) != d.W*d.H {
		return fmt.Errorf("%w: depth map %dx%d with %d values", ErrParam, d.W, d.H, len(d.D))
	}
	for i, v := range d.D {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: depth map value %d is %v", ErrNaN, i, v)
		}
	}
	return nil
}

// PseudoDepth derives a stand-in depth map for a photo that has none (the
// reference used depth predicted by a monocular estimator, which this
// package does not ship). It is a documented heuristic, not an estimator.
// Like the reference's maps it is built at quarter resolution, one value
// per 4x4 block (floor(W/4) x floor(H/4)), and AddHaze enlarges it x4 with
// the same bilinear resize:
//
//	d(i,j) = 0.1 + 0.6*(1 - i/(h-1)) + 0.3*B(i,j)
//
// where i is the block row, h the number of block rows and B the dark
// channel min(R,G,B), averaged over each 4x4 block and then box-filtered
// over a window of about 1/16 of the image's larger side. The vertical
// term encodes the usual "top of the frame is farther" layout of outdoor
// photos; the dark-channel term makes bright, grey regions (sky, haze-like
// areas) farther, following the dark channel prior.
func PseudoDepth(src *Image) (*DepthMap, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if src.W < 4 || src.H < 4 {
		return nil, fmt.Errorf("%w: %dx%d is smaller than 4x4", ErrEmptyImage, src.W, src.H)
	}
	return pseudoDepth(src), nil
}

func pseudoDepth(src *Image) *DepthMap {
	w, h := src.W/4, src.H/4
	dark := make([]float64, w*h)
	R, G, B := src.Plane(0), src.Plane(1), src.Plane(2)
	for y := 0; y < 4*h; y++ {
		row := y * src.W
		drow := dark[(y/4)*w : (y/4+1)*w]
		for x := 0; x < 4*w; x++ {
			i := row + x
			drow[x/4] += float64(min(R[i], G[i], B[i]))
		}
	}
	for i := range dark {
		dark[i] /= 16
	}
	box := boxBlur64(dark, w, h, max(w, h)/32)
	d := &DepthMap{W: w, H: h, D: make([]float64, w*h)}
	for y := 0; y < h; y++ {
		vy := 1.0
		if h > 1 {
			vy = 1 - float64(y)/float64(h-1)
		}
		for x := 0; x < w; x++ {
			d.D[y*w+x] = 0.1 + 0.6*vy + 0.3*box[y*w+x]
		}
	}
	return d
}

// boxBlur64 averages over a (2r+1)^2 window with clamped borders.
func boxBlur64(p []float64, w, h, r int) []float64 {
	if r <= 0 {
		return append([]float64(nil), p...)
	}
	tmp := make([]float64, w*h)
	n := float64(2*r + 1)
	parallel.For(h, 16, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			row := p[y*w : (y+1)*w]
			var s float64
			for k := -r; k <= r; k++ {
				s += row[clampIndex(k, w)]
			}
			for x := 0; x < w; x++ {
				tmp[y*w+x] = s / n
				s += row[clampIndex(x+r+1, w)] - row[clampIndex(x-r, w)]
			}
		}
	})
	// Vertical pass, row by row with a running sum per column (cache
	// friendly).
	out := make([]float64, w*h)
	col := make([]float64, w)
	for k := -r; k <= r; k++ {
		row := tmp[clampIndex(k, h)*w:][:w]
		for x, v := range row {
			col[x] += v
		}
	}
	for y := 0; y < h; y++ {
		o := out[y*w:][:w]
		add := tmp[clampIndex(y+r+1, h)*w:][:w]
		sub := tmp[clampIndex(y-r, h)*w:][:w]
		for x := range o {
			o[x] = col[x] / n
			col[x] += add[x] - sub[x]
		}
	}
	return out
}

// AddHaze applies the reference haze (task h), the atmospheric scattering
// model I*t + A*(1-t) with t = exp(-beta*d), d the depth normalised by its
// maximum, on the 8-bit image (computed in float64 on the 0..255 scale, as
// the reference does on the uint8 array), then the 8-bit quantisation.
//
// The image is first cropped top-left to multiples of 4 (the reference's
// mod-4 crop), so the output may be up to 3 pixels smaller than src.
// depth may be given at quarter resolution (the reference's layout: W/4 x
// H/4 of the cropped image, enlarged x4 with OpenCV bilinear semantics) or
// at the cropped full resolution (used as is). A nil depth uses
// PseudoDepth (quarter resolution, enlarged the same way). airlight A is
// in [0,1] (reference: 0.8..1), beta >= 0
// (reference: 0.5..2.5 In-Dis, 2.5..3 Out-Dis).
func AddHaze(src *Image, depth *DepthMap, airlight, beta float64) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if !(airlight >= 0 && airlight <= 1) {
		return nil, fmt.Errorf("%w: haze airlight %v (want 0..1)", ErrParam, airlight)
	}
	if !(beta >= 0) || math.IsInf(beta, 0) {
		return nil, fmt.Errorf("%w: haze beta %v (want >= 0)", ErrParam, beta)
	}
	img := src.CropMod(4)
	if img.W == 0 || img.H == 0 {
		return nil, fmt.Errorf("%w: %dx%d is smaller than 4x4", ErrEmptyImage, src.W, src.H)
	}
	var d *DepthMap
	switch {
	case depth == nil:
		d = pseudoDepth(img).upsampleLinear4()
	default:
		if err := depth.validate(); err != nil {
			return nil, err
		}
		switch {
		case depth.W*4 == img.W && depth.H*4 == img.H:
			d = depth.upsampleLinear4()
		case depth.W == img.W && depth.H == img.H:
			d = depth
		default:
			return nil, fmt.Errorf("%w: depth map %dx%d does not fit the %dx%d image (want %dx%d or %dx%d)",
				ErrParam, depth.W, depth.H, img.W, img.H, img.W/4, img.H/4, img.W, img.H)
		}
	}
	dmax := math.Inf(-1)
	for _, v := range d.D {
		dmax = max(dmax, v)
	}
	if !(dmax > 0) {
		return nil, fmt.Errorf("%w: depth map maximum %v (want > 0)", ErrParam, dmax)
	}
	n := img.W * img.H
	dst := NewImage(img.W, img.H)
	air := 255 * airlight
	parallel.For(n, 1<<13, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t := math.Exp(-beta * (d.D[i] / dmax))
			a := air * (1 - t)
			for c := 0; c < 3; c++ {
				v := float64(imgconv.Byte(img.Pix[c*n+i]))
				dst.Pix[c*n+i] = imgconv.Quantize(float32(v*t+a) / 255)
			}
		}
	})
	return dst, nil
}
