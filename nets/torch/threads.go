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
	}
}

// MallocKeepEnv names the environment variable that, set to 0, keeps glibc's
// default allocation policy instead of calling KeepAllocationsMapped when
// the package initialises.
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
// A forward pass frees and allocates the same large temporaries again and
// again (tensors, and oneDNN's own scratch buffers, which no tensor
// allocator sees); by default glibc unmaps them and the kernel faults them in
// anew each time. The package calls it when it initialises, unless
// MIOIR_MALLOC_KEEP=0: restoring a 12-megapixel photo in 512-pixel tiles with
// the bundled model took 50 s with it, where 754-pixel tiles without it took
// 95 s, 80 of them in the kernel. The process's resident size then stays at
// its high-water mark, which Restore's memory budget bounds. A thread that
// glibc gave a secondary arena still gets blocks above that arena's heap
// limit (64 MiB) through mmap, and gives them back when they are freed (the
// same 754-pixel tiles: 68 s, 37 in the kernel); Restore's budgeted tiles
// stay below it (mioir.Options.MemoryBudget).
func KeepAllocationsMapped() error {
	if !capi.MallocKeepMapped() {
		return argError("malloc", "mallopt refused the settings")
	}
	return nil
}

// ReleaseFreeMemory gives the allocator's free memory back to the system
// (glibc's malloc_trim), once. With KeepAllocationsMapped the resident size
// otherwise keeps every phase's high-water mark: call it between phases
// whose temporaries differ, e.g. after a classifier pass over a whole photo
// and before restoring it in tiles, so that the tiles' peak is not added to
// the classifier's. The next allocations fault their pages in again, once.
func ReleaseFreeMemory() { capi.MallocTrim() }
