package external

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestExternalUNet runs examples/testdata/unet as a user would run their
// own program, and checks what it prints (see the package documentation).
func TestExternalUNet(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the build and run of the separate module examples/testdata/unet")
	}
	// The go command of the toolchain that runs this test, so that the
	// program is built with the same Go and from the same build cache.
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		if goCmd, err = exec.LookPath("go"); err != nil {
			t.Fatalf("no go command: not in %s/bin nor on PATH", runtime.GOROOT())
		}
	}

	// Building gomioir's cgo packages from a cold cache takes minutes on two
	// cores; the run itself takes a few seconds.
	timeout := 8 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-10*time.Second < timeout {
		timeout = time.Until(d) - 10*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "run", ".")
	cmd.Dir = filepath.Join("..", "testdata", "unet")
	// Offline, from the module cache and go.sum only, and outside any
	// go.work, exactly as the module is. One intra-op thread makes the
	// training step deterministic, so the figures are the same in every run,
	// and keeps a run on shared cores from stalling in libtorch's thread
	// synchronisation (two threads on two busy cores took 40 s instead of 2).
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "MIOIR_NUM_THREADS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("go run . in %s: %.1fs\n%s", cmd.Dir, time.Since(start).Seconds(), stdout.String())
	require.NoError(t, err, "stderr:\n%s", stderr.String())

	// One "name value..." line per figure.
	got := map[string]string{}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		require.True(t, ok, "line %q is not 'name value'", sc.Text())
		require.NotContains(t, got, name, "%s printed twice", name)
		got[name] = value
	}
	num := func(name string) float64 {
		t.Helper()
		s, ok := got[name]
		require.True(t, ok, "%s not printed; output:\n%s", name, stdout.String())
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err, name)
		require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s = %v", name, v)
		return v
	}

	require.Equal(t, "UNet_EP", got["arch"], "the registered backbone with explicit prompts")
	require.Positive(t, num("params"))
	// Two tasks in sequence (dark, then dark + noise), 25 iterations per
	// stage and one cycle in the final stage: 50 iterations, all trained.
	require.Equal(t, 50.0, num("plan"))
	require.Equal(t, num("plan"), num("iterations"))

	first, last := num("loss_first"), num("loss_last")
	require.Positive(t, first)
	require.Positive(t, last)
	require.Less(t, last, first, "the L1 loss should go down over the run")

	require.Equal(t, "dark", got["task"], "the explicit prompt asked for")
	require.Equal(t, "62 50", got["size"], "Restore crops its padding back")
	before, after := num("psnr_degraded"), num("psnr_restored")
	require.Greater(t, after, before+1, "restored %.2f dB vs degraded %.2f dB", after, before)

	// Saving and loading lose nothing: the loaded model's float output is
	// the trained model's, exactly.
	require.Equal(t, 0.0, num("max_abs_diff"))
}
