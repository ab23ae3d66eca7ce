package mioir

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/torch"
)

// reblurGain is the factor by which the reblur filter (the Gaussian minus
// the identity) scales the RMS of white noise: the square root of the sum
// of its squared 2-D taps, (sum k²)² - 2 k0² + 1.
func reblurGain() float64 {
	var s2 float64
	for _, v := range reblurKernel {
		s2 += float64(v) * float64(v)
	}
	k0 := float64(reblurKernel[reblurRadius])
	return math.Sqrt(s2*s2 - 2*k0*k0 + 1)
}

// TestReblurRMS: a Gaussian leaves flat and linear tiles as they are; on
// white noise the change has the filter's RMS; the 8-bit rounding alone
// (uniform over one level) reads the 0.27/255 the docs give; a tile too
// small for a whole kernel says nothing.
func TestReblurRMS(t *testing.T) {
	const h, w = 96, 128
	flat := make([]float32, h*w)
	ramp := make([]float32, h*w)
	noise := make([]float32, h*w)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range h {
		for j := range w {
			flat[i*w+j] = 0.4
			ramp[i*w+j] = 0.1 + 0.003*float32(i) + 0.002*float32(j)
			noise[i*w+j] = 0.5 + float32(0.05*rng.NormFloat64())
		}
	}
	for name, y := range map[string][]float32{"flat": flat, "ramp": ramp} {
		v, ok := reblurRMS(y, h, w)
		require.True(t, ok)
		require.Less(t, v, 1e-6, name)
	}
	v, ok := reblurRMS(noise, h, w)
	require.True(t, ok)
	require.InEpsilon(t, 0.05*reblurGain(), v, 0.02)
	require.InDelta(t, 0.27, reblurGain()/math.Sqrt(12), 0.005)

	_, ok = reblurRMS(flat[:12*w], 12, w)
	require.False(t, ok)
	_, ok = reblurRMS(flat[:h*12], h, 12)
	require.False(t, ok)
}

// TestReblurTrace: a sky (a smooth 8-bit gradient) reads under the default
// guard's 0.25/255, plain and blurred, and the guard refuses a blur choice
// on the blurred one; the blurred coffee photo, whose edges a blur still
// softens, reads several levels. Without MinReblur the same choice stands.
func TestReblurTrace(t *testing.T) {
	const n = 192
	sky := degrade.NewImage(n, n)
	r, g, b := sky.Plane(0), sky.Plane(1), sky.Plane(2)
	for i := range n {
		for j := range n {
			u, v := float32(i)/n, float32(j)/n
			r[i*n+j] = 0.35 + 0.25*u
			g[i*n+j] = 0.45 + 0.2*u + 0.05*v
			b[i*n+j] = 0.75 + 0.1*u
		}
	}
	sky = sky.Quantize8()
	blurredSky, err := degrade.GaussianBlur(sky, 15, 2.5)
	require.NoError(t, err)
	coffee := degradedCoffee(t)["blurred"]
	read := func(im *degrade.Image) (*torch.Tensor, *Traces) {
		x, err := torch.FromSlice(nil, im.CHW(), 1, 3, int64(im.H), int64(im.W))
		require.NoError(t, err)
		t.Cleanup(func() { x.Close() })
		tr, err := MeasureTraces(x)
		require.NoError(t, err)
		return x, tr
	}
	_, trSky := read(sky)
	xb, trBlurred := read(blurredSky.Quantize8())
	_, trCoffee := read(coffee)
	t.Logf("reblur x255: sky %.3f, blurred sky %.3f, blurred coffee %.3f", 255*trSky.Reblur, 255*trBlurred.Reblur, 255*trCoffee.Reblur)
	require.Less(t, trSky.Reblur, 0.25/255)
	require.Less(t, trBlurred.Reblur, 0.25/255)
	require.Greater(t, trCoffee.Reblur, 1.0/255)

	m := newGuardModel(t)
	pred := prediction(degrade.Blur, 0.9)
	gd := DefaultGuard()
	gd.MinAgree, gd.TraceModel = 0, nil // the classifier's own choice, through the checks
	fb, err := m.guard(xb, pred, gd)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Zero(t, fb.Use)
	require.Regexp(t, `^a blur changes it by 0\.\d{3}/255 < 0\.250/255: nothing a blur took$`, fb.Reason)
	gd.MinReblur = 0
	fb, err = m.guard(xb, pred, gd)
	require.NoError(t, err)
	require.Nil(t, fb, "without MinReblur the other checks let the blur choice through")
}
