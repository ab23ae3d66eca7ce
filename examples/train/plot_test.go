package main

import (
	"bytes"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir/train"
)

// TestPlotHistory decodes the curve and finds every series' colour.
func TestPlotHistory(t *testing.T) {
	var h train.History
	for i := 1; i <= 10; i++ {
		h.Loss = append(h.Loss, train.LossPoint{Iter: 10 * i, Loss: 1 / float64(i),
			Tasks: map[string]float64{"noise": 1.2 / float64(i), "rain": 0.8 / float64(i)}})
		if i%5 == 0 {
			h.Val = append(h.Val, train.ValPoint{Iter: 10 * i, Tasks: map[string]float64{"noise": 20 + float64(i), "rain": 25}})
		}
	}
	var b bytes.Buffer
	require.NoError(t, plotHistory(&b, h))
	img, err := png.Decode(&b)
	require.NoError(t, err)
	count := func(c color.NRGBA, x0, x1 int) int {
		n := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := x0; x < x1; x++ {
				if color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == c {
					n++
				}
			}
		}
		return n
	}
	half := img.Bounds().Dx() / 2
	for _, task := range []degrade.Task{degrade.Noise, degrade.Rain} {
		require.Greater(t, count(curveColors[task], 0, half), 200, "loss curve of %s", task)
		require.Greater(t, count(curveColors[task], half, 2*half), 100, "PSNR curve of %s", task)
	}
	require.Greater(t, count(curveColors[0], 0, half), 200, "overall loss")
	require.Zero(t, count(curveColors[degrade.Haze], 0, 2*half), "no haze data")

	// The curve file is redrawn only when the history has grown.
	path := filepath.Join(t.TempDir(), curveFile)
	c := newCurve(path)
	require.NoError(t, c.update(train.History{}))
	_, err = os.Stat(path)
	require.NoError(t, err, "an empty history is drawn once")
	require.NoError(t, os.Remove(path))
	require.NoError(t, c.update(train.History{}))
	_, err = os.Stat(path)
	require.True(t, os.IsNotExist(err), "unchanged history: not redrawn")
	require.NoError(t, c.update(h))
	_, err = os.Stat(path)
	require.NoError(t, err)
}
