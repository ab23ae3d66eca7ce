package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomioir/gomioir/degrade"
	"github.com/stretchr/testify/require"
)

func writeTestImage(t *testing.T, path string, w, h int) {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 3), uint8(y * 5), uint8(x ^ y), 255})
		}
	}
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, m))
	require.NoError(t, f.Close())
}

func TestRunDeterministicAndSkipsBadFiles(t *testing.T) {
	in := t.TempDir()
	writeTestImage(t, filepath.Join(in, "a.png"), 70, 45) // crops to 68x44
	writeTestImage(t, filepath.Join(in, "b.png"), 64, 64)
	require.NoError(t, os.WriteFile(filepath.Join(in, "broken.png"), []byte("not a png"), 0o644))
	out1, out2 := t.TempDir(), t.TempDir()
	require.NoError(t, run(in, out1, "sbnjrhd", "outdis", 3, "", "diff", 4, false))
	require.NoError(t, run(in, out2, "sbnjrhd", "outdis", 3, "", "diff", 1, false))
	for _, dir := range []string{"GT", "sr", "blur", "noise", "jpeg", "rain", "haze", "dark"} {
		for _, n := range []string{"a.png", "b.png"} {
			b1, err := os.ReadFile(filepath.Join(out1, dir, n))
			require.NoError(t, err)
			b2, err := os.ReadFile(filepath.Join(out2, dir, n))
			require.NoError(t, err)
			require.Equal(t, b1, b2, "%s/%s", dir, n)
			f, err := os.Open(filepath.Join(out1, dir, n))
			require.NoError(t, err)
			cfg, err := png.DecodeConfig(f)
			f.Close()
			require.NoError(t, err)
			if n == "a.png" {
				require.Equal(t, [2]int{68, 44}, [2]int{cfg.Width, cfg.Height}, dir)
			}
		}
	}
	var m manifest
	data, err := os.ReadFile(filepath.Join(out1, "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &m))
	require.Len(t, m.Images, 2)
	require.Len(t, m.Skipped, 1)
	require.Equal(t, "broken.png", m.Skipped[0].Name)
	require.Equal(t, "outdis", m.Preset)
	p := m.Images[0].Params["noise"]
	require.True(t, p.NoiseSigma >= 50 && p.NoiseSigma <= 70)
	require.Len(t, m.Images[0].Params, 7)
	// A run with only broken files fails.
	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "x.jpg"), []byte("x"), 0o644))
	require.Error(t, run(bad, t.TempDir(), "n", "indis", 0, "", "diff", 1, false))
	require.Error(t, run(in, t.TempDir(), "q", "indis", 0, "", "diff", 1, false))
}

func TestEncodePNGRoundTrip(t *testing.T) {
	m := degrade.NewImage(37, 23)
	for i := range m.Pix {
		m.Pix[i] = float32((i*7919)%256) / 255
	}
	path := filepath.Join(t.TempDir(), "x.png")
	require.NoError(t, writePNG(path, m))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	im, err := png.Decode(f)
	require.NoError(t, err)
	require.Equal(t, m.Pix, degrade.FromImage(im).Pix)
}
