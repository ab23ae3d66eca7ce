package torch

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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

// TestCPUMemoryCounts: a tensor's storage is counted while it lives, the peak
// holds the largest moment and resets to the current bytes.
func TestCPUMemoryCounts(t *testing.T) {
	require.True(t, CPUMemory().Counted, "the counting allocator is not installed")
	ResetPeakMemory()
	before := CPUMemory()
	x, err := Zeros(nil, []int64{1000, 1000}, nil) // 4 MB of float32
	require.NoError(t, err)
	during := CPUMemory()
	require.Equal(t, int64(4_000_000), during.Current-before.Current)
	y := x.MulScalar(2) // another 4 MB, freed with y
	require.NoError(t, y.Err())
	y.Close()
	x.Close()
	after := CPUMemory()
	require.Equal(t, before.Current, after.Current, "freed storage is uncounted")
	// Both tensors at once, and the few bytes of the wrapped scalar 2.
	require.InDelta(t, 8_000_000, after.Peak-before.Current, 64, "the peak holds both tensors")
	ResetPeakMemory()
	require.Equal(t, after.Current, CPUMemory().Peak)
}

// TestPeakDuring measures the peak of a function alone, and leaves the
// package's peak mark alone.
func TestPeakDuring(t *testing.T) {
	keep, err := Zeros(nil, []int64{1 << 20}, nil) // 4 MB alive before and after
	require.NoError(t, err)
	defer keep.Close()
	ResetPeakMemory()
	big, err := Zeros(nil, []int64{2 << 20}, nil) // 8 MB, freed: raises the package's mark
	require.NoError(t, err)
	big.Close()
	markBefore := CPUMemory().Peak
	peak, err := PeakDuring(func() error {
		a, err := Zeros(nil, []int64{1 << 19}, nil) // 2 MB
		if err != nil {
			return err
		}
		b := a.AddScalar(1) // 2 MB more
		b.Close()
		a.Close()
		return nil
	})
	require.NoError(t, err)
	require.InDelta(t, 4<<20, peak, 64)
	require.Equal(t, markBefore, CPUMemory().Peak, "PeakDuring moved the package's mark")
}

// minorFaults is the number of page faults this process took without I/O.
func minorFaults(t testing.TB) int64 {
	t.Helper()
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return ru.Minflt
}

// Freed blocks of 1 MiB and more are kept for the next request of their
// size: allocating and filling a 16 MiB tensor ten times faults its 4096
// pages in once, where without the cache (limit 0) every pass faults them
// all in again.
func TestCPUCacheReusesBlocks(t *testing.T) {
	defer SetCPUCacheLimit(DefaultCPUCacheLimit)
	const elems, passes = 4 << 20, 10
	pages := int64(elems * 4 / os.Getpagesize())
	cycle := func() int64 {
		before := minorFaults(t)
		for range passes {
			x, err := Ones(nil, []int64{elems}, nil)
			require.NoError(t, err)
			x.Close()
		}
		return minorFaults(t) - before
	}

	SetCPUCacheLimit(DefaultCPUCacheLimit)
	ReleaseFreeMemory()
	require.Zero(t, CPUMemory().Cached, "ReleaseFreeMemory empties the cache")
	x, err := Ones(nil, []int64{elems}, nil)
	require.NoError(t, err)
	x.Close()
	require.GreaterOrEqual(t, CPUMemory().Cached, int64(elems*4), "the freed block is cached")
	kept := cycle()
	require.Less(t, kept, pages, "with the cache, %d passes took %d faults", passes, kept)

	SetCPUCacheLimit(0)
	require.Zero(t, CPUMemory().Cached, "a limit of 0 drops every cached block")
	fresh := cycle()
	require.Greater(t, fresh, (passes-1)*pages, "without the cache every pass faults its pages in: %d faults", fresh)

	// A limit below one block keeps none of it.
	SetCPUCacheLimit(elems * 2)
	x, err = Ones(nil, []int64{elems}, nil)
	require.NoError(t, err)
	x.Close()
	require.Zero(t, CPUMemory().Cached)
}
