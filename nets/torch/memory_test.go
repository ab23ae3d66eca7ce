package torch

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rssBytes is the resident set size of this process.
func rssBytes(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	require.NoError(t, err)
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

// A long training loop keeps a flat RSS and returns every tensor it creates:
// memory is freed by scopes, not by the garbage collector.
func TestTrainingLoopMemoryIsFlat(t *testing.T) {
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("needs /proc to read the RSS")
	}
	const warmup, iters = 1000, 10000
	start, startGC := LiveTensors(), GCFreedTensors()

	g, err := NewGenerator(1)
	require.NoError(t, err)
	defer g.Close()
	newParam := func(shape ...int64) *Tensor {
		p, err := g.Randn(nil, shape, nil)
		require.NoError(t, err)
		p2 := p.MulScalar(0.1)
		p.Close()
		require.NoError(t, p2.SetRequiresGrad(true))
		return p2
	}
	params := []*Tensor{newParam(8, 3, 3, 3), newParam(8), newParam(3, 8, 3, 3), newParam(3)}
	opt, err := NewAdam(params, &AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99})
	require.NoError(t, err)
	x, err := g.Rand(nil, []int64{2, 3, 24, 24}, nil)
	require.NoError(t, err)
	target, err := g.Rand(nil, []int64{2, 3, 24, 24}, nil)
	require.NoError(t, err)

	pad := &ConvOptions{Padding: [2]int64{1, 1}}
	var rssWarm int64
	var first, last float64
	for i := range iters {
		s := NewScope(Grad)
		in := s.Use(x)
		h := in.Conv2d(params[0], params[1], pad).LeakyReLU(0.1)
		out := h.Conv2d(params[2], params[3], pad).Add(in)
		loss := L1Loss(out, s.Use(target))
		require.NoError(t, opt.ZeroGrad())
		require.NoError(t, loss.Backward())
		require.NoError(t, opt.Step())
		if i == 0 || i == iters-1 {
			v, err := loss.Item()
			require.NoError(t, err)
			if i == 0 {
				first = v
			} else {
				last = v
			}
		}
		s.Close()
		if i == warmup-1 {
			runtime.GC()
			rssWarm = rssBytes(t)
		}
	}
	runtime.GC()
	rssEnd := rssBytes(t)
	growth := float64(rssEnd-rssWarm) / float64(rssWarm)
	t.Logf("RSS after %d warm-up iterations %.1f MiB, after %d iterations %.1f MiB: growth %+.2f%%; loss %.4f -> %.4f",
		warmup, float64(rssWarm)/(1<<20), iters, float64(rssEnd)/(1<<20), 100*growth, first, last)
	require.Less(t, growth, 0.05, "RSS grew by more than 5%")
	require.Less(t, last, first, "the loop trains")

	opt.Close()
	for _, p := range append(params, x, target) {
		p.Close()
	}
	require.Equal(t, start, LiveTensors(), "every tensor created was freed")
	require.Equal(t, startGC, GCFreedTensors(), "nothing was left to the garbage collector")
}
