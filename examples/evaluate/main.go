// Command evaluate measures a MiOIR model on test sets and prints the
// paper-style PSNR table.
//
//	go run ./examples/evaluate -model PATH [-baseline PATH] [-name ROW -baseline-name ROW]
//		(-testsets DIR | -clean DIR [-seed N] [-seeds K] [-tasks sbnjrhd])
//		[-format md|csv|json] [-full] [-ssim] [-out FILE] [-images FILE.csv] [-grid FILE.png [-grid-height N]]
//		[-task auto|set|classifier] [-typemaps type7.npy] [-classifier Classifier.pth] [-ema]
//		[-tile N] [-device cpu|cuda] [-q]
//
// PATH is a native model (mioir.Model.Save) or an authors' .pth checkpoint
// (imported strictly, architecture inferred; -ema loads params_ema).
// -typemaps and -classifier complete the evaluated model (not the baseline),
// as in examples/restore.
//
// Test sets come from one of two sources:
//
//   - -testsets DIR: precomputed pairs (eval.TestSetsFromDir), either the
//     reference's CL_test layout (DIR/single_indis/sr, DIR/original/GT,
//     DIR/unknow/..., the folders of metrics.PaperTestSets) or one folder
//     per set, DIR/<set>/GT and DIR/<set>/LQ, where a paper set name ("sr",
//     "blur_outbig", "Toled_val") gives the set its group and task and any
//     other name is an Unknown set. LQ and GT pair by identical file names;
//     the GT is cropped top-left to the LQ size.
//   - -clean DIR: every image of DIR degraded on the fly for each task with
//     the InDis preset (the seven In-Dis sets) and the OutDis preset (the
//     seven Out-Dis sets), with -seed: the same sets in every run. -tasks
//     restricts the tasks (e.g. -tasks nj). -seeds K degrades every image K
//     times, with seeds N to N+K-1 (eval.CleanTestSetsDraws; image names get
//     "@seed<s>"), so that a set's score averages K draws of the degradation
//     parameters: with a few photos one draw decides too much (a gamma of 1.1
//     or of 3 for low light).
//
// Every image is restored as the reference test does (the backbone's padding,
// no tiling unless -tile, 8-bit output) and measured with crop 4 on RGB (and
// SSIM with -ssim). A set's score is the mean of its images'; group averages
// and the gains ("Ipv.") are over the baseline when -baseline is given, else
// over the "Degraded input" row (the PSNR of the LQ images themselves).
// -task says where an EP model's task comes from: auto (the classifier when
// one is attached, else the set's task), set (always the set's task) or
// classifier.
//
// The table goes to stdout (or atomically to -out) as Markdown in the paper's
// layout (Out-Dis by its average; -full shows every set), CSV or JSON.
// -images writes every image's PSNR (and SSIM) per row as CSV. -grid writes a
// PNG comparison grid: one row per set (its first image), columns degraded |
// restored | ground truth, scaled to -grid-height pixels, with the set's label
// and each image's PSNR. Progress goes to stderr (-q: none); images that
// cannot be read or restored are reported and skipped in every row.
package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/examples/internal/cli"
	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/eval"
	"github.com/gomioir/gomioir/nets/torch"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, cli.IsTerminal(os.Stderr)); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate:", err)
		os.Exit(1)
	}
}

type flags struct {
	model, baseline, testsets, clean, tasks, format, out, images, grid string
	task, maps, classifier, device, name, baselineName                 string
	seed                                                               uint64
	seeds, gridHeight, tile                                            int
	full, ssim, ema, quiet                                             bool
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.model, "model", "", "model to evaluate: native (.safetensors) or authors' checkpoint (.pth) (required)")
	fs.StringVar(&f.baseline, "baseline", "", "baseline model (a second row; gains are over it)")
	fs.StringVar(&f.name, "name", "", "row name of -model (default: file stem and class, e.g. \"net_g (SwinIR_EP)\")")
	fs.StringVar(&f.baselineName, "baseline-name", "", "row name of -baseline (default as -name)")
	fs.StringVar(&f.testsets, "testsets", "", "folder of test sets (reference CL_test layout or <set>/GT + <set>/LQ)")
	fs.StringVar(&f.clean, "clean", "", "folder of clean images, degraded on the fly with the InDis and OutDis presets")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the degradations (-clean)")
	fs.IntVar(&f.seeds, "seeds", 1, "degrade each image with this many seeds, -seed onwards, and average (-clean)")
	fs.StringVar(&f.tasks, "tasks", "", "task codes of the clean sets, e.g. sbn (-clean; default all seven)")
	fs.StringVar(&f.format, "format", "md", "table format: md, csv or json")
	fs.BoolVar(&f.full, "full", false, "Markdown: one column per set in every group (default: Out-Dis by its average, as the paper)")
	fs.BoolVar(&f.ssim, "ssim", false, "measure SSIM too")
	fs.StringVar(&f.out, "out", "", "write the table to this file (atomically) instead of stdout")
	fs.StringVar(&f.images, "images", "", "write per-image results to this CSV file")
	fs.StringVar(&f.grid, "grid", "", "write a comparison grid PNG (rows: sets; degraded | restored | GT)")
	fs.IntVar(&f.gridHeight, "grid-height", 128, "thumbnail height of the grid in pixels")
	fs.StringVar(&f.task, "task", "auto", "task of EP models: auto (classifier if attached, else the set's), set, classifier")
	fs.StringVar(&f.maps, "typemaps", "", "explicit-prompt maps of -model (.npy, the reference's data/type7.npy)")
	fs.StringVar(&f.classifier, "classifier", "", "reference task classifier (Classifier.pth) for -model")
	fs.BoolVar(&f.ema, "ema", false, "load params_ema instead of params from .pth checkpoints")
	fs.IntVar(&f.tile, "tile", 0, "tile side in pixels (0: whole image, as the reference)")
	fs.StringVar(&f.device, "device", "cpu", "cpu, cuda or cuda:N")
	fs.BoolVar(&f.quiet, "q", false, "no progress output")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case f.model == "":
		fs.Usage()
		return nil, errors.New("-model is required")
	case (f.testsets == "") == (f.clean == ""):
		fs.Usage()
		return nil, errors.New("give exactly one of -testsets DIR and -clean DIR")
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case f.tasks != "" && f.clean == "":
		return nil, errors.New("-tasks applies to -clean")
	case f.seeds < 1 || f.seeds > 1000:
		return nil, errors.New("-seeds must be in [1, 1000]")
	case f.seeds > 1 && f.clean == "":
		return nil, errors.New("-seeds applies to -clean")
	case f.gridHeight < 8:
		return nil, errors.New("-grid-height must be at least 8")
	}
	switch f.format {
	case "md", "markdown", "csv", "json":
	default:
		return nil, fmt.Errorf("-format %q: md, csv or json", f.format)
	}
	return f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, terminal bool) error {
	f, err := parse(args, stderr)
	if err != nil {
		return err
	}
	choice, err := eval.ParseTaskChoice(f.task)
	if err != nil {
		return err
	}
	dev, err := cli.Device(f.device)
	if err != nil {
		return err
	}
	var sets []eval.Set
	if f.clean != "" {
		var tasks []degrade.Task
		if f.tasks != "" {
			if tasks, err = degrade.ParseTasks(f.tasks); err != nil {
				return err
			}
		}
		sets, err = eval.CleanTestSetsDraws(f.clean, f.seed, f.seeds, tasks)
	} else {
		sets, err = eval.TestSetsFromDir(f.testsets)
	}
	if err != nil {
		return err
	}

	m, err := openModel(f.model, f.ema, f.maps, f.classifier)
	if err != nil {
		return err
	}
	defer m.Close()
	var base *mioir.Model
	if f.baseline != "" {
		if base, err = openModel(f.baseline, f.ema, "", ""); err != nil {
			return fmt.Errorf("-baseline: %w", err)
		}
		defer base.Close()
	}
	for _, mm := range []*mioir.Model{m, base} {
		if mm != nil && dev != torch.CPU {
			if err := mm.To(dev); err != nil {
				return err
			}
		}
	}
	name := f.name
	if name == "" {
		name = rowName(f.model, m)
	}
	opts := &eval.Options{
		Name:    name,
		SSIM:    f.ssim,
		Task:    choice,
		Restore: mioir.Options{Tile: f.tile},
	}
	if base != nil {
		opts.Baseline = base
		opts.BaselineName = f.baselineName
		if opts.BaselineName == "" {
			opts.BaselineName = rowName(f.baseline, base)
		}
		if opts.BaselineName == name {
			opts.BaselineName = "baseline: " + name
		}
	}
	total := 0
	for _, s := range sets {
		total += len(s.Pairs)
	}
	fmt.Fprintf(stderr, "model %s (%s, %d parameters) on %s; %d sets, %d images\n",
		f.model, m.Config().Name(), m.NumParams(), dev, len(sets), total)

	p := &progress{Line: cli.Line{W: stderr, Terminal: terminal}, quiet: f.quiet}
	opts.Progress = p.show
	opts.OnSkip = func(set, img string, err error) {
		p.Clear()
		fmt.Fprintf(stderr, "skipped %s/%s: %v\n", set, img, err)
	}
	var grid *gridBuilder
	if f.grid != "" {
		grid = newGrid(f.gridHeight)
		opts.OnImage = grid.add
	}
	rep, evalErr := eval.Evaluate(ctx, m, sets, opts)
	p.Clear()
	if evalErr != nil {
		if rep == nil || ctx.Err() == nil {
			return evalErr
		}
		fmt.Fprintf(stderr, "interrupted: %v; partial results follow\n", evalErr)
	}
	if len(rep.Images) == 0 {
		return errors.New("no image could be evaluated")
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(stderr, "%d images skipped\n", len(rep.Skipped))
	}

	t := rep.Table
	mo := t.Options
	t.Title = fmt.Sprintf("PSNR (dB), crop %d, %s", mo.CropBorder, map[bool]string{false: "RGB", true: "Y"}[mo.YChannel])
	if f.ssim {
		t.Title = strings.Replace(t.Title, "PSNR (dB)", "PSNR (dB) / SSIM", 1)
	}
	if !f.full {
		t.Layout.AverageOnly = []metrics.Group{metrics.OutDis}
	}
	text, err := render(t, f.format)
	if err != nil {
		return err
	}
	if f.out != "" {
		if err := atomicfile.WriteBytes(f.out, []byte(text)); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", f.out)
	} else if _, err := io.WriteString(stdout, text); err != nil {
		return err
	}
	if f.images != "" {
		if err := atomicfile.WriteBytes(f.images, imagesCSV(rep, f.ssim)); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s\n", f.images)
	}
	if grid != nil {
		if err := atomicfile.WriteFile(f.grid, grid.encode); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s (%d rows)\n", f.grid, len(grid.rows))
	}
	return evalErr
}

// render returns the table in the requested format, ending with a newline.
func render(t *metrics.Table, format string) (string, error) {
	switch format {
	case "csv":
		return t.CSV(), nil
	case "json":
		b, err := t.JSON()
		return string(b) + "\n", err
	}
	s := t.Markdown()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s, nil
}

// imagesCSV lists every per-image measurement: model, set, image, psnr
// (full precision, "+Inf" when identical), ssim (with -ssim), task, auto.
func imagesCSV(rep *eval.Report, ssim bool) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{"model", "set", "image", "psnr"}
	if ssim {
		head = append(head, "ssim")
	}
	head = append(head, "task", "auto")
	w.Write(head)
	for _, im := range rep.Images {
		rec := []string{im.Model, im.Set, im.Name, fmtFloat(im.PSNR)}
		if ssim {
			rec = append(rec, fmtFloat(im.SSIM))
		}
		task := ""
		if im.Task != 0 {
			task = im.Task.Name()
		}
		rec = append(rec, task, strconv.FormatBool(im.Auto))
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

func fmtFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// rowName names a model's row by its file name and class: "SwinIR_S_EP
// (SwinIR_EP)".
func rowName(path string, m *mioir.Model) string {
	b := filepath.Base(path)
	return fmt.Sprintf("%s (%s)", strings.TrimSuffix(b, filepath.Ext(b)), m.Config().Name())
}

// openModel opens a native model or a .pth checkpoint (mioir.Open), with
// optional explicit-prompt maps and classifier.
func openModel(path string, ema bool, maps, classifier string) (*mioir.Model, error) {
	return mioir.Open(path, &mioir.ImportOptions{EMA: ema, Maps: maps, Classifier: classifier})
}

// progress prints one line per image, or an updating line on a terminal.
type progress struct {
	cli.Line
	quiet bool
}

func (p *progress) show(e eval.Progress) {
	if p.quiet {
		return
	}
	msg := fmt.Sprintf("[%d/%d] %s/%s", e.Index+1, e.Total, e.Set, e.Name)
	if e.Index > 0 {
		per := e.Elapsed / time.Duration(e.Index)
		msg += fmt.Sprintf(" (%.2fs/image, ETA %s)", per.Seconds(), (per * time.Duration(e.Total-e.Index)).Round(time.Second))
	}
	p.Show(msg)
}
