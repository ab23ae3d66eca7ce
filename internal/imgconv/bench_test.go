package imgconv

import (
	"image"
	"image/color"
	"testing"
)

// benchImages returns 1024x768 images of each fast-path type and one that
// takes the generic path.
func benchImages() []struct {
	name string
	img  image.Image
} {
	r := image.Rect(0, 0, 1024, 768)
	n := image.NewNRGBA(r)
	rgba := image.NewRGBA(r)
	g := image.NewGray(r)
	yc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	c64 := image.NewRGBA64(r)
	for i := range n.Pix {
		n.Pix[i], rgba.Pix[i] = uint8(i*7), uint8(i*5)
		if i%4 == 3 {
			n.Pix[i], rgba.Pix[i] = 255, 255
		}
	}
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 3)
	}
	for i := range yc.Y {
		yc.Y[i] = uint8(i)
	}
	for i := range yc.Cb {
		yc.Cb[i], yc.Cr[i] = uint8(i*3), uint8(i*11)
	}
	for y := range 768 {
		for x := range 1024 {
			c64.SetRGBA64(x, y, color.RGBA64{uint16(x * 61), uint16(y * 83), uint16(x * y), 0xffff})
		}
	}
	return []struct {
		name string
		img  image.Image
	}{{"NRGBA", n}, {"RGBA", rgba}, {"Gray", g}, {"YCbCr", yc}, {"RGBA64", c64}}
}

func BenchmarkCHW(b *testing.B) {
	for _, c := range benchImages() {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				CHW(c.img)
			}
		})
	}
}

func BenchmarkRGB8Planes(b *testing.B) {
	for _, c := range benchImages() {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				RGB8Planes(c.img)
			}
		})
	}
}

func BenchmarkNRGBA(b *testing.B) {
	chw, w, h := CHW(benchImages()[3].img)
	for b.Loop() {
		NRGBA(chw, w, h)
	}
}

func BenchmarkBytes(b *testing.B) {
	chw, w, h := CHW(benchImages()[3].img)
	for b.Loop() {
		Bytes(chw, w, h)
	}
}
