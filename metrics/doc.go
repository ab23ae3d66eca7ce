// Package metrics measures restored images the way the MiOIR reference
// (a BasicSR fork) does, and collects the results in the paper's tables.
// It is pure Go.
//
// # Measuring
//
// Two functions measure an image pair, both returning a Result (PSNR and
// SSIM):
//
//   - Measure(img, ref image.Image, o) for 8-bit images (decoded files,
//     Restore's output);
//   - MeasureFloat(img, ref *degrade.Image, o) for float images in [0,1],
//     the planes the trainer and Evaluate hold.
//
// Options says how: CropBorder, YChannel, and PSNROnly to skip SSIM (most
// of the time; the reference itself reports PSNR only). A nil *Options is
// DefaultOptions, the paper's setting: crop 4, RGB, both metrics.
//
// One conversion story: every input becomes an RGB8, 8-bit planar RGB, the
// uint8 image BasicSR measures. ToRGB8 reads an image.Image as cv2.imread
// reads a file; MeasureFloat rounds float images as tensor2img does
// (Round8). An RGB8 is itself an image.Image that Measure takes as it is,
// so a ground truth measured against many outputs is converted once:
//
//	gt8, err := metrics.ToRGB8(gt)
//	for _, out := range outputs {
//		r, err := metrics.Measure(out, gt8, nil)
//		...
//	}
//
// # BasicSR conventions
//
// The values reproduce BasicSR's calculate_psnr and calculate_ssim (the
// MiOIR reference is a BasicSR fork) exactly, for the result of the
// reference pipeline:
//
//   - Both images are 8-bit. A float image is rounded like tensor2img:
//     clamp to [0,1], x*255 in float32, round half to even (Round8); a NaN
//     is an error, infinities clamp. An image.Image gives its 8-bit,
//     non-premultiplied R, G, B samples, alpha dropped, as cv2.imread does
//     (16-bit samples are rounded to 8 bits).
//   - Options.CropBorder pixels are removed from every edge (the paper
//     uses 4).
//   - Options.YChannel measures the BT.601 luma
//     Y = 16 + 65.481R + 128.553G + 24.966B on the 0..255 scale, with
//     BasicSR's mix of float32 and float64 steps (Luma), instead of the
//     three RGB channels.
//   - PSNR is 10*log10(255^2/MSE) with the MSE in float64 over all pixels
//     and channels; identical images give +Inf.
//   - SSIM uses the 11x11 Gaussian window of sigma 1.5 over the valid
//     region (the map is 10 pixels smaller in each direction), C1 =
//     (0.01*255)^2, C2 = (0.03*255)^2, the mean of the map per channel and
//     then over channels. It needs at least 11x11 pixels after cropping
//     (ErrTooSmall); PSNR alone needs one.
//
// The values agree with the reference's to about 1e-14 dB (PSNR) and
// 1e-12 (SSIM) on the fixtures in ../shared/fixtures/metrics. The
// Gaussian window is an outer product of a 1D kernel, so SSIM filters rows
// and then columns (22 taps per value instead of 121); the result differs
// from the reference's 2D filtering only by float64 rounding. RGB squared
// differences are integers and are summed exactly. Work is split over
// goroutines (rows, and channels for SSIM) and the partial sums are added
// in a fixed order, so a result does not depend on GOMAXPROCS.
//
// Errors are *Error values wrapping a sentinel (ErrSizeMismatch, ErrEmpty,
// ErrCrop, ErrTooSmall, ErrNaN, ErrLength), for errors.Is.
//
// # Result tables
//
// A Table has one column per test set (TestSet: a name, a label, a Group
// and, for synthetic sets, a degrade.Task) and one row per model. Cells
// are the mean over the per-image results added with Add or AddPSNR, or
// values given with Set. Each row has an average per group (In-Dis,
// Out-Dis, Unknown) and, when it has a baseline row, the gain of that
// average over the baseline's (the paper's "Ipv."). PaperTestSets lists the
// reference's 19 test sets; PaperLayout shows Out-Dis by its average only,
// as the paper does. Markdown, CSV and JSON render the table.
//
// This package imports degrade for Task and Image; degrade does not import
// it.
package metrics
