// Command restore restores one image or a folder of images with a MiOIR
// model.
//
//	go run ./examples/restore [-model PATH] -in FILE|DIR -out FILE|DIR [-task auto|s|b|n|j|r|h|d]
//		[-arch NAME] [-config FILE.json] [-typemaps type7.npy] [-classifier Classifier.pth]
//		[-tile N -overlap N] [-device cpu|cuda] [-ema] [-q]
//	go run ./examples/restore -sample [-out restored.png]
//
// Without -model the library's bundled default model is used (package
// mioir/pretrained: a small SRResNet-EP with a task classifier, trained with
// this library on free photos). -sample restores the bundled degraded sample
// image (a held-out photo with rain) and prints the task the classifier
// detected and the PSNR gain over the degraded input, measured against the
// bundled clean original.
//
// PATH is a native model (written by mioir.Model.Save) or an authors' .pth
// checkpoint, imported strictly with its architecture inferred from the
// keys (-arch restricts the inference to one backbone). -config gives
// hyper-parameters that leave no trace in the weights as JSON, with the field
// names of mioir.Config and of the backbone's Go config struct, e.g.
// {"Net": {"ImgRange": 1}}; the fields given replace the inferred ones.
// -ema loads the checkpoint's params_ema instead of params. Explicit-prompt
// (EP) checkpoints need the reference's maps (-typemaps data/type7.npy);
// -task auto needs the reference classifier (-classifier Classifier.pth)
// unless the native model carries one, and the chosen task is printed with
// the classifier's probabilities. Plain and AP models ignore -task; one that
// carries a classifier prints the task it detects, which does not steer the
// restoration.
//
// -in may be a file or a folder (PNG, JPEG, GIF, BMP, TIFF, WebP); for a
// folder, -out is a folder and every output is <stem>.png; for a file, -out
// is a file (.png, .jpg or .tif; another extension keeps the input's
// format) or an existing folder. Files are read and written with package
// mioir/imagefile, so nothing of them is lost: a 16-bit PNG or TIFF is
// restored from its 16-bit values and written 16-bit, the alpha channel
// passes through unchanged, a gray image stays gray, EXIF and the ICC
// profile are copied (to PNG and JPEG outputs), and a JPEG's EXIF
// orientation is applied. Files whose header declares more than 100
// megapixels are refused before decoding. Inputs that cannot be read are
// reported and skipped. Outputs are written atomically. Progress is one line
// per image, or a single updating line when stderr is a terminal (-q: none).
//
// -tile N restores in N-pixel tiles overlapping by -overlap pixels (memory
// stays bounded on large images); without it the whole image is restored at
// once and tiles are used only after an out-of-memory error. On a terminal
// the progress line counts the tiles of the current image. An interrupt
// (Ctrl-C, SIGTERM) stops between tiles; the outputs written so far stay.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/examples/internal/cli"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/mioir/pretrained"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, cli.IsTerminal(os.Stderr))
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "restore:", err)
		os.Exit(1)
	}
}

type flags struct {
	model, in, out, task, arch, config, maps, classifier, device string
	tile, overlap                                                int
	memory                                                       int64
	strength                                                     float64
	ema, quiet, sample                                           bool
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.model, "model", "", "native model (.safetensors) or authors' checkpoint (.pth) (default: the bundled default model)")
	fs.StringVar(&f.in, "in", "", "input image or folder (required unless -sample)")
	fs.StringVar(&f.out, "out", "", "output image or folder (required; -sample: default restored.png)")
	fs.BoolVar(&f.sample, "sample", false, "restore the bundled degraded sample and print the PSNR gain")
	fs.StringVar(&f.task, "task", "auto", "task of EP models: auto (classifier) or one of s b n j r h d")
	fs.StringVar(&f.arch, "arch", "", "backbone of a .pth checkpoint ("+strings.Join(nets.Archs(), ", ")+"); inferred when empty")
	fs.StringVar(&f.config, "config", "", "JSON file with non-default hyper-parameters (mioir.Config field names)")
	fs.StringVar(&f.maps, "typemaps", "", "explicit-prompt maps (.npy, the reference's data/type7.npy)")
	fs.StringVar(&f.classifier, "classifier", "", "reference task classifier (Classifier.pth) for -task auto")
	fs.StringVar(&f.device, "device", "cpu", "cpu, cuda or cuda:N")
	fs.Float64Var(&f.strength, "strength", 0, "share of the network's change kept, in (0, 1] (0: the model's own estimate for the task where it has one, else 1; 1: the network's output as it is)")
	fs.IntVar(&f.tile, "tile", 0, "tile side in pixels (0: chosen from -memory)")
	fs.Int64Var(&f.memory, "memory", 0, "memory budget of a restoration on the CPU, in MiB (0: mioir.DefaultMemoryBudget(); -1: none, the whole image at once)")
	fs.IntVar(&f.overlap, "overlap", mioir.DefaultOverlap, "tile overlap in pixels")
	fs.BoolVar(&f.ema, "ema", false, "load params_ema instead of params from a .pth")
	fs.BoolVar(&f.quiet, "q", false, "no progress output")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.sample {
		if f.in != "" {
			return nil, errors.New("-sample restores the bundled sample: leave out -in")
		}
		if f.out == "" {
			f.out = "restored.png"
		}
	}
	if (f.in == "" && !f.sample) || f.out == "" {
		fs.Usage()
		return nil, errors.New("-in and -out are required (or -sample)")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if !(f.strength >= 0 && f.strength <= 1) {
		return nil, fmt.Errorf("-strength %v: want a share in (0, 1], or 0 for the model's own", f.strength)
	}
	return f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, terminal bool) error {
	f, err := parse(args, stderr)
	if err != nil {
		return err
	}
	dev, err := cli.Device(f.device)
	if err != nil {
		return err
	}
	m, err := openModel(f)
	if err != nil {
		return err
	}
	defer m.Close()
	if dev != torch.CPU {
		if err := m.To(dev); err != nil {
			return err
		}
	}
	opts := &mioir.Options{Tile: f.tile, Overlap: f.overlap, MemoryBudget: f.memory << 20, Strength: f.strength}
	if f.overlap <= 0 {
		opts.Overlap = -1
	}
	cfg := m.Config()
	switch {
	case f.task == "auto":
		if cfg.Prompt == prompt.Explicit && !m.HasClassifier() {
			return errors.New("-task auto needs a classifier for an EP model: give -classifier Classifier.pth or a task (s b n j r h d)")
		}
		// An EP model restores with the classifier's task; an AP or plain
		// model only reports it (its prompt is the image itself).
		opts.Auto = m.HasClassifier()
	default:
		if opts.Task, err = degrade.ParseTask(f.task); err != nil {
			return err
		}
	}
	name := f.model
	if name == "" {
		name = "default (bundled, mioir/pretrained)"
	}
	fmt.Fprintf(stdout, "model %s (%s, %d parameters) on %s\n", name, cfg.Name(), m.NumParams(), dev)
	if f.sample {
		return restoreSample(ctx, m, f.out, opts, stdout)
	}

	inputs, outputs, err := plan(f.in, f.out)
	if err != nil {
		return err
	}
	p := &progress{Line: cli.Line{W: stderr, Terminal: terminal}, quiet: f.quiet, total: len(inputs), start: time.Now()}
	opts.Progress = p.tiles
	failed := 0
	for i, in := range inputs {
		p.show(i, in)
		info, err := restoreFile(ctx, m, in, outputs[i], opts)
		if err != nil && ctx.Err() != nil {
			p.Clear()
			return fmt.Errorf("interrupted at %s (%d of %d images restored): %w", in, i-failed, len(inputs), ctx.Err())
		}
		if err != nil {
			failed++
			p.Clear()
			fmt.Fprintf(stderr, "skipped %s: %v\n", in, err)
			continue
		}
		if info.Auto {
			p.Clear()
			fmt.Fprintf(stdout, "%s: task %s (classifier: %s)%s%s\n", filepath.Base(in), taskName(info), probsString(info.Probs), strengthNote(info), reportOnly(m))
		} else if info.Strength < 1 && f.strength == 0 {
			// The share was the model's estimate, not asked: say so.
			p.Clear()
			fmt.Fprintf(stdout, "%s: task %s%s (the model's estimate; -strength 1 keeps the network's output)\n", filepath.Base(in), info.Task, strengthNote(info))
		}
	}
	p.Clear()
	fmt.Fprintf(stdout, "restored %d of %d images", len(inputs)-failed, len(inputs))
	if failed > 0 {
		fmt.Fprintf(stdout, ", %d skipped", failed)
	}
	fmt.Fprintln(stdout)
	if failed == len(inputs) {
		return fmt.Errorf("no image could be restored")
	}
	return nil
}

// restoreSample restores the bundled sample, writes the result to out and
// prints the detected task and the PSNR gain (BasicSR conventions: RGB,
// crop 4).
func restoreSample(ctx context.Context, m *mioir.Model, out string, o *mioir.Options, stdout io.Writer) error {
	lq, gt, err := pretrained.Sample()
	if err != nil {
		return err
	}
	res, info, err := m.Restore(ctx, lq, o)
	if err != nil {
		return err
	}
	if err := imagefile.Write(out, imagefile.FromImage(res), nil); err != nil {
		return err
	}
	gt8, err := metrics.ToRGB8(gt)
	if err != nil {
		return err
	}
	mo := &metrics.Options{CropBorder: metrics.PaperCropBorder, PSNROnly: true}
	before, err := metrics.Measure(lq, gt8, mo)
	if err != nil {
		return err
	}
	after, err := metrics.Measure(res, gt8, mo)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample: %s\n", pretrained.SampleName)
	if info.Auto {
		fmt.Fprintf(stdout, "detected task: %s (classifier: %s)%s\n", taskName(info), probsString(info.Probs), reportOnly(m))
	}
	fmt.Fprintf(stdout, "PSNR %.2f dB -> %.2f dB (%+.2f dB); wrote %s\n", before.PSNR, after.PSNR, after.PSNR-before.PSNR, out)
	return nil
}

// openModel opens -model, a native model or a .pth checkpoint, or the
// bundled default model when no path is given (mioir.Open tells them apart).
func openModel(f *flags) (*mioir.Model, error) {
	name := f.model
	if name == "" {
		if f.config != "" || f.arch != "" || f.ema || f.maps != "" || f.classifier != "" {
			return nil, errors.New("-config, -arch, -ema, -typemaps and -classifier need -model")
		}
		name = pretrained.DefaultName
	}
	o := &mioir.ImportOptions{Arch: f.arch, EMA: f.ema, Maps: f.maps, Classifier: f.classifier}
	if f.config != "" {
		// The file's fields overlay the configuration inferred from the
		// checkpoint.
		cfg, err := mioir.InferConfig(f.model, f.arch)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(f.config)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("-config %s: %w", f.config, err)
		}
		o.Config = &cfg
	}
	return mioir.Open(name, o)
}

var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// plan lists the inputs and their output paths.
func plan(in, out string) (inputs, outputs []string, err error) {
	st, err := os.Stat(in)
	if err != nil {
		return nil, nil, err
	}
	if !st.IsDir() {
		o := out
		if ost, err := os.Stat(out); err == nil && ost.IsDir() {
			o = filepath.Join(out, stem(in)+".png")
		}
		return []string{in}, []string{o}, nil
	}
	entries, err := os.ReadDir(in)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		if e.IsDir() || !slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
			continue
		}
		inputs = append(inputs, filepath.Join(in, e.Name()))
		outputs = append(outputs, filepath.Join(out, stem(e.Name())+".png"))
	}
	if len(inputs) == 0 {
		return nil, nil, fmt.Errorf("no images in %s (%s)", in, strings.Join(imageExts, " "))
	}
	return inputs, outputs, nil
}

func stem(p string) string {
	b := filepath.Base(p)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// restoreFile reads, restores and writes one image atomically, keeping its
// depth, alpha, grayscale and metadata.
func restoreFile(ctx context.Context, m *mioir.Model, in, out string, o *mioir.Options) (*mioir.Info, error) {
	im, err := imagefile.Read(in, nil)
	if err != nil {
		return nil, err
	}
	res, info, err := m.RestoreImageFile(ctx, im, o)
	if err != nil {
		return nil, err
	}
	return info, imagefile.Write(out, res, nil)
}

func probsString(p []float32) string {
	var parts []string
	for i, v := range p {
		t, err := degrade.TaskFromPromptIndex(i)
		if err != nil {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.3f", t.Name(), v))
	}
	return strings.Join(parts, ", ")
}

// progress prints one line per image, or an updating line on a terminal
// that also counts the tiles of the current image.
type progress struct {
	cli.Line
	quiet bool
	total int
	start time.Time
	msg   string // the current image's line
}

func (p *progress) show(i int, name string) {
	p.msg = ""
	if p.quiet || p.total < 2 {
		return
	}
	p.msg = fmt.Sprintf("[%d/%d] %s", i+1, p.total, filepath.Base(name))
	if i > 0 {
		per := time.Since(p.start) / time.Duration(i)
		p.msg += fmt.Sprintf(" (%.1fs/image, ETA %s)", per.Seconds(), (per * time.Duration(p.total-i)).Round(time.Second))
	}
	p.Show(p.msg)
}

// tiles is the mioir.Options.Progress of every image: on a terminal, the
// tile count of a tiled image follows the image's line.
func (p *progress) tiles(done, total int) {
	if p.quiet || !p.Terminal || total < 2 {
		return
	}
	msg := fmt.Sprintf("tile %d/%d", done, total)
	if p.msg != "" {
		msg = p.msg + " " + msg
	}
	p.Show(msg)
}

// reportOnly notes, for a model whose prompt is not the task's map, that the
// classifier's task is reported but does not steer the restoration.
func reportOnly(m *mioir.Model) string {
	if m.Config().Prompt == prompt.Explicit {
		return ""
	}
	return "; reported only, the model reads the degradation from the image"
}

// strengthNote says how much of the network's change was kept, when not all.
func strengthNote(info *mioir.Info) string {
	if info.Strength < 1 {
		return fmt.Sprintf(", strength %.2f", info.Strength)
	}
	return ""
}

// taskName names the task used, or says why the classifier's choice was not
// (mioir.Guard).
func taskName(info *mioir.Info) string {
	if f := info.Fallback; f != nil && info.Task == 0 {
		return fmt.Sprintf("none, image left unchanged (classifier chose %s, but %s)", f.Chosen, f.Reason)
	} else if f != nil {
		return fmt.Sprintf("%s (classifier chose %s, but %s)", info.Task, f.Chosen, f.Reason)
	}
	return info.Task.Name()
}
