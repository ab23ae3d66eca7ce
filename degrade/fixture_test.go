package degrade

import (
	"fmt"
	"image/png"
	"os"
	"testing"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/stretchr/testify/require"
)

var fixturePhotos = []string{"astronaut", "coffee", "chelsea"}

// loadPNG reads a fixture PNG as an Image.
func loadPNG(t testing.TB, name string) *Image {
	t.Helper()
	f, err := os.Open(fixtures.Path(t, "degrade", name))
	require.NoError(t, err)
	defer f.Close()
	im, err := png.Decode(f)
	require.NoError(t, err)
	return FromImage(im)
}

// diffStats compares got with the 8-bit reference want: the fraction of
// samples within 1/255 and the largest difference in 8-bit steps.
func diffStats(got, want []byte) (within1 float64, maxDiff int, exact float64) {
	n1, n0 := 0, 0
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d < 0 {
			d = -d
		}
		if d <= 1 {
			n1++
		}
		if d == 0 {
			n0++
		}
		maxDiff = max(maxDiff, d)
	}
	return float64(n1) / float64(len(got)), maxDiff, float64(n0) / float64(len(got))
}

// requireMatches asserts the acceptance criterion (>= 99.9 % of samples
// within 1/255) and logs the figures.
func requireMatches(t *testing.T, got *Image, refName string) {
	t.Helper()
	want := loadPNG(t, refName)
	require.Equal(t, want.W, got.W)
	require.Equal(t, want.H, got.H)
	w1, md, ex := diffStats(got.Bytes(), want.Bytes())
	t.Logf("%s: exact %.5f%%, within 1/255 %.5f%%, max diff %d/255", refName, 100*ex, 100*w1, md)
	require.GreaterOrEqual(t, w1, 0.999, refName)
}

func TestFixtureSR(t *testing.T) {
	for _, p := range fixturePhotos {
		t.Run(p, func(t *testing.T) {
			gt := loadPNG(t, p+"_gt.png")
			out, err := SuperRes(gt, 4, DownTorch)
			require.NoError(t, err)
			requireMatches(t, out, p+"_sr_x4.png")
		})
	}
}

func TestFixtureBlur(t *testing.T) {
	cases := []struct {
		ks    int
		sigma float64
		file  string
	}{{7, 1.5, "blur_k7_s1.5"}, {21, 3.0, "blur_k21_s3.0"}}
	for _, p := range fixturePhotos {
		for _, c := range cases {
			t.Run(p+"_"+c.file, func(t *testing.T) {
				gt := loadPNG(t, p+"_gt.png")
				out, err := GaussianBlur(gt, c.ks, c.sigma)
				require.NoError(t, err)
				requireMatches(t, out, p+"_"+c.file+".png")
			})
		}
	}
}

func TestFixtureDark(t *testing.T) {
	for _, p := range fixturePhotos {
		t.Run(p, func(t *testing.T) {
			gt := loadPNG(t, p+"_gt.png")
			out, err := LowLightGamma(gt, 2.0)
			require.NoError(t, err)
			requireMatches(t, out, p+"_dark_g2.0.png")
		})
	}
}

func TestFixtureJPEG(t *testing.T) {
	for _, p := range fixturePhotos {
		for _, q := range []int{10, 30, 50, 70, 95} {
			t.Run(fmt.Sprintf("%s_q%d", p, q), func(t *testing.T) {
				gt := loadPNG(t, p+"_gt.png")
				out, err := JPEGDiff(gt, q)
				require.NoError(t, err)
				requireMatches(t, out, fmt.Sprintf("%s_jpeg_q%d.png", p, q))
			})
		}
	}
}
