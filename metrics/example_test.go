package metrics_test

import (
	"errors"
	"fmt"
	"image"
	"image/color"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/metrics"
)

// gradient returns a w x h test image; shift changes it slightly.
func gradient(w, h, shift int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8((x*7 + y*3 + shift*((x+y)%3)) % 256)
			m.SetNRGBA(x, y, color.NRGBA{v, 255 - v, uint8(x * y % 256), 255})
		}
	}
	return m
}

// The paper's metric: RGB PSNR and SSIM with a 4-pixel border crop (nil
// options).
func ExampleMeasure() {
	gt := gradient(32, 24, 0)
	out := gradient(32, 24, 2)
	r, err := metrics.Measure(out, gt, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("PSNR %.4f dB\n", r.PSNR)
	same, _ := metrics.Measure(gt, gt, nil)
	fmt.Println("identical:", same.PSNR, same.SSIM)
	// Output:
	// PSNR 41.6526 dB
	// identical: +Inf 1
}

// SSIM on the Y channel without crop, as many papers report it.
func ExampleMeasure_yChannel() {
	gt := gradient(32, 24, 0)
	out := gradient(32, 24, 6)
	r, err := metrics.Measure(out, gt, &metrics.Options{CropBorder: 0, YChannel: true})
	if err != nil {
		panic(err)
	}
	fmt.Printf("SSIM %.6f\n", r.SSIM)
	// Output:
	// SSIM 0.960925
}

// A ground truth measured against several outputs is converted once; PSNR
// alone (as the reference reports it) skips the SSIM work.
func ExampleToRGB8() {
	gt8, err := metrics.ToRGB8(gradient(32, 24, 0))
	if err != nil {
		panic(err)
	}
	o := &metrics.Options{CropBorder: metrics.PaperCropBorder, PSNROnly: true}
	for _, shift := range []int{2, 6} {
		r, err := metrics.Measure(gradient(32, 24, shift), gt8, o)
		if err != nil {
			panic(err)
		}
		fmt.Printf("shift %d: PSNR %.4f dB\n", shift, r.PSNR)
	}
	// Output:
	// shift 2: PSNR 41.6526 dB
	// shift 6: PSNR 32.1102 dB
}

// Float images (such as a network's output) are rounded to 8 bits first,
// like BasicSR's tensor2img.
func ExampleMeasureFloat() {
	gt := degrade.NewImage(16, 16)
	out := degrade.NewImage(16, 16)
	for i := range gt.Pix {
		gt.Pix[i] = float32(i%251) / 255
		out.Pix[i] = gt.Pix[i] + 0.001 // a quarter of a grey level: rounds back
	}
	res, err := metrics.MeasureFloat(out, gt, &metrics.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.PSNR, res.SSIM)
	// Output:
	// +Inf 1
}

// Errors wrap sentinels that errors.Is recognises.
func ExampleError() {
	_, err := metrics.Measure(gradient(8, 8, 0), gradient(8, 9, 0), nil)
	fmt.Println(err)
	_, err = metrics.Measure(gradient(16, 16, 0), gradient(16, 16, 1), nil)
	fmt.Println(err)
	fmt.Println(errors.Is(err, metrics.ErrTooSmall))
	// Output:
	// Measure: metrics: image sizes differ: 8x8 vs 8x9 (WxH)
	// Measure: metrics: image smaller than the SSIM window: 8x8 after cropping 4 from 16x16 (SSIM needs at least 11x11)
	// true
}

// A results table: per-image results go in, per-set means, group averages
// and gains over the baseline come out.
func ExampleTable() {
	sets := []metrics.TestSet{
		{Name: "noise", Label: "Noise", Group: metrics.InDis, Task: degrade.Noise},
		{Name: "jpeg", Label: "JPEG", Group: metrics.InDis, Task: degrade.JPEG},
		{Name: "Toled_val", Label: "Toled", Group: metrics.Unknown},
	}
	tab, err := metrics.NewTable(sets)
	if err != nil {
		panic(err)
	}
	tab.Baseline = "SwinIR-M"
	for _, r := range []struct {
		model, set string
		psnr       float64
	}{
		{"SwinIR-M", "noise", 30.7}, {"SwinIR-M", "noise", 30.9}, {"SwinIR-M", "jpeg", 32.80},
		{"SwinIR-M", "Toled_val", 17.16},
		{"SwinIR-S+EP", "noise", 31.4}, {"SwinIR-S+EP", "noise", 31.56}, {"SwinIR-S+EP", "jpeg", 33.66},
		{"SwinIR-S+EP", "Toled_val", 17.45},
	} {
		if err := tab.AddPSNR(r.model, r.set, r.psnr); err != nil {
			panic(err)
		}
	}
	fmt.Print(tab.Markdown())
	// Output:
	// | Model       | Noise |  JPEG | In-Dis Avg |     Ipv. | Toled | Unknown Avg |     Ipv. |
	// | :---------- | ----: | ----: | ---------: | -------: | ----: | ----------: | -------: |
	// | SwinIR-M    | 30.80 | 32.80 |      31.80 | baseline | 17.16 |       17.16 | baseline |
	// | SwinIR-S+EP | 31.48 | 33.66 |      32.57 |    +0.77 | 17.45 |       17.45 |    +0.29 |
}

// The 19 test sets of the reference, by group.
func ExamplePaperTestSets() {
	for _, g := range metrics.Groups() {
		fmt.Print(g, ":")
		for _, s := range metrics.PaperTestSets() {
			if s.Group == g {
				fmt.Print(" ", s.Name)
			}
		}
		fmt.Println()
	}
	// Output:
	// In-Dis: sr blur noise jpeg rain haze dark
	// Out-Dis: sr_outbig blur_outbig noise_outbig jpeg_outbig rain_outbig haze_outbig dark_outbig
	// Unknown: DIV2K_valid_LR_difficult DIV2K_valid_LR_mild DIV2K_valid_LR_wild valid-input-noisy Toled_val
}
