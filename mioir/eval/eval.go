package eval

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/prompt"
)

// InputRow is the name of the pseudo-model row of an evaluation that holds the
// scores of the degraded inputs themselves (PSNR of LQ against GT), so that
// the gain of a model over doing nothing can be read off the table.
const InputRow = "Degraded input"

// Set is one test set of an evaluation: its column in the results table
// (name, label, group and, for synthetic sets, the task) and its image pairs.
type Set struct {
	metrics.TestSet
	Pairs []data.Pair
}

// TaskChoice says where an explicit-prompt (EP) model's task comes from
// during an evaluation. Plain and AP models need no task.
type TaskChoice int

const (
	// TaskAuto (the default) asks the attached classifier, as the
	// reference's EP_class test does; an EP model without a classifier
	// uses the set's task (an oracle task).
	TaskAuto TaskChoice = iota
	// TaskFromSet always uses the set's task (the oracle), even when a
	// classifier is attached. Sets without a task (Unknown) then fall back
	// to the classifier.
	TaskFromSet
	// TaskFromClassifier always asks the classifier; an EP model without
	// one is an error.
	TaskFromClassifier
)

// String returns "auto", "set" or "classifier".
func (c TaskChoice) String() string {
	switch c {
	case TaskAuto:
		return "auto"
	case TaskFromSet:
		return "set"
	case TaskFromClassifier:
		return "classifier"
	}
	return fmt.Sprintf("TaskChoice(%d)", int(c))
}

// ParseTaskChoice reads "auto", "set" (also "oracle") or "classifier".
func ParseTaskChoice(s string) (TaskChoice, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return TaskAuto, nil
	case "set", "oracle":
		return TaskFromSet, nil
	case "classifier", "class":
		return TaskFromClassifier, nil
	}
	return 0, fmt.Errorf("eval: unknown task choice %q (auto, set or classifier)", s)
}

// Options complete Evaluate. A nil *Options means the reference's
// test: PSNR only, crop 4, RGB, a "Degraded input" row, EP tasks by TaskAuto,
// the whole image in one pass.
type Options struct {
	// Name is the model's row name (default: its Config().Name()).
	Name string
	// Baseline, when set, is evaluated on the same images as a second
	// row (named BaselineName, default "baseline: " + its Config().Name()),
	// and the table's gains are over it. Without a baseline the gains are
	// over the degraded input row (unless NoInput).
	Baseline     *mioir.Model
	BaselineName string
	// NoInput leaves out the degraded-input row.
	NoInput bool
	// SSIM measures SSIM as well as PSNR (the reference measures PSNR only).
	// Images must then be at least 19x19 (11x11 after the crop).
	SSIM bool
	// Metrics is how images are measured (nil: metrics.DefaultOptions, the
	// reference's crop 4 on RGB).
	Metrics *metrics.Options
	// Task says where EP models take their task from (see TaskChoice).
	Task TaskChoice
	// Restore passes tiling and size limits to Model.Restore (its Task and
	// Auto are overridden per image by Task).
	Restore mioir.Options
	// Table, when set, receives the rows (its columns must include every
	// set's name; its Options and Layout are left as they are, its Baseline
	// is set as described at Baseline); nil makes a new table with the sets
	// as columns, Metrics as its Options and SSIM in its Layout.
	Table *metrics.Table
	// Progress, when set, is called before each image.
	Progress func(Progress)
	// OnSkip, when set, is called for each image that could not be read or
	// restored; the image is left out of every row.
	OnSkip func(set, name string, err error)
	// OnImage, when set, is called after each image with the degraded
	// input, the model's output and the ground truth (for grids or saving
	// outputs). The images must not be modified.
	OnImage func(Sample)
}

// Progress describes the evaluation before image Index (0-based) of
// Total, over all sets.
type Progress struct {
	Set, Name    string
	Index, Total int
	Elapsed      time.Duration
}

// Sample is what Options.OnImage receives for one image.
type Sample struct {
	Set      metrics.TestSet
	Name     string
	LQ, GT   *image.NRGBA
	Restored *image.NRGBA
	Result   Image // the model's measurement
}

// Image is one image's measurement for one row.
type Image struct {
	Model string  `json:"model"`
	Set   string  `json:"set"`
	Name  string  `json:"name"`
	PSNR  float64 `json:"psnr"` // dB; +Inf for an output identical to the GT
	SSIM  float64 `json:"ssim,omitempty"`
	// Task is the task whose explicit prompt was used (EP models), Auto
	// whether the classifier chose it.
	Task degrade.Task `json:"task,omitempty"`
	Auto bool         `json:"auto,omitempty"`
}

// Skip is an image left out of an evaluation.
type Skip struct {
	Set, Name string
	Err       error
}

// Report is the result of Evaluate: the table (rows: the degraded input,
// the baseline, the model) and every per-image measurement.
type Report struct {
	Table *metrics.Table
	// Model, Baseline and Input are the row names ("" when absent).
	Model, Baseline, Input string
	Images                 []Image
	Skipped                []Skip
}

// ImagesOf returns the per-image results of one row and set, in order.
func (r *Report) ImagesOf(model, set string) []Image {
	var out []Image
	for _, im := range r.Images {
		if im.Model == model && im.Set == set {
			out = append(out, im)
		}
	}
	return out
}

// Evaluate restores every image of sets with m (and Options.Baseline) and
// measures the outputs against the ground truths as the reference test does
// (method spec 8.3): each LQ is restored with Model.Restore (the backbone's
// padding, 8-bit output with BasicSR's rounding), the GT is cropped top-left
// to the LQ size (data.Pair), both are measured with crop 4 on RGB
// (metrics.Measure), and a set's score is the mean of its per-image PSNRs. The degraded-input row
// measures each LQ itself against its GT. Images that cannot be read or
// restored are reported (OnSkip, Report.Skipped) and left out of every
// row, so the rows stay comparable. Group averages and gains come from the
// metrics.Table: gains are over the baseline when one is given, else over the
// degraded input.
//
// EP models take their task as Options.Task says; an EP model that would
// need a task on a set without one (Unknown) and has no classifier is refused
// before anything runs. Evaluate stops between images, or between the tiles
// of an image (Options.Restore.Tile), when ctx ends and returns ctx's error
// with the report so far.
func Evaluate(ctx context.Context, m *mioir.Model, sets []Set, o *Options) (*Report, error) {
	runtime.LockOSThread() // one OpenMP team and malloc arena, as in train.Trainer.Run
	defer runtime.UnlockOSThread()
	if o == nil {
		o = &Options{}
	}
	if m == nil {
		return nil, errors.New("eval: Evaluate: nil model")
	}
	if len(sets) == 0 {
		return nil, errors.New("eval: Evaluate: no test sets")
	}
	mopts := metrics.DefaultOptions()
	if o.Metrics != nil {
		mopts = *o.Metrics
	}
	rep := &Report{Model: o.Name}
	if rep.Model == "" {
		rep.Model = m.Config().Name()
	}
	models := []*mioir.Model{m}
	names := []string{rep.Model}
	if o.Baseline != nil {
		rep.Baseline = o.BaselineName
		if rep.Baseline == "" {
			rep.Baseline = "baseline: " + o.Baseline.Config().Name()
		}
		if rep.Baseline == rep.Model {
			return nil, fmt.Errorf("eval: Evaluate: model and baseline rows are both named %q", rep.Model)
		}
		models = append(models, o.Baseline)
		names = append(names, rep.Baseline)
	}
	if !o.NoInput {
		rep.Input = InputRow
	}
	for i, mm := range models {
		for _, s := range sets {
			if _, err := evalTask(mm, s.Task, o.Task); err != nil {
				return nil, fmt.Errorf("eval: Evaluate: row %q on set %q: %w", names[i], s.Name, err)
			}
		}
	}

	t := o.Table
	if t == nil {
		cols := make([]metrics.TestSet, len(sets))
		for i, s := range sets {
			cols[i] = s.TestSet
		}
		var err error
		if t, err = metrics.NewTable(cols); err != nil {
			return nil, err
		}
		t.Options = mopts
		t.Layout.SSIM = o.SSIM
	}
	rep.Table = t
	// Row order: input, baseline, model.
	if rep.Input != "" {
		if err := t.AddRow(rep.Input); err != nil {
			return nil, err
		}
	}
	if rep.Baseline != "" {
		if err := t.AddRow(rep.Baseline); err != nil {
			return nil, err
		}
		t.Baseline = rep.Baseline
	} else if rep.Input != "" {
		t.Baseline = rep.Input
	}
	if err := t.AddRow(rep.Model); err != nil {
		return nil, err
	}

	total := 0
	for _, s := range sets {
		total += len(s.Pairs)
	}
	start := time.Now()
	idx := 0
	for _, s := range sets {
		for _, p := range s.Pairs {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			if o.Progress != nil {
				o.Progress(Progress{Set: s.Name, Name: p.Name, Index: idx, Total: total, Elapsed: time.Since(start)})
			}
			idx++
			res, sample, err := evalPair(ctx, m, models, names, s, p, o, &mopts)
			if err != nil && ctx.Err() != nil {
				return rep, ctx.Err() // stopped between tiles: not a skipped image
			}
			if err != nil {
				rep.Skipped = append(rep.Skipped, Skip{Set: s.Name, Name: p.Name, Err: err})
				if o.OnSkip != nil {
					o.OnSkip(s.Name, p.Name, err)
				}
				continue
			}
			for _, r := range res {
				if o.SSIM {
					err = t.Add(r.Model, r.Set, metrics.Result{PSNR: r.PSNR, SSIM: r.SSIM})
				} else {
					err = t.AddPSNR(r.Model, r.Set, r.PSNR)
				}
				if err != nil {
					return rep, err
				}
			}
			rep.Images = append(rep.Images, res...)
			if o.OnImage != nil {
				o.OnImage(sample)
			}
		}
	}
	return rep, nil
}

// evalTask returns the Restore options' Task and Auto for model m on a set of
// task st (0: none), or an error when m cannot get a task.
func evalTask(m *mioir.Model, st degrade.Task, c TaskChoice) (mioir.Options, error) {
	var r mioir.Options
	if m.Config().Prompt != prompt.Explicit {
		return r, nil
	}
	cls := m.HasClassifier()
	switch c {
	case TaskFromClassifier:
		if !cls {
			return r, errors.New("EP model without a classifier, but the task choice is \"classifier\"")
		}
		r.Auto = true
	case TaskFromSet:
		if st != 0 {
			r.Task = st
		} else if cls {
			r.Auto = true
		} else {
			return r, errors.New("EP model without a classifier on a set without a task")
		}
	default:
		if cls {
			r.Auto = true
		} else if st != 0 {
			r.Task = st
		} else {
			return r, errors.New("EP model without a classifier on a set without a task")
		}
	}
	if r.Auto && r.Task == 0 {
		// Restore asks the classifier when Task is zero; Auto makes it
		// explicit and reports the probabilities.
		r.Task = st
	}
	return r, nil
}

// evalPair loads one pair, restores it with every model and measures the
// outputs and the input. The first result is the input's (when present),
// then the baseline's, then the model's, matching the table's row order.
func evalPair(ctx context.Context, m *mioir.Model, models []*mioir.Model, names []string, s Set, p data.Pair, o *Options, mo *metrics.Options) ([]Image, Sample, error) {
	var sample Sample
	lqf, gtf, err := p.Load()
	if err != nil {
		return nil, sample, err
	}
	lq := lqf.ToImage()
	gt := gtf.ToImage()
	ref, err := newReference(gt, o.SSIM, mo)
	if err != nil {
		return nil, sample, err
	}
	var out []Image
	if !o.NoInput {
		r, err := ref.measure(lq)
		if err != nil {
			return nil, sample, err
		}
		out = append(out, Image{Model: InputRow, Set: s.Name, Name: p.Name, PSNR: r.PSNR, SSIM: r.SSIM})
	}
	var mine Image
	var restored *image.NRGBA
	// Baseline first (row order), the model last.
	for i := len(models) - 1; i >= 0; i-- {
		ro := o.Restore
		to, err := evalTask(models[i], s.Task, o.Task)
		if err != nil {
			return nil, sample, err
		}
		ro.Task, ro.Auto = to.Task, to.Auto
		if ro.Guard == nil {
			// The reference's test trusts the classifier (and a guard's
			// fallback to the set's task would hide its mistakes);
			// Options.Restore.Guard sets one.
			ro.Guard = &mioir.Guard{}
		}
		res, info, err := restore(ctx, models[i], lq, &ro)
		if err != nil {
			return nil, sample, fmt.Errorf("%s: %w", names[i], err)
		}
		r, err := ref.measure(res)
		if err != nil {
			return nil, sample, fmt.Errorf("%s: %w", names[i], err)
		}
		if math.IsNaN(r.PSNR) {
			return nil, sample, fmt.Errorf("%s: PSNR is NaN", names[i])
		}
		im := Image{Model: names[i], Set: s.Name, Name: p.Name, PSNR: r.PSNR, SSIM: r.SSIM}
		if info != nil {
			im.Task, im.Auto = info.Task, info.Auto
		}
		out = append(out, im)
		if models[i] == m && i == 0 {
			mine, restored = im, res
		}
	}
	sample = Sample{Set: s.TestSet, Name: p.Name, LQ: lq, GT: gt, Restored: restored, Result: mine}
	return out, sample, nil
}

// restore is the one place where the package runs a model: every row of
// every evaluation, and so the trainer's validation, goes through it.
func restore(ctx context.Context, m *mioir.Model, lq image.Image, o *mioir.Options) (*image.NRGBA, *mioir.Info, error) {
	return m.Restore(ctx, lq, o)
}

// reference is a ground truth prepared for measuring several images against
// it; measure is the one place where the package calls metrics.
type reference struct {
	gt   *metrics.RGB8
	opts metrics.Options
}

func newReference(gt image.Image, ssim bool, o *metrics.Options) (*reference, error) {
	g, err := metrics.ToRGB8(gt)
	if err != nil {
		return nil, err
	}
	r := &reference{gt: g, opts: *o}
	r.opts.PSNROnly = !ssim
	return r, nil
}

// measure returns img's PSNR (and SSIM when asked) against the reference.
func (r *reference) measure(img image.Image) (metrics.Result, error) {
	return metrics.Measure(img, r.gt, &r.opts)
}

// TestSetsFromDir finds test sets in dir, in one of these layouts (both may
// be mixed; a set is taken from the first that has it):
//
//   - The reference's CL_test layout (method spec section 7): for each of
//     metrics.PaperTestSets, dir/<LQDir> and dir/<GTDir>, e.g.
//     dir/single_indis/sr with dir/original/GT, or
//     dir/unknow/Toled_val/LQ with dir/unknow/Toled_val/HQ.
//   - One folder per set: dir/<set name>/GT and dir/<set name>/LQ. A set
//     named like a paper set ("sr", "blur_outbig", "DIV2K_valid_LR_mild")
//     takes its label, group and task; any other name becomes an Unknown
//     set without a task, labelled with its name.
//
// In both, LQ and GT files pair by identical names (data.Pairs) and the GT is
// cropped top-left to the LQ size when loaded. Paper sets come first in the
// paper's order, then the other sets sorted by name. A folder without any set
// is an error.
func TestSetsFromDir(dir string) ([]Set, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("eval: %s is not a folder", dir)
	}
	var sets []Set
	paper := map[string]bool{}
	for _, ts := range metrics.PaperTestSets() {
		paper[ts.Name] = true
		gt, lq := filepath.Join(dir, filepath.FromSlash(ts.GTDir)), filepath.Join(dir, filepath.FromSlash(ts.LQDir))
		if !isDir(gt) || !isDir(lq) {
			gt, lq = filepath.Join(dir, ts.Name, "GT"), filepath.Join(dir, ts.Name, "LQ")
			if !isDir(gt) || !isDir(lq) {
				continue
			}
		}
		pairs, err := data.Pairs(gt, lq)
		if err != nil {
			return nil, fmt.Errorf("eval: test set %s: %w", ts.Name, err)
		}
		sets = append(sets, Set{TestSet: ts, Pairs: withTask(pairs, ts.Task)})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !paper[e.Name()] && isDir(filepath.Join(dir, e.Name(), "GT")) && isDir(filepath.Join(dir, e.Name(), "LQ")) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names {
		pairs, err := data.Pairs(filepath.Join(dir, n, "GT"), filepath.Join(dir, n, "LQ"))
		if err != nil {
			return nil, fmt.Errorf("eval: test set %s: %w", n, err)
		}
		sets = append(sets, Set{TestSet: metrics.TestSet{Name: n, Label: n, Group: metrics.Unknown}, Pairs: pairs})
	}
	if len(sets) == 0 {
		return nil, fmt.Errorf("eval: no test sets in %s (expected the reference's CL_test layout or <set>/GT + <set>/LQ folders)", dir)
	}
	return sets, nil
}

// CleanTestSets makes the 14 synthetic test sets of the paper from the clean
// images of dir: every image degraded for each task with the InDis preset
// (the seven In-Dis sets "sr" .. "dark") and with the OutDis preset (the seven
// Out-Dis sets "sr_outbig" .. "dark_outbig"), drawn from seed and each file's
// name (data.DegradedPairs), so the sets are identical in every run and for
// every model. tasks restricts the sets to some tasks (nil: all seven).
// Images are degraded when loaded, not stored.
func CleanTestSets(dir string, seed uint64, tasks []degrade.Task) ([]Set, error) {
	var sets []Set
	for _, ts := range metrics.PaperTestSets() {
		var preset degrade.Preset
		switch ts.Group {
		case metrics.InDis:
			preset = degrade.InDis()
		case metrics.OutDis:
			preset = degrade.OutDis()
		default:
			continue
		}
		if tasks != nil && !slices.Contains(tasks, ts.Task) {
			continue
		}
		pairs, err := data.DegradedPairs(dir, ts.Task, preset, seed)
		if err != nil {
			return nil, fmt.Errorf("eval: clean test set %s: %w", ts.Name, err)
		}
		ts.LQDir, ts.GTDir = "", ""
		sets = append(sets, Set{TestSet: ts, Pairs: pairs})
	}
	if len(sets) == 0 {
		return nil, errors.New("eval: CleanTestSets: no task selected")
	}
	return sets, nil
}

// CleanTestSetsDraws is CleanTestSets repeated for seeds seed .. seed+draws-1:
// each set holds every image once per seed, named "NAME@seedS" when draws > 1,
// so a set's average PSNR is the mean over draws x images random
// degradations. A few photos give a noisy figure from one draw (one gamma of
// a low-light set may decide its sign); 20 draws of 3 photos give 60, about
// as many as the reference's test sets average over.
func CleanTestSetsDraws(dir string, seed uint64, draws int, tasks []degrade.Task) ([]Set, error) {
	if draws < 1 {
		return nil, fmt.Errorf("eval: CleanTestSetsDraws: %d draws, need at least 1", draws)
	}
	var sets []Set
	for k := range uint64(draws) {
		more, err := CleanTestSets(dir, seed+k, tasks)
		if err != nil {
			return nil, err
		}
		for i := range more {
			if draws > 1 {
				for j := range more[i].Pairs {
					more[i].Pairs[j].Name += fmt.Sprintf("@seed%d", seed+k)
				}
			}
			if k == 0 {
				sets = append(sets, more[i])
			} else {
				sets[i].Pairs = append(sets[i].Pairs, more[i].Pairs...)
			}
		}
	}
	return sets, nil
}

// TaskSets makes one set per task from per-task image pairs, such as the
// validation pairs of data.TaskPairs that the trainer measures: each set is
// named and labelled by its task's name (degrade.Task.Name), carries the
// task, and is in the In-Dis group (pairs degraded with the training
// distribution). Sets come in task order; tasks without pairs are left out.
// limit > 0 keeps only the first limit pairs of each task.
func TaskSets(pairs map[degrade.Task][]data.Pair, limit int) []Set {
	tasks := make([]degrade.Task, 0, len(pairs))
	for t, ps := range pairs {
		if len(ps) > 0 {
			tasks = append(tasks, t)
		}
	}
	slices.Sort(tasks)
	sets := make([]Set, 0, len(tasks))
	for _, t := range tasks {
		ps := pairs[t]
		if limit > 0 && len(ps) > limit {
			ps = ps[:limit]
		}
		sets = append(sets, Set{TestSet: metrics.TestSet{Name: t.Name(), Label: t.Name(), Group: metrics.InDis, Task: t},
			Pairs: withTask(slices.Clone(ps), t)})
	}
	return sets
}

func withTask(ps []data.Pair, t degrade.Task) []data.Pair {
	for i := range ps {
		ps[i].Task = t
	}
	return ps
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
