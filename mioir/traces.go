package mioir

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/torch"
)

// Traces are the measurements of an input that auto mode's Guard decides
// on, all of them, as MeasureTraces takes them. A guard that reads any
// trace measures them all once, with the same code, so thresholds can be
// studied, or a policy other than the Guard's written, on exactly what the
// guard sees.
type Traces struct {
	// NoiseSigma estimates the standard deviation of white noise (0-1
	// units): the 10th percentile, over 16x16-pixel blocks, of the RMS of
	// the luminance's finest diagonal Haar coefficients; -1 when the image
	// is too small to tell. Guard.NoiseSigma and MinNoiseSigma.
	NoiseSigma float64
	// JPEGBlockiness: how much more the luminance changes across the
	// strongest phase of the 8-pixel grid than across the median phase
	// (about 1 or less on any scene). Guard.JPEGBlockiness,
	// MinJPEGBlockiness and ToneCurveStep.MaxBlockiness.
	JPEGBlockiness float64
	// UpscaleTrace: the period-4 trace of an x4 enlargement (about 1 on
	// any scene, 1.3-2 on most x4 upscales with some texture), and
	// GridAsymmetry, how differently the grid phases p and p+4 change (a
	// JPEG grid raises it, an upscale does not). Guard.UpscaleTrace,
	// MaxUpscaleAsymmetry and MaxBlurUpscaleTrace.
	UpscaleTrace, GridAsymmetry float64
	// UpscaleFit: how well the lines of the luminance fit an x4 bicubic
	// enlargement (PyTorch's, a = -0.75) at the best of the four grid
	// phases, as the residual of a projection onto the enlargement's
	// subspace at the best phase over that at the median phase: about 1 on
	// any scene that is not an enlargement, blurred or not; 0.04-0.35 on
	// x4 bicubic upscales with some texture, up to about 0.83 on almost
	// flat ones.
	// It tells an upscale from a blur where UpscaleTrace cannot.
	UpscaleFit float64
	// Reblur: how much a Gaussian blur of 1.5 pixels changes the
	// luminance, the RMS change (0-1 units) of the tile that changes most;
	// 1 when the image is too small to tell (under 13 pixels a side). The
	// 8-bit rounding alone reads about 0.27/255: an image under that holds
	// no detail a blur could have taken. Guard.MinReblur.
	Reblur float64
	// Detail: the finest diagonal Haar coefficient over the first-order
	// ones (near 1 for noise, 0.2-0.7 for sharp photos, lower after blur or
	// upscaling). Guard.MinDetail.
	Detail float64
	// MeanBrightness: the mean over pixels of the largest colour channel.
	// Guard.MaxDarkMean, UnderexposedMean, HazeDarkMean and the steps of
	// DarkToneCurve.
	MeanBrightness float64
	// DarkChannel: the mean of the minimum over the colour channels and a
	// 15x15 patch. Guard.MinHazeDarkChannel.
	DarkChannel float64
	// ToneCurveComb: the best correlation of the 8-bit histogram's comb
	// with a darkening tone curve's (0 on inputs that are not 8-bit).
	// Guard.DarkToneCurve.
	ToneCurveComb float64
	// RainStreaks: the share of 48-pixel windows with bright lines along
	// the image's dominant direction (0 under 68 pixels a side).
	// Guard.MinRainStreaks.
	RainStreaks float64
}

// MeasureTraces measures x, a (1, 3, H, W) image in [0, 1] on any device,
// as the guard would. It reads at most 16 tiles of 256 pixels for the
// noise, grid, upscale, x4-fit, detail and streak traces and every pixel
// for the others, in strips: about 1.1 s on a 12-megapixel photo on two
// cores, half of it the dark channel's 15x15 minimum.
func MeasureTraces(x *torch.Tensor) (*Traces, error) {
	if sh := x.Shape(); len(sh) != 4 || sh[0] != 1 || sh[1] != 3 || sh[2] < 1 || sh[3] < 1 {
		return nil, fmt.Errorf("mioir: traces: input of shape %v, want (1, 3, H, W)", sh)
	}
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	xs := s.Use(x).ToDType(torch.Float32)
	if err := checkFinite(xs); err != nil {
		return nil, err
	}
	return measureTraces(xs)
}

// measureTraces is MeasureTraces on a float32 (1, 3, H, W) input already
// checked to be finite, as Restore hands it to the guard.
func measureTraces(xs *torch.Tensor) (*Traces, error) {
	sg, err := measureSigns(xs)
	if err != nil {
		return nil, err
	}
	t := &Traces{
		NoiseSigma:     sg.noiseSigma,
		JPEGBlockiness: sg.blockiness,
		UpscaleTrace:   sg.upscale,
		GridAsymmetry:  sg.gridAsymmetry,
		UpscaleFit:     sg.upscaleFit,
		Reblur:         sg.reblur,
		Detail:         sg.detail,
	}
	for _, m := range []struct {
		dst *float64
		fn  func(*torch.Tensor) (float64, error)
	}{
		{&t.MeanBrightness, meanBrightness},
		{&t.DarkChannel, darkChannel},
		{&t.ToneCurveComb, toneCurveTrace},
		{&t.RainStreaks, rainStreaks},
	} {
		if *m.dst, err = m.fn(xs); err != nil {
			return nil, err
		}
	}
	return t, nil
}
