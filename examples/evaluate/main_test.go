package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/prompt"
)

// setup writes two fixture photos cropped to 48x48 as a clean folder
// (a.png, b.png) and two tiny SRResNet models (EP and plain).
func setup(t *testing.T) (dir, clean, model, baseline string) {
	t.Helper()
	src := fixtures.Dir(t, "degrade")
	dir = t.TempDir()
	clean = filepath.Join(dir, "clean")
	require.NoError(t, os.Mkdir(clean, 0o755))
	for i, n := range []string{"astronaut", "coffee"} {
		img := testutil.ReadPNG(t, filepath.Join(src, n+"_gt.png"))
		testutil.WritePNG(t, filepath.Join(clean, string(rune('a'+i))+".png"), degrade.FromImage(img).Crop(image.Rect(60, 60, 108, 108)).ToImage())
	}
	model, baseline = filepath.Join(dir, "ep.safetensors"), filepath.Join(dir, "m.safetensors")
	for i, k := range []prompt.Kind{prompt.Explicit, prompt.None} {
		m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 1}, Prompt: k}, uint64(i+1))
		require.NoError(t, err)
		require.NoError(t, m.Save([]string{model, baseline}[i]))
		m.Close()
	}
	return dir, clean, model, baseline
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), args, &o, &e, false)
	return o.String(), e.String(), err
}

// TestCleanFormatsAndGrid evaluates an EP model against a plain baseline on
// four clean-mode sets and checks the three table formats, the per-image CSV
// and the grid.
func TestCleanFormatsAndGrid(t *testing.T) {
	dir, clean, model, baseline := setup(t)
	grid, imgs, out := filepath.Join(dir, "grid.png"), filepath.Join(dir, "images.csv"), filepath.Join(dir, "table.json")
	args := []string{"-model", model, "-baseline", baseline, "-clean", clean, "-seed", "3", "-tasks", "nd", "-name", "EP model"}

	md, stderr, err := runCmd(t, append(args, "-grid", grid, "-grid-height", "32", "-images", imgs)...)
	require.NoError(t, err, stderr)
	require.Contains(t, stderr, "[8/8] dark_outbig/b.png")
	lines := strings.Split(strings.TrimSpace(md), "\n")
	require.Len(t, lines, 7) // title, blank, header, rule, 3 rows
	require.Contains(t, lines[2], "Noise")
	require.Contains(t, lines[2], "Out-Dis Avg")
	require.NotContains(t, lines[2], "Noise (Out)") // Out-Dis by its average
	require.True(t, strings.HasPrefix(lines[3], "| :"))
	require.Contains(t, md, "| Degraded input")
	require.Contains(t, md, "| m (SRResNet)")
	require.Contains(t, md, "baseline")

	// CSV: every set, averages and gains; gain = difference of averages.
	csvText, _, err := runCmd(t, append(args, "-format", "csv")...)
	require.NoError(t, err)
	recs, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"noise", "dark", "noise_outbig", "dark_outbig", "In-Dis avg", "In-Dis gain"} {
		require.Contains(t, col, h)
	}
	num := func(r int, h string) float64 {
		v, err := strconv.ParseFloat(recs[r][col[h]], 64)
		require.NoError(t, err, h)
		return v
	}
	require.Equal(t, "EP model", recs[3][0])
	require.InDelta(t, (num(3, "noise")+num(3, "dark"))/2, num(3, "In-Dis avg"), 1e-9)
	require.InDelta(t, num(3, "In-Dis avg")-num(2, "In-Dis avg"), num(3, "In-Dis gain"), 1e-9)
	require.InDelta(t, num(1, "Out-Dis avg")-num(2, "Out-Dis avg"), num(1, "Out-Dis gain"), 1e-9)

	// JSON to a file.
	_, _, err = runCmd(t, append(args, "-format", "json", "-out", out, "-q")...)
	require.NoError(t, err)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var rep metrics.Report
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Sets, 4)
	require.Len(t, rep.Rows, 3)
	require.Equal(t, "m (SRResNet)", rep.Baseline)

	// Per-image CSV: 3 rows x 4 sets x 2 images, set means are the cells.
	per, err := readCSV(imgs)
	require.NoError(t, err)
	require.Len(t, per, 1+3*4*2)
	require.Equal(t, []string{"model", "set", "image", "psnr", "task", "auto"}, per[0])
	sum := 0.0
	for _, r := range per[1:] {
		if r[0] == "EP model" && r[1] == "noise" {
			v, err := strconv.ParseFloat(r[3], 64)
			require.NoError(t, err)
			sum += v
			require.Equal(t, "noise", r[4])
		}
	}
	require.InDelta(t, sum/2, num(3, "noise"), 1e-9)

	// Grid: 4 rows of 32-pixel thumbnails; label column of "Low-Light
	// (Out)" (15 glyphs), columns as wide as "ground truth" (12 glyphs).
	f, err := os.Open(grid)
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	labelW, colW, rowH := 15*glyphW+gridPad, 12*glyphW, 32+captionH+gridPad
	require.Equal(t, image.Rect(0, 0, gridPad+labelW+3*(colW+gridPad), headerH+4*rowH), img.Bounds())
	for r := range 4 {
		for c := range 3 {
			x, y := gridPad+labelW+c*(colW+gridPad), headerH+r*rowH
			cell := image.Rect(x, y, x+32, y+32)
			var lo, hi uint32 = 1 << 16, 0
			for yy := cell.Min.Y; yy < cell.Max.Y; yy++ {
				for xx := cell.Min.X; xx < cell.Max.X; xx++ {
					g, _, _, _ := img.At(xx, yy).RGBA()
					lo, hi = min(lo, g), max(hi, g)
				}
			}
			require.Greater(t, hi-lo, uint32(1000), "cell %d,%d is flat", r, c)
		}
	}
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return csv.NewReader(f).ReadAll()
}

// TestTestsetsCorrupt reads a <set>/{GT,LQ} folder with a corrupt LQ: it is
// reported and skipped, the rest is measured.
func TestTestsetsCorrupt(t *testing.T) {
	dir, clean, _, baseline := setup(t)
	root := filepath.Join(dir, "sets")
	a, err := os.ReadFile(filepath.Join(clean, "a.png"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(clean, "b.png"))
	require.NoError(t, err)
	// jpeg/LQ/a.png is the other photo, jpeg/LQ/b.png is corrupt.
	for sub, files := range map[string][2][]byte{"GT": {a, b}, "LQ": {b, []byte("broken")}} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, "jpeg", sub), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "jpeg", sub, "a.png"), files[0], 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(root, "jpeg", sub, "b.png"), files[1], 0o644))
	}
	out, stderr, err := runCmd(t, "-model", baseline, "-testsets", root, "-ssim", "-full", "-format", "csv")
	require.NoError(t, err, stderr)
	require.Contains(t, stderr, "skipped jpeg/b.png")
	require.Contains(t, stderr, "1 images skipped")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"model", "baseline", "jpeg", "jpeg ssim", "In-Dis avg", "In-Dis avg ssim", "In-Dis gain"}, recs[0])
	require.Equal(t, "Degraded input", recs[1][0])
	decode := func(p []byte) image.Image {
		img, err := png.Decode(bytes.NewReader(p))
		require.NoError(t, err)
		return img
	}
	want, err := metrics.Measure(decode(b), decode(a), nil)
	require.NoError(t, err)
	require.Equal(t, strconv.FormatFloat(want.PSNR, 'g', -1, 64), recs[1][2])
	require.Equal(t, strconv.FormatFloat(want.SSIM, 'g', -1, 64), recs[1][3])
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-model", "x"},
		{"-model", "x", "-clean", "a", "-testsets", "b"},
		{"-model", "x", "-clean", "a", "-format", "xml"},
		{"-model", "x", "-testsets", "a", "-tasks", "s"},
		{"-model", "x", "-clean", "a", "extra"},
		{"-model", "x", "-clean", "a", "-seeds", "0"},
		{"-model", "x", "-testsets", "a", "-seeds", "2"},
	} {
		_, _, err := runCmd(t, args...)
		require.Error(t, err, "%q", args)
	}
	_, clean, model, _ := setup(t)
	_, _, err := runCmd(t, "-model", model, "-clean", clean, "-task", "classifier")
	require.ErrorContains(t, err, "classifier")
}

// TestCleanSeeds: with -seeds 2 a set's score is the mean of its scores at
// the two seeds (same image count per seed), and the per-image names say
// which seed drew them.
func TestCleanSeeds(t *testing.T) {
	dir, clean, model, _ := setup(t)
	cell := func(extra ...string) float64 {
		text, stderr, err := runCmd(t, append([]string{"-model", model, "-clean", clean, "-tasks", "d", "-format", "csv", "-q"}, extra...)...)
		require.NoError(t, err, stderr)
		recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 3)
		require.Equal(t, "dark", recs[0][2])
		v, err := strconv.ParseFloat(recs[2][2], 64)
		require.NoError(t, err)
		return v
	}
	s3, s4 := cell("-seed", "3"), cell("-seed", "4")
	require.Greater(t, math.Abs(s3-s4), 1e-3, "two seeds should draw different gammas")
	imgs := filepath.Join(dir, "seeds.csv")
	require.InDelta(t, (s3+s4)/2, cell("-seed", "3", "-seeds", "2", "-images", imgs), 1e-9)
	per, err := readCSV(imgs)
	require.NoError(t, err)
	var names []string
	for _, r := range per[1:] {
		if r[1] == "dark" && r[0] == "Degraded input" {
			names = append(names, r[2])
		}
	}
	require.ElementsMatch(t, []string{"a.png@seed3", "b.png@seed3", "a.png@seed4", "b.png@seed4"}, names)
}
