package metrics

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got), "golden file %s (go test -update rewrites it)", path)
}

func TestPaperTestSets(t *testing.T) {
	sets := PaperTestSets()
	require.Len(t, sets, 19)
	count := map[Group]int{}
	for _, s := range sets {
		count[s.Group]++
	}
	require.Equal(t, map[Group]int{InDis: 7, OutDis: 7, Unknown: 5}, count)
	require.Equal(t, TestSet{Name: "sr", Label: "SR", Group: InDis, Task: degrade.SR,
		LQDir: "single_indis/sr", GTDir: "original/GT"}, sets[0])
	require.Equal(t, "dark", sets[6].Name)
	require.Equal(t, "Low-Light", sets[6].Label)
	require.Equal(t, degrade.LowLight, sets[6].Task)
	require.Equal(t, "jpeg_outbig", sets[10].Name)
	require.Equal(t, degrade.JPEG, sets[10].Task)
	require.Equal(t, OutDis, sets[10].Group)
	require.Equal(t, "single_outbig/jpeg_outbig", sets[10].LQDir)
	require.Equal(t, TestSet{Name: "Toled_val", Label: "Toled", Group: Unknown,
		LQDir: "unknow/Toled_val/LQ", GTDir: "unknow/Toled_val/HQ"}, sets[18])
	require.Equal(t, "valid-input-noisy", sets[17].Name)
	for _, s := range sets[14:] {
		require.Zero(t, s.Task, s.Name)
	}
	sets[0].Name = "changed" // a fresh copy each call
	require.Equal(t, "sr", PaperTestSets()[0].Name)
}

func TestGroupText(t *testing.T) {
	for _, g := range Groups() {
		b, err := g.MarshalText()
		require.NoError(t, err)
		var back Group
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, g, back)
	}
	for in, want := range map[string]Group{"in-dis": InDis, "OutDis": OutDis, "out_dis": OutDis, " unknown ": Unknown} {
		g, err := ParseGroup(in)
		require.NoError(t, err, in)
		require.Equal(t, want, g, in)
	}
	_, err := ParseGroup("inside")
	require.Error(t, err)
	_, err = Group(0).MarshalText()
	require.Error(t, err)
	require.Equal(t, "Group(9)", Group(9).String())
}

// paperInDis and paperUnknown are the README numbers of the reference
// (method.md section 7): the per-set PSNRs and the published averages and
// gains ("Ipv.", over the -M model of the same backbone).
var paperInDis = []struct {
	model string
	psnr  [7]float64
	avg   float64
	gain  float64 // NaN for the baseline rows
}{
	{"SRResNet-M", [7]float64{25.52, 30.01, 30.49, 32.46, 32.38, 25.57, 30.20}, 29.52, math.NaN()},
	{"SRResNet-S", [7]float64{25.72, 30.49, 30.67, 32.73, 32.81, 25.78, 30.45}, 29.81, 0.29},
	{"SRResNet-M+EP", [7]float64{25.73, 30.78, 30.81, 33.12, 34.26, 25.84, 31.29}, 30.26, 0.74},
	{"SRResNet-S+EP", [7]float64{25.90, 31.23, 30.88, 33.16, 34.31, 26.13, 30.91}, 30.36, 0.84},
	{"SRResNet-M+AP", [7]float64{25.52, 30.16, 30.48, 32.52, 33.46, 25.55, 29.48}, 29.60, 0.08},
	{"SRResNet-S+AP", [7]float64{25.73, 30.66, 30.60, 32.68, 34.13, 25.51, 28.97}, 29.76, 0.24},
	{"SwinIR-M", [7]float64{25.51, 30.63, 30.81, 32.79, 34.38, 28.83, 34.43}, 31.05, math.NaN()},
	{"SwinIR-S", [7]float64{26.02, 31.58, 31.36, 33.40, 36.69, 29.58, 34.64}, 31.90, 0.85},
	{"SwinIR-M+EP", [7]float64{25.77, 31.26, 31.22, 33.41, 36.56, 29.16, 34.90}, 31.75, 0.70},
	{"SwinIR-S+EP", [7]float64{26.15, 31.98, 31.48, 33.66, 37.84, 29.65, 35.05}, 32.26, 1.21},
	{"SwinIR-M+AP", [7]float64{25.40, 30.33, 30.22, 32.34, 33.77, 27.88, 33.20}, 30.45, -0.60},
	{"SwinIR-S+AP", [7]float64{26.04, 31.74, 31.40, 33.48, 36.94, 29.37, 34.99}, 32.00, 0.95},
}

var paperUnknown = []struct {
	model string
	psnr  [5]float64
	avg   float64
	gain  float64
}{
	{"SRResNet-M", [5]float64{16.77, 16.38, 16.63, 22.26, 18.05}, 18.02, math.NaN()},
	{"SRResNet-S+EP", [5]float64{16.21, 16.37, 16.63, 22.81, 17.16}, 17.84, -0.18},
	{"SRResNet-S+AP", [5]float64{17.87, 17.35, 17.66, 22.48, 20.06}, 19.08, 1.07},
	{"SwinIR-M", [5]float64{17.45, 16.90, 17.54, 22.77, 17.16}, 18.36, math.NaN()},
	{"SwinIR-S+EP", [5]float64{17.82, 17.46, 17.86, 22.91, 17.45}, 18.70, 0.34},
	{"SwinIR-S+AP", [5]float64{18.20, 17.58, 18.18, 22.86, 18.09}, 18.98, 0.62},
}

func backbone(model string) string { return model[:strings.IndexByte(model, '-')] + "-M" }

// paperTable fills the 19-set table with the README numbers. Out-Dis
// per-set values are not published, so those cells stay empty.
func paperTable(t *testing.T) *Table {
	tab, err := NewTable(PaperTestSets())
	require.NoError(t, err)
	tab.Title = "MiOIR README numbers (PSNR dB, crop 4, RGB)"
	tab.Layout = PaperLayout()
	sets := tab.Sets()
	for _, r := range paperInDis {
		require.NoError(t, tab.SetBaseline(r.model, backbone(r.model)))
		for i, v := range r.psnr {
			require.NoError(t, tab.Set(r.model, sets[i].Name, Score{PSNR: v}))
		}
	}
	for _, r := range paperUnknown {
		require.NoError(t, tab.SetBaseline(r.model, backbone(r.model)))
		for i, v := range r.psnr {
			require.NoError(t, tab.Set(r.model, sets[14+i].Name, Score{PSNR: v}))
		}
	}
	return tab
}

// TestPaperAverages checks that the table's averages and gains reproduce
// the published ones. The paper averaged unrounded per-set values, so an
// average of the published (rounded) values may differ from the published
// average by up to 0.005 beyond its own rounding: 0.01 in all; a gain, a
// difference of two averages, by up to 0.02.
func TestPaperAverages(t *testing.T) {
	tab := paperTable(t)
	for _, r := range paperInDis {
		avg, ok := tab.Average(r.model, InDis)
		require.True(t, ok, r.model)
		require.Equal(t, 7, avg.N)
		require.InDelta(t, r.avg, avg.PSNR, 0.01, r.model)
		g, ok := tab.Gain(r.model, InDis)
		require.True(t, ok, r.model)
		if math.IsNaN(r.gain) {
			require.True(t, tab.IsBaseline(r.model), r.model)
			require.Zero(t, g)
		} else {
			require.False(t, tab.IsBaseline(r.model), r.model)
			require.InDelta(t, r.gain, g, 0.02, r.model)
		}
		_, ok = tab.Average(r.model, OutDis)
		require.False(t, ok, "no Out-Dis values")
	}
	for _, r := range paperUnknown {
		avg, ok := tab.Average(r.model, Unknown)
		require.True(t, ok, r.model)
		require.InDelta(t, r.avg, avg.PSNR, 0.01, r.model)
		if !math.IsNaN(r.gain) {
			g, ok := tab.Gain(r.model, Unknown)
			require.True(t, ok, r.model)
			require.InDelta(t, r.gain, g, 0.02, r.model)
		}
	}
	// Rows without Unknown scores have no Unknown average.
	_, ok := tab.Average("SRResNet-S", Unknown)
	require.False(t, ok)
}

func TestGoldenPaperMarkdown(t *testing.T) {
	tab := paperTable(t)
	golden(t, "paper.md", []byte(tab.Markdown()))
	// The In-Dis part alone, as the paper's Table 3.
	tab.Layout = Layout{Groups: []Group{InDis}}
	tab.Title = "Table 3: In-Dis"
	golden(t, "paper_indis.md", []byte(tab.Markdown()))
}

// measuredTable is a small table filled the way evaluation code fills it:
// per-image results, PSNR and SSIM, a table-wide baseline, an infinite
// PSNR and a missing cell.
func measuredTable(t *testing.T) *Table {
	sets := []TestSet{
		{Name: "noise", Label: "Noise", Group: InDis, Task: degrade.Noise},
		{Name: "rain", Label: "Rain", Group: InDis, Task: degrade.Rain},
		{Name: "noise_outbig", Label: "Noise (Out)", Group: OutDis, Task: degrade.Noise},
		{Name: "real", Label: "Real", Group: Unknown},
	}
	tab, err := NewTable(sets)
	require.NoError(t, err)
	tab.Baseline = "Mixed"
	tab.Layout = Layout{SSIM: true, Decimals: 3}
	add := func(model, set string, psnr, ssim float64) {
		require.NoError(t, tab.Add(model, set, Result{PSNR: psnr, SSIM: ssim}))
	}
	add("Mixed", "noise", 30, 0.8)
	add("Mixed", "noise", 31, 0.9)
	add("Mixed", "rain", 33.5, 0.95)
	add("Mixed", "noise_outbig", 26.25, 0.7)
	add("Mixed", "real", 20, 0.5)
	add("Sequential, EP", "noise", 31, 0.85)
	add("Sequential, EP", "noise", 32, 0.91)
	add("Sequential, EP", "rain", 35, 0.96)
	add("Sequential, EP", "noise_outbig", 27, 0.72)
	require.NoError(t, tab.AddPSNR("Identity", "noise", math.Inf(1)))
	require.NoError(t, tab.AddPSNR("Identity", "rain", 40))
	return tab
}

func TestMeasuredTable(t *testing.T) {
	tab := measuredTable(t)
	require.Equal(t, []string{"Mixed", "Sequential, EP", "Identity"}, tab.Models())
	s, ok := tab.Score("Mixed", "noise")
	require.True(t, ok)
	require.Equal(t, 30.5, s.PSNR)
	require.InDelta(t, 0.85, s.SSIM, 1e-15)
	require.True(t, s.HasSSIM)
	require.Equal(t, 2, s.N)
	avg, ok := tab.Average("Sequential, EP", InDis)
	require.True(t, ok)
	require.InDelta(t, (31.5+35)/2, avg.PSNR, 1e-12)
	require.InDelta(t, (0.88+0.96)/2, avg.SSIM, 1e-12)
	require.True(t, avg.HasSSIM)
	require.Equal(t, 2, avg.N)
	g, ok := tab.Gain("Sequential, EP", InDis)
	require.True(t, ok)
	require.InDelta(t, (31.5+35)/2-(30.5+33.5)/2, g, 1e-12)
	g, ok = tab.Gain("Sequential, EP", OutDis)
	require.True(t, ok)
	require.InDelta(t, 0.75, g, 1e-12)
	_, ok = tab.Gain("Sequential, EP", Unknown) // its own Unknown cell is missing
	require.False(t, ok)
	s, ok = tab.Score("Identity", "noise")
	require.True(t, ok)
	require.True(t, math.IsInf(s.PSNR, 1))
	require.False(t, s.HasSSIM)
	require.True(t, tab.IsBaseline("Mixed"))
	require.False(t, tab.IsBaseline("Identity"))

	golden(t, "measured.md", []byte(tab.Markdown()))
	golden(t, "measured.csv", []byte(tab.CSV()))
	js, err := tab.JSON()
	require.NoError(t, err)
	golden(t, "measured.json", append(js, '\n'))

	// The JSON decodes back into a Report with the same numbers.
	var rep Report
	require.NoError(t, json.Unmarshal(js, &rep))
	require.Equal(t, tab.Report(), rep)
	require.Len(t, rep.Rows, 3)
	require.Equal(t, "noise", rep.Rows[2].Scores[0].Set)
	require.Nil(t, rep.Rows[2].Scores[0].PSNR)
	require.True(t, rep.Rows[2].Scores[0].PSNRIsInf)
	require.Equal(t, Options{CropBorder: 4}, rep.Options)
}

func TestPaperCSVAndJSON(t *testing.T) {
	tab := paperTable(t)
	golden(t, "paper.csv", []byte(tab.CSV()))
	js, err := tab.JSON()
	require.NoError(t, err)
	golden(t, "paper.json", append(js, '\n'))
}

func TestTableSetAndAddInteract(t *testing.T) {
	tab, err := NewTable([]TestSet{{Name: "a", Group: InDis}})
	require.NoError(t, err)
	require.NoError(t, tab.Set("m", "a", Score{PSNR: 10, SSIM: 0.5, HasSSIM: true, N: 3}))
	s, _ := tab.Score("m", "a")
	require.Equal(t, Score{PSNR: 10, SSIM: 0.5, HasSSIM: true, N: 3}, s)
	require.NoError(t, tab.Add("m", "a", Result{PSNR: 20, SSIM: 0.25})) // starts over
	s, _ = tab.Score("m", "a")
	require.Equal(t, Score{PSNR: 20, SSIM: 0.25, HasSSIM: true, N: 1}, s)
	require.NoError(t, tab.AddPSNR("m", "a", 30)) // mixed: no SSIM
	s, _ = tab.Score("m", "a")
	require.Equal(t, Score{PSNR: 25, N: 2}, s)
	require.NoError(t, tab.AddRow("empty"))
	require.Equal(t, []string{"m", "empty"}, tab.Models())
	_, ok := tab.Score("empty", "a")
	require.False(t, ok)
	_, ok = tab.Score("nobody", "a")
	require.False(t, ok)
}

func TestTableErrors(t *testing.T) {
	_, err := NewTable([]TestSet{{Name: "a", Group: InDis}, {Name: "a", Group: OutDis}})
	require.ErrorIs(t, err, ErrBadSet)
	_, err = NewTable([]TestSet{{Name: "", Group: InDis}})
	require.ErrorIs(t, err, ErrBadSet)
	_, err = NewTable([]TestSet{{Name: "x"}})
	require.ErrorIs(t, err, ErrBadSet)

	tab, err := NewTable(PaperTestSets())
	require.NoError(t, err)
	require.ErrorIs(t, tab.Add("m", "nope", Result{PSNR: 1}), ErrUnknownSet)
	require.ErrorIs(t, tab.Add("", "sr", Result{PSNR: 1}), ErrBadScore)
	require.ErrorIs(t, tab.Add("m", "sr", Result{PSNR: math.NaN()}), ErrBadScore)
	require.ErrorIs(t, tab.Add("m", "sr", Result{PSNR: 1, SSIM: math.NaN()}), ErrBadScore)
	require.ErrorIs(t, tab.AddPSNR("m", "sr", math.Inf(-1)), ErrBadScore)
	require.ErrorIs(t, tab.Set("m", "sr", Score{PSNR: 1, N: -1}), ErrBadScore)
	require.ErrorIs(t, tab.Set("m", "sr", Score{PSNR: 1, SSIM: math.NaN(), HasSSIM: true}), ErrBadScore)
	require.ErrorIs(t, tab.SetBaseline("", "m"), ErrBadScore)
	require.Empty(t, tab.Models(), "failed calls add no row")
}
