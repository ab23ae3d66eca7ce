package metrics

import (
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
)

type fixtureResult struct {
	CropBorder   int      `json:"crop_border"`
	TestYChannel bool     `json:"test_y_channel"`
	PSNR         *float64 `json:"psnr"`
	PSNRIsInf    bool     `json:"psnr_is_inf"`
	SSIM         float64  `json:"ssim"`
}

type fixturePair struct {
	Img      string          `json:"img"`
	GT       string          `json:"gt"`
	ShapeHWC []int           `json:"shape_hwc"`
	Results  []fixtureResult `json:"results"`
}

type fixtureFile struct {
	Pairs []fixturePair `json:"pairs"`
}

func loadExpected(t *testing.T) (string, fixtureFile) {
	t.Helper()
	path := fixtures.Path(t, "metrics", "expected.json")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var f fixtureFile
	require.NoError(t, json.Unmarshal(raw, &f))
	require.NotEmpty(t, f.Pairs)
	return filepath.Dir(path), f
}

func loadPNG(t *testing.T, path string) image.Image {
	t.Helper()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	img, err := png.Decode(fh)
	require.NoError(t, err)
	return img
}

const (
	psnrTol = 1e-6
	ssimTol = 1e-7
)

// TestFixtures checks every pair of expected.json in all four settings
// (crop 0/4, RGB/Y), through RGB8 and image.Image inputs, with and without
// PSNROnly.
func TestFixtures(t *testing.T) {
	dir, f := loadExpected(t)
	require.Len(t, f.Pairs, 41)
	var maxPSNR, maxSSIM float64
	var maxPSNRAt, maxSSIMAt string
	checked := 0
	for _, p := range f.Pairs {
		img := loadPNG(t, filepath.Join(dir, p.Img))
		gt := loadPNG(t, filepath.Join(dir, p.GT))
		require.Equal(t, p.ShapeHWC[0], img.Bounds().Dy(), p.Img)
		require.Equal(t, p.ShapeHWC[1], img.Bounds().Dx(), p.Img)
		a, err := ToRGB8(img)
		require.NoError(t, err)
		b, err := ToRGB8(gt)
		require.NoError(t, err)
		require.Len(t, p.Results, 4)
		for _, want := range p.Results {
			opts := &Options{CropBorder: want.CropBorder, YChannel: want.TestYChannel}
			name := p.Img + " " + map[bool]string{false: "rgb", true: "y"}[opts.YChannel] +
				" crop " + string(rune('0'+opts.CropBorder))

			// Measure on the converted pair; the unconverted images must
			// give the same bits (checked in the paper's crop only, to keep
			// the test fast), and PSNROnly the same PSNR.
			res, err := Measure(a, b, opts)
			require.NoError(t, err, name)
			gotP, gotS := res.PSNR, res.SSIM
			po := *opts
			po.PSNROnly = true
			p2, err := Measure(a, b, &po)
			require.NoError(t, err, name)
			require.Equal(t, Result{PSNR: gotP}, p2, name)
			if opts.CropBorder == PaperCropBorder {
				r2, err := Measure(img, gt, opts)
				require.NoError(t, err, name)
				require.Equal(t, res, r2, name)
			}

			if want.PSNRIsInf {
				require.Nil(t, want.PSNR, name)
				require.True(t, math.IsInf(gotP, 1), "%s: PSNR %v, want +Inf", name, gotP)
			} else {
				require.NotNil(t, want.PSNR, name)
				d := math.Abs(gotP - *want.PSNR)
				require.LessOrEqual(t, d, psnrTol, "%s: PSNR %.12f, want %.12f", name, gotP, *want.PSNR)
				if d > maxPSNR {
					maxPSNR, maxPSNRAt = d, name
				}
			}
			d := math.Abs(gotS - want.SSIM)
			require.LessOrEqual(t, d, ssimTol, "%s: SSIM %.12f, want %.12f", name, gotS, want.SSIM)
			if d > maxSSIM {
				maxSSIM, maxSSIMAt = d, name
			}
			checked++
		}
	}
	require.Equal(t, 41*4, checked)
	t.Logf("%d settings checked; max |PSNR error| %.3g dB (%s); max |SSIM error| %.3g (%s)",
		checked, maxPSNR, maxPSNRAt, maxSSIM, maxSSIMAt)
}

// TestFixturesFloatPath measures the fixtures through degrade.Image (the
// float path: FromImage to float, then tensor2img rounding back to 8 bits):
// every pair in the paper's setting, and the odd 75x101 (HxW) pairs in all
// four settings.
func TestFixturesFloatPath(t *testing.T) {
	dir, f := loadExpected(t)
	odd := 0
	for _, p := range f.Pairs {
		img := degrade.FromImage(loadPNG(t, filepath.Join(dir, p.Img)))
		gt := degrade.FromImage(loadPNG(t, filepath.Join(dir, p.GT)))
		require.Equal(t, p.ShapeHWC[0], img.H)
		require.Equal(t, p.ShapeHWC[1], img.W)
		isOdd := img.W == 101 && img.H == 75
		if isOdd {
			odd++
		}
		for _, want := range p.Results {
			if !isOdd && (want.CropBorder != PaperCropBorder || want.TestYChannel) {
				continue
			}
			opts := &Options{CropBorder: want.CropBorder, YChannel: want.TestYChannel}
			res, err := MeasureFloat(img, gt, opts)
			require.NoError(t, err)
			if want.PSNRIsInf {
				require.True(t, math.IsInf(res.PSNR, 1), p.Img)
			} else {
				require.InDelta(t, *want.PSNR, res.PSNR, psnrTol, "%s %+v", p.Img, *opts)
			}
			require.InDelta(t, want.SSIM, res.SSIM, ssimTol, "%s %+v", p.Img, *opts)
		}
	}
	require.Equal(t, 2, odd, "the two 75x101 pairs")
}
