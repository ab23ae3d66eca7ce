package data

import (
	"image"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomioir/gomioir/degrade"
)

type countingSource struct {
	rampSource
	calls atomic.Int64
}

func (s *countingSource) Patch(t degrade.Task, i int, r image.Rectangle, key uint64) (lq, gt *degrade.Image, err error) {
	s.calls.Add(1)
	return s.rampSource.Patch(t, i, r, key)
}

func waitCalls(t *testing.T, s *countingSource, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.calls.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // and no more than that
	if got := s.calls.Load(); got != want {
		t.Fatalf("source called %d times, want %d", got, want)
	}
}

// TestPrefetch: after iteration 1 the workers prepare iterations 2 and 3 by
// themselves (with the plan's tasks), and asking for them does not redo them.
func TestPrefetch(t *testing.T) {
	src := &countingSource{rampSource: rampSource{tasks: degrade.AllTasks(), n: 2, w: 40, h: 40}}
	plan := func(it int) []degrade.Task {
		if it < 3 {
			return []degrade.Task{degrade.SR}
		}
		return []degrade.Task{degrade.SR, degrade.Blur}
	}
	l, err := NewLoader(src, LoaderOptions{Batch: 3, Patch: 8, Workers: 2, Prefetch: 2, Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Batch(1, plan(1)); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, src, 9) // iterations 1, 2, 3
	if _, err := l.Batch(2, plan(2)); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, src, 12) // + iteration 4
	if _, err := l.Batch(3, plan(3)); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, src, 15) // + iteration 5
	// A task set the plan did not announce is prepared on demand; the
	// prefetched iteration 4 stays valid for the plan's tasks.
	if _, err := l.Batch(4, []degrade.Task{degrade.Rain}); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, src, 21) // iteration 4 for rain, + iteration 6
}
