package metrics

import (
	"errors"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
)

// randomRGB8 returns a w x h image of smooth structure plus noise, seeded.
func randomRGB8(w, h int, seed uint64) *RGB8 {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := NewRGB8(w, h)
	for c := range 3 {
		p := m.Plane(c)
		for y := range h {
			for x := range w {
				v := 128 + 90*math.Sin(float64(x)/9+float64(c))*math.Cos(float64(y)/13) + 25*rng.NormFloat64()
				p[y*w+x] = uint8(min(255, max(0, math.Round(v))))
			}
		}
	}
	return m
}

// toNRGBA converts an RGB8 to an opaque *image.NRGBA.
func toNRGBA(m *RGB8) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, m.W, m.H))
	for y := range m.H {
		for x := range m.W {
			i := y*m.W + x
			out.SetNRGBA(x, y, color.NRGBA{m.Plane(0)[i], m.Plane(1)[i], m.Plane(2)[i], 255})
		}
	}
	return out
}

// directSSIM is a plain reference of BasicSR's _ssim on one channel: the
// full 2D 11x11 window (outer product), filtered directly over the valid
// region. It checks the separable implementation.
func directSSIM(x, y []float64, w, h int) float64 {
	var win [ssimWindow][ssimWindow]float64
	for i := range ssimWindow {
		for j := range ssimWindow {
			win[i][j] = gauss[i] * gauss[j]
		}
	}
	var sum float64
	for i := 0; i+ssimWindow <= h; i++ {
		for j := 0; j+ssimWindow <= w; j++ {
			var m1, m2, e11, e22, e12 float64
			for u := range ssimWindow {
				for v := range ssimWindow {
					g := win[u][v]
					a, b := x[(i+u)*w+j+v], y[(i+u)*w+j+v]
					m1 += g * a
					m2 += g * b
					e11 += g * a * a
					e22 += g * b * b
					e12 += g * a * b
				}
			}
			s11, s22, s12 := e11-m1*m1, e22-m2*m2, e12-m1*m2
			sum += ((2*m1*m2 + ssimC1) * (2*s12 + ssimC2)) / ((m1*m1 + m2*m2 + ssimC1) * (s11 + s22 + ssimC2))
		}
	}
	return sum / float64((w-10)*(h-10))
}

// planes64 returns the cropped channels of m as float64 planes (RGB, or Y).
func planes64(m *RGB8, crop int, y bool) [][]float64 {
	w, h := m.W-2*crop, m.H-2*crop
	r := &region{a: m, b: m, crop: crop, w: w, h: h, y: y}
	var out [][]float64
	for c := range r.channels() {
		p := make([]float64, w*h)
		for i := range h {
			r.row(m, c, i, p[i*w:(i+1)*w])
		}
		out = append(out, p)
	}
	return out
}

func TestSeparableMatchesDirect2D(t *testing.T) {
	a := randomRGB8(47, 33, 1)
	b := randomRGB8(47, 33, 2)
	for _, crop := range []int{0, 4} {
		for _, y := range []bool{false, true} {
			pa, pb := planes64(a, crop, y), planes64(b, crop, y)
			var want float64
			for c := range pa {
				want += directSSIM(pa[c], pb[c], a.W-2*crop, a.H-2*crop)
			}
			want /= float64(len(pa))
			got, err := Measure(a, b, &Options{CropBorder: crop, YChannel: y})
			require.NoError(t, err)
			require.InDelta(t, want, got.SSIM, 1e-12, "crop %d y %v", crop, y)
		}
	}
}

func TestGaussianWindow(t *testing.T) {
	k := gauss
	require.Len(t, k, 11)
	var sum float64
	for i, v := range k {
		require.Equal(t, v, k[10-i], "symmetric")
		sum += v
	}
	require.InDelta(t, 1, sum, 1e-15)
	// cv2.getGaussianKernel(11, 1.5)[5] and [0].
	require.InDelta(t, 0.26601172486179436, k[5], 1e-16)
	require.InDelta(t, 0.00102838008447911, k[0], 1e-17)
}

func TestPSNRHandComputed(t *testing.T) {
	// A 3x2 pair differing by 3 in one sample of one channel: MSE = 9/18.
	a, b := NewRGB8(3, 2), NewRGB8(3, 2)
	for i := range a.Pix {
		a.Pix[i], b.Pix[i] = 100, 100
	}
	b.Pix[7] = 103
	got, err := Measure(a, b, &Options{PSNROnly: true})
	require.NoError(t, err)
	require.InDelta(t, 10*math.Log10(255*255/0.5), got.PSNR, 1e-12)
	require.Zero(t, got.SSIM)
	// Crop 1 of a 3x3 pair keeps only the centre pixel.
	a, b = NewRGB8(3, 3), NewRGB8(3, 3)
	b.Plane(1)[0] = 200 // corner: cropped away
	b.Plane(2)[4] = 5   // centre, blue: MSE = 25/3
	got, err = Measure(a, b, &Options{CropBorder: 1, PSNROnly: true})
	require.NoError(t, err)
	require.InDelta(t, 10*math.Log10(255*255/(25.0/3)), got.PSNR, 1e-12)
}

func TestLuma(t *testing.T) {
	require.InDelta(t, 16.0, Luma(0, 0, 0), 1e-5)
	require.InDelta(t, 235.0, Luma(255, 255, 255), 1e-4)
	// Pure red: 16 + 65.481 (float32 rounding of the /255 scale).
	require.InDelta(t, 81.481, Luma(255, 0, 0), 1e-4)
	// The value is a float32 times 255 in float32, so exactly a float32.
	v := Luma(12, 200, 77)
	require.Equal(t, v, float64(float32(v)))
}

func TestIdenticalImages(t *testing.T) {
	a := randomRGB8(40, 30, 3)
	for _, y := range []bool{false, true} {
		res, err := Measure(a, a, &Options{CropBorder: 4, YChannel: y})
		require.NoError(t, err)
		require.True(t, math.IsInf(res.PSNR, 1))
		require.InDelta(t, 1, res.SSIM, 1e-15)
	}
}

func TestNilOptionsIsPaperDefault(t *testing.T) {
	a, b := randomRGB8(64, 48, 4), randomRGB8(64, 48, 5)
	def := DefaultOptions()
	require.Equal(t, Options{CropBorder: 4}, def)
	p1, err := Measure(a, b, nil)
	require.NoError(t, err)
	p2, err := Measure(a, b, &def)
	require.NoError(t, err)
	require.Equal(t, p1, p2)
	p0, err := Measure(a, b, &Options{})
	require.NoError(t, err)
	require.NotEqual(t, p0.PSNR, p1.PSNR)
}

func TestInputTypesAgree(t *testing.T) {
	m := randomRGB8(29, 23, 6)
	ref := randomRGB8(29, 23, 7)
	want, err := Measure(m, ref, nil)
	require.NoError(t, err)

	nrgba := toNRGBA(m)
	rgba := image.NewRGBA(image.Rect(10, 20, 39, 43)) // non-zero origin
	rgba64 := image.NewRGBA64(nrgba.Bounds())
	for y := range m.H {
		for x := range m.W {
			rgba.Set(10+x, 20+y, nrgba.At(x, y))
			rgba64.Set(x, y, nrgba.At(x, y))
		}
	}
	for name, img := range map[string]image.Image{"NRGBA": nrgba, "RGBA": rgba, "RGBA64": rgba64} {
		got, err := Measure(img, toNRGBA(ref), nil)
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
	}

	// Float images holding k/255 round back to the same bytes.
	toFloat := func(m *RGB8) *degrade.Image {
		f := degrade.NewImage(m.W, m.H)
		for i, v := range m.Pix {
			f.Pix[i] = float32(v) / 255
		}
		return f
	}
	got, err := MeasureFloat(toFloat(m), toFloat(ref), nil)
	require.NoError(t, err)
	require.Equal(t, want, got)
	p, err := MeasureFloat(toFloat(m), toFloat(ref), &Options{CropBorder: PaperCropBorder, PSNROnly: true})
	require.NoError(t, err)
	require.Equal(t, Result{PSNR: want.PSNR}, p)

	// An RGB8 is an image.Image with the same pixels, and ToRGB8 returns it
	// as it is.
	require.Equal(t, color.NRGBA{m.Pix[0], m.Pix[m.W*m.H], m.Pix[2*m.W*m.H], 255}, m.At(0, 0))
	require.Equal(t, color.NRGBA{}, m.At(-1, 0))
	again, err := ToRGB8(m)
	require.NoError(t, err)
	require.Same(t, m, again)
	got, err = Measure(nrgba, ref, nil)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestFromImageVariants(t *testing.T) {
	// Alpha is dropped: a non-premultiplied sample keeps its colour.
	n := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	n.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0})
	m, err := ToRGB8(n)
	require.NoError(t, err)
	require.Equal(t, []uint8{200, 100, 50}, m.Pix)
	// Premultiplied RGBA with alpha is un-premultiplied.
	r := image.NewRGBA(image.Rect(0, 0, 1, 1))
	r.SetRGBA(0, 0, color.RGBA{100, 50, 25, 128})
	m, err = ToRGB8(r)
	require.NoError(t, err)
	require.Equal(t, []uint8{199, 99, 49}, m.Pix)
	// Gray replicates.
	g := image.NewGray(image.Rect(0, 0, 2, 1))
	g.Pix[0], g.Pix[1] = 7, 250
	m, err = ToRGB8(g)
	require.NoError(t, err)
	require.Equal(t, []uint8{7, 250, 7, 250, 7, 250}, m.Pix)
	// YCbCr uses the standard library's conversion.
	yc := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	for i := range yc.Y {
		yc.Y[i] = uint8(60 + 40*i)
	}
	yc.Cb[0], yc.Cr[0] = 90, 170
	m, err = ToRGB8(yc)
	require.NoError(t, err)
	for i := range 4 {
		R, G, B := color.YCbCrToRGB(uint8(60+40*i), 90, 170)
		require.Equal(t, []uint8{R, G, B}, []uint8{m.Pix[i], m.Pix[4+i], m.Pix[8+i]})
	}
	// 16-bit samples round to the nearest 8-bit value.
	g16 := image.NewGray16(image.Rect(0, 0, 1, 1))
	g16.SetGray16(0, 0, color.Gray16{Y: 0x8080 + 0x7f})
	m, err = ToRGB8(g16)
	require.NoError(t, err)
	require.Equal(t, []uint8{0x80, 0x80, 0x80}, m.Pix)
}

func TestErrors(t *testing.T) {
	a := randomRGB8(20, 16, 8)
	isErr := func(err, sentinel error) {
		t.Helper()
		require.Error(t, err)
		require.ErrorIs(t, err, sentinel)
		var e *Error
		require.True(t, errors.As(err, &e))
		require.NotEmpty(t, e.Op)
		require.Contains(t, err.Error(), "metrics:")
	}
	_, err := Measure(a, randomRGB8(16, 20, 9), nil)
	isErr(err, ErrSizeMismatch)
	_, err = Measure(toNRGBA(a), image.NewNRGBA(image.Rect(0, 0, 20, 15)), nil)
	isErr(err, ErrSizeMismatch)
	_, err = Measure((*RGB8)(nil), a, nil)
	isErr(err, ErrEmpty)
	_, err = Measure(image.NewNRGBA(image.Rect(0, 0, 0, 5)), toNRGBA(a), nil)
	isErr(err, ErrEmpty)
	_, err = Measure(nil, toNRGBA(a), nil)
	isErr(err, ErrEmpty)
	_, err = ToRGB8(nil)
	isErr(err, ErrEmpty)
	_, err = Measure(&RGB8{W: 2, H: 2, Pix: make([]uint8, 11)}, a, nil)
	isErr(err, ErrLength)
	_, err = Measure(a, a, &Options{CropBorder: -1})
	isErr(err, ErrCrop)
	_, err = Measure(a, a, &Options{CropBorder: 8, PSNROnly: true}) // 20x16 minus 2*8 rows: nothing left
	isErr(err, ErrCrop)
	p, err := Measure(a, randomRGB8(20, 16, 10), &Options{CropBorder: 7, PSNROnly: true}) // 6x2 left: fine for PSNR
	require.NoError(t, err)
	require.False(t, math.IsNaN(p.PSNR))
	_, err = Measure(a, a, &Options{CropBorder: 3}) // 14x10 < 11x11
	isErr(err, ErrTooSmall)
	s, err := Measure(a, a, &Options{CropBorder: 2}) // 16x12: 6x2 valid SSIM map
	require.NoError(t, err)
	require.InDelta(t, 1, s.SSIM, 1e-15)

	// NaN in a float image, reported at its first position.
	f := degrade.NewImage(5, 4)
	f.Pix[20+7] = float32(math.NaN()) // G plane, pixel (2,1)
	f.Pix[40+1] = float32(math.NaN())
	_, err = MeasureFloat(f, degrade.NewImage(5, 4), &Options{PSNROnly: true})
	isErr(err, ErrNaN)
	require.Contains(t, err.Error(), "channel 1 pixel (2,1)")
	_, err = fromCHW("test", 5, 4, f.Pix[:59])
	isErr(err, ErrLength)
	_, err = MeasureFloat(&degrade.Image{W: 5, H: 4, Pix: f.Pix[:59]}, degrade.NewImage(5, 4), nil)
	isErr(err, ErrLength)
	_, err = fromCHW("test", 0, 4, nil)
	isErr(err, ErrEmpty)
	_, err = MeasureFloat(degrade.NewImage(5, 4), degrade.NewImage(4, 5), nil)
	isErr(err, ErrSizeMismatch)
	_, err = MeasureFloat(nil, degrade.NewImage(4, 5), nil)
	isErr(err, ErrEmpty)
	// Infinities clamp, as in tensor2img.
	g := degrade.NewImage(1, 1)
	g.Pix[0], g.Pix[1] = float32(math.Inf(1)), float32(math.Inf(-1))
	m, err := fromCHW("test", 1, 1, g.Pix)
	require.NoError(t, err)
	require.Equal(t, []uint8{255, 0, 0}, m.Pix)
}

// TestDeterministicAcrossGOMAXPROCS checks that splitting the work
// differently gives bit-identical results.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	a, b := randomRGB8(301, 157, 11), randomRGB8(301, 157, 12)
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var first []Result
	for _, procs := range []int{1, 2, 3, 8, 16} {
		runtime.GOMAXPROCS(procs)
		var got []Result
		for _, y := range []bool{false, true} {
			res, err := Measure(a, b, &Options{CropBorder: 4, YChannel: y})
			require.NoError(t, err)
			got = append(got, res)
		}
		if first == nil {
			first = got
		}
		require.Equal(t, first, got, "GOMAXPROCS %d", procs)
	}
}
