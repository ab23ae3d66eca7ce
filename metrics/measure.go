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
	// leave at least one pixel (PSNR) or an 11x11 area (SSIM).
	CropBorder int `json:"crop_border"`
	// YChannel measures the BT.601 luma Y = 16 + 65.481R + 128.553G +
	// 24.966B (R, G, B in [0,1]) on the 0..255 scale instead of the three
	// RGB channels (BasicSR's test_y_channel).
	YChannel bool `json:"test_y_channel"`
}

// PaperCropBorder is the crop border of every MiOIR train and test
// configuration.
const PaperCropBorder = 4

// DefaultOptions returns the paper's setting: crop 4 pixels, RGB channels.
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
	SSIM float64 `json:"ssim"` // mean SSIM, 1 for identical images
}

// PSNR returns the peak signal-to-noise ratio in dB of img against the
// reference ref, both image.Image, computed as BasicSR's calculate_psnr:
// 8-bit samples, crop, optional Y channel, float64 MSE over all pixels and
// channels, 10*log10(255^2/MSE). Identical images give +Inf. A nil opts
// means DefaultOptions.
func PSNR(img, ref image.Image, opts *Options) (float64, error) {
	a, b, err := convertImages("PSNR", img, ref)
	if err != nil {
		return 0, err
	}
	return psnr8("PSNR", a, b, resolve(opts))
}

// SSIM returns the structural similarity of img against ref computed as
// BasicSR's calculate_ssim: 8-bit samples, crop, optional Y channel; per
// channel in float64 on the 0..255 scale with an 11x11 Gaussian window
// (sigma 1.5) over the valid region, C1 = (0.01*255)^2, C2 = (0.03*255)^2;
// the mean of the SSIM map, averaged over the channels. A nil opts means
// DefaultOptions.
func SSIM(img, ref image.Image, opts *Options) (float64, error) {
	a, b, err := convertImages("SSIM", img, ref)
	if err != nil {
		return 0, err
	}
	return ssim8("SSIM", a, b, resolve(opts))
}

// Measure returns PSNR and SSIM of img against ref, converting each image
// once. Like SSIM, it needs at least 11x11 pixels after cropping
// (ErrTooSmall otherwise).
func Measure(img, ref image.Image, opts *Options) (Result, error) {
	a, b, err := convertImages("Measure", img, ref)
	if err != nil {
		return Result{}, err
	}
	return measure8("Measure", a, b, resolve(opts))
}

// PSNRFloat is PSNR for float images in [0,1]; both are first rounded to 8
// bits like BasicSR's tensor2img (see FromFloat).
func PSNRFloat(img, ref *degrade.Image, opts *Options) (float64, error) {
	a, b, err := convertFloats("PSNRFloat", img, ref)
	if err != nil {
		return 0, err
	}
	return psnr8("PSNRFloat", a, b, resolve(opts))
}

// SSIMFloat is SSIM for float images in [0,1], rounded like PSNRFloat.
func SSIMFloat(img, ref *degrade.Image, opts *Options) (float64, error) {
	a, b, err := convertFloats("SSIMFloat", img, ref)
	if err != nil {
		return 0, err
	}
	return ssim8("SSIMFloat", a, b, resolve(opts))
}

// MeasureFloat is Measure for float images in [0,1], rounded like PSNRFloat.
func MeasureFloat(img, ref *degrade.Image, opts *Options) (Result, error) {
	a, b, err := convertFloats("MeasureFloat", img, ref)
	if err != nil {
		return Result{}, err
	}
	return measure8("MeasureFloat", a, b, resolve(opts))
}

// PSNR8 is PSNR for images already converted to RGB8.
func PSNR8(img, ref *RGB8, opts *Options) (float64, error) {
	return psnr8("PSNR8", img, ref, resolve(opts))
}

// SSIM8 is SSIM for images already converted to RGB8.
func SSIM8(img, ref *RGB8, opts *Options) (float64, error) {
	return ssim8("SSIM8", img, ref, resolve(opts))
}

// Measure8 is Measure for images already converted to RGB8.
func Measure8(img, ref *RGB8, opts *Options) (Result, error) {
	return measure8("Measure8", img, ref, resolve(opts))
}

func convertImages(op string, img, ref image.Image) (*RGB8, *RGB8, error) {
	a, err := FromImage(img)
	if err != nil {
		return nil, nil, withOp(op, err)
	}
	b, err := FromImage(ref)
	if err != nil {
		return nil, nil, withOp(op, err)
	}
	return a, b, nil
}

func convertFloats(op string, img, ref *degrade.Image) (*RGB8, *RGB8, error) {
	if img != nil && ref != nil && (img.W != ref.W || img.H != ref.H) {
		return nil, nil, newError(op, ErrSizeMismatch, "%dx%d vs %dx%d", img.W, img.H, ref.W, ref.H)
	}
	a, err := FromFloat(img)
	if err != nil {
		return nil, nil, withOp(op, err)
	}
	b, err := FromFloat(ref)
	if err != nil {
		return nil, nil, withOp(op, err)
	}
	return a, b, nil
}

// withOp re-labels an *Error with the caller's operation name.
func withOp(op string, err error) error {
	if e, ok := err.(*Error); ok {
		return &Error{Op: op, Err: e.Err, Detail: e.Detail}
	}
	return err
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

func measure8(op string, a, b *RGB8, o Options) (Result, error) {
	r, err := check(op, a, b, o, ssimWindow)
	if err != nil {
		return Result{}, err
	}
	return Result{PSNR: r.psnr(), SSIM: r.ssim()}, nil
}

func psnr8(op string, a, b *RGB8, o Options) (float64, error) {
	r, err := check(op, a, b, o, 1)
	if err != nil {
		return 0, err
	}
	return r.psnr(), nil
}

func ssim8(op string, a, b *RGB8, o Options) (float64, error) {
	r, err := check(op, a, b, o, ssimWindow)
	if err != nil {
		return 0, err
	}
	return r.ssim(), nil
}

// psnrFromMSE is BasicSR's 10*log10(255^2/mse), +Inf when mse is 0.
func psnrFromMSE(mse float64) float64 {
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255.0*255.0/mse)
}
