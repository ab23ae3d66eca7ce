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

// benchMeasure runs the sub-benchmarks of one setting: RGB8 input in the
// paper's setting and with the Y channel, and image.Image and float inputs
// (which include the 8-bit conversion).
func benchMeasure(b *testing.B, psnrOnly bool) {
	a8, b8, ia, ib, fa, fb := benchInputs()
	run := func(name string, fn func() (Result, error)) {
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
	o := &Options{CropBorder: 4, PSNROnly: psnrOnly}
	y := &Options{CropBorder: 4, YChannel: true, PSNROnly: psnrOnly}
	run("rgb8", func() (Result, error) { return Measure(a8, b8, o) })
	run("rgb8-y", func() (Result, error) { return Measure(a8, b8, y) })
	run("image", func() (Result, error) { return Measure(ia, ib, o) })
	run("float", func() (Result, error) { return MeasureFloat(fa, fb, o) })
}

// BenchmarkPSNR measures PSNR alone (PSNROnly) of a 512x512 pair.
func BenchmarkPSNR(b *testing.B) { benchMeasure(b, true) }

// BenchmarkMeasure measures PSNR and SSIM of a 512x512 pair.
func BenchmarkMeasure(b *testing.B) { benchMeasure(b, false) }
