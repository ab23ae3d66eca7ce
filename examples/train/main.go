// Command train trains a MiOIR model (or the task classifier) along a mixed
// or sequential curriculum and writes checkpoints, model files, logs and the
// training curve to a folder.
//
//	go run ./examples/train -data DIR [-val DIR] -out DIR -backbone srresnet|swinir|restormer|uformer|promptir
//		-prompt none|ep|ap -schedule mixed|sequential [-order sbnjrhd] [-tasks sbnjrhd]
//		[-stage-iters N] [-final-cycles N] [-cycles N] [-batch N] [-patch N] [-config FILE.json]
//		[-resume] [-seed N] [-device cpu|cuda] [-workers N] [-ckpt-every N]
//		[-val-every N] [-val-limit N] [-log-every N] [-lr F] [-init FILE | -init-match FILE]
//		[-task-weights b=3,j=2] [-exposure P:G[:TASKS]] [-classifier]
//
// -data is either the reference's paired layout (DIR/GT and one LQ folder
// per task: sr, blur, noise, jpeg, rain, haze, dark) or a folder of clean
// images degraded on the fly with the training distributions (preferably
// sub-images, see data.Subimages). -val is a folder of clean images from
// which a fixed validation set per task is made (seeded); validation runs
// every -val-every iterations and at every stage end, PSNR with crop 4.
//
// The schedule is the backbone's reference recipe (nets.Arch.Recipe, method
// spec section 3): Adam or AdamW with its weight decay, lr 2e-4 (-lr) with
// cosine restarts down to the recipe's minimum, stage length -stage-iters
// (default: the recipe's period, 250000 for SRResNet, 100000 for the others),
// a sequential final stage of -final-cycles cycles (default 4; a mixed run
// then has 10 cycles, or -cycles), EMA 0.999, L1 loss. -order is the sequential order
// (default: the recipe's, sbnjrhd or rjbsnhd); -tasks the tasks of a mixed
// run (default all seven). The classifier trains with Adam down to 1e-7.
// -config is a JSON file with mioir.Config fields, e.g. {"Net": {"Features":
// 16, "Blocks": 2}}. -init starts from the weights of a model file (a model, or
// with -classifier a classifier, written by this program) instead of a
// seeded initialisation, for fine-tuning. -init-match keeps -backbone,
// -prompt and -config and copies from the file only the tensors whose names
// and shapes match (an EP model's backbone and modulation layers into an AP
// model). -task-weights draws the tasks of each batch in proportion to the
// given weights (others weigh 1) instead of uniformly, to spend a short
// budget on the tasks that learn slowly. -exposure P:G darkens a share P of
// the clean patches (GT and input alike) by x^u, u uniform in [1, G], so that
// naturally dark scenes are not all taken for low light (clean images only;
// not in the reference); -exposure P:G:d darkens only the low-light samples.
// -classifier trains the task classifier instead (LQ only, cross-entropy on
// logits).
//
// OUT receives state.safetensors (the training state, rewritten atomically
// every -ckpt-every iterations, at stage ends and on SIGINT/SIGTERM),
// stage{k}_net_g[_ema].safetensors and net_g[_ema]_latest.safetensors (model
// files mioir.Load reads), history.json (the logged losses and validations),
// curve.png (loss and validation PSNR per task, drawn from the history by this
// program) and train.log (JSON lines). -resume continues from OUT/state.safetensors,
// exactly: with MIOIR_NUM_THREADS=1 a killed and resumed run ends with the
// weights of an uninterrupted one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/train"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// exitInterrupted is the exit status of a run stopped by SIGINT or SIGTERM
// (or, in a data-parallel run, by another rank's), its state saved.
const exitInterrupted = 130

// spawn starts the local workers of -nproc.
var spawn spawner = selfSpawner

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if errors.Is(err, context.Canceled) || errors.Is(err, train.ErrStoppedByPeer) {
		fmt.Fprintln(os.Stderr, "train: interrupted; the state is saved, continue with -resume")
		os.Exit(exitInterrupted)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

type flags struct {
	data, val, out, backbone, prompt, schedule, order, tasks, config, device string
	init, initMatch, taskWeights                                             string
	stageIters, finalCycles, cycles, batch, patch, workers                   int
	ckptEvery, valEvery, valLimit, logEvery                                  int
	seed                                                                     uint64
	lr                                                                       float64
	weights                                                                  map[degrade.Task]float64
	exposureSpec                                                             string
	exposure                                                                 *data.Exposure
	resume, classifier                                                       bool
	set                                                                      map[string]bool // flags given

	// Data parallelism (launch.go).
	nproc, nnodes, nodeRank, rank, worldSize, localRank, masterPort int
	masterAddr                                                      string
	distTimeout                                                     time.Duration
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.data, "data", "", "training data: paired layout (DIR/GT + task folders) or clean images (required)")
	fs.StringVar(&f.val, "val", "", "clean validation images (a fixed degraded set per task is made from them)")
	fs.StringVar(&f.out, "out", "", "output folder for checkpoints, models, logs and the curve (required)")
	fs.StringVar(&f.backbone, "backbone", "srresnet", "backbone: "+strings.Join(nets.Archs(), ", "))
	fs.StringVar(&f.prompt, "prompt", "none", "prompt: none, ep or ap")
	fs.StringVar(&f.schedule, "schedule", "mixed", "mixed or sequential")
	fs.StringVar(&f.order, "order", "", "sequential order as task letters (default: the backbone's recipe, sbnjrhd or rjbsnhd)")
	fs.StringVar(&f.tasks, "tasks", "sbnjrhd", "tasks of a mixed schedule")
	fs.IntVar(&f.stageIters, "stage-iters", 0, "iterations per stage / cosine cycle (0: the backbone's recipe, 250000 or 100000)")
	fs.IntVar(&f.finalCycles, "final-cycles", nets.DefaultRecipe().FinalCycles, "cycles of the last sequential stage (default: the backbone's recipe)")
	fs.IntVar(&f.cycles, "cycles", 0, "cosine cycles of a mixed schedule (0: the recipe's, or as many as a sequential run with -final-cycles has)")
	fs.IntVar(&f.batch, "batch", 4, "batch size")
	fs.IntVar(&f.patch, "patch", 128, "patch side")
	fs.StringVar(&f.config, "config", "", "JSON file with mioir.Config fields (e.g. {\"Net\": {\"Features\": 16}})")
	fs.BoolVar(&f.resume, "resume", false, "continue from OUT/state.safetensors")
	fs.StringVar(&f.init, "init", "", "start from the weights of this model file (fine-tuning; its configuration replaces -backbone, -prompt and -config)")
	fs.StringVar(&f.initMatch, "init-match", "", "start from the tensors of this model file whose names and shapes match (same backbone, another prompt kind: ep into ap); the rest are seeded")
	fs.StringVar(&f.taskWeights, "task-weights", "", "draw tasks in proportion to these weights, e.g. b=3,j=2 (others weigh 1)")
	fs.StringVar(&f.exposureSpec, "exposure", "", "darken this share of the clean patches by x^u, u up to MAXGAMMA, before degrading them (only TASKS' patches when given): P:MAXGAMMA[:TASKS], e.g. 0.3:2 or 0.5:3:d")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the weights, the data and stochastic depth")
	fs.StringVar(&f.device, "device", "cpu", "cpu, cuda or cuda:N")
	fs.IntVar(&f.workers, "workers", 0, "data loader workers (0: data.DefaultWorkers())")
	fs.IntVar(&f.ckptEvery, "ckpt-every", 0, "checkpoint every N iterations (0: 25000; stage ends always)")
	fs.IntVar(&f.valEvery, "val-every", 0, "validate every N iterations (0: 25000; always at stage ends)")
	fs.IntVar(&f.valLimit, "val-limit", 0, "validation images per task (0: all)")
	fs.IntVar(&f.logEvery, "log-every", 100, "log the loss per task every N iterations")
	fs.Float64Var(&f.lr, "lr", nets.DefaultRecipe().Optimizer.LR, "initial learning rate of every cosine cycle (default: the backbone's recipe)")
	fs.BoolVar(&f.classifier, "classifier", false, "train the task classifier instead of a restoration model")
	fs.IntVar(&f.nproc, "nproc", 1, "data-parallel workers to start on this machine (each trains -batch samples of every global batch)")
	fs.IntVar(&f.nnodes, "nnodes", 1, "machines of the run, each starting -nproc workers")
	fs.IntVar(&f.nodeRank, "node-rank", 0, "this machine's index among -nnodes (0 serves the rendezvous)")
	fs.IntVar(&f.rank, "rank", 0, "this worker's rank (default RANK)")
	fs.IntVar(&f.worldSize, "world-size", 0, "number of workers of the run (default WORLD_SIZE; unset: one process)")
	fs.IntVar(&f.localRank, "local-rank", 0, "this worker's rank on its machine (default LOCAL_RANK)")
	fs.StringVar(&f.masterAddr, "master-addr", "", "address of rank 0's machine (default MASTER_ADDR, else 127.0.0.1)")
	fs.IntVar(&f.masterPort, "master-port", 0, "rendezvous port on the master (default MASTER_PORT, else 29500; -nproc on one machine: a free port)")
	fs.DurationVar(&f.distTimeout, "dist-timeout", torch.DefaultGroupTimeout, "how long a rank waits for the others (rendezvous, every all-reduce, rank 0's validations and checkpoints)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.data == "" || f.out == "" {
		return nil, errors.New("-data and -out are required")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if f.cycles < 0 || f.cycles > 0 && f.schedule != "mixed" {
		return nil, fmt.Errorf("-cycles %d: a positive number of cycles, for -schedule mixed only", f.cycles)
	}
	if f.nproc < 1 || f.distTimeout <= 0 {
		return nil, fmt.Errorf("-nproc %d and -dist-timeout %v must be positive", f.nproc, f.distTimeout)
	}
	if f.init != "" && f.initMatch != "" {
		return nil, errors.New("-init and -init-match exclude each other")
	}
	if f.classifier && f.initMatch != "" {
		return nil, errors.New("-init-match is for restoration models; a classifier fine-tunes with -init")
	}
	var err error
	if f.weights, err = parseTaskWeights(f.taskWeights); err != nil {
		return nil, err
	}
	if f.exposureSpec != "" {
		p, g, ok := strings.Cut(f.exposureSpec, ":")
		g, ts, limited := strings.Cut(g, ":")
		e := &data.Exposure{}
		var e1, e2, e3 error
		e.P, e1 = strconv.ParseFloat(p, 64)
		e.MaxGamma, e2 = strconv.ParseFloat(g, 64)
		if limited {
			e.Tasks, e3 = degrade.ParseTasks(ts)
		}
		if !ok || e1 != nil || e2 != nil || e3 != nil {
			return nil, fmt.Errorf("-exposure %q: want P:MAXGAMMA[:TASKS], e.g. 0.3:2 or 0.5:3:d", f.exposureSpec)
		}
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("-exposure %q: %w", f.exposureSpec, err)
		}
		f.exposure = e
	}
	return f, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if f.nproc > 1 {
		return launchLocal(ctx, f, args, spawn, stderr)
	}
	launch, parallel, err := launchOf(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	var logger *slog.Logger
	if !parallel || launch.Rank == 0 {
		logFile, err := os.OpenFile(filepath.Join(f.out, "train.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer logFile.Close()
		logger = slog.New(teeHandler{slog.NewTextHandler(stderr, nil), slog.NewJSONHandler(logFile, nil)})
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, nil)) // rank 0 alone writes files
	}
	dev, err := torch.ParseDevice(f.device)
	if err != nil {
		return err
	}
	var group *torch.Group
	if parallel {
		// Gloo for CPU tensors, NCCL for CUDA ones (torch.distributed's choice).
		backend := torch.Gloo
		if dev.Type() == torch.DeviceCUDA {
			backend = torch.NCCL
		}
		if os.Getenv(torch.NumThreadsEnv) == "" {
			torch.SetNumThreads(launch.Threads(runtime.NumCPU()))
		}
		logger.Info("joining", "rank", launch.Rank, "world", launch.World, "master", launch.Master(),
			"backend", backend.String(), "threads", torch.NumThreads())
		if group, err = launch.Join(ctx, &torch.GroupOptions{Backend: backend, Timeout: f.distTimeout}); err != nil {
			return err
		}
		defer group.Close()
	}

	arch, err := nets.Lookup(f.backbone)
	if err != nil {
		return err
	}
	recipe := arch.Recipe
	if f.classifier {
		// Adam (the classifier trainer's default), down to 1e-7.
		recipe.EtaMin = curriculum.ReferenceEtaMin
	}
	plan, err := makePlan(f, recipe)
	if err != nil {
		return err
	}
	src, err := openData(f, plan)
	if err != nil {
		return err
	}
	var val map[degrade.Task][]data.Pair
	if f.val != "" {
		if val, err = data.TaskPairs(f.val, planTasks(plan), degrade.Train(), f.seed+1); err != nil {
			return err
		}
	}
	every := func(v int) int {
		if v == 0 {
			v = 25000
		}
		return v
	}
	var tr *train.Trainer
	crv := newCurve(filepath.Join(f.out, curveFile))
	drawCurve := func() {
		if group != nil && group.Rank() != 0 {
			return
		}
		if err := crv.update(tr.History()); err != nil {
			logger.Warn("curve plot", "err", err)
		}
	}
	// Optimizer nil: the model's backbone recipe (the classifier's: Adam).
	cfg := train.Config{TaskWeights: f.weights,
		Plan: plan, Batch: f.batch, Patch: f.patch, Seed: f.seed, Workers: f.workers, Dir: f.out,
		CheckpointEvery: every(f.ckptEvery), LogEvery: f.logEvery, ValEvery: every(f.valEvery),
		Val: val, ValLimit: f.valLimit, Logger: logger, Group: group,
		// The curve follows the history: redrawn whenever a loss record or
		// a validation was added.
		OnProgress: func(train.Progress) { drawCurve() },
	}
	if f.classifier {
		g, err := torch.NewGenerator(f.seed)
		if err != nil {
			return err
		}
		c, err := prompt.NewClassifier(g)
		g.Close()
		if err != nil {
			return err
		}
		if f.init != "" {
			c.Close()
			if c, err = mioir.LoadClassifier(f.init); err != nil {
				return err
			}
		}
		defer c.Close()
		if tr, err = train.NewClassifierTrainer(c, src, cfg); err != nil {
			return err
		}
	} else {
		kind, err := mioir.ParsePromptKind(f.prompt)
		if err != nil {
			return err
		}
		mc := mioir.Config{Arch: arch.Name(), Prompt: kind}
		if f.config != "" {
			b, err := os.ReadFile(f.config)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &mc); err != nil {
				return fmt.Errorf("%s: %w", f.config, err)
			}
		}
		var m *mioir.Model
		if f.init != "" {
			m, err = mioir.Load(f.init)
		} else {
			m, err = mioir.New(mc, f.seed)
		}
		if err != nil {
			return err
		}
		if f.initMatch != "" {
			loaded, skipped, err := m.InitFrom(f.initMatch)
			if err != nil {
				m.Close()
				return err
			}
			logger.Info("initialised from", "file", f.initMatch, "loaded", len(loaded), "seeded", strings.Join(skipped, " "))
		}
		mc = m.Config()
		defer m.Close()
		if err := m.To(dev); err != nil {
			return err
		}
		logger.Info("model", "name", mc.Name(), "params", m.NumParams(), "device", dev.String())
		if tr, err = train.NewTrainer(m, src, cfg); err != nil {
			return err
		}
	}
	defer tr.Close()
	if f.resume {
		if _, err := os.Stat(filepath.Join(f.out, train.StateFile)); err == nil {
			if err := tr.Resume(""); err != nil {
				return err
			}
		} else {
			logger.Info("no state to resume, starting from scratch", "dir", f.out)
		}
	}
	err = tr.Run(ctx)
	drawCurve()
	return err
}

// makePlan is the recipe's plan with the flags' changes.
func makePlan(f *flags, r nets.Recipe) (curriculum.Plan, error) {
	if f.set["lr"] {
		r.Optimizer.LR = f.lr
	}
	if r.Optimizer.LR <= r.EtaMin || math.IsInf(r.Optimizer.LR, 0) || math.IsNaN(r.Optimizer.LR) {
		return curriculum.Plan{}, fmt.Errorf("-lr %g must be a finite number above the schedule's minimum %g", r.Optimizer.LR, r.EtaMin)
	}
	if f.stageIters != 0 {
		r.Period = f.stageIters
	}
	refFinal := r.FinalCycles
	if f.set["final-cycles"] {
		r.FinalCycles = f.finalCycles
	}
	opts := []curriculum.Option{curriculum.WithLR(r.Optimizer.LR, r.EtaMin)}
	switch f.schedule {
	case "mixed":
		tasks, err := degrade.ParseTasks(f.tasks)
		if err != nil {
			return curriculum.Plan{}, err
		}
		cycles := r.MixedCycles
		if r.FinalCycles != refFinal {
			// Another budget: as many cycles as a sequential run over the
			// same tasks would have.
			cycles = max(1, len(tasks)-1+f.finalCycles)
		}
		if f.cycles > 0 {
			cycles = f.cycles
		}
		return curriculum.Mixed(tasks, slices.Repeat([]int{r.Period}, cycles), opts...)
	case "sequential":
		order := r.Order
		if f.order != "" {
			var err error
			if order, err = degrade.ParseTasks(f.order); err != nil {
				return curriculum.Plan{}, err
			}
		}
		return curriculum.Sequential(order, r.Period, r.FinalCycles, opts...)
	}
	return curriculum.Plan{}, fmt.Errorf("-schedule %q: want mixed or sequential", f.schedule)
}

func planTasks(p curriculum.Plan) []degrade.Task {
	seen := map[degrade.Task]bool{}
	var out []degrade.Task
	for _, s := range p.Stages() {
		for _, t := range s.Tasks {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

func openData(f *flags, plan curriculum.Plan) (data.Source, error) {
	if st, err := os.Stat(filepath.Join(f.data, "GT")); err == nil && st.IsDir() {
		if f.exposure != nil {
			return nil, errors.New("-exposure needs clean images (the paired layout's LQ files are fixed)")
		}
		return data.Paired(f.data, &data.PairedOptions{Tasks: planTasks(plan)})
	}
	return data.Clean(f.data, degrade.Train(), f.seed, &data.CleanOptions{Tasks: planTasks(plan), Exposure: f.exposure})
}

// teeHandler sends every record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.a.Enabled(ctx, l) || h.b.Enabled(ctx, l)
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	return errors.Join(h.a.Handle(ctx, r.Clone()), h.b.Handle(ctx, r))
}

func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{h.a.WithAttrs(as), h.b.WithAttrs(as)}
}

func (h teeHandler) WithGroup(n string) slog.Handler {
	return teeHandler{h.a.WithGroup(n), h.b.WithGroup(n)}
}

// parseTaskWeights reads "b=3,j=2" (task codes or names); "" is nil.
func parseTaskWeights(s string) (map[degrade.Task]float64, error) {
	if s == "" {
		return nil, nil
	}
	w := map[degrade.Task]float64{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("-task-weights: %q is not task=weight", kv)
		}
		t, err := degrade.ParseTask(k)
		if err != nil {
			return nil, fmt.Errorf("-task-weights: %w", err)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("-task-weights: weight %q of %v is not a number", v, t)
		}
		if _, dup := w[t]; dup {
			return nil, fmt.Errorf("-task-weights: %v given twice", t)
		}
		w[t] = x
	}
	if err := data.CheckTaskWeights(w); err != nil {
		return nil, fmt.Errorf("-task-weights: %w", err)
	}
	return w, nil
}
