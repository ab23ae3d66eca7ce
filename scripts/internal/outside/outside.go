// Package outside degrades images with code other than package degrade:
// JPEG by libjpeg-turbo's cjpeg and djpeg (Debian's libjpeg-turbo-progs) and
// by Go's image/jpeg, and Gaussian noise, blur, low light and haze by the
// short functions below. The measurement of the automatic task choice
// (scripts/autoeval) tests on them, and the classifier's varied training set
// (scripts/default-model/clsdata) draws from them, so that neither depends on
// the library's own simulation of a degradation alone.
package outside

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/gomioir/gomioir/degrade"
)

// HaveLibJPEG reports whether cjpeg and djpeg are on the PATH.
func HaveLibJPEG() bool {
	_, e1 := exec.LookPath("cjpeg")
	_, e2 := exec.LookPath("djpeg")
	return e1 == nil && e2 == nil
}

// LibJPEGOptions choose libjpeg-turbo's encoder and decoder settings.
type LibJPEGOptions struct {
	Sample   string // cjpeg -sample: "" (4:2:0), "1x1" (4:4:4), "2x1" (4:2:2)
	FloatDCT bool   // cjpeg and djpeg -dct float instead of the integer DCT
	NoSmooth bool   // djpeg -nosmooth: chroma replicated, not interpolated
}

// LibJPEG compresses with cjpeg at quality q and decodes with djpeg, through
// binary PPM.
func LibJPEG(m *degrade.Image, q int, o LibJPEGOptions) (*degrade.Image, error) {
	var ppm bytes.Buffer
	fmt.Fprintf(&ppm, "P6\n%d %d\n255\n", m.W, m.H)
	ppm.Write(toRGB(m))
	args := []string{"-quality", strconv.Itoa(q)}
	if o.Sample != "" {
		args = append(args, "-sample", o.Sample)
	}
	dargs := []string{"-ppm"}
	if o.FloatDCT {
		args = append(args, "-dct", "float")
		dargs = append(dargs, "-dct", "float")
	}
	if o.NoSmooth {
		dargs = append(dargs, "-nosmooth")
	}
	enc := exec.Command("cjpeg", args...)
	enc.Stdin = &ppm
	jpg, err := enc.Output()
	if err != nil {
		return nil, fmt.Errorf("cjpeg: %w", err)
	}
	dec := exec.Command("djpeg", dargs...)
	dec.Stdin = bytes.NewReader(jpg)
	out, err := dec.Output()
	if err != nil {
		return nil, fmt.Errorf("djpeg: %w", err)
	}
	return readPPM(out)
}

// toRGB returns interleaved 8-bit RGB.
func toRGB(m *degrade.Image) []byte {
	b := make([]byte, 0, 3*m.W*m.H)
	img := m.ToImage()
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			i := img.PixOffset(x, y)
			b = append(b, img.Pix[i], img.Pix[i+1], img.Pix[i+2])
		}
	}
	return b
}

func readPPM(b []byte) (*degrade.Image, error) {
	var w, h, maxv int
	r := bytes.NewReader(b)
	var magic string
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil || magic != "P6" || maxv != 255 {
		return nil, fmt.Errorf("djpeg: unexpected PPM header (%v)", err)
	}
	r.ReadByte() // the single whitespace after maxval
	pix := make([]byte, 3*w*h)
	if _, err := r.Read(pix); err != nil {
		return nil, err
	}
	m := degrade.NewImage(w, h)
	for i := 0; i < w*h; i++ {
		for c := 0; c < 3; c++ {
			m.Pix[c*w*h+i] = float32(pix[3*i+c]) / 255
		}
	}
	return m, nil
}

// GoJPEG compresses and decodes with Go's image/jpeg (4:2:0, chroma
// replicated on decoding).
func GoJPEG(m *degrade.Image, q int) (*degrade.Image, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m.ToImage(), &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	img, err := jpeg.Decode(&b)
	if err != nil {
		return nil, err
	}
	return degrade.FromImage(img), nil
}

// q8 rounds to the 8-bit grid, clamped.
func q8(v float64) float32 {
	return float32(math.RoundToEven(min(max(v, 0), 1)*255) / 255)
}

// Noise adds Gaussian noise of standard deviation sigma/255 per sample from
// math/rand/v2's PCG (not the degrade package's generator).
func Noise(m *degrade.Image, sigma float64, key uint64) *degrade.Image {
	rng := rand.New(rand.NewPCG(key, 0x6e6f697365))
	out := degrade.NewImage(m.W, m.H)
	for i, v := range m.Pix {
		out.Pix[i] = q8(float64(v) + rng.NormFloat64()*sigma/255)
	}
	return out
}

// LumaNoise adds the same Gaussian draw to the three channels of a pixel
// (grey grain, as a camera's luminance noise).
func LumaNoise(m *degrade.Image, sigma float64, key uint64) *degrade.Image {
	rng := rand.New(rand.NewPCG(key, 0x6c756d61))
	out := degrade.NewImage(m.W, m.H)
	n := m.W * m.H
	for i := range n {
		d := rng.NormFloat64() * sigma / 255
		for c := range 3 {
			out.Pix[c*n+i] = q8(float64(m.Pix[c*n+i]) + d)
		}
	}
	return out
}

// ShotNoise adds signal-dependent noise: standard deviation
// sqrt(a*x + (b/255)^2) at intensity x (Poisson-Gaussian, as a sensor's).
func ShotNoise(m *degrade.Image, a, b float64, key uint64) *degrade.Image {
	rng := rand.New(rand.NewPCG(key, 0x73686f74))
	out := degrade.NewImage(m.W, m.H)
	for i, v := range m.Pix {
		sd := math.Sqrt(a*float64(v) + (b/255)*(b/255))
		out.Pix[i] = q8(float64(v) + rng.NormFloat64()*sd)
	}
	return out
}

// Haze applies the atmospheric scattering model I = J t + A (1 - t) with a
// grey airlight A and a transmission t(row, rows) that depends on the row
// only, then rounds to 8 bits. Unlike degrade.AddHaze, whose depth comes
// partly from the photo's own dark channel (degrade.PseudoDepth, so that
// bright, grey content gets the thickest haze), nothing here reads the
// photo's content.
func Haze(m *degrade.Image, airlight float64, t func(row, rows int) float64) *degrade.Image {
	out := degrade.NewImage(m.W, m.H)
	n := m.W * m.H
	for y := range m.H {
		ty := t(y, m.H)
		for i := y * m.W; i < (y+1)*m.W; i++ {
			for c := range 3 {
				out.Pix[c*n+i] = q8(float64(m.Pix[c*n+i])*ty + airlight*(1-ty))
			}
		}
	}
	return out
}

// Pointwise applies f to every sample, then rounds to 8 bits.
func Pointwise(m *degrade.Image, f func(float64) float64) *degrade.Image {
	out := degrade.NewImage(m.W, m.H)
	for i, v := range m.Pix {
		out.Pix[i] = q8(f(float64(v)))
	}
	return out
}

// Kernel is a square odd-sided 2D kernel summing to 1.
type Kernel struct {
	r int
	w []float64
}

// GaussKernel is a Gaussian of standard deviation sigma, cut at 3 sigma.
func GaussKernel(sigma float64) Kernel {
	r := int(math.Ceil(3 * sigma))
	k := Kernel{r, make([]float64, (2*r+1)*(2*r+1))}
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			k.w[(y+r)*(2*r+1)+x+r] = math.Exp(-float64(x*x+y*y) / (2 * sigma * sigma))
		}
	}
	return k.normalised()
}

// DiskKernel is a uniform disk of radius r (defocus), with partial pixels at
// its edge from 4x4 supersampling.
func DiskKernel(r int) Kernel {
	k := Kernel{r, make([]float64, (2*r+1)*(2*r+1))}
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			in := 0
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					fx, fy := float64(x)+(float64(sx)+0.5)/4-0.5, float64(y)+(float64(sy)+0.5)/4-0.5
					if fx*fx+fy*fy <= float64(r*r)+0.25 {
						in++
					}
				}
			}
			k.w[(y+r)*(2*r+1)+x+r] = float64(in) / 16
		}
	}
	return k.normalised()
}

// MotionKernel is a line of the given length (pixels) at angle theta
// (radians), supersampled 8 times along its length (camera shake).
func MotionKernel(length, theta float64) Kernel {
	r := int(math.Ceil(length / 2))
	k := Kernel{r, make([]float64, (2*r+1)*(2*r+1))}
	steps := int(math.Ceil(length * 8))
	for i := 0; i <= steps; i++ {
		t := (float64(i)/float64(steps) - 0.5) * length
		x := int(math.Round(t * math.Cos(theta)))
		y := int(math.Round(t * math.Sin(theta)))
		k.w[(y+r)*(2*r+1)+x+r]++
	}
	return k.normalised()
}

func (k Kernel) normalised() Kernel {
	sum := 0.0
	for _, v := range k.w {
		sum += v
	}
	for i := range k.w {
		k.w[i] /= sum
	}
	return k
}

// Convolve filters each plane with k, mirroring at the borders (reflect
// without repeating the edge pixel).
func Convolve(m *degrade.Image, k Kernel) *degrade.Image {
	out := degrade.NewImage(m.W, m.H)
	mirror := func(i, n int) int {
		for i < 0 || i >= n {
			if i < 0 {
				i = -i
			}
			if i >= n {
				i = 2*(n-1) - i
			}
		}
		return i
	}
	side := 2*k.r + 1
	for c := 0; c < 3; c++ {
		p := m.Plane(c)
		o := out.Plane(c)
		for y := 0; y < m.H; y++ {
			for x := 0; x < m.W; x++ {
				s := 0.0
				for dy := -k.r; dy <= k.r; dy++ {
					row := mirror(y+dy, m.H) * m.W
					for dx := -k.r; dx <= k.r; dx++ {
						s += k.w[(dy+k.r)*side+dx+k.r] * float64(p[row+mirror(x+dx, m.W)])
					}
				}
				o[y*m.W+x] = q8(s)
			}
		}
	}
	return out
}

// SavePNG writes m as an 8-bit PNG, creating its folder.
func SavePNG(path string, m *degrade.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m.ToImage()); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
