package metrics

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelFor runs fn over contiguous sub-ranges of [0,n), each at least
// minChunk long, on up to GOMAXPROCS goroutines, and waits for them. Every
// index is covered exactly once.
func parallelFor(n, minChunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	minChunk = max(minChunk, 1)
	workers := min(runtime.GOMAXPROCS(0), (n+minChunk-1)/minChunk)
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

// minIndex keeps the smallest index offered by concurrent workers.
type minIndex struct{ v atomic.Int64 }

func (m *minIndex) init() { m.v.Store(-1) }

func (m *minIndex) offer(i int) {
	for {
		cur := m.v.Load()
		if cur >= 0 && cur <= int64(i) {
			return
		}
		if m.v.CompareAndSwap(cur, int64(i)) {
			return
		}
	}
}

func (m *minIndex) get() int { return int(m.v.Load()) }
