package torch

import (
	"os"
	"runtime"
	"strconv"
	"sync/atomic"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// NumThreadsEnv names the environment variable that sets the intra-op thread
// count (default: the usable CPUs).
const NumThreadsEnv = "MIOIR_NUM_THREADS"

var numThreads atomic.Int32

func init() {
	n := runtime.GOMAXPROCS(0) // the usable CPUs, honouring affinity and cgroup limits
	if v, err := strconv.Atoi(os.Getenv(NumThreadsEnv)); err == nil && v > 0 {
		n = v
	}
	SetNumThreads(n)
	if os.Getenv(MallocKeepEnv) != "0" {
		_ = KeepAllocationsMapped()
	} else {
		SetCPUCacheLimit(0)
	}
}

// MallocKeepEnv names the environment variable that, set to 0, keeps glibc's
// default allocation policy instead of calling KeepAllocationsMapped when
// the package initialises, and caches no freed tensor storage
// (SetCPUCacheLimit(0)).
const MallocKeepEnv = "MIOIR_MALLOC_KEEP"

// SetNumThreads sets how many threads one libtorch operation may use, for work
// issued from every goroutine from now on. n < 1 is taken as 1.
func SetNumThreads(n int) {
	if n < 1 {
		n = 1
	}
	numThreads.Store(int32(n))
	capi.SetNumThreads(n)
}

// NumThreads returns the intra-op thread count set for the library.
func NumThreads() int { return int(numThreads.Load()) }

// EffectiveThreads returns the thread count libtorch reports on the OS thread
// that runs this call (which, after the shim's per-call check, is NumThreads).
func EffectiveThreads() (int, error) {
	n, err := capi.NumThreads()
	return n, fromC(err)
}

// ProbeThreads runs a parallel loop of the given number of work items inside
// libtorch and returns how many distinct threads executed it.
func ProbeThreads(work int) (int, error) {
	n, err := capi.ProbeThreads(int64(work))
	return n, fromC(err)
}

// Version returns the libtorch version, e.g. "1.13.1".
func Version() string {
	v, err := capi.Version()
	if err != nil {
		return "unknown"
	}
	return v
}

// KeepAllocationsMapped tells glibc's allocator to keep freed memory in the
// process (no mmap for large blocks, no trimming), as
// GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=... does.
// Tensor storage of 1 MiB and more does not come from glibc (see
// SetCPUCacheLimit); this covers the rest, the small tensors and libtorch's
// own buffers, which by default glibc would unmap on free and the kernel
// fault in anew on the next pass. The package calls it when it initialises,
// unless MIOIR_MALLOC_KEEP=0.
func KeepAllocationsMapped() error {
	if !capi.MallocKeepMapped() {
		return argError("malloc", "mallopt refused the settings")
	}
	return nil
}

// ReleaseFreeMemory gives the allocators' free memory back to the system
// (the cached tensor storage, and glibc's malloc_trim), once. The resident
// size otherwise keeps each phase's high-water mark: call it between phases
// whose temporaries differ, e.g. after a classifier pass over a whole photo
// and before restoring it in tiles, so that the tiles' peak is not added to
// the classifier's. The next allocations fault their pages in again, once.
func ReleaseFreeMemory() { capi.MallocTrim() }
