package degrade

import (
	"fmt"
	"math"

	"github.com/gomioir/gomioir/internal/parallel"
)

// taps4 holds, for each output index, the 4 clamped source indices and the
// 4 float32 weights of a PyTorch bicubic interpolation along one axis.
type taps4 struct {
	idx [4]int32
	w   [4]float32
}

const torchCubicA = float32(-0.75)

func cubicConv1(x, a float32) float32 { return ((a+2)*x-(a+3))*x*x + 1 }
func cubicConv2(x, a float32) float32 { return ((a*x-5*a)*x+8*a)*x - 4*a }

// torchCubicTaps reproduces PyTorch's upsample_bicubic2d index/weight
// computation (align_corners=False) in float32: the source coordinate of
// output i is scale*(i+0.5)-0.5, where scale is 1/scale_factor when a scale
// factor was passed and in/out otherwise; taps are clamped to the border.
func torchCubicTaps(in, out int, scale float32) []taps4 {
	t := make([]taps4, out)
	for i := range t {
		real := scale*(float32(i)+0.5) - 0.5
		fl := float32(math.Floor(float64(real)))
		f := real - fl
		base := int(fl)
		t[i].w = [4]float32{
			cubicConv2(f+1, torchCubicA),
			cubicConv1(f, torchCubicA),
			cubicConv1(1-f, torchCubicA),
			cubicConv2((1-f)+1, torchCubicA),
		}
		for j := 0; j < 4; j++ {
			t[i].idx[j] = int32(clampIndex(base-1+j, in))
		}
	}
	return t
}

// resizeTorchCubic resizes with PyTorch bicubic semantics: for every output
// pixel the four taps of each source row are combined horizontally, then the
// four row results vertically, each as a sequential float32 sum.
func resizeTorchCubic(src *Image, outW, outH int, scaleX, scaleY float32) *Image {
	tx := torchCubicTaps(src.W, outW, scaleX)
	ty := torchCubicTaps(src.H, outH, scaleY)
	dst := NewImage(outW, outH)
	// Horizontal pass into a (src.H x outW) buffer per channel: each value
	// is exactly the inner interpolation PyTorch computes for that row.
	tmp := make([]float32, 3*src.H*outW)
	parallel.For(3*src.H, 8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			in := src.Pix[r*src.W : (r+1)*src.W]
			o := tmp[r*outW : (r+1)*outW]
			for x := range o {
				tp := &tx[x]
				s := in[tp.idx[0]] * tp.w[0]
				s += in[tp.idx[1]] * tp.w[1]
				s += in[tp.idx[2]] * tp.w[2]
				s += in[tp.idx[3]] * tp.w[3]
				o[x] = s
			}
		}
	})
	parallel.For(3*outH, 8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, y := r/outH, r%outH
			tp := &ty[y]
			base := tmp[c*src.H*outW:]
			r0 := base[int(tp.idx[0])*outW : int(tp.idx[0])*outW+outW]
			r1 := base[int(tp.idx[1])*outW : int(tp.idx[1])*outW+outW]
			r2 := base[int(tp.idx[2])*outW : int(tp.idx[2])*outW+outW]
			r3 := base[int(tp.idx[3])*outW : int(tp.idx[3])*outW+outW]
			o := dst.Pix[r*outW : (r+1)*outW]
			w0, w1, w2, w3 := tp.w[0], tp.w[1], tp.w[2], tp.w[3]
			for x := range o {
				s := r0[x] * w0
				s += r1[x] * w1
				s += r2[x] * w2
				s += r3[x] * w3
				o[x] = s
			}
		}
	})
	return dst
}

// ResizeBicubic resizes src to w x h with PyTorch's
// F.interpolate(size=(h, w), mode='bicubic', align_corners=False) semantics
// (A = -0.75, no antialiasing, clamped borders, float32). The result is not
// quantised.
func ResizeBicubic(src *Image, w, h int) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%w: resize to %dx%d", ErrParam, w, h)
	}
	return resizeTorchCubic(src, w, h, float32(src.W)/float32(w), float32(src.H)/float32(h)), nil
}

// ScaleBicubic resizes src by factor with PyTorch's
// F.interpolate(scale_factor=factor, mode='bicubic') semantics: the output
// is floor(W*factor) x floor(H*factor) and output pixel i samples source
// coordinate (i+0.5)/factor-0.5. Not quantised.
func ScaleBicubic(src *Image, factor float64) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if !(factor > 0) || math.IsInf(factor, 0) {
		return nil, fmt.Errorf("%w: scale factor %v", ErrParam, factor)
	}
	w := int(math.Floor(float64(src.W) * factor))
	h := int(math.Floor(float64(src.H) * factor))
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%w: %dx%d scaled by %v is empty", ErrEmptyImage, src.W, src.H, factor)
	}
	s := float32(1 / factor)
	return resizeTorchCubic(src, w, h, s, s), nil
}

// Downscaler selects how SR produces its low-resolution image.
type Downscaler int

const (
	// DownTorch is the reference training pipeline: PyTorch bicubic with
	// scale_factor = 1/scale, no antialiasing (aliasing is part of the
	// degradation the models learn).
	DownTorch Downscaler = iota
	// DownMatlab is MATLAB imresize bicubic with antialiasing (a = -0.5,
	// kernel widened by the scale, symmetric borders), the usual producer
	// of DIV2K-style "LR_bicubic/X4" inputs, which the reference's SR test
	// sets start from. The LR image is quantised to 8 bits, as it would be
	// when saved.
	DownMatlab
)

// String returns "torch" or "matlab".
func (d Downscaler) String() string {
	switch d {
	case DownTorch:
		return "torch"
	case DownMatlab:
		return "matlab"
	}
	return fmt.Sprintf("Downscaler(%d)", int(d))
}

// SuperRes applies the reference SR degradation (task s): downscale by the
// integer factor scale (the reference uses 4) and bicubic upscale back to
// the original size with PyTorch semantics, then the 8-bit quantisation.
// The output has src's size. With DownTorch it reproduces the reference's
// training resize_tensor; with DownMatlab, the DIV2K-style test inputs.
func SuperRes(src *Image, scale int, down Downscaler) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if scale < 1 {
		return nil, fmt.Errorf("%w: SR scale %d (want >= 1)", ErrParam, scale)
	}
	if src.W < scale || src.H < scale {
		return nil, fmt.Errorf("%w: %dx%d is smaller than the SR scale %d", ErrParam, src.W, src.H, scale)
	}
	var lr *Image
	switch down {
	case DownTorch:
		s := float32(scale)
		lr = resizeTorchCubic(src, src.W/scale, src.H/scale, s, s)
	case DownMatlab:
		var err error
		if lr, err = DownscaleMatlab(src, scale); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: unknown downscaler %d", ErrParam, int(down))
	}
	up := resizeTorchCubic(lr, src.W, src.H, float32(lr.W)/float32(src.W), float32(lr.H)/float32(src.H))
	return up.Quantize8(), nil
}

// matlabCubic is the Keys cubic with a = -0.5 used by MATLAB imresize.
func matlabCubic(x float64) float64 {
	ax := math.Abs(x)
	ax2, ax3 := ax*ax, ax*ax*ax
	switch {
	case ax <= 1:
		return 1.5*ax3 - 2.5*ax2 + 1
	case ax <= 2:
		return -0.5*ax3 + 2.5*ax2 - 4*ax + 2
	}
	return 0
}

// matlabTaps returns MATLAB imresize's contributions for one axis
// (bicubic, antialiased when shrinking, symmetric borders) as a flat list of
// (index, weight) with a fixed tap count per output.
func matlabTaps(in, out int, scale float64) (idx []int, wts []float64, p int) {
	kw := 4.0
	aa := scale < 1
	if aa {
		kw /= scale
	}
	p = int(math.Ceil(kw)) + 2
	idx = make([]int, out*p)
	wts = make([]float64, out*p)
	for j := 0; j < out; j++ {
		u := float64(j+1)/scale + 0.5*(1-1/scale)
		left := int(math.Floor(u - kw/2))
		var sum float64
		for k := 0; k < p; k++ {
			ii := left + k
			d := u - float64(ii)
			var w float64
			if aa {
				w = scale * matlabCubic(scale*d)
			} else {
				w = matlabCubic(d)
			}
			// symmetric border on the 1-based index ii.
			m := ii - 1
			period := 2 * in
			m %= period
			if m < 0 {
				m += period
			}
			if m >= in {
				m = period - 1 - m
			}
			idx[j*p+k] = m
			wts[j*p+k] = w
			sum += w
		}
		for k := 0; k < p; k++ {
			wts[j*p+k] /= sum
		}
	}
	return idx, wts, p
}

// DownscaleMatlab shrinks src by the integer factor (output
// ceil(W/factor) x ceil(H/factor)) like MATLAB imresize(img, 1/factor,
// 'bicubic') with its default antialiasing, computed in float64 (height
// first, then width) and quantised to 8 bits.
func DownscaleMatlab(src *Image, factor int) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	if factor < 1 {
		return nil, fmt.Errorf("%w: downscale factor %d", ErrParam, factor)
	}
	s := 1 / float64(factor)
	outW := (src.W + factor - 1) / factor
	outH := (src.H + factor - 1) / factor
	iy, wy, py := matlabTaps(src.H, outH, s)
	ix, wx, px := matlabTaps(src.W, outW, s)
	tmp := make([]float64, 3*outH*src.W)
	parallel.For(3*outH, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, y := r/outH, r%outH
			plane := src.Plane(c)
			o := tmp[r*src.W : (r+1)*src.W]
			for k := 0; k < py; k++ {
				w := wy[y*py+k]
				if w == 0 {
					continue
				}
				row := plane[iy[y*py+k]*src.W : (iy[y*py+k]+1)*src.W]
				for x, v := range row {
					o[x] += w * float64(v)
				}
			}
		}
	})
	dst := NewImage(outW, outH)
	parallel.For(3*outH, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			in := tmp[r*src.W : (r+1)*src.W]
			o := dst.Pix[r*outW : (r+1)*outW]
			for x := range o {
				var acc float64
				for k := 0; k < px; k++ {
					acc += wx[x*px+k] * in[ix[x*px+k]]
				}
				o[x] = float32(acc)
			}
		}
	})
	return dst.Quantize8(), nil
}
