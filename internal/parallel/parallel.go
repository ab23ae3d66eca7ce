// Package parallel splits index ranges over goroutines for the pure-Go image
// code (degrade, metrics, internal/imgconv). It has no dependencies beyond
// the standard library and no cgo.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For splits [0,n) into contiguous chunks of at least grain items and runs fn
// on them concurrently, on up to GOMAXPROCS goroutines, and waits for them.
// Every index is covered exactly once; with one worker fn runs on the calling
// goroutine. Callers keep their results independent of the split, so outputs
// do not depend on GOMAXPROCS.
func For(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	workers := min(runtime.GOMAXPROCS(0), (n+grain-1)/grain)
	if workers <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Go(func() { fn(lo, min(lo+chunk, n)) })
	}
	wg.Wait()
}

// MinIndex keeps the smallest index offered by concurrent workers, so that a
// scan split by For reports the same first offending element whatever the
// split. The zero value holds no index.
type MinIndex struct{ v atomic.Int64 } // index+1; 0 = none

// Offer records i (>= 0) if it is smaller than the index held.
func (m *MinIndex) Offer(i int) {
	n := int64(i) + 1
	for {
		cur := m.v.Load()
		if cur != 0 && cur <= n {
			return
		}
		if m.v.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Get returns the smallest index offered, or -1 when none was.
func (m *MinIndex) Get() int { return int(m.v.Load()) - 1 }
