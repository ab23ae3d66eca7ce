package metrics

import (
	"image"
	"math"

	"github.com/gomioir/gomioir/degrade"
)

// Options selects how an image pair is measured. The zero value measures
// all pixels of the three RGB channels; the paper's setting (and what a nil
// *Options means everywhere) is DefaultOptions: CropBorder 4, RGB.
type Options struct {
	// CropBorder is the number of pixels removed from every edge of both
	// images before measuring (BasicSR's crop_border). It must be >= 0 and
	// leave at least an 11x11 area (one pixel with PSNROnly).
	CropBorder int `json:"crop_border"`
	// YChannel measures the BT.601 luma Y = 16 + 65.481R + 128.553G +
	// 24.966B (R, G, B in [0,1]) on the 0..255 scale instead of the three
	// RGB channels (BasicSR's test_y_channel).
	YChannel bool `json:"test_y_channel"`
	// PSNROnly skips SSIM, which takes most of the time (the reference
	// validates and tests with PSNR only): Result.SSIM is then 0. It is not
	// part of a Table's recorded options.
	PSNROnly bool `json:"-"`
}

// PaperCropBorder is the crop border of every MiOIR train and test
// configuration.
const PaperCropBorder = 4

// DefaultOptions returns the paper's setting: crop 4 pixels, RGB channels,
// PSNR and SSIM.
func DefaultOptions() Options { return Options{CropBorder: PaperCropBorder} }

func resolve(opts *Options) Options {
	if opts == nil {
		return DefaultOptions()
	}
	return *opts
}

// Result holds both metrics of one image pair.
type Result struct {
	PSNR float64 `json:"psnr"` // dB; +Inf for identical images
	SSIM float64 `json:"ssim"` // mean SSIM, 1 for identical images; 0 with Options.PSNROnly
}

// Measure returns the PSNR and SSIM of img against the reference ref,
// computed as BasicSR's calculate_psnr and calculate_ssim (see the package
// documentation) on the 8-bit samples that ToRGB8 reads. An *RGB8 is used
// as it is, so a ground truth converted once with ToRGB8 can be measured
// against many outputs. A nil o means DefaultOptions. Errors are *Error
// values (ErrEmpty, ErrSizeMismatch, ErrCrop, ErrTooSmall).
func Measure(img, ref image.Image, o *Options) (Result, error) {
	a, err := toRGB8("Measure", img)
	if err != nil {
		return Result{}, err
	}
	b, err := toRGB8("Measure", ref)
	if err != nil {
		return Result{}, err
	}
	return measure("Measure", a, b, resolve(o))
}

// MeasureFloat is Measure for float images in [0,1], such as a network's
// output and the ground truth the trainer and Evaluate hold: both are first
// rounded to 8 bits as BasicSR's tensor2img does (clamp to [0,1], x*255 in
// float32, round half to even; Round8). A NaN anywhere is an error (ErrNaN);
// infinities clamp.
func MeasureFloat(img, ref *degrade.Image, o *Options) (Result, error) {
	const op = "MeasureFloat"
	if img == nil || ref == nil {
		return Result{}, newError(op, ErrEmpty, "nil image")
	}
	if img.W != ref.W || img.H != ref.H {
		return Result{}, newError(op, ErrSizeMismatch, "%dx%d vs %dx%d (WxH)", img.W, img.H, ref.W, ref.H)
	}
	a, err := fromCHW(op, img.W, img.H, img.Pix)
	if err != nil {
		return Result{}, err
	}
	b, err := fromCHW(op, ref.W, ref.H, ref.Pix)
	if err != nil {
		return Result{}, err
	}
	return measure(op, a, b, resolve(o))
}

// region is the cropped area both images are measured on, and the
// channels: 3 RGB planes or 1 Y plane.
type region struct {
	a, b       *RGB8
	crop, w, h int // crop border and the cropped size
	y          bool
}

func (r *region) channels() int {
	if r.y {
		return 1
	}
	return 3
}

// check validates a pair and the options; minSide is the smallest cropped
// side allowed (1 for PSNR, 11 for SSIM).
func check(op string, a, b *RGB8, o Options, minSide int) (*region, error) {
	if err := a.validate(op); err != nil {
		return nil, err
	}
	if err := b.validate(op); err != nil {
		return nil, err
	}
	if a.W != b.W || a.H != b.H {
		return nil, newError(op, ErrSizeMismatch, "%dx%d vs %dx%d (WxH)", a.W, a.H, b.W, b.H)
	}
	c := o.CropBorder
	if c < 0 {
		return nil, newError(op, ErrCrop, "negative crop border %d", c)
	}
	w, h := a.W-2*c, a.H-2*c
	if w <= 0 || h <= 0 {
		return nil, newError(op, ErrCrop, "crop border %d leaves nothing of %dx%d", c, a.W, a.H)
	}
	if w < minSide || h < minSide {
		return nil, newError(op, ErrTooSmall, "%dx%d after cropping %d from %dx%d (SSIM needs at least %dx%d)",
			w, h, c, a.W, a.H, minSide, minSide)
	}
	return &region{a: a, b: b, crop: c, w: w, h: h, y: o.YChannel}, nil
}

func measure(op string, a, b *RGB8, o Options) (Result, error) {
	minSide := ssimWindow
	if o.PSNROnly {
		minSide = 1
	}
	r, err := check(op, a, b, o, minSide)
	if err != nil {
		return Result{}, err
	}
	res := Result{PSNR: r.psnr()}
	if !o.PSNROnly {
		res.SSIM = r.ssim()
	}
	return res, nil
}

// psnrFromMSE is BasicSR's 10*log10(255^2/mse), +Inf when mse is 0.
func psnrFromMSE(mse float64) float64 {
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255.0*255.0/mse)
}
