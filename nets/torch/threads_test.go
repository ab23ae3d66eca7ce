package torch

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultThreadsAreUsableCPUs(t *testing.T) {
	if os.Getenv(NumThreadsEnv) != "" {
		t.Skipf("%s is set", NumThreadsEnv)
	}
	require.Equal(t, runtime.GOMAXPROCS(0), NumThreads())
}

// Work issued from many goroutines, each on its own OS thread, runs with the
// thread count set for the library, whatever OS thread the call lands on.
func TestThreadCountHoldsOnEveryGoroutine(t *testing.T) {
	defer SetNumThreads(NumThreads())
	for _, n := range []int{1, 2, 3} {
		SetNumThreads(n)
		var wg sync.WaitGroup
		got := make([][2]int, 12)
		errs := make([]error, len(got))
		for i := range got {
			wg.Go(func() {
				runtime.LockOSThread() // a fresh OS thread for some of them
				defer runtime.UnlockOSThread()
				eff, err := EffectiveThreads()
				if err != nil {
					errs[i] = err
					return
				}
				distinct, err := ProbeThreads(64)
				got[i], errs[i] = [2]int{eff, distinct}, err
			})
		}
		wg.Wait()
		for i := range got {
			require.NoError(t, errs[i])
			require.Equal(t, n, got[i][0], "goroutine %d: libtorch thread count", i)
			require.Equal(t, n, got[i][1], "goroutine %d: threads that ran a parallel loop", i)
		}
		t.Logf("threads=%d: every one of %d goroutines ran a parallel loop on %d threads", n, len(got), n)
	}
}

func TestNumThreadsFromEnvironment(t *testing.T) {
	if os.Getenv("GOMIOIR_THREADS_CHILD") == "1" {
		eff, err := EffectiveThreads()
		if err != nil || NumThreads() != 3 || eff != 3 {
			t.Fatalf("NumThreads=%d effective=%d err=%v, want 3", NumThreads(), eff, err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNumThreadsFromEnvironment$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOMIOIR_THREADS_CHILD=1", NumThreadsEnv+"=3")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "PASS")
}

func TestSetNumThreadsClampsToOne(t *testing.T) {
	defer SetNumThreads(NumThreads())
	SetNumThreads(-4)
	require.Equal(t, 1, NumThreads())
	eff, err := EffectiveThreads()
	require.NoError(t, err)
	require.Equal(t, 1, eff)
	require.Equal(t, strconv.Itoa(1), strconv.Itoa(NumThreads()))
}

func TestVersionAndDevices(t *testing.T) {
	// The generations the shim supports: Debian bookworm's 1.13 (its headers
	// say 1.13.0) and 2.x (Debian trixie's 2.6.0, CUDA builds from pytorch.org).
	require.Regexp(t, `^(1\.13|2\.[0-9]+)\.[0-9]+`, Version())
	n := CUDADeviceCount()
	require.GreaterOrEqual(t, n, 0)
	require.Equal(t, n > 0, CUDAAvailable())
	require.NoError(t, CPU.Check())
	require.Error(t, CUDA(n).Check(), "the device after the last one is unavailable")
	d, err := ParseDevice("cuda:1")
	require.NoError(t, err)
	require.Equal(t, CUDA(1), d)
	_, err = ParseDevice("tpu")
	require.Error(t, err)
	require.Equal(t, "cpu", CPU.String())
	require.Equal(t, "cuda:1", d.String())
	require.Equal(t, DeviceCUDA, d.Type())
	require.Equal(t, 1, d.Index())
	require.Equal(t, CPU, Device(0), "the zero Device is the CPU")
	require.Equal(t, DeviceCPU, CPU.Type())
	require.Equal(t, 0, CPU.Index())
	require.Equal(t, 0, CUDA(0).Index())
	bad := CUDA(-1)
	require.Equal(t, "invalid", bad.String())
	require.ErrorContains(t, bad.Check(), "invalid device")
	require.ErrorContains(t, Synchronize(bad), "invalid device")
	x, err := Zeros(nil, []int64{2}, nil)
	require.NoError(t, err)
	defer x.Close()
	y := x.ToDevice(bad)
	defer y.Close()
	require.Error(t, y.Err(), "moving to an invalid device fails, never crashes")
	require.Equal(t, CPU, x.Device())
}

func TestKeepAllocationsMapped(t *testing.T) {
	if os.Getenv("GOMIOIR_MALLOC_CHILD") == "1" {
		// Large temporaries stay mapped: after freeing a 24 MiB tensor the
		// RSS does not drop back. 24 MiB, not more: a thread that malloc
		// gave a secondary arena serves a request above that arena's heap
		// limit (64 MiB) with mmap whatever mallopt says, and which arena
		// the goroutine's thread uses is up to the scheduler.
		before := rssBytes(t)
		x, err := Ones(nil, []int64{6 << 20}, nil)
		if err != nil {
			t.Fatal(err)
		}
		x.Close()
		after := rssBytes(t)
		if after-before < 16<<20 {
			t.Fatalf("RSS %d -> %d: freed memory was returned to the kernel", before, after)
		}
		// Until ReleaseFreeMemory gives it back.
		ReleaseFreeMemory()
		if trimmed := rssBytes(t); after-trimmed < 16<<20 {
			t.Fatalf("RSS %d -> %d after ReleaseFreeMemory: the freed block stayed", after, trimmed)
		}
		return
	}
	// Unset (the package's default) and 1 keep the block; 0 is glibc's own
	// policy, which returns it.
	for _, keep := range []string{"", "1", "0"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKeepAllocationsMapped$", "-test.count=1")
		cmd.Env = append(os.Environ(), "GOMIOIR_MALLOC_CHILD=1", MallocKeepEnv+"="+keep)
		out, err := cmd.CombinedOutput()
		if keep != "0" {
			require.NoError(t, err, "MIOIR_MALLOC_KEEP=%q: %s", keep, out)
		} else {
			require.Error(t, err, "with glibc's policy a freed 24 MiB block goes back: %s", out)
		}
	}
}
