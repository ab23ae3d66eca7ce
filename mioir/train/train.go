package train

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/eval"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// Reference training hyper-parameters (method spec section 3); the
// optimiser's are each backbone's recipe (nets.Recipe).
const (
	DefaultEMADecay = 0.999
	DefaultLogEvery = 100
)

// File names the trainer writes in Config.Dir.
const (
	// StateFile is the training state (weights, EMA, optimiser moments,
	// iteration, generator state, history), rewritten atomically at every
	// checkpoint; Trainer.Resume reads it.
	StateFile = "state.safetensors"
	// LatestModel and LatestEMAModel are model files (Load reads them)
	// written at every stage end with the raw and the EMA weights; the
	// stage's own copies are named stage{k}_net_g.safetensors and
	// stage{k}_net_g_ema.safetensors (k from 1).
	LatestModel    = "net_g_latest.safetensors"
	LatestEMAModel = "net_g_ema_latest.safetensors"
	// HistoryFile is the History as JSON (losses and validations so far),
	// rewritten atomically at every checkpoint, for programs that plot the
	// training curve (examples/train draws curve.png from it).
	HistoryFile = "history.json"
)

// Config configures a Trainer. The zero value of every field but Plan
// takes the reference's setting (for the backbone's: nets.Recipe, whose
// Plan method gives the reference plan).
type Config struct {
	// Plan is the curriculum: active tasks, learning rate, optimiser
	// restarts (sequential stages) and stage ends.
	Plan curriculum.Plan
	// Batch and Patch are the loader's batch size and crop side (defaults
	// 4 and 128; the classifier's 16 and 256).
	Batch, Patch int
	// Seed drives the data (data.LoaderOptions.Seed) and the stochastic
	// depth draws; the weights come from the model as given.
	Seed uint64
	// Workers and Prefetch are passed to the loader (0: its defaults).
	Workers, Prefetch int
	// TaskWeights, when set, draws the tasks of a batch in proportion to
	// these weights instead of uniformly (data.LoaderOptions.TaskWeights).
	TaskWeights map[degrade.Task]float64
	// Optimizer is Adam, or AdamW when Decoupled, with its weight decay and
	// betas (zero betas: 0.9 and 0.99). Nil takes the backbone's reference
	// recipe (nets.Arch.Recipe.Optimizer; the classifier's: Adam). The
	// learning rate comes from Plan: LR must be 0 or Plan.BaseLR().
	Optimizer *torch.AdamConfig
	// EMADecay is the decay of the parameters' exponential moving average
	// (0: 0.999; negative: no EMA).
	EMADecay float64
	// Dir receives the checkpoints, the model files and the history ("":
	// nothing is written and Resume is impossible).
	Dir string
	// CheckpointEvery writes the state every so many iterations (0: only
	// at stage ends, at the end and on cancellation).
	CheckpointEvery int
	// LogEvery logs the loss per task every so many iterations (0: 100).
	LogEvery int
	// ValEvery validates every so many iterations and at every stage end
	// (0: only at stage ends; negative: never). Val holds the per-task
	// validation pairs (data.TaskPairs); ValLimit, when positive, uses only
	// the first ValLimit pairs of each task. Validation is an evaluation
	// (eval.Evaluate on eval.TaskSets(Val, ValLimit); a classifier:
	// eval.Classify).
	ValEvery int
	Val      map[degrade.Task][]data.Pair
	ValLimit int
	// Logger receives structured progress records (nil: slog.Default()).
	Logger *slog.Logger
	// Group, when set, makes the trainer one rank of a data-parallel run
	// (see the package documentation): every rank of the group runs the
	// same program with the same Config but for the group, trains on its
	// shard of each global batch of Batch*World samples, and averages the
	// gradients with the others before every optimiser step; rank 0 alone
	// validates and writes files. NewTrainer refuses a rank whose setup
	// differs from rank 0's. The group's timeout must exceed the longest
	// validation and checkpoint, during which the other ranks wait.
	Group *torch.Group
	// OnProgress, when set, is called at the end of every iteration, after
	// its log record, validation and checkpoint (so Trainer.History
	// includes them), on the goroutine that runs Run.
	OnProgress func(Progress)
}

// Progress describes the trainer after one iteration.
type Progress struct {
	Iter, Total int
	Stage       int // 0-based
	Tasks       []degrade.Task
	LR          float64
	Loss        float64       // this iteration's loss
	ItersPerSec float64       // since this run (or resume) started
	ETA         time.Duration // at that speed
}

// LossPoint is the mean loss over a logging interval ending at Iter, overall
// and per task (by task name).
type LossPoint struct {
	Iter  int                `json:"iter"`
	Loss  float64            `json:"loss"`
	Tasks map[string]float64 `json:"tasks"`
}

// ValPoint is a validation at Iter: the mean PSNR (dB, crop 4, RGB) per task,
// as eval.Evaluate measures it (classifier training: the accuracy in percent,
// eval.Classify).
type ValPoint struct {
	Iter  int                `json:"iter"`
	Tasks map[string]float64 `json:"tasks"`
}

// History is what the trainer logged so far; it is saved in the training
// state, so a resumed run continues the same curves.
type History struct {
	Loss []LossPoint `json:"loss"`
	Val  []ValPoint  `json:"val"`
}

// Trainer trains a Model (NewTrainer) or a task classifier
// (NewClassifierTrainer) along a curriculum. It is not safe for concurrent
// use, and the model must not be used elsewhere (Restore included) while Run
// or Resume runs: the trainer updates its parameters in place through the
// Model's public API, without holding the model's lock across a step.
//
// Every iteration t of the plan: the plan's step (active tasks, learning
// rate; on a stage's first iteration a fresh optimiser, as the reference
// recreates it for every sequential stage, weights and EMA carried over),
// the loader's batch t (a function of Seed, t and the tasks only), zero
// grad, forward, loss, backward, Adam/AdamW step, EMA update of the
// parameters (not the buffers). Every LogEvery iterations a record with the
// mean loss overall and per task, the learning rate, iterations per second
// and the ETA goes to the slog.Logger; validations (an evaluation by
// mioir/eval) log the per-task PSNR and the evaluation's Markdown table. At
// a stage's end the stage's model files are written, then the training state
// (StateFile); both with atomic renames, so a crash at any time leaves the
// previous complete files.
//
// # Exact resume
//
// The state holds the module's tensors, the EMA, Adam's moments and
// per-parameter step counts, the iteration, the stochastic-depth generator
// and the history; the data needs no state. A run killed with SIGKILL and
// resumed with Resume therefore ends with the same weights, EMA, optimiser
// moments, generator state and history as an uninterrupted run, bit for bit,
// when the training step itself is deterministic: tested (TestTrainerResumeExact)
// for all five backbones, SRResNet, SwinIR, Restormer and Uformer plain, EP
// and AP, PromptIR plain (it has no modulation points), with stochastic depth
// on for SwinIR and Uformer, and a user-defined backbone, in-process; and for
// SRResNet with a killed child process (examples/train). Exactness is
// promised with one intra-op thread (MIOIR_NUM_THREADS=1). (Prompted models
// once missed this in the last bits: the prompt vector feeds every modulation
// point, and the order in which its gradients were summed followed the OS
// threads Go happened to run the calls on; the binding now makes it follow
// the calls.)
//
// # CPU budget
//
// The loader's workers prepare the next batches while the step runs and
// share the cores with libtorch's threads (architecture rule 10). Measured
// on the 2-core development machine, shared with other jobs (load average
// 6-12), in two runs of BenchmarkTrainStep (paper SRResNet_EP, batch 4 x
// 128 x 128, Adam + EMA): 14.6 and 14.2 s per step alone, 15.9 and 10.9 s
// per iteration with the loader and 1 worker, 15.1 and 10.0 s with 2 (the
// differences are the machine's load, not the loader), while one worker makes
// about 30 batches of 4 x 128 x 128 per second from cached Clean images of
// all seven tasks (data.BenchmarkLoader): the loader is three orders of
// magnitude faster than the step, so Config.Workers defaults to
// data.DefaultWorkers() (GOMAXPROCS/4, at least 1) and leaves the cores to
// libtorch.
type Trainer struct {
	cfg    Config
	log    *slog.Logger
	target target // what is trained: a restoration model or a classifier
	dev    torch.Device

	module layers.Module // target.module(), the trained module
	names  []string      // trained parameters' names (state_dict order)
	params []*torch.Tensor
	ema    []*torch.Tensor // nil without EMA
	opt    *torch.Adam
	gen    *torch.Generator // stochastic depth; nil when the net has none
	loader *data.Loader

	iter     int              // last finished iteration
	pending  *torch.AdamState // optimiser state read by Resume
	synced   bool             // data-parallel: the ranks start from rank 0's state
	comm     time.Duration    // data-parallel: time in collectives since the last log record
	logStart time.Time        // start of the current logging interval
	history  History
	acc      map[degrade.Task]*[2]float64
	accAll   [2]float64
	closed   bool
	started  time.Time
	startIt  int
	lastLoss float64
}

// NewTrainer prepares the training of m on src along cfg.Plan: L1 loss on
// the model's output (EP models get their task's map, AP models the input
// as prompt), Adam or AdamW on the backbone and prompt modules
// (Model.Network: not an attached classifier, not the explicit maps), an EMA
// of the parameters. It turns on gradient tracking and stochastic depth
// (where the backbone has it); Close turns them off again. The model stays
// on its device and must not be used elsewhere until Close. A strength
// model the model carries (mioir.StrengthModel, e.g. loaded with the
// weights it was fitted to) is removed: it does not hold for new weights.
func NewTrainer(m *mioir.Model, src data.Source, cfg Config) (*Trainer, error) {
	if m == nil {
		return nil, errors.New("train: nil model")
	}
	if m.Backbone() == nil {
		return nil, mioir.ErrClosedModel
	}
	for _, task := range degrade.AllTasks() {
		if err := m.SetStrength(task, nil); err != nil {
			return nil, err
		}
	}
	return newTrainer(newRestoration(m), src, cfg)
}

// newTrainer prepares the training of tg (see NewTrainer and
// NewClassifierTrainer).
func newTrainer(tg target, src data.Source, cfg Config) (*Trainer, error) {
	t := &Trainer{target: tg, dev: tg.device(), module: tg.module()}
	if cfg.Optimizer == nil {
		opt, err := tg.optimizer()
		if err != nil {
			return nil, err
		}
		opt.LR = 0 // the plan's
		cfg.Optimizer = &opt
	}
	if err := t.init(src, cfg); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Trainer) init(src data.Source, cfg Config) (err error) {
	if cfg.Plan.TotalIters() < 1 {
		return errors.New("train: the plan has no iterations")
	}
	if cfg.Batch == 0 {
		cfg.Batch = 4
	}
	if cfg.Patch == 0 {
		cfg.Patch = 128
	}
	opt, ref := *cfg.Optimizer, nets.DefaultRecipe().Optimizer
	opt.Beta1, opt.Beta2 = cmp.Or(opt.Beta1, ref.Beta1), cmp.Or(opt.Beta2, ref.Beta2)
	if opt.LR != 0 && opt.LR != cfg.Plan.BaseLR() {
		return fmt.Errorf("mioir: train: the optimiser's learning rate %g is not the plan's %g (set it in the plan: curriculum.WithLR)", opt.LR, cfg.Plan.BaseLR())
	}
	opt.LR = cfg.Plan.BaseLR()
	cfg.Optimizer = &opt
	if cfg.EMADecay == 0 {
		cfg.EMADecay = DefaultEMADecay
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = DefaultLogEvery
	}
	if cfg.Batch < 1 || cfg.Patch < 1 || cfg.CheckpointEvery < 0 {
		return fmt.Errorf("train: invalid batch %d, patch %d or checkpoint interval %d", cfg.Batch, cfg.Patch, cfg.CheckpointEvery)
	}
	t.cfg = cfg
	t.log = cfg.Logger
	if t.log == nil {
		t.log = slog.Default()
	}
	t.acc = map[degrade.Task]*[2]float64{}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	for _, p := range layers.Params(t.module) {
		if p.Buffer {
			continue
		}
		t.names = append(t.names, p.Name)
		t.params = append(t.params, p.Tensor())
	}
	if len(t.params) == 0 {
		return errors.New("train: the model has no trainable parameters")
	}
	if err := layers.SetRequiresGrad(t.module, true); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if cfg.EMADecay > 0 {
		if t.ema, err = newEMA(t.params); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	if t.target.stochastic() {
		if cfg.Group != nil {
			err = t.reseed(0)
		} else {
			t.gen, err = torch.NewGenerator(cfg.Seed ^ 0x9e3779b97f4a7c15)
		}
		if err != nil {
			return err
		}
		t.target.setTraining(t.gen)
	}
	if cfg.Group != nil {
		t.log = t.log.With("rank", cfg.Group.Rank())
		if err := t.rendezvous(); err != nil {
			return err
		}
	}
	plan := cfg.Plan
	t.loader, err = data.NewLoader(src, data.LoaderOptions{
		Batch: cfg.Batch, Patch: cfg.Patch, Seed: cfg.Seed, Workers: cfg.Workers, Prefetch: cfg.Prefetch,
		Offset: t.rank() * cfg.Batch,
		LQOnly: t.target.lqOnly(), TaskWeights: cfg.TaskWeights,
		Plan: func(i int) []degrade.Task {
			if i < 1 || i > plan.TotalIters() {
				return nil
			}
			return plan.At(i).Tasks
		},
	})
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// Iter returns the last finished iteration (0 before the first).
func (t *Trainer) Iter() int { return t.iter }

// History returns a copy of the logged losses and validations.
func (t *Trainer) History() History {
	h := History{Loss: append([]LossPoint(nil), t.history.Loss...), Val: append([]ValPoint(nil), t.history.Val...)}
	return h
}

// EMAState returns copies of the EMA of the trained parameters, by name
// (nil without EMA), as CPU float32 slices.
func (t *Trainer) EMAState() (map[string][]float32, error) {
	if t.ema == nil {
		return nil, nil
	}
	out := make(map[string][]float32, len(t.ema))
	for i, e := range t.ema {
		v, err := torch.ToSlice[float32](e.ToDevice(torch.CPU))
		if err != nil {
			return nil, err
		}
		out[t.names[i]] = v
	}
	return out, nil
}

// Close stops the loader, frees the optimiser, the EMA and the generator,
// and turns gradient tracking and stochastic depth off. The model stays
// usable. Close is idempotent.
func (t *Trainer) Close() {
	if t.closed {
		return
	}
	t.closed = true
	if t.loader != nil {
		t.loader.Close()
	}
	if t.opt != nil {
		t.opt.Close()
		t.opt = nil
	}
	for _, e := range t.ema {
		e.Close()
	}
	t.ema = nil
	if t.target != nil {
		t.target.setTraining(nil)
	}
	if t.gen != nil {
		t.gen.Close()
		t.gen = nil
	}
	if t.module != nil && t.params != nil {
		_ = layers.SetRequiresGrad(t.module, false)
	}
}

func (t *Trainer) newOptimizer() error {
	if t.opt != nil {
		t.opt.Close()
		t.opt = nil
	}
	opt, err := torch.NewAdam(t.params, t.cfg.Optimizer)
	if err != nil {
		return fmt.Errorf("train: optimiser: %w", err)
	}
	t.opt = opt
	return nil
}

// Run trains from the iteration after Iter to the end of the plan. It
// checkpoints every CheckpointEvery iterations and at every stage end,
// writes the stage's model files at its end, validates, logs and rewrites
// the history file. When ctx ends, Run finishes the current step, writes a
// checkpoint and returns ctx's error; Resume then continues exactly.
func (t *Trainer) Run(ctx context.Context) error {
	if t.closed {
		return errors.New("train: trainer is closed")
	}
	// Every libtorch call of the run from one OS thread: a goroutine that
	// hops between threads gives libtorch one OpenMP team and one malloc
	// arena per thread it lands on, and the step then loses ~10 % to cold
	// caches, fresh pages and sleeping workers (SRResNet-EP, 4 x 128 x 128:
	// 3.42 s unpinned, 3.04-3.17 s pinned).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if t.cfg.Group != nil && !t.synced {
		if err := t.syncFromLeader(); err != nil {
			return err
		}
		t.synced = true
	}
	plan := t.cfg.Plan
	total := plan.TotalIters()
	t.started, t.startIt = time.Now(), t.iter
	t.logStart, t.comm = t.started, 0
	t.log.Info("train start", "kind", t.target.kind(), "plan", plan.String(), "from_iter", t.iter+1,
		"total", total, "batch", t.cfg.Batch, "world", t.world(), "patch", t.cfg.Patch, "params", paramCount(t.params))
	// In a data-parallel run a rank's own cancellation reaches the others
	// through the statistics every step exchanges, so that all stop after
	// the same iteration; until then its loader and step go on.
	stepCtx := ctx
	var reduce func() error
	if t.cfg.Group != nil {
		stepCtx = context.WithoutCancel(ctx)
		reduce = t.averageGradients
	}
	for t.iter < total {
		if err := ctx.Err(); err != nil && t.cfg.Group == nil {
			return t.interrupted(err)
		}
		st := plan.At(t.iter + 1)
		if st.Restart || t.opt == nil {
			if err := t.newOptimizer(); err != nil {
				return err
			}
			if !st.Restart && t.pending != nil {
				if err := t.opt.SetState(*t.pending); err != nil {
					return fmt.Errorf("train: restore optimiser: %w", err)
				}
			}
			t.pending = nil
			if st.Restart && t.leader() {
				t.log.Info("stage start", "stage", st.Stage+1, "tasks", taskNames(st.Tasks), "iters", stageLen(plan, st.Stage))
			}
		}
		b, err := t.loader.BatchContext(stepCtx, st.Iter, st.Tasks)
		if err != nil {
			if ctx.Err() != nil {
				return t.interrupted(ctx.Err())
			}
			return fmt.Errorf("train: iteration %d: %w", st.Iter, err)
		}
		if t.cfg.Group != nil && t.gen != nil {
			if err := t.reseed(st.Iter); err != nil {
				return err
			}
		}
		t.opt.SetLR(st.LR)
		loss, per, err := t.target.step(t.opt, b, reduce)
		if err != nil {
			return fmt.Errorf("train: iteration %d: %w", st.Iter, err)
		}
		if err := t.emaUpdate(); err != nil {
			return fmt.Errorf("train: EMA: %w", err)
		}
		stats := localStats(loss, per, b.Tasks, ctx.Err() != nil)
		if t.cfg.Group != nil {
			if stats, err = t.reduceStats(stats); err != nil {
				return err
			}
		}
		t.iter = st.Iter
		t.lastLoss = stats.loss
		t.accumulate(stats)
		pr := t.progress(st)
		if t.iter%t.cfg.LogEvery == 0 || st.StageEnd {
			t.flushLog(st, pr)
		}
		if (t.cfg.ValEvery > 0 && t.iter%t.cfg.ValEvery == 0) || (st.StageEnd && t.cfg.ValEvery >= 0) {
			if err := t.validate(ctx); err != nil {
				return err
			}
		}
		if st.StageEnd {
			if err := t.saveStage(st.Stage); err != nil {
				return err
			}
		}
		if st.StageEnd || (t.cfg.CheckpointEvery > 0 && t.iter%t.cfg.CheckpointEvery == 0) {
			if err := t.checkpoint(); err != nil {
				return err
			}
		}
		if t.cfg.OnProgress != nil {
			t.cfg.OnProgress(pr)
		}
		if stats.stop && t.iter < total {
			cause := ctx.Err()
			if cause == nil {
				cause = ErrStoppedByPeer
			}
			return t.interrupted(cause)
		}
	}
	t.log.Info("train end", "iter", t.iter, "elapsed", time.Since(t.started).Round(time.Millisecond))
	return nil
}

func (t *Trainer) interrupted(cause error) error {
	t.log.Info("train interrupted", "iter", t.iter, "cause", cause)
	if err := t.checkpoint(); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func (t *Trainer) progress(st curriculum.Step) Progress {
	total := t.cfg.Plan.TotalIters()
	el := time.Since(t.started).Seconds()
	pr := Progress{Iter: st.Iter, Total: total, Stage: st.Stage, Tasks: st.Tasks, LR: st.LR, Loss: t.lastLoss}
	if done := t.iter - t.startIt; done > 0 && el > 0 {
		pr.ItersPerSec = float64(done) / el
		pr.ETA = time.Duration(float64(total-t.iter) / pr.ItersPerSec * float64(time.Second))
	}
	return pr
}

func (t *Trainer) accumulate(st stepStats) {
	t.accAll[0] += st.loss
	t.accAll[1]++
	for _, task := range degrade.AllTasks() {
		k := task.PromptIndex()
		if st.perTask[numTasks+k] == 0 {
			continue
		}
		a := t.acc[task]
		if a == nil {
			a = new([2]float64)
			t.acc[task] = a
		}
		a[0] += st.perTask[k]
		a[1] += st.perTask[numTasks+k]
	}
}

func (t *Trainer) flushLog(st curriculum.Step, pr Progress) {
	if t.accAll[1] == 0 {
		return
	}
	lp := LossPoint{Iter: t.iter, Loss: t.accAll[0] / t.accAll[1], Tasks: map[string]float64{}}
	attrs := []any{"iter", t.iter, "total", pr.Total, "stage", st.Stage + 1, "tasks", taskNames(st.Tasks),
		"lr", st.LR, "loss", lp.Loss}
	for _, task := range degrade.AllTasks() {
		if a := t.acc[task]; a != nil && a[1] > 0 {
			lp.Tasks[task.Name()] = a[0] / a[1]
			attrs = append(attrs, "loss_"+task.Name(), lp.Tasks[task.Name()])
		}
	}
	attrs = append(attrs, "it_per_s", math.Round(pr.ItersPerSec*1000)/1000, "eta", pr.ETA.Round(time.Second).String())
	if t.cfg.Group != nil {
		// The share of the interval's wall time spent waiting in
		// collectives: the all-reduces themselves and the waits for slower ranks.
		if el := time.Since(t.logStart); el > 0 {
			attrs = append(attrs, "comm_share", math.Round(float64(t.comm)/float64(el)*1e4)/1e4)
		}
	}
	t.logStart, t.comm = time.Now(), 0
	t.history.Loss = append(t.history.Loss, lp)
	if t.leader() {
		t.log.Info("train", attrs...)
	}
	t.acc = map[degrade.Task]*[2]float64{}
	t.accAll = [2]float64{}
}

// validate measures the model on every task's validation pairs
// (eval.TaskSets of Val: PSNR, crop 4, RGB, the raw weights as the reference
// validates net_g; a classifier: its accuracy), adds the scores to the
// history and logs them with the table. Cancellation does not cut a
// validation short: the iteration it belongs to is finished, and its
// history must be that of an uninterrupted run.
func (t *Trainer) validate(ctx context.Context) error {
	sets := eval.TaskSets(t.cfg.Val, t.cfg.ValLimit)
	if len(sets) == 0 || !t.leader() {
		return nil
	}
	// Stochastic depth off during validation.
	if t.gen != nil {
		t.target.setTraining(nil)
		defer t.target.setTraining(t.gen)
	}
	v, err := t.target.validate(context.WithoutCancel(ctx), sets)
	if err != nil {
		return fmt.Errorf("train: validate at iteration %d: %w", t.iter, err)
	}
	vp := ValPoint{Iter: t.iter, Tasks: v.scores}
	t.history.Val = append(t.history.Val, vp)
	attrs := []any{"iter", t.iter}
	for _, s := range sets {
		if x, ok := vp.Tasks[s.Name]; ok {
			attrs = append(attrs, v.metric+"_"+s.Name, x)
		}
	}
	t.log.Info("validation", attrs...)
	t.log.Info("validation table\n" + v.table)
	return nil
}

// saveStage writes the stage's model files (raw and EMA weights) and the
// latest copies.
func (t *Trainer) saveStage(stage int) error {
	if t.cfg.Dir == "" || !t.leader() {
		return nil
	}
	k := stage + 1
	raw := filepath.Join(t.cfg.Dir, fmt.Sprintf("stage%d_net_g.safetensors", k))
	ema := filepath.Join(t.cfg.Dir, fmt.Sprintf("stage%d_net_g_ema.safetensors", k))
	if err := t.exportWeights(raw, false); err != nil {
		return err
	}
	if err := t.exportWeights(filepath.Join(t.cfg.Dir, LatestModel), false); err != nil {
		return err
	}
	if t.ema != nil {
		if err := t.exportWeights(ema, true); err != nil {
			return err
		}
		if err := t.exportWeights(filepath.Join(t.cfg.Dir, LatestEMAModel), true); err != nil {
			return err
		}
	}
	t.log.Info("stage saved", "stage", k, "iter", t.iter, "model", raw)
	return nil
}

func taskNames(ts []degrade.Task) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteByte(t.Code())
	}
	return b.String()
}

func stageLen(p curriculum.Plan, i int) int {
	first, last := p.StageRange(i)
	return last - first + 1
}

func paramCount(ps []*torch.Tensor) int64 {
	var n int64
	for _, p := range ps {
		n += p.Numel()
	}
	return n
}

// emaUpdate applies one EMA update (after an optimiser step).
func (t *Trainer) emaUpdate() error {
	if t.ema == nil {
		return nil
	}
	return torch.EMAUpdate(t.ema, t.params, t.cfg.EMADecay)
}
