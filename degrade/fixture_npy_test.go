package degrade

import (
	"fmt"
	"image/png"
	"os"
	"testing"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/npy"
	"github.com/stretchr/testify/require"
)

func loadNpy64(t *testing.T, name string) ([]float64, []int) {
	t.Helper()
	tt, err := npy.ReadFile(fixtures.Path(t, "degrade", name))
	require.NoError(t, err)
	v, err := tt.Float64s()
	require.NoError(t, err)
	return v, tt.Shape
}

func loadNpy32(t *testing.T, name string) ([]float32, []int) {
	t.Helper()
	tt, err := npy.ReadFile(fixtures.Path(t, "degrade", name))
	require.NoError(t, err)
	v, err := tt.Float32s()
	require.NoError(t, err)
	return v, tt.Shape
}

var fixtureRain = map[string]RainParams{
	"astronaut": {Width: 3, Length: 20, Angle: -30, Value: 60},
	"coffee":    {Width: 7, Length: 33, Angle: 0, Value: 80},
	"chelsea":   {Width: 11, Length: 40, Angle: 44, Value: 99},
}

func TestFixtureRain(t *testing.T) {
	seed, shape := loadNpy64(t, "rain_uniform.npy")
	require.Equal(t, []int{256, 256}, shape)
	for _, p := range fixturePhotos {
		t.Run(p, func(t *testing.T) {
			prm := fixtureRain[p]
			streaks, err := RainStreaks(seed, 256, 256, prm)
			require.NoError(t, err)
			f, err := os.Open(fixtures.Path(t, "degrade", p+"_rain_streaks.png"))
			require.NoError(t, err)
			defer f.Close()
			ref, err := png.Decode(f)
			require.NoError(t, err)
			want := make([]byte, 256*256)
			for y := 0; y < 256; y++ {
				for x := 0; x < 256; x++ {
					r, _, _, _ := ref.At(x, y).RGBA()
					want[y*256+x] = byte(r >> 8)
				}
			}
			w1, md, ex := diffStats(streaks, want)
			t.Logf("%s streak layer: exact %.5f%%, within 1 %.5f%%, max diff %d", p, 100*ex, 100*w1, md)
			require.GreaterOrEqual(t, w1, 0.999)

			gt := loadPNG(t, p+"_gt.png")
			out, err := AddRainWith(gt, prm, seed)
			require.NoError(t, err)
			requireMatches(t, out, p+"_rain.png")
		})
	}
}

func TestFixtureHaze(t *testing.T) {
	d, shape := loadNpy64(t, "haze_depth_quarter.npy")
	require.Equal(t, []int{64, 64}, shape)
	depth := &DepthMap{W: 64, H: 64, D: d}
	for _, p := range fixturePhotos {
		t.Run(p, func(t *testing.T) {
			gt := loadPNG(t, p+"_gt.png")
			out, err := AddHaze(gt, depth, 0.9, 1.5)
			require.NoError(t, err)
			requireMatches(t, out, p+"_haze.png")
		})
	}
}

func TestFixtureNoise(t *testing.T) {
	randn, shape := loadNpy32(t, "noise_randn.npy")
	require.Equal(t, []int{1, 3, 256, 256}, shape)
	for _, p := range fixturePhotos {
		for _, s := range []int{15, 50} {
			t.Run(fmt.Sprintf("%s_s%d", p, s), func(t *testing.T) {
				gt := loadPNG(t, p+"_gt.png")
				out, err := GaussianNoiseWith(gt, float64(s), randn)
				require.NoError(t, err)
				requireMatches(t, out, fmt.Sprintf("%s_noise_s%d.png", p, s))
			})
		}
	}
}
