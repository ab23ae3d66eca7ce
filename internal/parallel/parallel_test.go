package parallel

import (
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestForCoversEachIndexOnce(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 2, 7, 100, 1001} {
			for _, grain := range []int{-1, 0, 1, 3, 16, 5000} {
				hits := make([]int, n)
				var mu sync.Mutex
				calls := 0
				For(n, grain, func(lo, hi int) {
					mu.Lock()
					calls++
					mu.Unlock()
					require.LessOrEqual(t, 0, lo)
					require.Less(t, lo, hi)
					require.LessOrEqual(t, hi, n)
					for i := lo; i < hi; i++ {
						hits[i]++ // chunks are disjoint: no race
					}
				})
				for i, h := range hits {
					require.Equal(t, 1, h, "procs %d n %d grain %d index %d", procs, n, grain, i)
				}
				require.LessOrEqual(t, calls, procs)
				if n == 0 {
					require.Zero(t, calls)
				}
			}
		}
	}
}

func TestMinIndex(t *testing.T) {
	var m MinIndex
	require.Equal(t, -1, m.Get())
	m.Offer(5)
	m.Offer(9)
	require.Equal(t, 5, m.Get())
	m.Offer(0)
	require.Equal(t, 0, m.Get())

	var c MinIndex
	For(10000, 1, func(lo, hi int) {
		for i := hi - 1; i >= lo; i-- {
			if i%7 == 3 {
				c.Offer(i)
			}
		}
	})
	require.Equal(t, 3, c.Get())
}
