package mioir

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/torch"
)

// streakImage returns a 164x164 grey image: mid-grey with fine texture
// (uniform +-0.02, under the guard's noise threshold), plus sign times
// 0.3-high segments 2 pixels wide and 30 long at 70 degrees, on a jittered
// 16-pixel grid, so that every 48-pixel window holds several.
func streakImage(t *testing.T, sign float32, seed uint64) *torch.Tensor {
	const n = 164
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n*n)
	for i := range v {
		v[i] = 0.45 + 0.04*(r.Float32()-0.5)
	}
	dx, dy := math.Cos(70*math.Pi/180), math.Sin(70*math.Pi/180)
	for i := range n / 16 * n / 16 {
		cx := float64(i%(n/16)*16) + 8*r.Float64()
		cy := float64(i/(n/16)*16) + 8*r.Float64()
		for y := max(0, int(cy)-18); y < min(n, int(cy)+18); y++ {
			for x := max(0, int(cx)-18); x < min(n, int(cx)+18); x++ {
				// along and across the segment; a Gaussian profile of
				// sigma 0.8 across, anti-aliased
				u, w := (float64(x)-cx)*dx+(float64(y)-cy)*dy, -(float64(x)-cx)*dy+(float64(y)-cy)*dx
				if math.Abs(u) > 15 {
					continue
				}
				a := sign * 0.3 * float32(math.Exp(-w*w/(2*0.8*0.8)))
				if math.Abs(float64(a)) > math.Abs(float64(v[y*n+x]-0.45)) {
					v[y*n+x] = 0.45 + a
				}
			}
		}
	}
	return greyImage(t, n, n, func(y, x int) float32 { return v[y*n+x] })
}

// TestRainStreaks: bright parallel segments fill every window (9 of 9
// vote for their direction); the same segments dark, a sinusoidal grating
// (bright and dark ridges alike) and the textured background alone give no
// window a bright-line excess, so none votes.
func TestRainStreaks(t *testing.T) {
	bright, err := rainStreaks(streakImage(t, 1, 3))
	require.NoError(t, err)
	require.Equal(t, 1.0, bright)
	dark, err := rainStreaks(streakImage(t, -1, 3))
	require.NoError(t, err)
	require.Equal(t, 0.0, dark)
	none, err := rainStreaks(streakImage(t, 0, 3))
	require.NoError(t, err)
	require.LessOrEqual(t, none, 1.0/9)
	grating := greyImage(t, 164, 164, func(y, x int) float32 {
		return float32(0.5 + 0.2*math.Sin(2*math.Pi*(float64(x)*0.34+float64(y)*0.94)/9))
	})
	g, err := rainStreaks(grating)
	require.NoError(t, err)
	require.Equal(t, 0.0, g)
	// Too small for a whole window: nothing to tell.
	small, err := rainStreaks(greyImage(t, 60, 200, func(y, x int) float32 { return 0.5 }))
	require.NoError(t, err)
	require.Equal(t, 0.0, small)
}

// TestRainStreaksPhoto: the library's In-Dis rain on two held-out photos
// (128x128: four windows each) makes at least three of four windows vote;
// the clean photos at most one.
func TestRainStreaksPhoto(t *testing.T) {
	for _, name := range []string{"coffee", "rocket"} {
		clean := degrade.FromImage(testutil.ReadPNG(t, "pretrained/testdata/heldout/"+name+".png"))
		rainy, err := degrade.AddRain(clean, degrade.RainParams{Width: 5, Length: 30, Angle: 20, Value: 70}, 11)
		require.NoError(t, err)
		var got [2]float64
		for i, m := range []*degrade.Image{clean.CropMod(4), rainy} {
			x, err := torch.FromSlice(nil, m.CHW(), 1, 3, int64(m.H), int64(m.W))
			require.NoError(t, err)
			got[i], err = rainStreaks(x)
			x.Close()
			require.NoError(t, err)
		}
		t.Logf("%s: clean %.2f, rain %.2f", name, got[0], got[1])
		require.LessOrEqual(t, got[0], 0.25)
		require.GreaterOrEqual(t, got[1], 0.75)
	}
}
