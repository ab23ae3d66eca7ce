package train_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/train"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var registerTrainTinyOnce sync.Once

// registerTrainTiny registers "TrainTiny", a user-defined backbone (two
// convolutions and one modulation point, see tinyNet) with nets.Register.
func registerTrainTiny(t *testing.T) {
	registerTrainTinyOnce.Do(func() {
		require.NoError(t, nets.Register(nets.Arch{Config: trainTinyConfig{}}))
	})
}

// trainTinyConfig configures tinyNet.
type trainTinyConfig struct{}

func (trainTinyConfig) ArchName() string { return "TrainTiny" }

func (trainTinyConfig) Pad() nets.PadRule { return nets.PadRule{Multiple: 1} }

func (trainTinyConfig) New(g *torch.Generator) (nets.Backbone, error) {
	c1, err := layers.NewConv2d(g, 3, 8, 3, &layers.ConvConfig{Padding: 1})
	if err != nil {
		return nil, err
	}
	c2, err := layers.NewConv2d(g, 8, 3, 3, &layers.ConvConfig{Padding: 1})
	if err != nil {
		c1.Close()
		return nil, err
	}
	return &tinyNet{Conv1: c1, Conv2: c2}, nil
}

// tinyNet is a user-written backbone built from nets/layers: two
// convolutions with a global skip and one modulation point.
type tinyNet struct {
	Conv1, Conv2 *layers.Conv2d
}

func (n *tinyNet) Visit(v layers.Visitor) {
	v.Module("conv1", n.Conv1)
	v.Module("conv2", n.Conv2)
}

func (n *tinyNet) Modulation() nets.Modulation {
	return nets.Modulation{Extractors: []string{"F_ext_net"}, Points: []nets.ModulationPoint{
		{Name: "mid", Channels: 8, ScaleKey: "prompt_scale_mid", ShiftKey: "prompt_shift_mid"},
	}}
}

func (n *tinyNet) Forward(x *torch.Tensor, hook nets.Hook) *torch.Tensor {
	f := hook.Apply("mid", n.Conv1.Forward(x).ReLU())
	return n.Conv2.Forward(f).Add(x)
}

func (n *tinyNet) Close() { layers.Close(n) }

// resumeCase is one configuration of the exact-resume matrix.
type resumeCase struct {
	cfg   mioir.Config
	patch int
	adamW bool // AdamW with weight decay 0.02 (Adam without)
	// stochastic: the backbone draws stochastic depth from the trainer's
	// generator, whose state the checkpoint must carry.
	stochastic bool
}

// resumeCases is the exact-resume matrix: every backbone plain, with an
// explicit prompt (EP) and with an adaptive prompt (AP), in tiny
// configurations, plus a user-defined backbone. PromptIR has no modulation
// points (its prompts are its own), so it is plain only: 14 cases. SwinIR
// and Uformer run with stochastic depth at rate 0.5; Restormer, Uformer and
// PromptIR with AdamW, as the reference trains them.
func resumeCases(t *testing.T) []resumeCase {
	registerTrainTiny(t)
	sr := nets.SRResNetConfig{Features: 8, Blocks: 1}
	srP := nets.SRResNetConfig{Features: 4, Prompted: true} // the prompted variant has its 16 blocks
	swin := nets.SwinIRConfig{EmbedDim: 12, Depths: []int{2}, Heads: []int64{2}, WindowSize: 4, ImgSize: 16, DropPathRate: 0.5}
	restormer := nets.RestormerConfig{Dim: 4, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1}
	uformer := nets.UformerConfig{EmbedDim: 4, Depths: []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, WindowSize: 2, DropPathRate: 0.5}
	promptir := nets.PromptIRConfig{Dim: 8, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1,
		PromptDims: [3]int64{4, 8, 12}, PromptSizes: [3]int64{8, 4, 2}}
	var cases []resumeCase
	for _, k := range []prompt.Kind{prompt.None, prompt.Explicit, prompt.Adaptive} {
		var net nets.Config = sr
		if k != prompt.None {
			net = srP
		}
		cases = append(cases,
			resumeCase{cfg: mioir.Config{Arch: "SRResNet", Net: net, Prompt: k}, patch: 32},
			resumeCase{cfg: mioir.Config{Arch: "SwinIR", Net: swin, Prompt: k}, patch: 32, stochastic: true},
			resumeCase{cfg: mioir.Config{Arch: "Restormer", Net: restormer, Prompt: k}, patch: 32, adamW: true},
			resumeCase{cfg: mioir.Config{Arch: "Uformer", Net: uformer, Prompt: k}, patch: 32, adamW: true, stochastic: true})
	}
	return append(cases,
		resumeCase{cfg: mioir.Config{Arch: "PromptIR", Net: promptir}, patch: 32, adamW: true},
		resumeCase{cfg: mioir.Config{Arch: "TrainTiny"}, patch: 32})
}

func weightsOf(t *testing.T, path string) map[string][]byte {
	f, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, k := range f.Tensors.Keys() {
		r, _ := f.Tensors.Get(k)
		out[k] = append([]byte(nil), r.Data...)
	}
	return out
}

// finalState is what an exact resume must reproduce.
type finalState struct {
	raw, ema map[string][]byte // LatestModel and LatestEMAModel tensors
	opt      *torch.AdamState
	gen      []byte
	history  []byte // HistoryFile
}

// TestTrainerResumeExact trains a two-stage sequential plan (3 + 3
// iterations, checkpoints every 2) uninterrupted, then again cancelled after
// iteration 4 (in the middle of stage 2, so the optimiser's moments must be
// carried) and resumed by a fresh trainer on a fresh model, for every case
// of resumeCases. The resumed run must end bit for bit where the
// uninterrupted one did: raw weights and buffers, EMA, Adam's moments and
// step counts, the stochastic-depth generator, and the history (history.json,
// the same loss curve). The stage files load with mioir.Load, and every
// tensor is freed. Exact resume is promised with one intra-op thread
// (MIOIR_NUM_THREADS=1): the cases run so, in parallel (as many at once as
// -test.parallel allows), which on these tiny steps also beats two threads
// per case.
func TestTrainerResumeExact(t *testing.T) {
	start := time.Now()
	live := torch.LiveTensors()
	threads := torch.NumThreads()
	torch.SetNumThreads(1)
	cases := resumeCases(t)
	t.Cleanup(func() { // after the parallel cases
		torch.SetNumThreads(threads)
		require.Equal(t, live, torch.LiveTensors(), "tensors leaked")
		t.Logf("resume matrix: %d cases in %s", len(cases), time.Since(start).Round(time.Millisecond))
	})
	imgs := testutil.NoisyImages(t, 3, 64, 64, 3)
	src, err := data.Clean(imgs, degrade.Train(), 1, nil)
	require.NoError(t, err)
	plan, err := curriculum.Sequential([]degrade.Task{degrade.Noise, degrade.LowLight}, 3, 1)
	require.NoError(t, err)
	const cutAt = 4
	for _, c := range cases {
		t.Run(c.cfg.Name(), func(t *testing.T) {
			t.Parallel()
			cfg := train.Config{Plan: plan, Batch: 2, Patch: c.patch, Seed: 5, LogEvery: 2, CheckpointEvery: 2, Logger: quiet}
			if c.adamW {
				cfg.Optimizer = &torch.AdamConfig{Decoupled: true, WeightDecay: 0.02}
			}
			// run trains in dir (resuming when it holds a state) and
			// stops after iteration stopAt (-1: runs to the end).
			run := func(dir string, stopAt int) (*finalState, error) {
				m, err := mioir.New(c.cfg, 11)
				require.NoError(t, err)
				defer m.Close()
				cfg := cfg
				cfg.Dir = dir
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cfg.OnProgress = func(p train.Progress) {
					if p.Iter == stopAt {
						cancel()
					}
				}
				tr, err := train.NewTrainer(m, src, cfg)
				require.NoError(t, err)
				defer tr.Close()
				if _, err := os.Stat(filepath.Join(dir, train.StateFile)); err == nil {
					require.NoError(t, tr.Resume(""))
				}
				if err := tr.Run(ctx); err != nil {
					return nil, err
				}
				st := &finalState{raw: weightsOf(t, filepath.Join(dir, train.LatestModel)),
					ema: weightsOf(t, filepath.Join(dir, train.LatestEMAModel))}
				st.opt, err = train.OptimizerState(tr)
				require.NoError(t, err)
				st.gen, err = train.GeneratorState(tr)
				require.NoError(t, err)
				st.history, err = os.ReadFile(filepath.Join(dir, train.HistoryFile))
				require.NoError(t, err)
				for _, p := range tr.History().Loss {
					require.Greater(t, p.Loss, 0.0)
					require.Less(t, p.Loss, 1.0)
				}
				return st, nil
			}
			full, cut := t.TempDir(), t.TempDir()
			a, err := run(full, -1)
			require.NoError(t, err)
			_, err = run(cut, cutAt)
			require.ErrorIs(t, err, context.Canceled)
			_, err = os.Stat(filepath.Join(cut, "stage1_net_g.safetensors"))
			require.NoError(t, err, "stage 1 ended before the cut")
			b, err := run(cut, -1)
			require.NoError(t, err)

			for what, w := range map[string][2]map[string][]byte{"weights": {a.raw, b.raw}, "EMA": {a.ema, b.ema}} {
				require.Equal(t, len(w[0]), len(w[1]), what)
				for k, v := range w[0] {
					require.Truef(t, bytes.Equal(v, w[1][k]), "%s: %s differs after resume", what, k)
				}
			}
			differ := false
			for k := range a.raw {
				differ = differ || !bytes.Equal(a.raw[k], a.ema[k])
			}
			require.True(t, differ, "EMA equals the raw weights")
			require.NotNil(t, a.opt)
			require.NotNil(t, b.opt)
			require.Equal(t, a.opt.Steps, b.opt.Steps, "optimiser step counts")
			require.Equal(t, int64(3), a.opt.Steps[0], "stage 2's optimiser made 3 steps")
			for i := range a.opt.ExpAvg {
				testutil.RequireSameBits(t, a.opt.ExpAvg[i], b.opt.ExpAvg[i], "exp_avg")
				testutil.RequireSameBits(t, a.opt.ExpAvgSq[i], b.opt.ExpAvgSq[i], "exp_avg_sq")
			}
			require.Equal(t, c.stochastic, a.gen != nil, "stochastic depth")
			require.Equal(t, a.gen, b.gen, "stochastic-depth generator state")
			if c.stochastic {
				g, err := torch.NewGenerator(0)
				require.NoError(t, err)
				fresh, err := g.State()
				g.Close()
				require.NoError(t, err)
				require.NotEqual(t, fresh, a.gen)
			}
			require.JSONEq(t, string(a.history), string(b.history), "the resumed run continues the same curve")
			var hist train.History
			require.NoError(t, json.Unmarshal(a.history, &hist))
			require.Len(t, hist.Loss, 4) // iterations 2, 3 (stage end), 4, 6
			require.Equal(t, 6, hist.Loss[3].Iter)

			for _, name := range []string{"stage1_net_g.safetensors", "stage2_net_g_ema.safetensors"} {
				m, err := mioir.Load(filepath.Join(full, name))
				require.NoError(t, err)
				require.Equal(t, c.cfg.Name(), m.Config().Name())
				m.Close()
			}
		})
	}
}

// TestTrainerLearns checks that the loss falls on an easy task (dark, a
// per-pixel map) and that the history holds per-task losses and the
// validation PSNR per task.
func TestTrainerLearns(t *testing.T) {
	imgs := testutil.NoisyImages(t, 3, 64, 64, 3)
	src, err := data.Clean(imgs, degrade.Train(), 1, nil)
	require.NoError(t, err)
	val, err := data.TaskPairs(testutil.NoisyImages(t, 1, 40, 40, 3), []degrade.Task{degrade.LowLight, degrade.Noise}, degrade.Train(), 2)
	require.NoError(t, err)
	plan, err := curriculum.Mixed([]degrade.Task{degrade.LowLight, degrade.Noise}, []int{60}, curriculum.WithLR(2e-3, 1e-5))
	require.NoError(t, err)
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 16, Blocks: 1}}, 1)
	require.NoError(t, err)
	defer m.Close()
	tr, err := train.NewTrainer(m, src, train.Config{Plan: plan, Batch: 4, Patch: 32, Seed: 1,
		LogEvery: 10, ValEvery: 30, Val: val, Logger: quiet, Dir: t.TempDir()})
	require.NoError(t, err)
	defer tr.Close()
	require.NoError(t, tr.Run(context.Background()))
	h := tr.History()
	require.Len(t, h.Loss, 6)
	require.Less(t, h.Loss[5].Loss, 0.9*h.Loss[0].Loss, "loss %v -> %v", h.Loss[0].Loss, h.Loss[5].Loss)
	for _, p := range h.Loss {
		require.Contains(t, p.Tasks, "dark")
		require.Contains(t, p.Tasks, "noise")
	}
	require.Len(t, h.Val, 2) // iteration 30 and the stage end at 60
	require.Equal(t, 60, h.Val[1].Iter)
	for _, v := range h.Val {
		require.Greater(t, v.Tasks["dark"], 5.0)
		require.Greater(t, v.Tasks["noise"], 5.0)
	}
}

// TestTrainerResumeMismatch refuses a state written for another plan.
func TestTrainerResumeMismatch(t *testing.T) {
	src, err := data.Clean(testutil.NoisyImages(t, 2, 48, 48, 3), degrade.Train(), 1, nil)
	require.NoError(t, err)
	plan, _ := curriculum.Mixed([]degrade.Task{degrade.Noise}, []int{2})
	other, _ := curriculum.Mixed([]degrade.Task{degrade.Noise}, []int{3})
	dir := t.TempDir()
	for i, p := range []curriculum.Plan{plan, other} {
		registerTrainTiny(t)
		m, err := mioir.New(mioir.Config{Arch: "TrainTiny"}, 1)
		require.NoError(t, err)
		tr, err := train.NewTrainer(m, src, train.Config{Plan: p, Batch: 1, Patch: 32, Dir: dir, Logger: quiet})
		require.NoError(t, err)
		if i == 0 {
			require.NoError(t, tr.Run(context.Background()))
		} else {
			err := tr.Resume("")
			require.Error(t, err)
			require.Contains(t, err.Error(), "plan differs")
		}
		tr.Close()
		m.Close()
	}
}

// TestTrainerDropsStrength: a strength model fitted to the weights a
// training starts from does not survive into the trained model's file.
func TestTrainerDropsStrength(t *testing.T) {
	src, err := data.Clean(testutil.NoisyImages(t, 2, 48, 48, 3), degrade.Train(), 1, nil)
	require.NoError(t, err)
	plan, _ := curriculum.Mixed([]degrade.Task{degrade.Noise}, []int{1})
	registerTrainTiny(t)
	m, err := mioir.New(mioir.Config{Arch: "TrainTiny"}, 1)
	require.NoError(t, err)
	defer m.Close()
	w := make([]float64, len(mioir.StrengthStats())+1)
	w[0] = 0.5
	require.NoError(t, m.SetStrength(degrade.Noise, &mioir.StrengthModel{Stats: mioir.StrengthStats(), Weights: w, Min: 0.3, Max: 1}))
	require.NotNil(t, m.Strength(degrade.Noise))
	tr, err := train.NewTrainer(m, src, train.Config{Plan: plan, Batch: 1, Patch: 32, Dir: t.TempDir(), Logger: quiet})
	require.NoError(t, err)
	defer tr.Close()
	require.Nil(t, m.Strength(degrade.Noise))
}

// TestClassifierTrainer trains the task classifier for a few iterations
// on logits with cross-entropy, resumes it exactly and validates accuracy.
func TestClassifierTrainer(t *testing.T) {
	live := torch.LiveTensors()
	src, err := data.Clean(testutil.NoisyImages(t, 2, 64, 64, 3), degrade.Train(), 1, nil)
	require.NoError(t, err)
	tasks := []degrade.Task{degrade.LowLight, degrade.Noise}
	val, err := data.TaskPairs(testutil.NoisyImages(t, 1, 40, 40, 3), tasks, degrade.Train(), 2)
	require.NoError(t, err)
	plan, err := curriculum.Mixed(tasks, []int{6})
	require.NoError(t, err)
	run := func(dir string, stop int) (map[string][]byte, error) {
		g, err := torch.NewGenerator(3)
		require.NoError(t, err)
		defer g.Close()
		c, err := prompt.NewClassifier(g)
		require.NoError(t, err)
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tr, err := train.NewClassifierTrainer(c, src, train.Config{Plan: plan, Batch: 4, Patch: 36, Seed: 2,
			LogEvery: 2, Dir: dir, Val: val, Logger: quiet,
			OnProgress: func(p train.Progress) {
				if p.Iter == stop {
					cancel()
				}
			}})
		require.NoError(t, err)
		defer tr.Close()
		if _, err := os.Stat(filepath.Join(dir, train.StateFile)); err == nil {
			require.NoError(t, tr.Resume(""))
		}
		if err := tr.Run(ctx); err != nil {
			return nil, err
		}
		h := tr.History()
		require.Len(t, h.Loss, 3)
		require.Len(t, h.Val, 1)
		require.Contains(t, h.Val[0].Tasks, "noise")
		return weightsOf(t, filepath.Join(dir, train.LatestModel)), nil
	}
	a, err := run(t.TempDir(), -1)
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = run(dir, 3)
	require.True(t, errors.Is(err, context.Canceled))
	b, err := run(dir, -1)
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Contains(t, a, "lastOut.weight")
	c, err := mioir.LoadClassifier(filepath.Join(dir, train.LatestEMAModel))
	require.NoError(t, err)
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 16, Prompted: true}, Prompt: prompt.Explicit}, 1)
	require.NoError(t, err)
	require.NoError(t, m.SetClassifier(c))
	_, info, err := m.Restore(context.Background(), image.NewNRGBA(image.Rect(0, 0, 24, 24)), nil)
	require.NoError(t, err)
	require.True(t, info.Auto)
	m.Close()
	_, err = mioir.LoadClassifier(filepath.Join(dir, train.StateFile))
	require.ErrorContains(t, err, "not a gomioir classifier")
	require.Equal(t, live, torch.LiveTensors())
}
