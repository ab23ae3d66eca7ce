package mioir

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/torch"
)

// degradedCoffee returns the held-out coffee photo ("clean") and its
// versions darkened (gamma 3.2), noisy (sigma 25), JPEG (quality 10),
// rainy and hazy, by the library's own degradations.
func degradedCoffee(t *testing.T) map[string]*degrade.Image {
	clean := degrade.FromImage(testutil.ReadPNG(t, "pretrained/testdata/heldout/coffee.png"))
	dark, err := degrade.LowLightGamma(clean, 3.2)
	require.NoError(t, err)
	noisy, err := degrade.GaussianNoise(clean, 25, 4)
	require.NoError(t, err)
	jpeg, err := degrade.JPEGCodec(clean, 10)
	require.NoError(t, err)
	rainy, err := degrade.AddRain(clean, degrade.RainParams{Width: 5, Length: 30, Angle: 20, Value: 70}, 11)
	require.NoError(t, err)
	hazy, err := degrade.AddHaze(clean, nil, 0.9, 2)
	require.NoError(t, err)
	upscaled, err := degrade.SuperRes(clean, 4, degrade.DownTorch)
	require.NoError(t, err)
	blurred, err := degrade.GaussianBlur(clean, 15, 2.5)
	require.NoError(t, err)
	return map[string]*degrade.Image{"clean": clean, "dark": dark, "noisy": noisy, "jpeg": jpeg, "rainy": rainy, "hazy": hazy,
		"upscaled": upscaled.Quantize8(), "blurred": blurred.Quantize8()}
}

// TestMeasureTraces: on the held-out coffee photo and its degraded
// versions, each trace reads what its degradation leaves, and every field
// is the value the guard's own function gives on the same input.
func TestMeasureTraces(t *testing.T) {
	got := map[string]*Traces{}
	for name, m := range degradedCoffee(t) {
		x, err := torch.FromSlice(nil, m.CHW(), 1, 3, int64(m.H), int64(m.W))
		require.NoError(t, err)
		defer x.Close()
		tr, err := MeasureTraces(x)
		require.NoError(t, err)
		got[name] = tr
		t.Logf("%s: %+v", name, *tr)

		sg, err := measureSigns(x)
		require.NoError(t, err)
		require.Equal(t, sg.noiseSigma, tr.NoiseSigma, name)
		require.Equal(t, sg.blockiness, tr.JPEGBlockiness, name)
		require.Equal(t, sg.upscale, tr.UpscaleTrace, name)
		require.Equal(t, sg.gridAsymmetry, tr.GridAsymmetry, name)
		require.Equal(t, sg.detail, tr.Detail, name)
		require.Equal(t, sg.upscaleFit, tr.UpscaleFit, name)
		require.Equal(t, sg.reblur, tr.Reblur, name)
		for _, f := range []struct {
			got float64
			fn  func(*torch.Tensor) (float64, error)
		}{{tr.MeanBrightness, meanBrightness}, {tr.DarkChannel, darkChannel}, {tr.ToneCurveComb, toneCurveTrace}, {tr.RainStreaks, rainStreaks}} {
			want, err := f.fn(x)
			require.NoError(t, err)
			require.Equal(t, want, f.got, name)
		}
	}
	require.Less(t, got["clean"].NoiseSigma, 2.0/255)
	// Noise drawn per channel has 0.67 of its sigma in the luminance, and
	// the 10th percentile of 64-coefficient block RMS reads 0.88 of that.
	require.InDelta(t, 0.59*25.0/255, got["noisy"].NoiseSigma, 0.1*25.0/255)
	require.Less(t, got["clean"].JPEGBlockiness, 1.15)
	require.GreaterOrEqual(t, got["jpeg"].JPEGBlockiness, 1.15)
	require.Less(t, got["clean"].ToneCurveComb, 0.6)
	require.GreaterOrEqual(t, got["dark"].ToneCurveComb, 0.9)
	require.Less(t, got["dark"].MeanBrightness, got["clean"].MeanBrightness-0.2)
	require.LessOrEqual(t, got["clean"].RainStreaks, 0.25)
	require.GreaterOrEqual(t, got["rainy"].RainStreaks, 0.75)
	require.Greater(t, got["hazy"].DarkChannel, got["clean"].DarkChannel+0.2)
	// An x4 upscale fits its subspace at one phase down to the 8-bit
	// rounding; a blur as smooth fits no phase better than the others.
	require.Less(t, got["upscaled"].UpscaleFit, 0.4)
	require.Greater(t, got["blurred"].UpscaleFit, 0.9)
	require.Greater(t, got["clean"].UpscaleFit, 0.9)
}

// TestMeasureTracesInputs: a wrong shape and NaN are refused with an
// error; a 1x1 image is measured (too small to tell noise, streaks or what
// a blur could take).
func TestMeasureTracesInputs(t *testing.T) {
	gray, err := torch.FromSlice(nil, make([]float32, 64), 1, 1, 8, 8)
	require.NoError(t, err)
	defer gray.Close()
	_, err = MeasureTraces(gray)
	require.ErrorContains(t, err, "want (1, 3, H, W)")

	v := make([]float32, 3*16*16)
	v[5] = float32(math.NaN())
	nan, err := torch.FromSlice(nil, v, 1, 3, 16, 16)
	require.NoError(t, err)
	defer nan.Close()
	_, err = MeasureTraces(nan)
	require.ErrorContains(t, err, "NaN")

	one, err := torch.FromSlice(nil, []float32{0.5, 0.25, 1}, 1, 3, 1, 1)
	require.NoError(t, err)
	defer one.Close()
	tr, err := MeasureTraces(one)
	require.NoError(t, err)
	require.Equal(t, -1.0, tr.NoiseSigma)
	require.Equal(t, 0.0, tr.RainStreaks)
	require.Equal(t, 0.0, tr.ToneCurveComb)
	require.Equal(t, 1.0, tr.Reblur, "too small to tell: blur is not refused")
	require.InDelta(t, 1.0, tr.MeanBrightness, 1e-6)
	require.InDelta(t, 0.25, tr.DarkChannel, 1e-6)
}
