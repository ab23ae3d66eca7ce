package degrade

import "testing"

// Per-operator benchmarks on a 512x512 image.
func BenchmarkOperators512(b *testing.B) {
	src := testPattern(512, 512)
	rp := RainParams{Width: 7, Length: 30, Angle: 10, Value: 75}
	cases := []struct {
		name string
		run  func() (*Image, error)
	}{
		{"SR", func() (*Image, error) { return SuperRes(src, 4, DownTorch) }},
		{"SRMatlab", func() (*Image, error) { return SuperRes(src, 4, DownMatlab) }},
		{"Blur21", func() (*Image, error) { return GaussianBlur(src, 21, 2) }},
		{"Noise", func() (*Image, error) { return GaussianNoise(src, 30, 1) }},
		{"JPEGDiff", func() (*Image, error) { return JPEGDiff(src, 50) }},
		{"JPEGCodec", func() (*Image, error) { return JPEGCodec(src, 50) }},
		{"Rain", func() (*Image, error) { return AddRain(src, rp, 1) }},
		{"HazePseudoDepth", func() (*Image, error) { return AddHaze(src, nil, 0.9, 1.5) }},
		{"LowLight", func() (*Image, error) { return LowLightGamma(src, 2) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(src.Pix)))
			for b.Loop() {
				if _, err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAllTasks512 runs the seven sampled degradations of one 512x512
// image, as examples/degrade does per image (without file I/O).
func BenchmarkAllTasks512(b *testing.B) {
	src := testPattern(512, 512)
	s := NewSampler(InDis(), 1)
	for b.Loop() {
		for _, t := range AllTasks() {
			if _, _, err := s.Degrade(src, t, 3, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkBytes512(b *testing.B) {
	m := testPattern(512, 512)
	for b.Loop() {
		m.Bytes()
	}
}
