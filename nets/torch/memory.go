package torch

import (
	"sync"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// The package counts the bytes of CPU tensor storage from its start:
// libtorch's CPU tensors come from an allocator that wraps c10's own (same
// alignment, same memory) and keeps a running total and high-water marks.
// Counting tensors rather than reading the process's resident size measures
// what a computation needs, whatever the C allocator keeps mapped
// (KeepAllocationsMapped) and whatever else the process holds; mioir sizes
// its tiles with it.
var countingMemory = capi.CountCPUMemory()

// MemoryStats are counted bytes of CPU tensor storage.
type MemoryStats struct {
	// Current is the storage of the CPU tensors alive now, Peak the most
	// there was at once since the start or the last ResetPeakMemory.
	Current, Peak int64
	// Cached is the freed storage kept mapped for reuse
	// (SetCPUCacheLimit): resident, but not in Current.
	Cached int64
	// Counted is false when libtorch kept another CPU allocator, so that
	// the counts miss every tensor.
	Counted bool
}

// CPUMemory returns the counted CPU tensor storage.
func CPUMemory() MemoryStats {
	c, p, _ := capi.CPUMemory(0, false)
	return MemoryStats{Current: c, Peak: p, Cached: capi.CPUCachedBytes(), Counted: countingMemory}
}

// DefaultCPUCacheLimit is the cache limit the package starts with.
const DefaultCPUCacheLimit = 1 << 30

// SetCPUCacheLimit bounds, in bytes, the freed CPU tensor storage kept
// mapped for reuse (default DefaultCPUCacheLimit; 0 keeps none), giving
// back the least recently freed blocks above it now. Storage of 1 MiB and
// more is mapped directly, not taken from the C allocator, and a freed
// block of at most 64 MiB is kept for a later request of its size (up to
// twice smaller): a tiled restoration or a training loop asks for the same
// sizes pass after pass, and reuse spares it faulting that memory in again
// each time, whichever thread runs it. Larger blocks, whole-image buffers,
// are given back at once. The resident size is the live storage plus at
// most this limit; ReleaseFreeMemory empties the cache, and
// MIOIR_MALLOC_KEEP=0 sets the limit to 0 when the package initialises.
func SetCPUCacheLimit(bytes int64) { capi.SetCPUCacheLimit(bytes) }

// ResetPeakMemory lowers the high-water mark to the current bytes, so that
// the next CPUMemory().Peak is the peak of what runs in between (of the
// whole process: concurrent work counts too).
func ResetPeakMemory() { capi.CPUMemory(0, true) }

var peakMu sync.Mutex

// MemoryUse is what MemoryDuring measured.
type MemoryUse struct {
	// Peak is the most CPU tensor storage alive at once, above what was
	// alive at the start; Largest the largest single block allocated.
	Peak, Largest int64
}

// MemoryDuring runs f and measures the CPU tensor storage it needed. The
// count is process-wide (concurrent work adds to it), so the answer is an
// upper bound; calls run one at a time and leave CPUMemory's Peak alone.
func MemoryDuring(f func() error) (MemoryUse, error) {
	peakMu.Lock()
	defer peakMu.Unlock()
	base, _, _ := capi.CPUMemory(1, true)
	err := f()
	_, peak, largest := capi.CPUMemory(1, false)
	return MemoryUse{Peak: max(0, peak-base), Largest: largest}, err
}

// PeakDuring is MemoryDuring's Peak.
func PeakDuring(f func() error) (int64, error) {
	u, err := MemoryDuring(f)
	return u.Peak, err
}
