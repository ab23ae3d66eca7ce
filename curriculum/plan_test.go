package curriculum

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomioir/gomioir/degrade"
	"github.com/stretchr/testify/require"
)

func tasks(t *testing.T, codes string) []degrade.Task {
	t.Helper()
	ts, err := degrade.ParseTasks(codes)
	require.NoError(t, err)
	return ts
}

// referencePlans are the reference's plan shapes (the per-backbone
// choices of period, order and floor are nets' recipes, tested there).
func referencePlans(t testing.TB) map[string]Plan {
	out := map[string]Plan{}
	add := func(name string, p Plan, err error) {
		require.NoError(t, err, name)
		out[name] = p
	}
	for _, period := range []int{100_000, 250_000} {
		for _, etaMin := range []float64{1e-7, 1e-6} {
			lr := WithLR(ReferenceBaseLR, etaMin)
			suffix := fmt.Sprintf("-%d-%g", period, etaMin)
			p, err := ReferenceMixed(degrade.AllTasks(), period, lr)
			add("M"+suffix, p, err)
			p, err = ReferenceSequential(OrderSBNJRHD(), period, lr)
			add("S-sbnjrhd"+suffix, p, err)
			p, err = ReferenceSequential(OrderRJBSNHD(), period, lr)
			add("S-rjbsnhd"+suffix, p, err)
		}
	}
	p, err := ClassifierPlan()
	add("Classifier", p, err)
	return out
}

func TestReferenceBudgets(t *testing.T) {
	for name, p := range referencePlans(t) {
		period := 100_000
		if strings.Contains(name, "250000") || name == "Classifier" {
			period = 250_000
		}
		cycles, kind, order := 10, KindMixed, "sbnjrhd"
		switch {
		case name == "Classifier":
			cycles = 4
		case strings.HasPrefix(name, "S-"):
			kind, order = KindSequential, name[2:9]
		}
		require.Equal(t, kind, p.Kind(), name)
		require.Equal(t, cycles*period, p.TotalIters(), name)
		require.Equal(t, 2e-4, p.BaseLR())
		require.Equal(t, strings.HasSuffix(name, "1e-06"), p.EtaMin() == 1e-6, name)
		total := 0
		for k, s := range p.Stages() {
			total += len(s.Periods)
			if kind == KindSequential {
				require.Equal(t, order[:k+1], degrade.TaskCodes(s.Tasks), name)
				require.Len(t, s.Periods, map[bool]int{true: 4, false: 1}[k == 6], name)
			} else {
				require.Equal(t, order, degrade.TaskCodes(s.Tasks), name)
			}
			require.Nil(t, s.RestartWeights)
		}
		require.Equal(t, cycles, total, name)
	}
	// Options apply after the plan's own.
	p, err := ClassifierPlan(WithLR(1e-3, 0), WithName("mine"))
	require.NoError(t, err)
	require.Equal(t, 1e-3, p.BaseLR())
	require.Equal(t, 0.0, p.EtaMin())
	require.Equal(t, "mine", p.Name())
	p, err = ClassifierPlan()
	require.NoError(t, err)
	require.Equal(t, "Classifier", p.Name())
}

func TestReferenceOrders(t *testing.T) {
	require.Equal(t, "sbnjrhd", degrade.TaskCodes(OrderSBNJRHD()))
	require.Equal(t, "rjbsnhd", degrade.TaskCodes(OrderRJBSNHD()))
	a, err := ReferenceSequential(OrderSBNJRHD(), 100_000)
	require.NoError(t, err)
	b, err := ReferenceMixed(degrade.AllTasks(), 100_000)
	require.NoError(t, err)
	require.Equal(t, a.TotalIters(), b.TotalIters())
	_, err = ReferenceMixed(degrade.AllTasks(), 0)
	require.ErrorIs(t, err, ErrInvalid)
}

// TestSequentialTransitions walks the stage boundaries of a reference
// sequential plan (7 stages; 6 x 100k, then 4 cycles of 100k).
func TestSequentialTransitions(t *testing.T) {
	p, err := ReferenceSequential(OrderSBNJRHD(), 100_000)
	require.NoError(t, err)
	const second = 0.00019999999995067664 // position 1 of a 100k cycle
	const beforeEnd = 1.0000004932335165e-07
	for _, tc := range []struct {
		iter, stage, stageIter, cycle int
		codes                         string
		restart, cycleStart, end      bool
		lr                            float64
	}{
		{1, 0, 1, 0, "s", true, true, false, 2e-4},
		{2, 0, 2, 0, "s", false, false, false, second},
		{100_000, 0, 100_000, 0, "s", false, false, true, beforeEnd},
		{100_001, 1, 1, 0, "sb", true, true, false, 2e-4},
		{100_002, 1, 2, 0, "sb", false, false, false, second},
		{200_000, 1, 100_000, 0, "sb", false, false, true, beforeEnd},
		{200_001, 2, 1, 0, "sbn", true, true, false, 2e-4},
		{500_001, 5, 1, 0, "sbnjrh", true, true, false, 2e-4},
		{600_000, 5, 100_000, 0, "sbnjrh", false, false, true, beforeEnd},
		{600_001, 6, 1, 0, "sbnjrhd", true, true, false, 2e-4},
		{700_000, 6, 100_000, 0, "sbnjrhd", false, false, false, beforeEnd},
		// In the final stage the first cycle ends on eta_min exactly ...
		{700_001, 6, 100_001, 0, "sbnjrhd", false, false, false, 1e-7},
		// ... and the next starts one step into its cosine.
		{700_002, 6, 100_002, 1, "sbnjrhd", false, true, false, second},
		{800_001, 6, 200_001, 1, "sbnjrhd", false, false, false, 1e-7},
		{800_002, 6, 200_002, 2, "sbnjrhd", false, true, false, second},
		{900_002, 6, 300_002, 3, "sbnjrhd", false, true, false, second},
		{1_000_000, 6, 400_000, 3, "sbnjrhd", false, false, true, beforeEnd},
	} {
		s := p.At(tc.iter)
		require.Equal(t, tc.iter, s.Iter)
		require.Equal(t, tc.stage, s.Stage, "iter %d", tc.iter)
		require.Equal(t, tc.stageIter, s.StageIter, "iter %d", tc.iter)
		require.Equal(t, tc.cycle, s.Cycle, "iter %d", tc.iter)
		require.Equal(t, tc.codes, degrade.TaskCodes(s.Tasks), "iter %d", tc.iter)
		require.Equal(t, tc.restart, s.Restart, "iter %d restart", tc.iter)
		require.Equal(t, tc.cycleStart, s.CycleStart, "iter %d cycle start", tc.iter)
		require.Equal(t, tc.end, s.StageEnd, "iter %d stage end", tc.iter)
		require.Equal(t, math.Float64bits(tc.lr), math.Float64bits(s.LR), "iter %d: lr %v want %v", tc.iter, s.LR, tc.lr)
	}
	first, last := p.StageRange(6)
	require.Equal(t, [2]int{600_001, 1_000_000}, [2]int{first, last})
	require.Panics(t, func() { p.At(0) })
	require.Panics(t, func() { p.At(1_000_001) })
	require.Panics(t, func() { p.StageRange(7) })
}

// TestMixedTransitions: a mixed plan restarts the optimiser once and its
// cycles follow the scheduler over the whole run.
func TestMixedTransitions(t *testing.T) {
	p, err := ReferenceMixed(degrade.AllTasks(), 100_000)
	require.NoError(t, err)
	for _, tc := range []struct {
		iter, cycle      int
		restart, cycleSt bool
		lr               float64
	}{
		{1, 0, true, true, 2e-4},
		{100_000, 0, false, false, 1.0000004932335165e-07},
		{100_001, 0, false, false, 1e-7},
		{100_002, 1, false, true, 0.00019999999995067664},
		{150_001, 1, false, false, 0.00010005},
		{900_002, 9, false, true, 0.00019999999995067664},
		{1_000_000, 9, false, false, 1.0000004932335165e-07},
	} {
		s := p.At(tc.iter)
		require.Equal(t, 0, s.Stage)
		require.Equal(t, tc.iter, s.StageIter)
		require.Equal(t, tc.cycle, s.Cycle, "iter %d", tc.iter)
		require.Equal(t, tc.restart, s.Restart, "iter %d", tc.iter)
		require.Equal(t, tc.cycleSt, s.CycleStart, "iter %d", tc.iter)
		require.Equal(t, tc.iter == 1_000_000, s.StageEnd)
		require.Equal(t, tc.lr, s.LR, "iter %d", tc.iter)
		require.Equal(t, "sbnjrhd", degrade.TaskCodes(s.Tasks))
	}
}

// TestFlagsExhaustive compares every step of small plans with a direct
// simulation of the reference: one scheduler per stage, stepped before
// every iteration but the first.
func TestFlagsExhaustive(t *testing.T) {
	seq, err := Sequential(tasks(t, "rjb"), 5, 3, WithLR(1, 0.25))
	require.NoError(t, err)
	custom, err := New([]Stage{
		{Tasks: tasks(t, "n"), Periods: []int{1, 2, 3}, RestartWeights: []float64{1, 0.5, 0.25}},
		{Tasks: tasks(t, "dh"), Periods: []int{1}},
		{Tasks: tasks(t, "sr"), Periods: []int{4, 1}},
	})
	require.NoError(t, err)
	for _, p := range []Plan{seq, custom} {
		iter := 0
		for k, st := range p.Stages() {
			cum := 0
			for c, per := range st.Periods {
				lo, hi := cum+1, cum+per // scheduler positions of cycle c > 0
				if c == 0 {
					lo = 0
				}
				for e := lo; e <= hi && e < st.Iters(); e++ {
					iter++
					s := p.At(iter)
					w := 1.0
					if st.RestartWeights != nil {
						w = st.RestartWeights[c]
					}
					want := p.EtaMin() + w*0.5*(p.BaseLR()-p.EtaMin())*(1+math.Cos(math.Pi*(float64(e-cum)/float64(per))))
					require.InDelta(t, want, s.LR, 1e-15)
					require.Equal(t, k, s.Stage)
					require.Equal(t, e+1, s.StageIter)
					require.Equal(t, c, s.Cycle, "iter %d", iter)
					require.Equal(t, e == 0, s.Restart)
					require.Equal(t, e == lo, s.CycleStart, "iter %d", iter)
					require.Equal(t, e == st.Iters()-1, s.StageEnd)
					require.Equal(t, st.Tasks, s.Tasks)
				}
				cum += per
			}
		}
		require.Equal(t, p.TotalIters(), iter)
	}
	require.Equal(t, 2*5+3*5, seq.TotalIters())
}

func TestValidation(t *testing.T) {
	all := degrade.AllTasks()
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"mixed no tasks", func() error { _, err := Mixed(nil, []int{10}); return err }},
		{"mixed no periods", func() error { _, err := Mixed(all, nil); return err }},
		{"mixed zero period", func() error { _, err := Mixed(all, []int{10, 0}); return err }},
		{"mixed negative period", func() error { _, err := Mixed(all, []int{-1}); return err }},
		{"duplicate task", func() error {
			_, err := Mixed([]degrade.Task{degrade.SR, degrade.Rain, degrade.SR}, []int{10})
			return err
		}},
		{"invalid task", func() error { _, err := Mixed([]degrade.Task{0}, []int{10}); return err }},
		{"task out of range", func() error { _, err := Mixed([]degrade.Task{99}, []int{10}); return err }},
		{"eta_min above lr", func() error { _, err := Mixed(all, []int{10}, WithLR(1e-7, 2e-4)); return err }},
		{"zero lr", func() error { _, err := Mixed(all, []int{10}, WithLR(0, 0)); return err }},
		{"NaN eta_min", func() error { _, err := Mixed(all, []int{10}, WithLR(2e-4, math.NaN())); return err }},
		{"empty order", func() error { _, err := Sequential(nil, 10, 4); return err }},
		{"zero stage length", func() error { _, err := Sequential(all, 0, 4); return err }},
		{"zero final cycles", func() error { _, err := Sequential(all, 10, 0); return err }},
		{"duplicate in order", func() error {
			_, err := Sequential([]degrade.Task{degrade.SR, degrade.Blur, degrade.SR}, 10, 4)
			return err
		}},
		{"too long", func() error { _, err := Sequential(all, math.MaxInt/2, 4); return err }},
		{"no stages", func() error { _, err := New(nil); return err }},
		{"weights mismatch", func() error {
			_, err := New([]Stage{{Tasks: all, Periods: []int{1, 2}, RestartWeights: []float64{1}}})
			return err
		}},
		{"plan overflow", func() error {
			_, err := New([]Stage{{Tasks: all, Periods: []int{maxIters}}, {Tasks: all, Periods: []int{1}}})
			return err
		}},
	} {
		err := tc.err()
		require.Error(t, err, tc.name)
		require.True(t, errors.Is(err, ErrInvalid), "%s: %v", tc.name, err)
	}
	// A single task order is one stage of finalCycles cycles.
	p, err := Sequential(tasks(t, "h"), 7, 3)
	require.NoError(t, err)
	require.Len(t, p.Stages(), 1)
	require.Equal(t, 21, p.TotalIters())
}

func TestPlanIsAValue(t *testing.T) {
	order := tasks(t, "sbn")
	periods := []int{10, 10}
	p, err := Mixed(order, periods)
	require.NoError(t, err)
	order[0], periods[0] = degrade.Haze, 99 // the plan keeps its own copies
	st := p.Stages()
	st[0].Tasks[1] = degrade.Rain
	st[0].Periods[1] = 1
	s := p.At(1)
	s.Tasks[2] = degrade.JPEG
	require.Equal(t, "sbn", degrade.TaskCodes(p.At(1).Tasks))
	require.Equal(t, []int{10, 10}, p.Stages()[0].Periods)
	require.Equal(t, 20, p.TotalIters())
	var zero Plan
	require.Equal(t, 0, zero.TotalIters())
	require.Panics(t, func() { zero.At(1) })
	_, err = json.Marshal(zero)
	require.Error(t, err)
}

func TestJSON(t *testing.T) {
	p, err := Sequential(tasks(t, "rj"), 3, 2, WithLR(2e-4, 1e-6), WithName("tiny"))
	require.NoError(t, err)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	require.JSONEq(t, `{"name":"tiny","kind":"sequential","base_lr":0.0002,"eta_min":0.000001,
		"stages":[{"tasks":["rain"],"periods":[3]},{"tasks":["rain","jpeg"],"periods":[3,3]}]}`, string(b))
	for name, p := range referencePlans(t) {
		b, err := json.Marshal(p)
		require.NoError(t, err)
		var q Plan
		require.NoError(t, json.Unmarshal(b, &q))
		require.Equal(t, p, q, name)
	}
	w, err := New([]Stage{{Tasks: tasks(t, "d"), Periods: []int{4, 4}, RestartWeights: []float64{1, 0.5}}})
	require.NoError(t, err)
	b, err = json.Marshal(w)
	require.NoError(t, err)
	var q Plan
	require.NoError(t, json.Unmarshal(b, &q))
	require.Equal(t, w, q)
	require.Equal(t, w.At(6).LR, q.At(6).LR)

	keep := q
	for _, bad := range []string{
		`{"kind":"mixed","base_lr":2e-4,"eta_min":1e-7,"stages":[{"tasks":["sr"],"periods":[1]},{"tasks":["sr"],"periods":[1]}]}`,
		`{"kind":"sequential","base_lr":2e-4,"eta_min":1e-7,"stages":[{"tasks":["sr"],"periods":[1]},{"tasks":["rain"],"periods":[1]}]}`,
		`{"kind":"sequential","base_lr":2e-4,"eta_min":1e-7,"stages":[{"tasks":["sr"],"periods":[1]},{"tasks":["sr","rain","haze"],"periods":[1]}]}`,
		`{"kind":"other","base_lr":2e-4,"eta_min":1e-7,"stages":[{"tasks":["sr"],"periods":[1]}]}`,
		`{"base_lr":2e-4,"eta_min":1e-7,"stages":[{"tasks":["sr"],"periods":[1]}]}`,
		`{"kind":"mixed","base_lr":1e-7,"eta_min":2e-4,"stages":[{"tasks":["sr"],"periods":[1]}]}`,
		`{"kind":"mixed","base_lr":2e-4,"eta_min":1e-7,"stages":[{"tasks":["snow"],"periods":[1]}]}`,
		`{"kind":"mixed","base_lr":2e-4,"eta_min":1e-7,"stages":[{"tasks":[],"periods":[1]}]}`,
		`{"kind":"mixed","base_lr":2e-4,"eta_min":1e-7,"stages":[]}`,
		`[1,2]`,
	} {
		require.Error(t, json.Unmarshal([]byte(bad), &q), bad)
		require.Equal(t, keep, q, "unchanged after %s", bad)
	}
	require.Equal(t, "sequential plan tiny: 2 stages, 9 iterations, lr 0.0002 to 1e-06", p.String())
}

func BenchmarkAt(b *testing.B) {
	p, err := ReferenceSequential(OrderSBNJRHD(), 100_000)
	if err != nil {
		b.Fatal(err)
	}
	n := p.TotalIters()
	i := 0
	for b.Loop() {
		_ = p.At(i%n + 1)
		i += 7919
	}
}
