package data

import (
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomioir/gomioir/degrade"
)

// photo returns a deterministic photo-like 8-bit image: smooth gradients, a
// few edges and texture.
func photo(w, h int, seed uint64) *degrade.Image {
	r := rand.New(rand.NewPCG(seed, 7))
	m := degrade.NewImage(w, h)
	n := w * h
	for c := range 3 {
		for y := range h {
			for x := range w {
				v := 0.45 + 0.25*math.Sin(float64(x)*0.05+float64(c)+float64(seed)) +
					0.15*math.Cos(float64(y)*0.07*float64(c+1))
				if (x/37+y/29)%3 == 0 {
					v += 0.1
				}
				v += 0.05 * r.Float64()
				m.Pix[c*n+y*w+x] = float32(v)
			}
		}
	}
	return m.Quantize8()
}

func writePNG(t testing.TB, path string, m *degrade.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, m.ToImage()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// rampSource is an in-memory Source whose GT pixel (x, y) of channel c holds
// the exact float32 integer x + 1024*y + 2^20*c and whose LQ is GT + 0.5, so
// every output value tells where it came from.
type rampSource struct {
	tasks []degrade.Task
	n     int // images per task
	w, h  int
}

func (s *rampSource) Tasks() []degrade.Task { return s.tasks }
func (s *rampSource) Len(t degrade.Task) int {
	for _, u := range s.tasks {
		if u == t {
			return s.n
		}
	}
	return 0
}
func (s *rampSource) Name(t degrade.Task, i int) string     { return t.Name() + "/" + string(rune('a'+i)) }
func (s *rampSource) Size(t degrade.Task, i int) (w, h int) { return s.w, s.h }
func rampValue(x, y, c int) float32                         { return float32(x + 1024*y + (1<<20)*c) }
func rampDecode(v float32) (x, y, c int)                    { i := int(v); return i % 1024, (i / 1024) % 1024, i >> 20 }
func (s *rampSource) Patch(t degrade.Task, i int, r image.Rectangle, key uint64) (lq, gt *degrade.Image, err error) {
	gt = degrade.NewImage(r.Dx(), r.Dy())
	lq = degrade.NewImage(r.Dx(), r.Dy())
	n := r.Dx() * r.Dy()
	for c := range 3 {
		for y := range r.Dy() {
			for x := range r.Dx() {
				v := rampValue(r.Min.X+x, r.Min.Y+y, c)
				gt.Pix[c*n+y*r.Dx()+x] = v
				lq.Pix[c*n+y*r.Dx()+x] = v + 0.5
			}
		}
	}
	return lq, gt, nil
}

// cropOf crops m to r (a copy).
func cropOf(m *degrade.Image, r image.Rectangle) *degrade.Image { return m.Crop(r) }

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
