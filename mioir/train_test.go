package mioir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var registerTrainTiny sync.Once

// trainTinyConfig is tinyConfig under another name, registered by the
// training tests.
type trainTinyConfig struct{ tinyConfig }

func (trainTinyConfig) ArchName() string { return "TrainTiny" }

func (trainTinyConfig) Pad() nets.PadRule { return nets.PadRule{Multiple: 1} }

// trainCases are the backbones the trainer is tested with: SRResNet and
// SwinIR (reduced; SwinIR with stochastic depth on), plain and with explicit
// and adaptive prompts, and a user-defined backbone registered with
// nets.Register.
type trainCase struct {
	name string
	cfg  mioir.Config
}

func trainCases(t *testing.T) []trainCase {
	registerTrainTiny.Do(func() {
		require.NoError(t, nets.Register(nets.Arch{Config: trainTinyConfig{}}))
	})
	swin := nets.SwinIRConfig{EmbedDim: 12, Depths: []int{2}, Heads: []int64{2}, WindowSize: 4, ImgSize: 16, DropPathRate: 0.5}
	// The prompted SRResNet has its 16 blocks (18 modulation points).
	promptedSR := nets.SRResNetConfig{Features: 16, Prompted: true}
	return []trainCase{
		{"SRResNet", mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 16, Blocks: 2}}},
		{"SwinIR", mioir.Config{Arch: "SwinIR", Net: swin}},
		{"TrainTiny", mioir.Config{Arch: "TrainTiny"}},
		{"SRResNet_EP", mioir.Config{Arch: "SRResNet", Net: promptedSR, Prompt: prompt.Explicit}},
		{"SRResNet_AP", mioir.Config{Arch: "SRResNet", Net: promptedSR, Prompt: prompt.Adaptive}},
		{"SwinIR_EP", mioir.Config{Arch: "SwinIR", Net: swin, Prompt: prompt.Explicit}},
		{"SwinIR_AP", mioir.Config{Arch: "SwinIR", Net: swin, Prompt: prompt.Adaptive}},
	}
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

// TestTrainerResumeExact trains a two-stage sequential plan uninterrupted,
// then again cancelled in the middle of stage 2 (a checkpoint is written)
// and resumed by a fresh trainer on a fresh model: the final weights and
// EMA equal the uninterrupted run's bit for bit and the resumed run
// continues the same loss curve, for every case of trainCases (prompted
// ones included: their prompt vector feeds many modulation points, whose
// gradients are summed in the order the calls were made, whichever OS
// thread ran them; see nets/torch). The stage files load with
// mioir.Load, and every tensor is freed. Exact resume is promised with one
// intra-op thread (MIOIR_NUM_THREADS=1); these small steps are exact with
// the default thread count too.
func TestTrainerResumeExact(t *testing.T) {
	imgs := testutil.NoisyImages(t, 3, 64, 64, 3)
	src, err := data.Clean(imgs, degrade.Train(), 1, nil)
	require.NoError(t, err)
	plan, err := curriculum.Sequential([]degrade.Task{degrade.Noise, degrade.LowLight}, 4, 1)
	require.NoError(t, err)
	for _, c := range trainCases(t) {
		t.Run(c.name, func(t *testing.T) {
			live := torch.LiveTensors()
			cfg := mioir.TrainConfig{Plan: plan, Batch: 2, Patch: 32, Seed: 5, LogEvery: 2, CheckpointEvery: 3, Logger: quiet}
			run := func(dir string, stopAt int) error {
				m, err := mioir.New(c.cfg, 11)
				require.NoError(t, err)
				defer m.Close()
				cfg := cfg
				cfg.Dir = dir
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cfg.OnProgress = func(p mioir.Progress) {
					if p.Iter == stopAt {
						cancel()
					}
				}
				tr, err := mioir.NewTrainer(m, src, cfg)
				require.NoError(t, err)
				defer tr.Close()
				if _, err := os.Stat(filepath.Join(dir, mioir.StateFile)); err == nil {
					require.NoError(t, tr.Resume(""))
				}
				return tr.Run(ctx)
			}
			full, cut := t.TempDir(), t.TempDir()
			require.NoError(t, run(full, -1))
			err := run(cut, 6)
			require.ErrorIs(t, err, context.Canceled)
			_, err = os.Stat(filepath.Join(cut, mioir.LatestModel))
			require.NoError(t, err, "stage 1 ended before the cut")
			require.NoError(t, run(cut, -1))
			for _, name := range []string{mioir.LatestModel, mioir.LatestEMAModel} {
				a, b := weightsOf(t, filepath.Join(full, name)), weightsOf(t, filepath.Join(cut, name))
				require.Equal(t, len(a), len(b))
				for k, v := range a {
					require.Truef(t, bytes.Equal(v, b[k]), "%s: %s differs after resume", name, k)
				}
			}
			raw, ema := weightsOf(t, filepath.Join(full, mioir.LatestModel)), weightsOf(t, filepath.Join(full, mioir.LatestEMAModel))
			differ := false
			for k := range raw {
				differ = differ || !bytes.Equal(raw[k], ema[k])
			}
			require.True(t, differ, "EMA equals the raw weights")
			for _, name := range []string{"stage1_net_g.safetensors", "stage2_net_g_ema.safetensors", mioir.LatestModel} {
				m, err := mioir.Load(filepath.Join(full, name))
				require.NoError(t, err)
				require.Equal(t, c.cfg.Name(), m.Config().Name())
				m.Close()
			}
			png1, err := os.ReadFile(filepath.Join(full, mioir.CurveFile))
			require.NoError(t, err)
			_, err = png.Decode(bytes.NewReader(png1))
			require.NoError(t, err)
			hj, err := os.ReadFile(filepath.Join(full, mioir.HistoryFile))
			require.NoError(t, err)
			var hist mioir.History
			require.NoError(t, json.Unmarshal(hj, &hist))
			require.Len(t, hist.Loss, 4) // iterations 2, 4, 6, 8
			require.Equal(t, 8, hist.Loss[3].Iter)
			hc, err := os.ReadFile(filepath.Join(cut, mioir.HistoryFile)) // the resumed run continues the same curve
			require.NoError(t, err)
			require.JSONEq(t, string(hj), string(hc))
			require.Equal(t, live, torch.LiveTensors(), "tensors leaked")
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
	tr, err := mioir.NewTrainer(m, src, mioir.TrainConfig{Plan: plan, Batch: 4, Patch: 32, Seed: 1,
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
		m, err := mioir.New(mioir.Config{Arch: "TrainTiny"}, 1)
		if err != nil {
			trainCases(t)
			m, err = mioir.New(mioir.Config{Arch: "TrainTiny"}, 1)
		}
		require.NoError(t, err)
		tr, err := mioir.NewTrainer(m, src, mioir.TrainConfig{Plan: p, Batch: 1, Patch: 32, Dir: dir, Logger: quiet})
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
		tr, err := mioir.NewClassifierTrainer(c, src, mioir.TrainConfig{Plan: plan, Batch: 4, Patch: 36, Seed: 2,
			LogEvery: 2, Dir: dir, Val: val, Logger: quiet,
			OnProgress: func(p mioir.Progress) {
				if p.Iter == stop {
					cancel()
				}
			}})
		require.NoError(t, err)
		defer tr.Close()
		if _, err := os.Stat(filepath.Join(dir, mioir.StateFile)); err == nil {
			require.NoError(t, tr.Resume(""))
		}
		if err := tr.Run(ctx); err != nil {
			return nil, err
		}
		h := tr.History()
		require.Len(t, h.Loss, 3)
		require.Len(t, h.Val, 1)
		require.Contains(t, h.Val[0].Tasks, "noise")
		return weightsOf(t, filepath.Join(dir, mioir.LatestModel)), nil
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
	c, err := mioir.LoadClassifier(filepath.Join(dir, mioir.LatestEMAModel))
	require.NoError(t, err)
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 16, Prompted: true}, Prompt: prompt.Explicit}, 1)
	require.NoError(t, err)
	require.NoError(t, m.SetClassifier(c))
	_, info, err := m.Restore(image.NewNRGBA(image.Rect(0, 0, 24, 24)), nil)
	require.NoError(t, err)
	require.True(t, info.Auto)
	m.Close()
	_, err = mioir.LoadClassifier(filepath.Join(dir, mioir.StateFile))
	require.ErrorContains(t, err, "not a gomioir classifier")
	require.Equal(t, live, torch.LiveTensors())
}

// TestPlotHistory decodes the curve and finds every series' colour.
func TestPlotHistory(t *testing.T) {
	var h mioir.History
	for i := 1; i <= 10; i++ {
		h.Loss = append(h.Loss, mioir.LossPoint{Iter: 10 * i, Loss: 1 / float64(i),
			Tasks: map[string]float64{"noise": 1.2 / float64(i), "rain": 0.8 / float64(i)}})
		if i%5 == 0 {
			h.Val = append(h.Val, mioir.ValPoint{Iter: 10 * i, Tasks: map[string]float64{"noise": 20 + float64(i), "rain": 25}})
		}
	}
	var b bytes.Buffer
	require.NoError(t, mioir.PlotHistory(&b, h))
	img, err := png.Decode(&b)
	require.NoError(t, err)
	count := func(c color.NRGBA, x0, x1 int) int {
		n := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := x0; x < x1; x++ {
				if color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == c {
					n++
				}
			}
		}
		return n
	}
	half := img.Bounds().Dx() / 2
	for _, task := range []degrade.Task{degrade.Noise, degrade.Rain} {
		require.Greater(t, count(mioir.CurveColors[task], 0, half), 200, "loss curve of %s", task)
		require.Greater(t, count(mioir.CurveColors[task], half, 2*half), 100, "PSNR curve of %s", task)
	}
	require.Greater(t, count(mioir.CurveColors[0], 0, half), 200, "overall loss")
	require.Zero(t, count(mioir.CurveColors[degrade.Haze], 0, 2*half), "no haze data")
}

// TestTrainerAllBackbones trains every other registered backbone (reduced
// configurations, with and without prompts) for two iterations: finite
// decreasing-or-not losses are logged per task, the stage files load, and
// every tensor is freed.
func TestTrainerAllBackbones(t *testing.T) {
	src, err := data.Clean(testutil.NoisyImages(t, 2, 64, 64, 3), degrade.Train(), 1, nil)
	require.NoError(t, err)
	plan, err := curriculum.Mixed([]degrade.Task{degrade.Noise, degrade.Rain}, []int{2})
	require.NoError(t, err)
	restormer := nets.RestormerConfig{Dim: 4, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1}
	uformer := nets.UformerConfig{EmbedDim: 4, Depths: []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, WindowSize: 4}
	for _, c := range []mioir.Config{
		{Arch: "Restormer", Net: restormer, Prompt: prompt.Explicit},
		{Arch: "Restormer", Net: restormer, Prompt: prompt.Adaptive},
		{Arch: "Uformer", Net: uformer, Prompt: prompt.Adaptive},
		{Arch: "Uformer", Net: uformer},
		{Arch: "PromptIR", Net: nets.PromptIRConfig{Dim: 8, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1,
			PromptDims: [3]int64{4, 8, 12}, PromptSizes: [3]int64{8, 4, 2}}},
		{Arch: "SwinIR", Net: nets.SwinIRConfig{EmbedDim: 12, Depths: []int{1}, Heads: []int64{2}, WindowSize: 4, ImgSize: 16}, Prompt: prompt.Explicit},
	} {
		t.Run(c.Name(), func(t *testing.T) {
			live := torch.LiveTensors()
			m, err := mioir.New(c, 1)
			require.NoError(t, err)
			dir := t.TempDir()
			tr, err := mioir.NewTrainer(m, src, mioir.TrainConfig{Plan: plan, Batch: 2, Patch: 64, Seed: 1,
				LogEvery: 1, Dir: dir, Logger: quiet, Optimizer: &torch.AdamConfig{Decoupled: true, WeightDecay: 0.02}})
			require.NoError(t, err)
			require.NoError(t, tr.Run(context.Background()))
			h := tr.History()
			require.Len(t, h.Loss, 2)
			for _, p := range h.Loss {
				require.Greater(t, p.Loss, 0.0)
				require.Less(t, p.Loss, 1.0)
			}
			tr.Close()
			m.Close()
			l, err := mioir.Load(filepath.Join(dir, mioir.LatestEMAModel))
			require.NoError(t, err)
			require.Equal(t, c.Name(), l.Config().Name())
			l.Close()
			require.Equal(t, live, torch.LiveTensors())
		})
	}
}
