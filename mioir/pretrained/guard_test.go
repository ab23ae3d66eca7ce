package pretrained_test

import (
	"context"
	"image"
	"image/png"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/pretrained"
)

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	return img
}

// TestAutoGuard: on a held-out photo (Go's video-001) degraded by
// libjpeg-turbo's cjpeg/djpeg and darkened by scripts/autoeval's own code,
// the unguarded classifier takes the JPEG inputs for rain and loses 3.6 and
// 4.5 dB; the default guard's trace model, sure of JPEG (0.92-0.97), uses
// the JPEG prompt instead and gains what the task given gains (+0.55 and
// +0.48 dB); without the trace model the 8-pixel grid chooses it; a
// low-light choice is kept.
func TestAutoGuard(t *testing.T) {
	m, err := pretrained.Default()
	require.NoError(t, err)
	defer m.Close()
	clean := readPNG(t, "testdata/heldout/go-video-001.png")
	for _, c := range []struct {
		file     string
		raw      degrade.Task
		rawBelow float64      // the unguarded gain is below this
		use      degrade.Task // the guard's own choice, zero when it keeps the classifier's
		atLeast  float64      // the guarded gain
	}{
		{"go-video-001-0_cjpeg-q20.png", degrade.Rain, -3, degrade.JPEG, 0.5},
		{"go-video-001-0_cjpeg-q40.png", degrade.Rain, -4, degrade.JPEG, 0.45},
		{"go-video-001-0_exposure-x0.4.png", degrade.LowLight, 4.5, 0, 3.5},
	} {
		t.Run(c.file, func(t *testing.T) {
			lq := readPNG(t, "testdata/autoeval/"+c.file)
			before, err := psnr(lq, clean)
			require.NoError(t, err)
			out, info, err := m.Restore(context.Background(), lq, &mioir.Options{Auto: true})
			require.NoError(t, err)
			after, err := psnr(out, clean)
			require.NoError(t, err)
			raw, rinfo, err := m.Restore(context.Background(), lq, &mioir.Options{Auto: true, Guard: &mioir.Guard{}})
			require.NoError(t, err)
			rawAfter, err := psnr(raw, clean)
			require.NoError(t, err)
			t.Logf("guarded %+.2f dB (%v, %+v), unguarded %s %+.2f dB", after-before, info.Task, info.Fallback, rinfo.Task, rawAfter-before)

			require.Equal(t, c.raw, rinfo.Task)
			require.Nil(t, rinfo.Fallback)
			require.Less(t, rawAfter-before, c.rawBelow)
			require.GreaterOrEqual(t, after-before, c.atLeast)
			if c.use != 0 {
				require.NotNil(t, info.Fallback)
				require.Equal(t, c.raw, info.Fallback.Chosen)
				require.Equal(t, c.use, info.Fallback.Use)
				require.Regexp(t, `^trace model: jpeg 0\.9\d >= 0\.70$`, info.Fallback.Reason)
				require.Equal(t, c.use, info.Task)
				g := mioir.DefaultGuard()
				g.TraceModel = nil
				_, info, err := m.Restore(context.Background(), lq, &mioir.Options{Auto: true, Guard: g})
				require.NoError(t, err)
				require.Equal(t, c.use, info.Task)
				require.Regexp(t, `^JPEG blockiness 1\.\d\d >= 1\.15$`, info.Fallback.Reason)
			} else {
				require.Nil(t, info.Fallback)
				require.Equal(t, c.raw, info.Task)
			}
		})
	}
}

// TestNoiseStrength: the default model carries a strength model for noise
// (mioir.StrengthModel, fitted on photos outside its training and outside
// scripts/autoeval's five sets). On a crop of Go's video-001 (set A) with
// Gaussian noise of sigma 15, which the noise prompt smooths too much, the
// network's output gains 2.36 dB and the predicted share of it 3.21 dB.
func TestNoiseStrength(t *testing.T) {
	m, err := pretrained.Default()
	require.NoError(t, err)
	defer m.Close()
	sm := m.Strength(degrade.Noise)
	require.NotNil(t, sm)
	require.Equal(t, mioir.StrengthStats(), sm.Stats)
	for _, task := range degrade.AllTasks() {
		if task != degrade.Noise {
			require.Nil(t, m.Strength(task), task.Name())
		}
	}
	clean := readPNG(t, "testdata/autoeval/go-video-001-a_clean.png")
	lq := readPNG(t, "testdata/autoeval/go-video-001-a_noise-s15.png")
	before, err := psnr(lq, clean)
	require.NoError(t, err)
	gain := func(o *mioir.Options) (float64, float64) {
		out, info, err := m.Restore(context.Background(), lq, o)
		require.NoError(t, err)
		after, err := psnr(out, clean)
		require.NoError(t, err)
		return after - before, info.Strength
	}
	full, k1 := gain(&mioir.Options{Task: degrade.Noise, Strength: 1})
	pred, k := gain(&mioir.Options{Task: degrade.Noise})
	t.Logf("strength 1: %+.3f dB; predicted strength %.3f: %+.3f dB", full, k, pred)
	require.Equal(t, 1.0, k1)
	require.InDelta(t, 2.36, full, 0.01)
	require.InDelta(t, 3.21, pred, 0.01)
	require.Greater(t, k, sm.Min)
	require.Less(t, k, 0.9)
	auto, ka := gain(&mioir.Options{Auto: true})
	require.Equal(t, k, ka, "auto mode chooses noise and applies the same strength")
	require.Equal(t, pred, auto)
}
