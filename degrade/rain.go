package degrade

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/parallel"
)

// RainParams are the reference's rain streak parameters.
type RainParams struct {
	Width  int `json:"width"`  // Gaussian widening kernel size, odd (reference: 3..11)
	Length int `json:"length"` // streak length in pixels, 1..99 (reference: 20..40)
	Angle  int `json:"angle"`  // streak angle in degrees (reference: -45..44)
	Value  int `json:"value"`  // density: keeps about Value/25600 of the pixels as seeds (50..99 In-Dis, 100..149 Out-Dis)
}

func (p RainParams) validate() error {
	switch {
	case p.Width < 1 || p.Width%2 == 0:
		return fmt.Errorf("%w: rain width %d (want odd and >= 1)", ErrParam, p.Width)
	case p.Length < 1 || p.Length >= 100:
		return fmt.Errorf("%w: rain length %d (want 1..99)", ErrParam, p.Length)
	case p.Value < 0 || p.Value > 25600:
		return fmt.Errorf("%w: rain value %d (want 0..25600)", ErrParam, p.Value)
	}
	return nil
}

// RainKernel builds the reference's motion kernel (rain_blur): an LxL
// identity matrix warped by OpenCV's getRotationMatrix2D((L/2, L/2),
// angle-45, 1-L/100) with cv2.warpAffine's bilinear interpolation (1/32
// pixel fixed-point coordinates, zero border), then cv2.GaussianBlur with a
// width x width kernel and sigma derived from the size (reflect-101
// borders). It is not normalised. Row-major, L*L values.
func RainKernel(p RainParams) ([]float64, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	L := p.Length
	// getRotationMatrix2D; the centre is a float32 point.
	cx := float64(float32(float64(L) / 2))
	ang := float64(p.Angle-45) * math.Pi / 180
	sc := 1 - float64(L)/100
	alpha, beta := math.Cos(ang)*sc, math.Sin(ang)*sc
	M := [6]float64{alpha, beta, (1-alpha)*cx - beta*cx, -beta, alpha, beta*cx + (1-alpha)*cx}
	// Invert (warpAffine without WARP_INVERSE_MAP).
	D := M[0]*M[4] - M[1]*M[3]
	if D != 0 {
		D = 1 / D
	}
	a11, a22 := M[4]*D, M[0]*D
	M[0] = a11
	M[1] *= -D
	M[3] *= -D
	M[4] = a22
	b1 := -M[0]*M[2] - M[1]*M[5]
	b2 := -M[3]*M[2] - M[4]*M[5]
	M[2], M[5] = b1, b2

	const abBits, interBits, tab = 10, 5, 32
	const abScale = 1 << abBits
	const roundDelta = abScale / tab / 2
	src := func(x, y int) float64 {
		if x >= 0 && y >= 0 && x < L && y < L && x == y {
			return 1
		}
		return 0
	}
	k := make([]float64, L*L)
	for y := 0; y < L; y++ {
		X0 := satInt((M[1]*float64(y)+M[2])*abScale) + roundDelta
		Y0 := satInt((M[4]*float64(y)+M[5])*abScale) + roundDelta
		for x := 0; x < L; x++ {
			X := (X0 + satInt(M[0]*float64(x)*abScale)) >> (abBits - interBits)
			Y := (Y0 + satInt(M[3]*float64(x)*abScale)) >> (abBits - interBits)
			sx, sy := X>>interBits, Y>>interBits
			fx := float32(X&(tab-1)) * (1.0 / tab)
			fy := float32(Y&(tab-1)) * (1.0 / tab)
			w0, w1 := (1-fy)*(1-fx), (1-fy)*fx
			w2, w3 := fy*(1-fx), fy*fx
			if sx >= L || sx+1 < 0 || sy >= L || sy+1 < 0 {
				continue // constant border: 0
			}
			k[y*L+x] = src(sx, sy)*float64(w0) + src(sx+1, sy)*float64(w1) +
				src(sx, sy+1)*float64(w2) + src(sx+1, sy+1)*float64(w3)
		}
	}
	g := cvGaussianKernel(p.Width)
	return sepFilter64(k, L, L, g, g), nil
}

// satInt is OpenCV's saturate_cast<int>(double): round half to even.
func satInt(v float64) int { return int(math.RoundToEven(v)) }

// cvGaussianKernel is cv2.getGaussianKernel(n, 0): the fixed binomial
// tables for n <= 7, otherwise sigma = 0.3*((n-1)*0.5-1)+0.8, normalised.
func cvGaussianKernel(n int) []float64 {
	switch n {
	case 1:
		return []float64{1}
	case 3:
		return []float64{0.25, 0.5, 0.25}
	case 5:
		return []float64{0.0625, 0.25, 0.375, 0.25, 0.0625}
	case 7:
		return []float64{0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125}
	}
	sigma := 0.3*(float64(n-1)*0.5-1) + 0.8
	s2 := -0.5 / (sigma * sigma)
	k := make([]float64, n)
	var sum float64
	for i := range k {
		x := float64(i) - float64(n-1)*0.5
		k[i] = math.Exp(s2 * x * x)
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// sepFilter64 filters a w x h float64 plane with centred odd kernels
// (kx along rows, then ky along columns), reflect-101 borders.
func sepFilter64(p []float64, w, h int, kx, ky []float64) []float64 {
	rx, ry := len(kx)/2, len(ky)/2
	tmp := make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for j, k := range kx {
				s += k * p[y*w+reflect101(x+j-rx, w)]
			}
			tmp[y*w+x] = s
		}
	}
	out := make([]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for j, k := range ky {
				s += k * tmp[reflect101(y+j-ry, h)*w+x]
			}
			out[y*w+x] = s
		}
	}
	return out
}

// RainSeedMap draws the reference's seed map: U(0,256) per pixel, w x h,
// row-major, from a math/rand/v2 PCG stream seeded by seed.
func RainSeedMap(w, h int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x7261696e))
	m := make([]float64, w*h)
	for i := range m {
		m[i] = rng.Float64() * 256
	}
	return m
}

// RainStreaks computes the reference's streak layer (uint8, w x h,
// row-major; the reference repeats it to the three channels) from a seed
// map of U(0,256) values: values below 256 - value/100 are zeroed, the map
// is filtered with [[0,.1,0],[.1,8,.1],[0,.1,0]], then correlated with
// RainKernel (anchor L/2, reflect-101 borders), min-max normalised to
// 0..255 and truncated to uint8.
func RainStreaks(seedMap []float64, w, h int, p RainParams) ([]uint8, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%w: rain seed map %dx%d", ErrEmptyImage, w, h)
	}
	if len(seedMap) != w*h {
		return nil, fmt.Errorf("%w: rain seed map has %d values for %dx%d", ErrParam, len(seedMap), w, h)
	}
	thr := 256 - float64(p.Value)*0.01
	// Sparse seeds after thresholding.
	type pt struct{ x, y int }
	var seeds []pt
	for i, v := range seedMap {
		if math.IsNaN(v) {
			return nil, fmt.Errorf("%w: rain seed map value %d", ErrNaN, i)
		}
		if v >= thr {
			seeds = append(seeds, pt{i % w, i / w})
		}
	}
	// 3x3 filter (reflect-101), evaluated only where a seed is in reach.
	s1 := make([]float64, w*h)
	val := func(x, y int) float64 {
		v := seedMap[reflect101(y, h)*w+reflect101(x, w)]
		if v < thr {
			return 0
		}
		return v
	}
	touched := make([]bool, w*h)
	for _, s := range seeds {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				// Pixels whose 3x3 window reaches the seed; at the border a
				// reflected read lands on a pixel already listed here.
				x, y := s.x+dx, s.y+dy
				if x >= 0 && y >= 0 && x < w && y < h {
					touched[y*w+x] = true
				}
			}
		}
	}
	for i, t := range touched {
		if !t {
			continue
		}
		x, y := i%w, i/w
		s1[i] = 0.1*val(x, y-1) + 0.1*val(x-1, y) + 8*val(x, y) + 0.1*val(x+1, y) + 0.1*val(x, y+1)
	}
	k, err := RainKernel(p)
	if err != nil {
		return nil, err
	}
	L := p.Length
	a := L / 2
	// Rows of non-zero values of s1 .
	nz := make([][]int32, h)
	for i, v := range s1 {
		if v != 0 {
			nz[i/w] = append(nz[i/w], int32(i%w))
		}
	}
	// For each source column, the virtual columns u (reflect101(u) == sx)
	// that some output pixel reads: u in [-a, w-1+L-1-a].
	virt := make([][]int, w)
	for u := -a; u <= w-1+L-1-a; u++ {
		sx := reflect101(u, w)
		virt[sx] = append(virt[sx], u)
	}
	out := make([]float64, w*h)
	// dst(x,y) = sum_{i,j} k[i][j] * S(x+j-a, y+i-a). Workers own output
	// row ranges; each pixel's contributions come in the same order whatever
	// the split, so results are deterministic.
	parallel.For(h, 8, func(y0, y1 int) {
		for v := y0 - a; v <= y1-1-a+L-1; v++ {
			sy := reflect101(v, h)
			for _, sx := range nz[sy] {
				s := s1[sy*w+int(sx)]
				for _, u := range virt[sx] {
					for i := 0; i < L; i++ {
						y := v - i + a
						if y < y0 || y >= y1 {
							continue
						}
						orow := out[y*w : (y+1)*w]
						krow := k[i*L : (i+1)*L]
						jlo := max(0, u+a-(w-1))
						jhi := min(L-1, u+a)
						for j := jlo; j <= jhi; j++ {
							orow[u-j+a] += krow[j] * s
						}
					}
				}
			}
		}
	})
	// Min-max normalisation to 0..255 and truncation.
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, v := range out {
		mn = min(mn, v)
		mx = max(mx, v)
	}
	scale := 0.0
	if mx-mn > 2.220446049250313e-16 {
		scale = 255 * (1 / (mx - mn))
	}
	shift := 0 - mn*scale
	res := make([]uint8, w*h)
	for i, v := range out {
		f := v*scale + shift
		switch {
		case f <= 0:
			res[i] = 0
		case f >= 255:
			res[i] = 255
		default:
			res[i] = uint8(f)
		}
	}
	return res, nil
}

// AddRainWith applies the reference rain (task r) with a given seed map
// (U(0,256) values, one per pixel of the mod-4-cropped image, row-major):
// the image is cropped top-left to multiples of 4, the streak layer
// (RainStreaks) is added to the 8-bit image in all three channels and
// clipped to 255. The output is on the 8-bit grid.
func AddRainWith(src *Image, p RainParams, seedMap []float64) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	return addRain(src, p, seedMap)
}

func addRain(src *Image, p RainParams, seedMap []float64) (*Image, error) {
	img := src.CropMod(4)
	if img.W == 0 || img.H == 0 {
		return nil, fmt.Errorf("%w: %dx%d is smaller than 4x4", ErrEmptyImage, src.W, src.H)
	}
	streaks, err := RainStreaks(seedMap, img.W, img.H, p)
	if err != nil {
		return nil, err
	}
	n := img.W * img.H
	dst := NewImage(img.W, img.H)
	for c := 0; c < 3; c++ {
		for i := 0; i < n; i++ {
			v := int(imgconv.Byte(img.Pix[c*n+i])) + int(streaks[i])
			dst.Pix[c*n+i] = imgconv.FromByte(uint8(min(v, 255)))
		}
	}
	return dst, nil
}

// AddRain applies the reference rain (task r), drawing the seed map with
// RainSeedMap(w, h, seed) on the mod-4-cropped size.
func AddRain(src *Image, p RainParams, seed uint64) (*Image, error) {
	if err := src.Validate(); err != nil {
		return nil, err
	}
	w, h := src.W-src.W%4, src.H-src.H%4
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("%w: %dx%d is smaller than 4x4", ErrEmptyImage, src.W, src.H)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return addRain(src, p, RainSeedMap(w, h, seed))
}
