package mioir

import (
	"image"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/torch"
)

// greyImage returns a (1, 3, h, w) tensor whose three channels all hold
// f(y, x), called once per pixel.
func greyImage(t *testing.T, h, w int, f func(y, x int) float32) *torch.Tensor {
	t.Helper()
	v := make([]float32, 3*h*w)
	for y := range h {
		for x := range w {
			g := f(y, x)
			for c := range 3 {
				v[c*h*w+y*w+x] = g
			}
		}
	}
	tt, err := torch.FromSlice(nil, v, 1, 3, int64(h), int64(w))
	require.NoError(t, err)
	t.Cleanup(tt.Close)
	return tt
}

// TestSignsNoise: grey Gaussian noise of sigma 0.05 on 0.5 reads as the
// 10th percentile of a block RMS over 64 coefficients of variance sigma^2,
// sigma * sqrt(chi2_64(0.1) / 64) = 0.884 sigma; its detail (diagonal over
// first-order Haar coefficients, all of variance sigma^2) is about 1. A
// noiseless ramp reads 0 for both.
func TestSignsNoise(t *testing.T) {
	const sigma = 0.05
	r := rand.New(rand.NewPCG(1, 2))
	noisy := greyImage(t, 600, 520, func(y, x int) float32 { return float32(0.5 + sigma*r.NormFloat64()) })
	s, err := measureSigns(noisy)
	require.NoError(t, err)
	require.InDelta(t, 0.884*sigma, s.noiseSigma, 0.02*sigma)
	require.InDelta(t, 1, s.detail, 0.03)
	require.Less(t, s.blockiness, 1.1)

	ramp := greyImage(t, 300, 300, func(y, x int) float32 { return float32(x) / 300 })
	s, err = measureSigns(ramp)
	require.NoError(t, err)
	require.InDelta(t, 0, s.noiseSigma, 1e-6)
	require.InDelta(t, 0, s.detail, 1e-6)

	// Enlarged by pixel repetition, the 2x2 cells are flat: no ratio, and
	// the detail check must pass (1), not refuse (0).
	r = rand.New(rand.NewPCG(9, 10))
	small := make([]float32, 150*150)
	for i := range small {
		small[i] = r.Float32()
	}
	repeated := greyImage(t, 300, 300, func(y, x int) float32 { return small[y/2*150+x/2] })
	s, err = measureSigns(repeated)
	require.NoError(t, err)
	require.Equal(t, 1.0, s.detail)
}

// TestSignsBlockiness: an image of constant 8x8 blocks changes only across
// the grid, so its blockiness is the mean jump over 1/255 (the median phase
// has no change); shifted by 3 pixels the grid is found at another phase.
// Without a grid every phase changes alike: uniform noise of width 0.1
// changes by 0.1/3 on average, so the ratio is near (0.1/3) / (0.1/3 +
// 1/255) = 0.895, under 1.
func TestSignsBlockiness(t *testing.T) {
	for _, shift := range []int{0, 3} {
		r := rand.New(rand.NewPCG(3, 4))
		vals := make([]float32, 64*64)
		for i := range vals {
			vals[i] = 0.4 + 0.2*r.Float32()
		}
		blocks := greyImage(t, 200, 200, func(y, x int) float32 { return vals[(y+shift)/8*64+(x+shift)/8] })
		s, err := measureSigns(blocks)
		require.NoError(t, err)
		require.Greater(t, s.blockiness, 10.0, "shift %d", shift)
	}
	r := rand.New(rand.NewPCG(5, 6))
	noise := greyImage(t, 200, 200, func(y, x int) float32 { return 0.5 + 0.1*r.Float32() })
	s, err := measureSigns(noise)
	require.NoError(t, err)
	require.InDelta(t, 0.895, s.blockiness, 0.03)
}

// upscaledNoise returns uniform grey noise of side x side pixels in
// [0.3, 0.7], enlarged x4 by the library's bicubic resize.
func upscaledNoise(t *testing.T, r *rand.Rand, side int) *torch.Tensor {
	t.Helper()
	lr := degrade.NewImage(side, side)
	for i := range lr.Pix {
		lr.Pix[i] = 0.3 + 0.4*r.Float32()
	}
	up, err := degrade.ResizeBicubic(lr, 4*side, 4*side)
	require.NoError(t, err)
	return greyImage(t, 4*side, 4*side, func(y, x int) float32 { return up.Pix[y*4*side+x] })
}

// TestSignsUpscale: white noise enlarged x4 with PyTorch's bicubic (the
// SR degradation's kernel) reads a strong period-4 trace and little period-8
// asymmetry (well under the guard's 0.2); the noise itself reads about 1;
// 8x8 blocks, a JPEG grid's extreme, read a high asymmetry.
func TestSignsUpscale(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	enlarged := upscaledNoise(t, r, 64)
	s, err := measureSigns(enlarged)
	require.NoError(t, err)
	require.Greater(t, s.upscale, 1.5)
	require.Less(t, s.gridAsymmetry, 0.1)

	noise := greyImage(t, 256, 256, func(y, x int) float32 { return 0.3 + 0.4*r.Float32() })
	s, err = measureSigns(noise)
	require.NoError(t, err)
	require.InDelta(t, 1, s.upscale, 0.05)
	require.Less(t, s.gridAsymmetry, 0.1)

	vals := make([]float32, 32*32)
	for i := range vals {
		vals[i] = 0.4 + 0.2*r.Float32()
	}
	blocks := greyImage(t, 256, 256, func(y, x int) float32 { return vals[y/8*32+x/8] })
	s, err = measureSigns(blocks)
	require.NoError(t, err)
	require.Greater(t, s.gridAsymmetry, 1.0)
}

// TestTileOrigins: at most four 256-pixel tiles, spread to both ends, on
// the 8-pixel grid.
func TestTileOrigins(t *testing.T) {
	require.Equal(t, []int64{0}, tileOrigins(200))
	require.Equal(t, []int64{0}, tileOrigins(256))
	require.Equal(t, []int64{0, 96}, tileOrigins(352))
	require.Equal(t, []int64{0, 248, 496, 744}, tileOrigins(1000))
	require.Equal(t, []int64{0, 1256, 2512, 3776}, tileOrigins(4032))
}

// TestGuardSigns: the measurements decide before the classifier: noise,
// JPEG blocks, underexposure and a tone curve's comb each choose their
// task whatever the classifier said, and a smooth image refuses a haze
// choice.
func TestGuardSigns(t *testing.T) {
	m := newGuardModel(t)
	g := DefaultGuard()
	g.MinAgree = 0     // the quadrants' votes need a trained classifier
	g.TraceModel = nil // the checks alone; TestGuardTraceModel tests it

	r := rand.New(rand.NewPCG(7, 8))
	noisy := greyImage(t, 96, 96, func(y, x int) float32 { return float32(0.5 + 0.08*r.NormFloat64()) })
	fb, err := m.guard(noisy, prediction(degrade.Haze, 1), g)
	require.NoError(t, err)
	require.Equal(t, degrade.Noise, fb.Use)
	require.Equal(t, degrade.Haze, fb.Chosen)
	require.Regexp(t, `^noise sigma \d+\.\d/255 >= 6\.0/255$`, fb.Reason)
	fb, err = m.guard(noisy, prediction(degrade.Noise, 1), g)
	require.NoError(t, err)
	require.Nil(t, fb, "the classifier already chose noise")

	blocky := greyImage(t, 96, 96, func(y, x int) float32 { return 0.3 + 0.05*float32((y/8+x/8)%3) })
	fb, err = m.guard(blocky, prediction(degrade.LowLight, 1), g)
	require.NoError(t, err)
	require.Equal(t, degrade.JPEG, fb.Use)
	require.Contains(t, fb.Reason, "JPEG blockiness")
	fb, err = m.guard(blocky, prediction(degrade.JPEG, 1), g)
	require.NoError(t, err)
	require.Nil(t, fb, "the classifier already chose JPEG, and the grid is there")

	dark := greyImage(t, 96, 96, func(y, x int) float32 { return 0.02 + 0.04*float32(x%5)/5 })
	fb, err = m.guard(dark, prediction(degrade.Blur, 1), g)
	require.NoError(t, err)
	require.Equal(t, degrade.LowLight, fb.Use)
	require.Regexp(t, `^mean brightness 0\.0\d\d <= 0\.100$`, fb.Reason)

	smooth := greyImage(t, 96, 96, func(y, x int) float32 { return 0.6 + 0.3*float32(x+y)/192 })
	fb, err = m.guard(smooth, prediction(degrade.Haze, 1), g)
	require.NoError(t, err)
	require.Zero(t, fb.Use)
	require.Regexp(t, `^detail 0\.\d+ < 0\.200$`, fb.Reason)
	// No grid at all: the classifier's JPEG choice is refused.
	fb, err = m.guard(smooth, prediction(degrade.JPEG, 1), g)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Zero(t, fb.Use)
	require.Regexp(t, `^JPEG blockiness 0\.\d\d < 1\.00$`, fb.Reason)

	// Blur needs no period of 4: an x4 upscale that the trace does not
	// choose SR for (here its threshold is out of reach) is refused, a
	// blurred image is not.
	r2 := rand.New(rand.NewPCG(9, 10))
	upscaled := upscaledNoise(t, r2, 24)
	noSR := *g
	noSR.UpscaleTrace = 100
	fb, err = m.guard(upscaled, prediction(degrade.Blur, 1), &noSR)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Zero(t, fb.Use)
	require.Regexp(t, `^x4 upscale trace [12]\.\d\d >= 1\.00$`, fb.Reason)
	fb, err = m.guard(upscaled, prediction(degrade.Blur, 1), g)
	require.NoError(t, err)
	require.Equal(t, degrade.SR, fb.Use, "the trace chooses SR from 1.3")
	sharp := degrade.NewImage(96, 96)
	for i := range sharp.Pix {
		sharp.Pix[i] = 0.3 + 0.4*r2.Float32()
	}
	soft, err := degrade.GaussianBlur(sharp, 9, 1.5)
	require.NoError(t, err)
	blurred := greyImage(t, 96, 96, func(y, x int) float32 { return soft.Pix[y*96+x] })
	fb, err = m.guard(blurred, prediction(degrade.Blur, 1), g)
	require.NoError(t, err)
	require.Nil(t, fb, "a blurred image has no period of 4")

	// Rain needs bright parallel lines: dark ones are refused.
	fb, err = m.guard(streakImage(t, -1, 5), prediction(degrade.Rain, 1), g)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Zero(t, fb.Use)
	require.Equal(t, "rain streaks in 0.00 of the windows < 0.20", fb.Reason)
	fb, err = m.guard(streakImage(t, 1, 5), prediction(degrade.Rain, 1), g)
	require.NoError(t, err)
	require.Nil(t, fb, "bright streaks in every window")

	// A darkened 8-bit photo: the tone curve's comb chooses low light
	// whatever the classifier said, even when the source's own noise
	// reads above the noise threshold; noise added after the curve fills
	// the comb, and the noise trace decides. A brighter image needs a
	// stronger comb: under it, the classifier's blur choice stands.
	coffee := degrade.FromImage(testutil.ReadPNG(t, "pretrained/testdata/heldout/coffee.png"))
	rocket := degrade.FromImage(testutil.ReadPNG(t, "pretrained/testdata/heldout/rocket.png"))
	grainy, err := degrade.GaussianNoise(rocket, 40, 5)
	require.NoError(t, err)
	for _, c := range []struct {
		name   string
		src    *degrade.Image
		gamma  float64
		noise  float64
		reason string // "": the classifier's choice stands
	}{
		{"darkened", coffee, 3.2, 0, `^tone curve comb 0\.9\d >= 0\.80, mean brightness 0\.4[0-4]\d <= 0\.450$`},
		{"grainy, darkened", grainy, 2.5, 0, `^tone curve comb 0\.9\d >= 0\.80, mean brightness 0\.[0-4]\d\d <= 0\.450$`},
		{"less darkened", coffee, 1.8, 0, `^tone curve comb 0\.9\d >= 0\.90, mean brightness 0\.5\d\d <= 0\.600$`},
		{"barely darkened", coffee, 1.3, 0, ""},
		{"darkened, then noisy", coffee, 3.2, 25, `^noise sigma \d+\.\d/255 >= 6\.0/255$`},
	} {
		m8, err := degrade.LowLightGamma(c.src, c.gamma)
		require.NoError(t, err)
		if c.noise > 0 {
			m8, err = degrade.GaussianNoise(m8, c.noise, 6)
			require.NoError(t, err)
		}
		x, err := torch.FromSlice(nil, m8.CHW(), 1, 3, int64(m8.H), int64(m8.W))
		require.NoError(t, err)
		defer x.Close()
		fb, err := m.guard(x, prediction(degrade.Blur, 1), g)
		require.NoError(t, err)
		if c.reason == "" {
			require.Nil(t, fb, c.name)
			continue
		}
		require.NotNil(t, fb, c.name)
		require.Regexp(t, c.reason, fb.Reason, c.name)
		if strings.HasPrefix(fb.Reason, "tone curve") {
			require.Equal(t, degrade.LowLight, fb.Use, c.name)
		} else {
			require.Equal(t, degrade.Noise, fb.Use, c.name)
		}
	}

	// Brighter than 0.6, the comb must be 0.95 and the image show no trace
	// of a JPEG grid: of two darkened crops of the README's sample, the one
	// whose blockiness reads 1.03 (under the grid threshold of 1.15, so
	// the comb is still consulted) keeps the classifier's JPEG choice.
	sample := degrade.FromImage(testutil.ReadPNG(t, "pretrained/sample/clean.png"))
	for _, c := range []struct {
		name     string
		at       image.Point
		blockLo  float64
		blockHi  float64
		lowLight bool
	}{
		{"no grid", image.Pt(128, 32), 0.9, 1, true},
		{"faint grid", image.Pt(0, 32), 1, 1.15, false},
	} {
		m8, err := degrade.LowLightGamma(sample.Crop(image.Rectangle{Min: c.at, Max: c.at.Add(image.Pt(96, 96))}), 1.7)
		require.NoError(t, err)
		x, err := torch.FromSlice(nil, m8.CHW(), 1, 3, int64(m8.H), int64(m8.W))
		require.NoError(t, err)
		defer x.Close()
		comb, err := toneCurveTrace(x)
		require.NoError(t, err)
		require.GreaterOrEqual(t, comb, 0.95, c.name)
		sg, err := measureSigns(x)
		require.NoError(t, err)
		require.True(t, sg.blockiness >= c.blockLo && sg.blockiness < c.blockHi, "%s: blockiness %.3f", c.name, sg.blockiness)
		fb, err := m.guard(x, prediction(degrade.JPEG, 1), g)
		require.NoError(t, err)
		if !c.lowLight {
			require.Nil(t, fb, c.name)
			continue
		}
		require.NotNil(t, fb, c.name)
		require.Equal(t, degrade.LowLight, fb.Use, c.name)
		require.Regexp(t, `^tone curve comb 0\.9\d >= 0\.95, mean brightness 0\.[67]\d\d <= 0\.800$`, fb.Reason, c.name)
	}

	// A zero Guard measures nothing and trusts the classifier.
	for _, x := range []*torch.Tensor{noisy, blocky, dark, smooth} {
		fb, err = m.guard(x, prediction(degrade.Haze, 1), &Guard{})
		require.NoError(t, err)
		require.Nil(t, fb)
	}
}
