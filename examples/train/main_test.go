package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/train"
	"github.com/gomioir/gomioir/nets"
)

// childEnv, when set, makes the test binary run the command with the
// arguments it holds (JSON list) instead of the tests: the SIGKILL test
// trains in a child process it can kill.
const childEnv = "GOMIOIR_TRAIN_CHILD"

func TestMain(m *testing.M) {
	if a := os.Getenv(childEnv); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		spawn = testSpawner
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, args, os.Stderr)
		stop()
		if errors.Is(err, context.Canceled) || errors.Is(err, train.ErrStoppedByPeer) {
			os.Exit(exitInterrupted)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "train:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	spawn = testSpawner
	os.Exit(m.Run())
}

// testSpawner starts the test binary as the command with args (childEnv).
func testSpawner(args []string) *exec.Cmd {
	a, err := json.Marshal(args)
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(a))
	return cmd
}

// smokeArgs is the CI smoke configuration: SRResNet with 16 features and 2
// blocks, sequential over the seven tasks, 20 iterations per stage, patch
// 48, batch 4.
func smokeArgs(t *testing.T, imgs, out string) []string {
	cfg := filepath.Join(t.TempDir(), "cfg.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"Net": {"Features": 16, "Blocks": 2}}`), 0o644))
	return []string{"-data", imgs, "-out", out, "-backbone", "srresnet", "-prompt", "none",
		"-schedule", "sequential", "-stage-iters", "20", "-final-cycles", "1", "-patch", "48", "-batch", "4",
		"-config", cfg, "-seed", "3", "-log-every", "10", "-ckpt-every", "10"}
}

// TestSmoke runs the smoke configuration with validation and checks the
// outputs: every stage's model files load, the final loss is logged per
// task, the curve is a PNG, the JSON log has the progress fields.
func TestSmoke(t *testing.T) {
	imgs := testutil.NoisyImages(t, 4, 80, 80, 9)
	out := t.TempDir()
	start := time.Now()
	args := append(smokeArgs(t, imgs, out), "-val", testutil.NoisyImages(t, 1, 48, 48, 9))
	require.NoError(t, run(context.Background(), args, io.Discard))
	t.Logf("smoke run: %s", time.Since(start))
	for k := 1; k <= 7; k++ {
		m, err := mioir.Load(filepath.Join(out, fmt.Sprintf("stage%d_net_g_ema.safetensors", k)))
		require.NoError(t, err)
		require.Equal(t, "SRResNet", m.Config().Name())
		m.Close()
	}
	f, err := os.Open(filepath.Join(out, curveFile))
	require.NoError(t, err)
	_, err = png.Decode(f)
	f.Close()
	require.NoError(t, err)
	log, err := os.ReadFile(filepath.Join(out, "train.log"))
	require.NoError(t, err)
	var last map[string]any
	nval := 0
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		switch rec["msg"] {
		case "train":
			last = rec
		case "validation":
			nval++
		}
	}
	require.Equal(t, 7, nval, "one validation per stage end")
	require.NotNil(t, last)
	require.EqualValues(t, 140, last["iter"])
	require.Equal(t, "sbnjrhd", last["tasks"])
	for _, k := range []string{"loss", "loss_sr", "loss_dark", "it_per_s", "eta", "lr"} {
		require.Contains(t, last, k)
	}
	require.Less(t, last["loss"].(float64), 0.5)

	// -init starts from the smoke model's weights: with a learning rate
	// near zero the weights after a few steps are still those (a fresh seeded
	// model's are not).
	tune := func(extra ...string) map[string][]float32 {
		dir := t.TempDir()
		a := append([]string{"-data", imgs, "-out", dir, "-schedule", "mixed", "-tasks", "n", "-lr", "2e-7",
			"-stage-iters", "3", "-final-cycles", "0", "-batch", "2", "-patch", "48", "-seed", "4"}, extra...)
		require.NoError(t, run(context.Background(), a, io.Discard))
		return testutil.FileTensors(t, filepath.Join(dir, train.LatestModel))
	}
	var cfg string
	for i, a := range smokeArgs(t, imgs, out) {
		if a == "-config" {
			cfg = smokeArgs(t, imgs, out)[i+1]
		}
	}
	initial := testutil.FileTensors(t, filepath.Join(out, train.LatestEMAModel))
	maxDiff := func(w map[string][]float32) float64 {
		d := 0.0
		for k, v := range initial {
			require.Len(t, w[k], len(v), k)
			for i := range v {
				d = max(d, math.Abs(float64(v[i]-w[k][i])))
			}
		}
		return d
	}
	require.Less(t, maxDiff(tune("-init", filepath.Join(out, train.LatestEMAModel))), 1e-4)
	// -init-match takes the matching tensors (here all) under -config's
	// configuration; -task-weights only changes which tasks are drawn.
	require.Less(t, maxDiff(tune("-init-match", filepath.Join(out, train.LatestEMAModel), "-config", cfg,
		"-tasks", "nb", "-task-weights", "b=2", "-exposure", "0.5:2:n")), 1e-4)
	require.Greater(t, maxDiff(tune("-config", cfg)), 1e-2)
}

func stateIter(t *testing.T, path string) int {
	f, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	var st struct{ Iter int }
	require.NoError(t, json.Unmarshal([]byte(f.Metadata["state"]), &st))
	return st.Iter
}

// TestKillResume trains the smoke configuration in a child process with one
// thread, kills it with SIGKILL right after its first checkpoint, resumes
// it in a new child and compares the final raw and EMA weights with an
// uninterrupted run's, bit for bit.
func TestKillResume(t *testing.T) {
	imgs := testutil.NoisyImages(t, 4, 80, 80, 9)
	child := func(args []string) *exec.Cmd {
		a, err := json.Marshal(args)
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+string(a), "MIOIR_NUM_THREADS=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("child stderr: %s", stderr.String())
			}
		})
		return cmd
	}
	full, cut := t.TempDir(), t.TempDir()
	require.NoError(t, child(smokeArgs(t, imgs, full)).Run())

	cmd := child(smokeArgs(t, imgs, cut))
	require.NoError(t, cmd.Start())
	state := filepath.Join(cut, train.StateFile)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(state); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no checkpoint")
		time.Sleep(2 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	killedAt := stateIter(t, state)
	t.Logf("killed after the checkpoint of iteration %d", killedAt)
	require.Less(t, killedAt, 140)

	require.NoError(t, child(append(smokeArgs(t, imgs, cut), "-resume")).Run())
	require.Equal(t, 140, stateIter(t, state))
	for _, name := range []string{train.LatestModel, train.LatestEMAModel} {
		a, err := safetensors.ReadFile(filepath.Join(full, name))
		require.NoError(t, err)
		b, err := safetensors.ReadFile(filepath.Join(cut, name))
		require.NoError(t, err)
		require.Equal(t, a.Tensors.Keys(), b.Tensors.Keys())
		for _, k := range a.Tensors.Keys() {
			x, _ := a.Tensors.Get(k)
			y, _ := b.Tensors.Get(k)
			require.Truef(t, bytes.Equal(x.Data, y.Data), "%s: %s differs", name, k)
		}
	}
}

// TestFlags rejects missing and unknown arguments.
func TestFlags(t *testing.T) {
	err := run(context.Background(), []string{"-out", t.TempDir()}, io.Discard)
	require.ErrorContains(t, err, "-data and -out are required")
	err = run(context.Background(), []string{"-data", "x", "-out", t.TempDir(), "-schedule", "both"}, io.Discard)
	require.Error(t, err)
	err = run(context.Background(), []string{"-data", "x", "-out", t.TempDir(), "-backbone", "nope"}, io.Discard)
	require.Error(t, err)
	for _, w := range []string{"b", "b=0", "b=-1", "b=NaN", "b=+Inf", "x=1", "b=1,b=2", "b=1,"} {
		err = run(context.Background(), []string{"-data", "x", "-out", t.TempDir(), "-task-weights", w}, io.Discard)
		require.ErrorContains(t, err, "-task-weights", w)
	}
	for _, e := range []string{"0.3", "0:2", "1.1:2", "0.3:1", "0.3:Inf", "x:2", "0.3:", "0.3:2:", "0.3:2:x", "0.3:2:dd"} {
		err = run(context.Background(), []string{"-data", "x", "-out", t.TempDir(), "-exposure", e}, io.Discard)
		require.ErrorContains(t, err, "-exposure", e)
	}
	err = run(context.Background(), []string{"-data", "x", "-out", t.TempDir(), "-init", "a", "-init-match", "b"}, io.Discard)
	require.ErrorContains(t, err, "exclude each other")
	err = run(context.Background(), []string{"-data", "x", "-out", t.TempDir(), "-classifier", "-init-match", "b"}, io.Discard)
	require.ErrorContains(t, err, "-init-match is for restoration models")
	for _, c := range [][]string{{"-cycles", "-1"}, {"-cycles", "2", "-schedule", "sequential"}} {
		err = run(context.Background(), append([]string{"-data", "x", "-out", t.TempDir()}, c...), io.Discard)
		require.ErrorContains(t, err, "-cycles", c)
	}
	// -cycles sets a mixed run's length; the first cycles are those of a
	// longer run (same learning rates, same draws).
	for _, c := range []struct {
		args  []string
		total int
	}{
		{[]string{"-stage-iters", "1000", "-cycles", "4"}, 4000},
		{[]string{"-stage-iters", "1000", "-final-cycles", "1"}, 7000},
		{[]string{"-stage-iters", "1000", "-final-cycles", "1", "-cycles", "2"}, 2000},
	} {
		f, err := parse(append([]string{"-data", "x", "-out", "y"}, c.args...), io.Discard)
		require.NoError(t, err)
		plan, err := makePlan(f, nets.DefaultRecipe())
		require.NoError(t, err)
		require.Equal(t, c.total, plan.TotalIters(), c.args)
		require.Equal(t, 1000, plan.Stages()[0].Periods[0], c.args)
	}
	for _, lr := range []string{"0", "-1", "1e-8", "NaN", "+Inf"} {
		err = run(context.Background(), []string{"-data", "x", "-out", t.TempDir(), "-lr", lr}, io.Discard)
		require.ErrorContains(t, err, "-lr", lr)
	}
}

// TestDataParallel is the README's data-parallel command on loopback:
// -nproc 2 starts two workers (one thread each) that train the smoke
// configuration with batch 2 each; SIGINT to the launcher stops both after
// the same iteration with a checkpoint; -resume finishes the plan. The
// model files load, rank 0 alone wrote the log, and the weights are those
// of an uninterrupted two-worker run, bit for bit. (That two ranks with
// batch 2 follow one process with batch 4 is mioir/train's
// TestDataParallelMatchesOneProcess; over this run's 140 iterations Adam
// turns float rounding into visible differences in the small biases.)
func TestDataParallel(t *testing.T) {
	imgs := testutil.NoisyImages(t, 4, 80, 80, 9)
	out := t.TempDir()
	args := func(dir string, batch string, extra ...string) []string {
		a := smokeArgs(t, imgs, dir)
		for i := range a {
			if a[i] == "-batch" {
				a[i+1] = batch
			}
		}
		return append(a, extra...)
	}
	cmd := testSpawner(args(out, "2", "-nproc", "2"))
	cmd.Env = append(cmd.Env, "MIOIR_NUM_THREADS=1")
	var log bytes.Buffer
	cmd.Stderr = &log
	require.NoError(t, cmd.Start())
	state := filepath.Join(out, train.StateFile)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := os.Stat(state); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no checkpoint: %s", log.String())
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, log.String())
	require.Equal(t, exitInterrupted, ee.ExitCode(), log.String())
	stoppedAt := stateIter(t, state)
	t.Logf("interrupted after iteration %d", stoppedAt)
	require.Less(t, stoppedAt, 140)
	for _, r := range []string{"[rank 0]", "[rank 1]"} {
		require.Contains(t, log.String(), r)
	}

	resume := testSpawner(args(out, "2", "-nproc", "2", "-resume"))
	resume.Env = append(resume.Env, "MIOIR_NUM_THREADS=1")
	log.Reset()
	resume.Stderr = &log
	require.NoError(t, resume.Run(), log.String())
	require.Equal(t, 140, stateIter(t, state))
	require.Contains(t, log.String(), "world=2")
	for k := 1; k <= 7; k++ {
		m, err := mioir.Load(filepath.Join(out, fmt.Sprintf("stage%d_net_g_ema.safetensors", k)))
		require.NoError(t, err)
		m.Close()
	}
	logged, err := os.ReadFile(filepath.Join(out, "train.log"))
	require.NoError(t, err)
	require.NotContains(t, string(logged), `"rank":1`, "rank 1 wrote to the log file")
	require.Contains(t, string(logged), `"rank":0`)

	// An uninterrupted run of two workers ends with the same bits.
	full := t.TempDir()
	whole := testSpawner(args(full, "2", "-nproc", "2"))
	whole.Env = append(whole.Env, "MIOIR_NUM_THREADS=1")
	require.NoError(t, whole.Run())
	for _, name := range []string{train.LatestModel, train.LatestEMAModel} {
		a, b := testutil.FileTensors(t, filepath.Join(full, name)), testutil.FileTensors(t, filepath.Join(out, name))
		require.Equal(t, len(a), len(b))
		for k, x := range a {
			testutil.RequireSameBits(t, x, b[k], name+" "+k+", uninterrupted and resumed")
		}
	}
}
