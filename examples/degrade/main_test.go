package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// outputFiles lists every file under dir, relative, and fails on any
// leftover temporary file of internal/atomicfile (".<name>.tmp-*").
func outputFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		require.NoError(t, err)
		require.False(t, strings.HasPrefix(d.Name(), ".") || strings.Contains(d.Name(), ".tmp-"), "temporary file left: %s", rel)
		files = append(files, filepath.ToSlash(rel))
		return nil
	}))
	return files
}

func TestRunLeavesNoTemporaryFiles(t *testing.T) {
	in := t.TempDir()
	writeTestImage(t, filepath.Join(in, "a.png"), 40, 32)
	writeTestImage(t, filepath.Join(in, "b.png"), 36, 36)
	out := t.TempDir()
	require.NoError(t, run(in, out, "nd", "indis", 1, "", "diff", 2, false))
	files := outputFiles(t, out)
	require.ElementsMatch(t, []string{"manifest.json",
		"GT/a.png", "GT/b.png", "noise/a.png", "noise/b.png", "dark/a.png", "dark/b.png"}, files)
	first, err := os.ReadFile(filepath.Join(out, "noise", "a.png"))
	require.NoError(t, err)

	// A second run over the same folder replaces the files whole. One
	// output name is taken by a folder, so that image fails: it is
	// reported as skipped, its other outputs are complete files, and no
	// temporary file is left behind.
	require.NoError(t, os.Remove(filepath.Join(out, "dark", "b.png")))
	require.NoError(t, os.Mkdir(filepath.Join(out, "dark", "b.png"), 0o755))
	require.NoError(t, run(in, out, "nd", "indis", 1, "", "diff", 2, false))
	outputFiles(t, out)
	again, err := os.ReadFile(filepath.Join(out, "noise", "a.png"))
	require.NoError(t, err)
	require.Equal(t, first, again)
	var m manifest
	data, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &m))
	require.Len(t, m.Images, 1)
	require.Len(t, m.Skipped, 1)
	require.Equal(t, "b.png", m.Skipped[0].Name)
}
