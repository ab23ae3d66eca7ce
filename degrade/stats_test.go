package degrade

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/imgconv"
)

// residualStats returns mean and standard deviation of (a-b)*255 over
// samples where b is away from the clipping bounds.
func residualStats(a, b *Image) (mean, std float64) {
	var s, s2 float64
	n := 0
	for i := range a.Pix {
		if b.Pix[i] < 0.3 || b.Pix[i] > 0.7 {
			continue
		}
		d := float64(a.Pix[i]-b.Pix[i]) * 255
		s += d
		s2 += d * d
		n++
	}
	mean = s / float64(n)
	return mean, math.Sqrt(s2/float64(n) - mean*mean)
}

// Seeded noise has the statistics of the reference draw: same residual
// mean and standard deviation (on mid-grey pixels, away from clipping).
func TestNoiseStatisticsMatchReference(t *testing.T) {
	for _, p := range fixturePhotos {
		for _, s := range []float64{15, 50} {
			t.Run(fmt.Sprintf("%s_s%v", p, s), func(t *testing.T) {
				gt := loadPNG(t, p+"_gt.png")
				ref := loadPNG(t, fmt.Sprintf("%s_noise_s%v.png", p, s))
				got, err := GaussianNoise(gt, s, 99)
				require.NoError(t, err)
				mr, sr := residualStats(ref, gt)
				mg, sg := residualStats(got, gt)
				t.Logf("residual mean/std: reference %.3f/%.3f, ours %.3f/%.3f (sigma %v)", mr, sr, mg, sg, s)
				require.InDelta(t, sr, sg, 0.03*sr)
				require.InDelta(t, mr, mg, 0.5)
			})
		}
	}
	// On a flat mid-grey image the noise is N(0, sigma) per sample.
	flat := NewImage(256, 256)
	for i := range flat.Pix {
		flat.Pix[i] = 128.0 / 255
	}
	got, err := GaussianNoise(flat, 20, 1)
	require.NoError(t, err)
	m, sd := residualStats(got, flat)
	require.InDelta(t, 0, m, 0.15)
	require.InDelta(t, 20, sd, 0.2)
}

// Rain drawn from seeded seed maps has the reference's streak statistics:
// seed density value/25600, and a streak layer whose coverage and mean are
// those of the reference layer for the same parameters.
func TestRainStatisticsMatchReference(t *testing.T) {
	seedRef, _ := loadNpy64(t, "rain_uniform.npy")
	for _, p := range fixturePhotos {
		prm := fixtureRain[p]
		t.Run(p, func(t *testing.T) {
			ref, err := RainStreaks(seedRef, 256, 256, prm)
			require.NoError(t, err)
			refCov, refMean := streakStats(ref)
			var cov, mean float64
			const draws = 12
			seeds := 0
			thr := 256 - float64(prm.Value)*0.01
			for k := uint64(0); k < draws; k++ {
				m := RainSeedMap(256, 256, k)
				for _, v := range m {
					if v >= thr {
						seeds++
					}
				}
				l, err := RainStreaks(m, 256, 256, prm)
				require.NoError(t, err)
				c, mu := streakStats(l)
				cov += c / draws
				mean += mu / draws
			}
			density := float64(seeds) / (draws * 256 * 256)
			t.Logf("seed density %.5f (expected %.5f); coverage ref %.4f ours %.4f; mean ref %.2f ours %.2f",
				density, float64(prm.Value)/25600, refCov, cov, refMean, mean)
			require.InDelta(t, float64(prm.Value)/25600, density, 0.15*float64(prm.Value)/25600)
			require.InDelta(t, refCov, cov, 0.2*refCov)
			require.InDelta(t, refMean, mean, 0.3*refMean)
		})
	}
}

func streakStats(l []uint8) (coverage, mean float64) {
	n := 0
	var s float64
	for _, v := range l {
		if v > 0 {
			n++
		}
		s += float64(v)
	}
	return float64(n) / float64(len(l)), s / float64(len(l))
}

func TestBadInput(t *testing.T) {
	good := testPattern(32, 32)
	nan := good.Clone()
	nan.Pix[100] = float32(math.NaN())
	empty := NewImage(0, 0)
	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"nil image", func() error { _, err := GaussianBlur(nil, 7, 1); return err }, ErrEmptyImage},
		{"empty image", func() error { _, err := LowLightGamma(empty, 2); return err }, ErrEmptyImage},
		{"NaN image", func() error { _, err := JPEGDiff(nan, 50); return err }, ErrNaN},
		{"even kernel", func() error { _, err := GaussianBlur(good, 8, 1); return err }, ErrParam},
		{"kernel 0", func() error { _, err := GaussianBlur(good, 0, 1); return err }, ErrParam},
		{"sigma 0", func() error { _, err := GaussianBlur(good, 7, 0); return err }, ErrParam},
		{"quality 0", func() error { _, err := JPEGDiff(good, 0); return err }, ErrParam},
		{"quality 101", func() error { _, err := JPEGCodec(good, 101); return err }, ErrParam},
		{"gamma 0", func() error { _, err := LowLightGamma(good, 0); return err }, ErrParam},
		{"gamma NaN", func() error { _, err := LowLightGamma(good, math.NaN()); return err }, ErrParam},
		{"noise sigma -1", func() error { _, err := GaussianNoise(good, -1, 0); return err }, ErrParam},
		{"depth size", func() error {
			_, err := AddHaze(good, &DepthMap{W: 7, H: 8, D: make([]float64, 56)}, 0.9, 1)
			return err
		}, ErrParam},
		{"depth NaN", func() error {
			d := &DepthMap{W: 8, H: 8, D: make([]float64, 64)}
			d.D[3] = math.NaN()
			_, err := AddHaze(good, d, 0.9, 1)
			return err
		}, ErrNaN},
		{"airlight 2", func() error { _, err := AddHaze(good, nil, 2, 1); return err }, ErrParam},
		{"rain width even", func() error { _, err := AddRain(good, RainParams{4, 20, 0, 60}, 1); return err }, ErrParam},
		{"rain seed map size", func() error { _, err := AddRainWith(good, RainParams{3, 20, 0, 60}, make([]float64, 5)); return err }, ErrParam},
		{"SR scale 0", func() error { _, err := SuperRes(good, 0, DownTorch); return err }, ErrParam},
		{"invalid task", func() error { _, err := Apply(good, Params{}, nil); return err }, ErrParam},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			require.Error(t, err)
			require.True(t, errors.Is(err, c.want), "got %v", err)
			t.Log(err)
		})
	}
}

// Haze without a depth map uses PseudoDepth; with a full-size depth map the
// quarter-size path is bypassed; outputs are mod-4 cropped.
func TestHazeDepthForms(t *testing.T) {
	src := testPattern(67, 41) // crops to 64x40
	out, err := AddHaze(src, nil, 0.9, 1.5)
	require.NoError(t, err)
	require.Equal(t, [2]int{64, 40}, [2]int{out.W, out.H})
	// Constant depth: t = exp(-beta) everywhere, I*t + 255A(1-t).
	full := &DepthMap{W: 64, H: 40, D: make([]float64, 64*40)}
	quarter := &DepthMap{W: 16, H: 10, D: make([]float64, 16*10)}
	for i := range full.D {
		full.D[i] = 3
	}
	for i := range quarter.D {
		quarter.D[i] = 0.5
	}
	a, err := AddHaze(src, full, 0.8, 1.0)
	require.NoError(t, err)
	b, err := AddHaze(src, quarter, 0.8, 1.0)
	require.NoError(t, err)
	require.Equal(t, a.Pix, b.Pix)
	tr := math.Exp(-1)
	v := float64(imgconv.Byte(src.Pix[5]))
	require.Equal(t, imgconv.Quantize(float32(v*tr+255*0.8*(1-tr))/255), a.Pix[5])
}

func TestBoxBlur64MatchesNaive(t *testing.T) {
	w, h, r := 23, 17, 3
	p := make([]float64, w*h)
	for i := range p {
		p[i] = float64((i*37)%101) / 100
	}
	got := boxBlur64(p, w, h, r)
	maxDiff := 0.0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					s += p[clampIndex(y+dy, h)*w+clampIndex(x+dx, w)]
				}
			}
			maxDiff = max(maxDiff, math.Abs(got[y*w+x]-s/float64((2*r+1)*(2*r+1))))
		}
	}
	t.Logf("box blur max diff vs naive: %g", maxDiff)
	require.Less(t, maxDiff, 1e-12)
}
