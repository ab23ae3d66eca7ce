package imagefile

import (
	"bytes"
	"image"
	"io"
	"testing"
)

// photo12MP is a 4000x3000 image (12 megapixels, a phone photo's size) with
// smooth gradients and fine noise, as an 8-bit RGBA or 16-bit NRGBA64 image.
func photo12MP(depth int) image.Image {
	const w, h = 4000, 3000
	r := image.Rect(0, 0, w, h)
	n := noise(7)
	if depth == 16 {
		m := image.NewNRGBA64(r)
		for y := range h {
			for x := range w {
				o := m.PixOffset(x, y)
				for c, v := range []uint16{uint16(x * 16), uint16(y * 21), uint16((x + y) * 9)} {
					v += n.next() >> 10
					m.Pix[o+2*c], m.Pix[o+2*c+1] = byte(v>>8), byte(v)
				}
				m.Pix[o+6], m.Pix[o+7] = 0xff, 0xff
			}
		}
		return m
	}
	m := image.NewRGBA(r)
	for y := range h {
		for x := range w {
			o := m.PixOffset(x, y)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = byte(x/16)+byte(n.next()>>13), byte(y/12), byte((x+y)/28), 0xff
		}
	}
	return m
}

var benchCases = []struct {
	name  string
	depth int
	enc   func(testing.TB, image.Image) []byte
}{
	{"PNG8", 8, encodePNG},
	{"PNG16", 16, encodePNG},
	{"JPEG", 8, func(t testing.TB, m image.Image) []byte { return encodeJPEG(t, m, 95) }},
	{"TIFF16", 16, encodeTIFF},
}

// BenchmarkRead decodes a 12-megapixel file into float pixels.
func BenchmarkRead(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			file := c.enc(b, photo12MP(c.depth))
			b.SetBytes(int64(len(file)))
			for b.Loop() {
				if _, err := Decode(bytes.NewReader(file), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite encodes a 12-megapixel image from float pixels.
func BenchmarkWrite(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			im, err := Decode(bytes.NewReader(c.enc(b, photo12MP(c.depth))), nil)
			if err != nil {
				b.Fatal(err)
			}
			o := &Options{Format: map[string]string{"PNG8": "png", "PNG16": "png", "JPEG": "jpeg", "TIFF16": "tiff"}[c.name]}
			for b.Loop() {
				if err := Encode(io.Discard, im, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
