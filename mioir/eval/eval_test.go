package eval_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/eval"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// psnr is the paper's PSNR (RGB, crop 4) of img against ref.
func psnr(img, ref image.Image) (float64, error) {
	r, err := metrics.Measure(img, ref, &metrics.Options{CropBorder: metrics.PaperCropBorder, PSNROnly: true})
	return r.PSNR, err
}

// evalCleanDir writes the three fixture photos, cropped to side x side,
// into a temporary clean folder.
func evalCleanDir(t *testing.T, side int) string {
	t.Helper()
	src := fixtures.Dir(t, "degrade")
	dir := t.TempDir()
	for _, n := range []string{"astronaut", "chelsea", "coffee"} {
		img := testutil.ReadPNG(t, filepath.Join(src, n+"_gt.png"))
		testutil.WritePNG(t, filepath.Join(dir, n+".png"), degrade.FromImage(img).Crop(image.Rect(0, 0, side, side)).ToImage())
	}
	return dir
}

// evalModel saves a tiny seeded SRResNet and loads it back.
func evalModel(t *testing.T, kind prompt.Kind, seed uint64) *mioir.Model {
	t.Helper()
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 1}, Prompt: kind}, seed)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))
	m.Close()
	m, err = mioir.Load(path)
	require.NoError(t, err)
	t.Cleanup(m.Close)
	return m
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestEvaluateClean evaluates an EP model (task from the set, no classifier)
// and a plain baseline on the 14 clean-mode sets and checks every number
// against the PSNR computed directly on Restore's output.
func TestEvaluateClean(t *testing.T) {
	dir := evalCleanDir(t, 64)
	sets, err := eval.CleanTestSets(dir, 7, nil)
	require.NoError(t, err)
	require.Len(t, sets, 14)
	for i, s := range sets {
		require.Equal(t, metrics.PaperTestSets()[i].Name, s.Name)
		require.Len(t, s.Pairs, 3)
	}
	m := evalModel(t, prompt.Explicit, 1)
	base := evalModel(t, prompt.None, 2)

	var progress []eval.Progress
	var samples []eval.Sample
	rep, err := eval.Evaluate(context.Background(), m, sets, &eval.Options{
		Name: "EP", Baseline: base, BaselineName: "M",
		Progress: func(p eval.Progress) { progress = append(progress, p) },
		OnImage:  func(s eval.Sample) { samples = append(samples, s) },
	})
	require.NoError(t, err)
	require.Empty(t, rep.Skipped)
	require.Len(t, progress, 42)
	require.Equal(t, 41, progress[41].Index)
	require.Len(t, samples, 42)
	require.Len(t, rep.Images, 42*3)
	tab := rep.Table
	require.Equal(t, []string{eval.InputRow, "M", "EP"}, tab.Models())
	require.Equal(t, "M", tab.Baseline)

	for _, s := range sets {
		var want = map[string][]float64{}
		for _, p := range s.Pairs {
			lq, gt, err := p.Load()
			require.NoError(t, err)
			gti := gt.ToImage()
			in, err := psnr(lq.ToImage(), gti)
			require.NoError(t, err)
			want[eval.InputRow] = append(want[eval.InputRow], in)
			out, info, err := m.Restore(context.Background(), lq.ToImage(), &mioir.Options{Task: s.Task})
			require.NoError(t, err)
			require.Equal(t, s.Task, info.Task)
			v, err := psnr(out, gti)
			require.NoError(t, err)
			want["EP"] = append(want["EP"], v)
			out, _, err = base.Restore(context.Background(), lq.ToImage(), nil)
			require.NoError(t, err)
			v, err = psnr(out, gti)
			require.NoError(t, err)
			want["M"] = append(want["M"], v)
		}
		for row, vals := range want {
			imgs := rep.ImagesOf(row, s.Name)
			require.Len(t, imgs, len(vals), row)
			for i, im := range imgs {
				require.Equal(t, vals[i], im.PSNR, "%s %s %s", row, s.Name, im.Name)
				require.Equal(t, s.Pairs[i].Name, im.Name)
				if row == "EP" {
					require.Equal(t, s.Task, im.Task)
					require.False(t, im.Auto)
				}
			}
			sc, ok := tab.Score(row, s.Name)
			require.True(t, ok)
			require.Equal(t, 3, sc.N)
			require.InDelta(t, mean(vals), sc.PSNR, 1e-9)
		}
	}
	for _, g := range []metrics.Group{metrics.InDis, metrics.OutDis} {
		a, ok := tab.Average("EP", g)
		require.True(t, ok)
		b, ok := tab.Average("M", g)
		require.True(t, ok)
		gain, ok := tab.Gain("EP", g)
		require.True(t, ok)
		require.InDelta(t, a.PSNR-b.PSNR, gain, 1e-12)
		in, ok := tab.Average(eval.InputRow, g)
		require.True(t, ok)
		gain, ok = tab.Gain(eval.InputRow, g)
		require.True(t, ok)
		require.InDelta(t, in.PSNR-b.PSNR, gain, 1e-12)
	}

	// The renderings parse.
	md := tab.Markdown()
	require.Contains(t, md, "| EP ")
	require.Contains(t, md, eval.InputRow)
	lines := strings.Split(strings.TrimSpace(md), "\n")
	require.GreaterOrEqual(t, len(lines), 5)
	r := csv.NewReader(strings.NewReader(tab.CSV()))
	recs, err := r.ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	require.Equal(t, "EP", recs[3][0])
	js, err := tab.JSON()
	require.NoError(t, err)
	var jr metrics.Report
	require.NoError(t, json.Unmarshal(js, &jr))
	require.Len(t, jr.Rows, 3)
	require.Len(t, jr.Sets, 14)

	// Samples carry the images of the model's restoration.
	s0 := samples[0]
	require.Equal(t, "sr", s0.Set.Name)
	require.Equal(t, s0.LQ.Bounds(), s0.Restored.Bounds())
	require.Equal(t, s0.GT.Bounds(), s0.LQ.Bounds())
	v, err := psnr(s0.Restored, s0.GT)
	require.NoError(t, err)
	require.Equal(t, v, s0.Result.PSNR)
}

// TestEvaluateSSIMNoInput measures SSIM too, without the input row: gains are
// then undefined (no baseline), SSIM equals metrics.Measure of the output.
func TestEvaluateSSIMNoInput(t *testing.T) {
	dir := evalCleanDir(t, 48)
	sets, err := eval.CleanTestSets(dir, 3, []degrade.Task{degrade.Noise})
	require.NoError(t, err)
	require.Len(t, sets, 2)
	require.Equal(t, "noise", sets[0].Name)
	require.Equal(t, "noise_outbig", sets[1].Name)
	m := evalModel(t, prompt.Adaptive, 5)
	rep, err := eval.Evaluate(context.Background(), m, sets, &eval.Options{SSIM: true, NoInput: true})
	require.NoError(t, err)
	require.Equal(t, []string{m.Config().Name()}, rep.Table.Models())
	require.Len(t, rep.Images, 6)
	lq, gt, err := sets[1].Pairs[2].Load()
	require.NoError(t, err)
	out, _, err := m.Restore(context.Background(), lq.ToImage(), nil)
	require.NoError(t, err)
	want, err := metrics.Measure(out, gt.ToImage(), nil)
	require.NoError(t, err)
	got := rep.ImagesOf(m.Config().Name(), "noise_outbig")[2]
	require.Equal(t, want.PSNR, got.PSNR)
	require.Equal(t, want.SSIM, got.SSIM)
	sc, ok := rep.Table.Score(m.Config().Name(), "noise_outbig")
	require.True(t, ok)
	require.True(t, sc.HasSSIM)
	_, ok = rep.Table.Gain(m.Config().Name(), metrics.InDis)
	require.False(t, ok)
}

// TestTestSetsFromDir reads both folder layouts, skips a corrupt image and
// refuses an EP model without classifier on a set without a task.
func TestTestSetsFromDir(t *testing.T) {
	clean := evalCleanDir(t, 40)
	read := func(n string) image.Image {
		f, err := os.Open(filepath.Join(clean, n))
		require.NoError(t, err)
		defer f.Close()
		img, err := png.Decode(f)
		require.NoError(t, err)
		return img
	}
	root := t.TempDir()
	a, c := read("astronaut.png"), read("coffee.png")
	// Reference layout: single_indis/blur with original/GT.
	testutil.WritePNG(t, filepath.Join(root, "original", "GT", "a.png"), a)
	testutil.WritePNG(t, filepath.Join(root, "original", "GT", "c.png"), c)
	testutil.WritePNG(t, filepath.Join(root, "single_indis", "blur", "a.png"), c)
	testutil.WritePNG(t, filepath.Join(root, "single_indis", "blur", "c.png"), a)
	// Per-set layout: a paper name and a user set (LQ 4 pixels smaller:
	// the GT is cropped top-left), with a corrupt LQ.
	testutil.WritePNG(t, filepath.Join(root, "Toled_val", "GT", "x.png"), a)
	testutil.WritePNG(t, filepath.Join(root, "Toled_val", "LQ", "x.png"), c)
	testutil.WritePNG(t, filepath.Join(root, "mine", "GT", "x.png"), a)
	testutil.WritePNG(t, filepath.Join(root, "mine", "LQ", "x.png"), degrade.FromImage(c).Crop(image.Rect(0, 0, 36, 36)).ToImage())
	testutil.WritePNG(t, filepath.Join(root, "mine", "GT", "y.png"), a)
	require.NoError(t, os.WriteFile(filepath.Join(root, "mine", "LQ", "y.png"), []byte("not a png"), 0o644))

	sets, err := eval.TestSetsFromDir(root)
	require.NoError(t, err)
	require.Len(t, sets, 3)
	require.Equal(t, "blur", sets[0].Name)
	require.Equal(t, degrade.Blur, sets[0].Task)
	require.Equal(t, metrics.InDis, sets[0].Group)
	require.Equal(t, "Toled_val", sets[1].Name)
	require.Equal(t, metrics.Unknown, sets[1].Group)
	require.Equal(t, "mine", sets[2].Name)
	require.Equal(t, metrics.Unknown, sets[2].Group)

	m := evalModel(t, prompt.None, 1)
	var skipped []string
	rep, err := eval.Evaluate(context.Background(), m, sets, &eval.Options{
		OnSkip: func(set, name string, err error) { skipped = append(skipped, set+"/"+name) },
	})
	require.NoError(t, err)
	require.Equal(t, []string{"mine/y.png"}, skipped)
	require.Len(t, rep.Skipped, 1)
	in := rep.ImagesOf(eval.InputRow, "mine")
	require.Len(t, in, 1)
	want, err := psnr(degrade.FromImage(c).Crop(image.Rect(0, 0, 36, 36)).ToImage(),
		degrade.FromImage(a).Crop(image.Rect(0, 0, 36, 36)).ToImage())
	require.NoError(t, err)
	require.Equal(t, want, in[0].PSNR)

	// An EP model without classifier cannot evaluate the Unknown sets,
	// unless they are left out; the classifier choice needs a classifier.
	ep := evalModel(t, prompt.Explicit, 1)
	_, err = eval.Evaluate(context.Background(), ep, sets, nil)
	require.ErrorContains(t, err, "without a task")
	_, err = eval.Evaluate(context.Background(), ep, sets[:1], &eval.Options{Task: eval.TaskFromClassifier})
	require.ErrorContains(t, err, "classifier")
	rep, err = eval.Evaluate(context.Background(), ep, sets[:1], nil)
	require.NoError(t, err)
	require.Equal(t, degrade.Blur, rep.ImagesOf(rep.Model, "blur")[0].Task)

	// A cancelled context stops before the first image.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err = eval.Evaluate(ctx, m, sets, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, rep.Images)

	_, err = eval.TestSetsFromDir(t.TempDir())
	require.Error(t, err)
}

func TestParseTaskChoice(t *testing.T) {
	for s, want := range map[string]eval.TaskChoice{"": eval.TaskAuto, "auto": eval.TaskAuto, "Set": eval.TaskFromSet,
		"oracle": eval.TaskFromSet, "classifier": eval.TaskFromClassifier} {
		got, err := eval.ParseTaskChoice(s)
		require.NoError(t, err)
		require.Equal(t, want, got)
		if s == "auto" || s == "classifier" {
			require.Equal(t, s, got.String())
		}
	}
	_, err := eval.ParseTaskChoice("x")
	require.Error(t, err)
}

// TestEvaluateTaskChoice: an EP model with a classifier asks it by default
// (also on sets without a task), uses the set's task with TaskFromSet, and
// its rows equal Restore with the same options (no guard).
func TestEvaluateTaskChoice(t *testing.T) {
	dir := evalCleanDir(t, 40)
	sets, err := eval.CleanTestSets(dir, 1, []degrade.Task{degrade.Blur, degrade.LowLight})
	require.NoError(t, err)
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 1},
		Prompt: prompt.Explicit, Classifier: true}, 4)
	require.NoError(t, err)
	defer m.Close()
	require.True(t, m.HasClassifier())

	auto, err := eval.Evaluate(context.Background(), m, sets, &eval.Options{Name: "EP", NoInput: true})
	require.NoError(t, err)
	oracle, err := eval.Evaluate(context.Background(), m, sets, &eval.Options{Name: "EP", NoInput: true, Task: eval.TaskFromSet})
	require.NoError(t, err)
	for _, s := range sets {
		a, o := auto.ImagesOf("EP", s.Name), oracle.ImagesOf("EP", s.Name)
		require.Len(t, a, 3)
		require.Len(t, o, 3)
		for i, p := range s.Pairs {
			require.True(t, a[i].Auto)
			require.False(t, o[i].Auto)
			require.Equal(t, s.Task, o[i].Task)
			lq, gt, err := p.Load()
			require.NoError(t, err)
			// Evaluate trusts the classifier, as the reference's test does.
			out, info, err := m.Restore(context.Background(), lq.ToImage(), &mioir.Options{Guard: &mioir.Guard{}})
			require.NoError(t, err)
			require.True(t, info.Auto || info.Task != 0)
			require.Equal(t, info.Task, a[i].Task)
			v, err := psnr(out, gt.ToImage())
			require.NoError(t, err)
			require.Equal(t, v, a[i].PSNR)
		}
	}
}

// TestCleanTestSetsDraws: draws seeds are CleanTestSets of seed, seed+1, ...
// concatenated per set, pixel for pixel, with the seed in each name.
func TestCleanTestSetsDraws(t *testing.T) {
	dir := evalCleanDir(t, 24)
	tasks := []degrade.Task{degrade.LowLight}
	one, err := eval.CleanTestSets(dir, 3, tasks)
	require.NoError(t, err)
	next, err := eval.CleanTestSets(dir, 4, tasks)
	require.NoError(t, err)

	same, err := eval.CleanTestSetsDraws(dir, 3, 1, tasks)
	require.NoError(t, err)
	require.Len(t, same, len(one))
	for i := range one {
		require.Equal(t, one[i].Name, same[i].Name)
		for j, p := range same[i].Pairs {
			require.Equal(t, one[i].Pairs[j].Name, p.Name)
		}
	}

	two, err := eval.CleanTestSetsDraws(dir, 3, 2, tasks)
	require.NoError(t, err)
	require.Len(t, two, 2) // dark and dark_outbig
	for i, s := range two {
		require.Equal(t, one[i].Name, s.Name)
		require.Len(t, s.Pairs, 6)
		for j, p := range s.Pairs {
			src, seed := one[i].Pairs, 3
			if j >= 3 {
				src, seed = next[i].Pairs, 4
			}
			want := src[j%3]
			require.Equal(t, fmt.Sprintf("%s@seed%d", want.Name, seed), p.Name)
			lq, gt, err := p.Load()
			require.NoError(t, err)
			wlq, wgt, err := want.Load()
			require.NoError(t, err)
			require.Equal(t, wlq.Pix, lq.Pix)
			require.Equal(t, wgt.Pix, gt.Pix)
		}
		// The two draws darken differently.
		a, _, err := s.Pairs[0].Load()
		require.NoError(t, err)
		b, _, err := s.Pairs[3].Load()
		require.NoError(t, err)
		require.NotEqual(t, a.Pix, b.Pix)
	}

	_, err = eval.CleanTestSetsDraws(dir, 3, 0, tasks)
	require.ErrorContains(t, err, "0 draws")
}

// TestTaskSets: per-task pairs become sets named by task, in task order,
// with the limit applied and the task set on every pair.
func TestTaskSets(t *testing.T) {
	dir := evalCleanDir(t, 24)
	pairs, err := data.TaskPairs(dir, []degrade.Task{degrade.LowLight, degrade.Noise, degrade.Blur}, degrade.Train(), 1)
	require.NoError(t, err)
	pairs[degrade.Rain] = nil
	sets := eval.TaskSets(pairs, 2)
	require.Len(t, sets, 3)
	for i, want := range []degrade.Task{degrade.Blur, degrade.Noise, degrade.LowLight} {
		require.Equal(t, want.Name(), sets[i].Name)
		require.Equal(t, want, sets[i].Task)
		require.Equal(t, metrics.InDis, sets[i].Group)
		require.Len(t, sets[i].Pairs, 2)
		require.Equal(t, pairs[want][1].Name, sets[i].Pairs[1].Name)
	}
	require.Len(t, eval.TaskSets(pairs, 0)[0].Pairs, 3)
}

// TestClassify counts, per set, what the classifier picks on each 8-bit LQ.
func TestClassify(t *testing.T) {
	dir := evalCleanDir(t, 40)
	sets, err := eval.CleanTestSets(dir, 2, []degrade.Task{degrade.Noise, degrade.Haze})
	require.NoError(t, err)
	g, err := torch.NewGenerator(5)
	require.NoError(t, err)
	c, err := prompt.NewClassifier(g)
	g.Close()
	require.NoError(t, err)
	defer c.Close()
	live := torch.LiveTensors()
	rep, err := eval.Classify(context.Background(), c, sets)
	require.NoError(t, err)
	require.Empty(t, rep.Skipped)
	require.Len(t, rep.Sets, len(sets))
	for i, s := range sets {
		correct := 0
		for _, p := range s.Pairs {
			lq, _, err := p.Load()
			require.NoError(t, err)
			x, err := torch.FromImage(nil, lq.ToImage(), torch.CPU)
			require.NoError(t, err)
			pr, err := c.Classify(x)
			x.Close()
			require.NoError(t, err)
			if pr[0].Task == s.Task {
				correct++
			}
		}
		a := rep.Sets[i]
		require.Equal(t, s.Name, a.Set)
		require.Equal(t, 3, a.N)
		require.Equal(t, correct, a.Correct)
		require.InDelta(t, 100*float64(correct)/3, a.Percent(), 1e-12)
	}
	require.Contains(t, rep.Markdown(), "| noise_outbig | noise | 3 |")
	require.Equal(t, live, torch.LiveTensors())

	_, err = eval.Classify(context.Background(), c, []eval.Set{{TestSet: metrics.TestSet{Name: "x"}}})
	require.ErrorContains(t, err, "has no task")
}
