package degrade_test

import (
	"fmt"

	"github.com/gomioir/gomioir/degrade"
)

// A small grey gradient to degrade.
func gradient(w, h int) *degrade.Image {
	m := degrade.NewImage(w, h)
	for c := 0; c < 3; c++ {
		p := m.Plane(c)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p[y*w+x] = float32(x*255/(w-1)) / 255
			}
		}
	}
	return m
}

func ExampleParseTasks() {
	ts, _ := degrade.ParseTasks("sbnjrhd")
	for _, t := range ts {
		fmt.Printf("%c %-5s prompt %d\n", t.Code(), t, t.PromptIndex())
	}
	// Output:
	// s sr    prompt 6
	// b blur  prompt 0
	// n noise prompt 1
	// j jpeg  prompt 2
	// r rain  prompt 3
	// h haze  prompt 4
	// d dark  prompt 5
}

func ExampleLowLightGamma() {
	img := gradient(6, 1)
	dark, _ := degrade.LowLightGamma(img, 2)
	fmt.Println("in: ", rowBytes(img))
	fmt.Println("out:", rowBytes(dark))
	// Output:
	// in:  [0 51 102 153 204 255]
	// out: [0 10 41 92 163 255]
}

// rowBytes returns the red channel of the first row as 8-bit values.
func rowBytes(m *degrade.Image) []byte {
	b := m.Bytes()
	r := make([]byte, m.W)
	for x := range r {
		r[x] = b[3*x]
	}
	return r
}

func ExampleSampler() {
	s := degrade.NewSampler(degrade.InDis(), 42)
	p1, _ := s.Draw(degrade.Blur, degrade.Key("0001.png"))
	p2, _ := s.Draw(degrade.Blur, degrade.Key("0001.png"))
	fmt.Println(p1 == p2, p1.KernelSize%2 == 1, p1.BlurSigma >= 1 && p1.BlurSigma <= 3)

	img := gradient(64, 64)
	out, p, _ := s.Degrade(img, degrade.JPEG, degrade.Key("0001.png"), nil)
	fmt.Println(p.Task, p.Quality >= 30 && p.Quality <= 70, out.W, out.H)
	// Output:
	// true true true
	// jpeg true 64 64
}

func ExampleGaussianBlur() {
	img := degrade.NewImage(9, 9)
	img.Plane(0)[4*9+4] = 1 // a single red dot
	out, _ := degrade.GaussianBlur(img, 3, 1)
	b := out.Bytes()
	fmt.Println(b[3*(4*9+4)], b[3*(4*9+3)], b[3*(3*9+3)])
	// Output:
	// 52 32 19
}

func ExampleAddHaze() {
	img := degrade.NewImage(8, 8)                                    // black
	depth := &degrade.DepthMap{W: 2, H: 2, D: []float64{1, 1, 1, 1}} // quarter size, constant
	out, _ := degrade.AddHaze(img, depth, 1.0, 1.0)
	// t = exp(-1): black becomes 255*(1-exp(-1)) = 161.2
	fmt.Println(out.Bytes()[0])
	// Output:
	// 161
}
