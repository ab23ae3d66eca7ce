package metrics

import (
	"image"
	"testing"

	"github.com/gomioir/gomioir/degrade"
)

const benchSide = 512

// benchInputs returns one 512x512 pair in the three input forms.
func benchInputs() (a, b *RGB8, ia, ib image.Image, fa, fb *degrade.Image) {
	a, b = randomRGB8(benchSide, benchSide, 21), randomRGB8(benchSide, benchSide, 22)
	toFloat := func(m *RGB8) *degrade.Image {
		f := degrade.NewImage(m.W, m.H)
		for i, v := range m.Pix {
			f.Pix[i] = float32(v) / 255
		}
		return f
	}
	return a, b, toNRGBA(a), toNRGBA(b), toFloat(a), toFloat(b)
}

// benchMetric runs the sub-benchmarks of one metric: RGB8 input in the
// paper's setting and with the Y channel, and image.Image and float inputs
// (which include the 8-bit conversion).
func benchMetric(b *testing.B,
	on8 func(x, y *RGB8, o *Options) (float64, error),
	onImage func(x, y image.Image, o *Options) (float64, error),
	onFloat func(x, y *degrade.Image, o *Options) (float64, error)) {
	a8, b8, ia, ib, fa, fb := benchInputs()
	run := func(name string, fn func() (float64, error)) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(2 * 3 * benchSide * benchSide) // both images, 8-bit RGB
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	y := &Options{CropBorder: 4, YChannel: true}
	run("rgb8", func() (float64, error) { return on8(a8, b8, nil) })
	run("rgb8-y", func() (float64, error) { return on8(a8, b8, y) })
	run("image", func() (float64, error) { return onImage(ia, ib, nil) })
	run("float", func() (float64, error) { return onFloat(fa, fb, nil) })
}

// BenchmarkPSNR measures PSNR of a 512x512 pair.
func BenchmarkPSNR(b *testing.B) { benchMetric(b, PSNR8, PSNR, PSNRFloat) }

// BenchmarkSSIM measures SSIM of a 512x512 pair.
func BenchmarkSSIM(b *testing.B) { benchMetric(b, SSIM8, SSIM, SSIMFloat) }
