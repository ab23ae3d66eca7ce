package mioir

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/torch"
)

// toneTrace measures toneCurveTrace on m.
func toneTrace(t *testing.T, m *degrade.Image) float64 {
	t.Helper()
	x, err := torch.FromSlice(nil, m.CHW(), 1, 3, int64(m.H), int64(m.W))
	require.NoError(t, err)
	defer x.Close()
	v, err := toneCurveTrace(x)
	require.NoError(t, err)
	return v
}

// pointwise applies f to every value of m and quantises to 8 bits.
func pointwise(m *degrade.Image, f func(float64) float64) *degrade.Image {
	out := degrade.NewImage(m.W, m.H)
	for i, v := range m.Pix {
		out.Pix[i] = imgconv.Quantize(float32(f(float64(v))))
	}
	return out
}

// TestToneCurveTrace: on a held-out photo (128x128) and the README's
// sample (256x256), the library's gamma at values off the grid's steps
// leaves a comb that a curve of the grid explains, and so do exposure
// factors on the larger sample (their combs are fainter: each output code
// collects two or three inputs in a nearly regular pattern); the clean
// photos, their blurred and JPEG-compressed versions and the darkened
// photo after noise do not.
func TestToneCurveTrace(t *testing.T) {
	for _, path := range []string{"pretrained/testdata/heldout/coffee.png", "pretrained/sample/clean.png"} {
		clean := degrade.FromImage(testutil.ReadPNG(t, path))
		got := map[string]float64{}
		for _, g := range []float64{1.37, 2.37, 3.1} {
			m, err := degrade.LowLightGamma(clean, g)
			require.NoError(t, err)
			got[fmt.Sprintf("gamma %.2f", g)] = toneTrace(t, m)
		}
		for _, k := range []float64{0.3, 0.433, 0.61} {
			got[fmt.Sprintf("exposure %.3f", k)] = toneTrace(t, pointwise(clean, func(v float64) float64 { return k * v }))
		}
		dark, err := degrade.LowLightGamma(clean, 2.37)
		require.NoError(t, err)
		noisy, err := degrade.GaussianNoise(dark, 15, 3)
		require.NoError(t, err)
		blurred, err := degrade.GaussianBlur(clean, 9, 1.5)
		require.NoError(t, err)
		jpeg, err := degrade.JPEGCodec(clean, 20)
		require.NoError(t, err)
		for n, m := range map[string]*degrade.Image{"clean": clean, "gamma+noise": noisy, "blur": blurred, "jpeg": jpeg} {
			got[n] = toneTrace(t, m)
		}
		t.Logf("%s: %v", path, got)
		for n, v := range got {
			switch {
			case strings.HasPrefix(n, "gamma "):
				require.GreaterOrEqual(t, v, 0.85, "%s %s", path, n)
			case strings.HasPrefix(n, "exposure "):
				if path == "pretrained/sample/clean.png" {
					require.GreaterOrEqual(t, v, 0.7, "%s %s", path, n)
				}
			default:
				require.Less(t, v, 0.6, "%s %s", path, n)
			}
		}
	}
}

// TestToneCurveTraceInputs: values off the 8-bit codes (a 16-bit or
// computed input, a NaN) and images too small to fill the histogram read 0.
func TestToneCurveTraceInputs(t *testing.T) {
	clean := degrade.FromImage(testutil.ReadPNG(t, "pretrained/testdata/heldout/coffee.png"))
	dark, err := degrade.LowLightGamma(clean, 2)
	require.NoError(t, err)
	require.GreaterOrEqual(t, toneTrace(t, dark), 0.9)
	off := dark.Clone()
	off.Pix[17] += 0.3 / 255
	require.Equal(t, 0.0, toneTrace(t, off), "one value between codes: not 8-bit")
	nan := dark.Clone()
	nan.Pix[17] = float32(math.NaN())
	require.Equal(t, 0.0, toneTrace(t, nan), "a NaN is no code")
	small := dark.Crop(image.Rect(0, 0, 12, 12))
	require.Equal(t, 0.0, toneTrace(t, small), "432 values: too few to tell")
}

// TestToneCurveComb: a histogram built from a curve of the grid itself
// correlates with it exactly; a smooth one does not.
func TestToneCurveComb(t *testing.T) {
	var h, smooth [256]float64
	for i := range 256 {
		density := 1000 * math.Exp(-float64(i)/200) // any smooth density over the input codes
		h[int(math.Floor(255*math.Pow(float64(i)/255, 1.5)+0.5))] += density
		smooth[i] = density
	}
	require.InDelta(t, 1.0, combCorrelation(&h), 0.05)
	require.Less(t, combCorrelation(&smooth), 0.2)
}

// TestToneCurveTraceStretch: an 8-bit contrast stretch of a smooth image
// (blurred noise spread over [a, 1]) leaves gaps every few codes, as a
// steep curve does, but out of step with every curve's; without the rule
// on empty codes these read 0.65-0.97.
func TestToneCurveTraceStretch(t *testing.T) {
	for seed := range uint64(2) {
		rng := rand.New(rand.NewPCG(seed, 1))
		noise := degrade.NewImage(192, 192)
		for i := range noise.Pix {
			noise.Pix[i] = rng.Float32()
		}
		smooth, err := degrade.GaussianBlur(noise, 15, 3)
		require.NoError(t, err)
		lo, hi := slices.Min(smooth.Pix), slices.Max(smooth.Pix)
		for _, a := range []float32{0, 0.25, 0.5} {
			stretched := pointwise(smooth, func(v float64) float64 { return float64(a + (1-a)*(float32(v)-lo)/(hi-lo)) })
			require.Less(t, toneTrace(t, stretched), 0.1, "seed %d, [%.2f, 1]", seed, a)
		}
	}
}
