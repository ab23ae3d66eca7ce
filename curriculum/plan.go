package curriculum

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/gomioir/gomioir/degrade"
)

// ErrInvalid is wrapped by every error that reports an invalid plan or
// schedule, so callers can test errors.Is(err, curriculum.ErrInvalid).
var ErrInvalid = errors.New("curriculum: invalid plan")

// maxIters bounds a plan's length so that every iteration count converts to
// float64 exactly and sums cannot overflow.
const maxIters = 1 << 50

// Kind tells how a plan was built. It is informative (logs, checkpoints)
// and selects the structural checks made when a plan is decoded.
type Kind string

// The plan kinds.
const (
	KindMixed      Kind = "mixed"      // one stage on every task
	KindSequential Kind = "sequential" // stage k trains on the first k tasks of an order
	KindCustom     Kind = "custom"     // any list of stages (New)
)

// Stage is one training run of a plan: a fixed set of active tasks and a
// cosine-restart schedule of one or more periods. The optimiser and the
// learning-rate scheduler are created afresh at the start of every stage;
// the network weights (and their EMA) carry over from the previous stage.
type Stage struct {
	// Tasks are the active tasks; batches are drawn from their union (in
	// the reference, in proportion to each task's number of sub-images).
	Tasks []degrade.Task `json:"tasks"`
	// Periods are the lengths of the stage's cosine cycles, in iterations;
	// the stage lasts their sum.
	Periods []int `json:"periods"`
	// RestartWeights scale each cycle's amplitude (BasicSR's
	// restart_weights); nil means 1 for every cycle.
	RestartWeights []float64 `json:"restart_weights,omitempty"`
}

// Iters returns the stage's length in iterations.
func (s Stage) Iters() int { return sumInts(s.Periods) }

func (s Stage) clone() Stage {
	return Stage{Tasks: slices.Clone(s.Tasks), Periods: slices.Clone(s.Periods), RestartWeights: slices.Clone(s.RestartWeights)}
}

func (s Stage) validate() error {
	if len(s.Tasks) == 0 {
		return fmt.Errorf("%w: no task", ErrInvalid)
	}
	var seen [degrade.NumTasks + 1]bool
	for _, t := range s.Tasks {
		if !t.Valid() {
			return fmt.Errorf("%w: invalid task %d", ErrInvalid, int(t))
		}
		if seen[t] {
			return fmt.Errorf("%w: task %s given twice", ErrInvalid, t)
		}
		seen[t] = true
	}
	return validatePeriods(s.Periods, s.RestartWeights)
}

// Plan is a complete training curriculum: stages run one after another,
// each with its active tasks and its own cosine-restart learning rate.
// Iterations are numbered from 1 to TotalIters across all stages, as the
// reference counts them (its current_iter).
//
// A Plan is an immutable value: build it with Mixed, Sequential, New or
// their Reference variants, query it with At, store it with encoding/json. Its zero value is
// an empty plan of zero iterations.
type Plan struct {
	name   string
	kind   Kind
	base   float64
	etaMin float64
	stages []Stage
	starts []int // starts[i] = first iteration of stage i; starts[len] = TotalIters+1
}

// Step is what a plan prescribes for one iteration.
type Step struct {
	// Iter is the iteration, 1..TotalIters.
	Iter int `json:"iter"`
	// Stage is the index of the stage in Stages (0-based: the reference's
	// stage k is Stage k-1).
	Stage int `json:"stage"`
	// StageIter is the iteration within the stage, from 1. The stage's
	// scheduler is at position (last_epoch) StageIter-1.
	StageIter int `json:"stage_iter"`
	// Cycle is the index of the cosine cycle within the stage (0-based).
	Cycle int `json:"cycle"`
	// Tasks are the active tasks (a fresh copy).
	Tasks []degrade.Task `json:"tasks"`
	// Restart is true on the first iteration of every stage (Iter 1
	// included): the optimiser moments and the learning-rate schedule are
	// created from scratch before this iteration.
	Restart bool `json:"restart"`
	// CycleStart is true on the first iteration of every cosine cycle,
	// which is a warm restart of the rate, not of the optimiser.
	CycleStart bool `json:"cycle_start"`
	// StageEnd is true on the last iteration of every stage, after which
	// the reference saves the stage's net_g_latest.pth.
	StageEnd bool `json:"stage_end"`
	// LR is the learning rate of this iteration.
	LR float64 `json:"lr"`
}

// Option adjusts a plan built by Mixed, Sequential or New.
type Option func(*Plan)

// WithLR sets the base learning rate and the floor of the cosine (eta_min).
// The defaults are the reference's 2e-4 and 1e-7.
func WithLR(base, etaMin float64) Option {
	return func(p *Plan) { p.base, p.etaMin = base, etaMin }
}

// WithName sets a free-form name recorded in the plan (logs, checkpoints).
func WithName(name string) Option {
	return func(p *Plan) { p.name = name }
}

// Mixed returns a plan of one stage that trains on all of tasks at once,
// with one cosine cycle per period. The reference's -M models use 10
// periods of their backbone's period; see ReferenceMixed.
func Mixed(tasks []degrade.Task, periods []int, opts ...Option) (Plan, error) {
	return build(KindMixed, []Stage{{Tasks: slices.Clone(tasks), Periods: slices.Clone(periods)}}, opts)
}

// Sequential returns the sequential-learning plan over order: stage k
// (k = 1..len(order)) trains on the first k tasks of order. Stages before
// the last are one cosine cycle of stageIters iterations; the last stage
// is finalCycles cycles of stageIters. The reference's -S models use
// finalCycles 4 and seven tasks, so that they run the same 10 cycles as the
// mixed plans; see ReferenceSequential.
func Sequential(order []degrade.Task, stageIters, finalCycles int, opts ...Option) (Plan, error) {
	if len(order) == 0 {
		return Plan{}, fmt.Errorf("%w: empty task order", ErrInvalid)
	}
	if stageIters <= 0 {
		return Plan{}, fmt.Errorf("%w: stage length %d, want > 0", ErrInvalid, stageIters)
	}
	if finalCycles <= 0 {
		return Plan{}, fmt.Errorf("%w: %d final cycles, want > 0", ErrInvalid, finalCycles)
	}
	if finalCycles > maxIters/stageIters {
		return Plan{}, fmt.Errorf("%w: %d cycles of %d iterations is too long", ErrInvalid, finalCycles, stageIters)
	}
	stages := make([]Stage, len(order))
	for k := range order {
		n := 1
		if k == len(order)-1 {
			n = finalCycles
		}
		stages[k] = Stage{Tasks: slices.Clone(order[:k+1]), Periods: slices.Repeat([]int{stageIters}, n)}
	}
	return build(KindSequential, stages, opts)
}

// New returns a plan made of the given stages, for curricula that are
// neither of the reference's two shapes (a different number of cycles per
// stage, restart weights, task sets that are not prefixes of one order).
func New(stages []Stage, opts ...Option) (Plan, error) {
	st := make([]Stage, len(stages))
	for i, s := range stages {
		st[i] = s.clone()
	}
	return build(KindCustom, st, opts)
}

// build applies defaults and options, validates and indexes the plan. It
// takes ownership of stages.
func build(kind Kind, stages []Stage, opts []Option) (Plan, error) {
	p := Plan{kind: kind, base: ReferenceBaseLR, etaMin: ReferenceEtaMin, stages: stages}
	for _, o := range opts {
		o(&p)
	}
	if err := p.index(); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// index validates p and fills p.starts.
func (p *Plan) index() error {
	if err := validateLR(p.base, p.etaMin); err != nil {
		return err
	}
	if len(p.stages) == 0 {
		return fmt.Errorf("%w: no stage", ErrInvalid)
	}
	switch p.kind {
	case KindMixed:
		if len(p.stages) != 1 {
			return fmt.Errorf("%w: a mixed plan has one stage, not %d", ErrInvalid, len(p.stages))
		}
	case KindSequential:
		for k := 1; k < len(p.stages); k++ {
			prev, cur := p.stages[k-1].Tasks, p.stages[k].Tasks
			if len(cur) != len(prev)+1 || !slices.Equal(cur[:len(prev)], prev) {
				return fmt.Errorf("%w: sequential stage %d does not add one task to the tasks of stage %d", ErrInvalid, k+1, k)
			}
		}
	case KindCustom:
	default:
		return fmt.Errorf("%w: unknown plan kind %q", ErrInvalid, p.kind)
	}
	p.starts = make([]int, len(p.stages)+1)
	p.starts[0] = 1
	for i, s := range p.stages {
		if err := s.validate(); err != nil {
			return fmt.Errorf("stage %d: %w", i+1, err)
		}
		n := s.Iters()
		if p.starts[i]-1 > maxIters-n {
			return fmt.Errorf("%w: the plan is longer than %d iterations", ErrInvalid, maxIters)
		}
		p.starts[i+1] = p.starts[i] + n
	}
	return nil
}

// Name returns the plan's name ("" unless set by WithName).
func (p Plan) Name() string { return p.name }

// Kind returns how the plan was built.
func (p Plan) Kind() Kind { return p.kind }

// BaseLR returns the base learning rate (the top of every cosine cycle of
// weight 1).
func (p Plan) BaseLR() float64 { return p.base }

// EtaMin returns the floor of the cosine schedule.
func (p Plan) EtaMin() float64 { return p.etaMin }

// TotalIters returns the number of iterations of the whole plan.
func (p Plan) TotalIters() int {
	if len(p.starts) == 0 {
		return 0
	}
	return p.starts[len(p.stages)] - 1
}

// Stages returns a copy of the plan's stages.
func (p Plan) Stages() []Stage {
	out := make([]Stage, len(p.stages))
	for i, s := range p.stages {
		out[i] = s.clone()
	}
	return out
}

// StageRange returns the first and last iteration of stage i (0-based).
// It panics if i is out of range.
func (p Plan) StageRange(i int) (first, last int) {
	if i < 0 || i >= len(p.stages) {
		panic(fmt.Sprintf("curriculum: stage %d out of range 0..%d", i, len(p.stages)-1))
	}
	return p.starts[i], p.starts[i+1] - 1
}

// At returns what the plan prescribes for iteration iter (1..TotalIters).
// It panics if iter is out of range, like an index out of range: check
// against TotalIters when the iteration comes from outside (a checkpoint).
func (p Plan) At(iter int) Step {
	if iter < 1 || iter > p.TotalIters() {
		panic(fmt.Sprintf("curriculum: iteration %d out of range 1..%d", iter, p.TotalIters()))
	}
	// Stages are few (7 in the reference): a linear scan beats a search.
	k := 0
	for iter >= p.starts[k+1] {
		k++
	}
	s := p.stages[k]
	local := iter - p.starts[k] + 1
	e := local - 1 // the stage scheduler's last_epoch
	cycle, restart := cyclePos(s.Periods, e)
	w := 1.0
	if s.RestartWeights != nil {
		w = s.RestartWeights[cycle]
	}
	lr := cosineValue(p.base, p.etaMin, w, e-restart, s.Periods[cycle])
	cycleStart := e == 0 || (cycle > 0 && e == restart+1)
	return Step{
		Iter:       iter,
		Stage:      k,
		StageIter:  local,
		Cycle:      cycle,
		Tasks:      slices.Clone(s.Tasks),
		Restart:    local == 1,
		CycleStart: cycleStart,
		StageEnd:   iter == p.starts[k+1]-1,
		LR:         lr,
	}
}

// String returns a one-line summary, for example
// "sequential plan S-100k: 7 stages, 1000000 iterations, lr 0.0002 to 1e-07".
func (p Plan) String() string {
	name := ""
	if p.name != "" {
		name = " " + p.name
	}
	return fmt.Sprintf("%s plan%s: %d stages, %d iterations, lr %v to %v", p.kind, name, len(p.stages), p.TotalIters(), p.base, p.etaMin)
}

// planJSON is the stored form of a Plan.
type planJSON struct {
	Name   string  `json:"name,omitempty"`
	Kind   Kind    `json:"kind"`
	BaseLR float64 `json:"base_lr"`
	EtaMin float64 `json:"eta_min"`
	Stages []Stage `json:"stages"`
}

// MarshalJSON stores the plan as
//
//	{"name":..., "kind":"sequential", "base_lr":0.0002, "eta_min":1e-7,
//	 "stages":[{"tasks":["sr"],"periods":[100000]}, ...]}
//
// with tasks by their reference names. Floats round-trip exactly.
func (p Plan) MarshalJSON() ([]byte, error) {
	if len(p.stages) == 0 {
		return nil, fmt.Errorf("%w: cannot store an empty plan", ErrInvalid)
	}
	return json.Marshal(planJSON{Name: p.name, Kind: p.kind, BaseLR: p.base, EtaMin: p.etaMin, Stages: p.stages})
}

// UnmarshalJSON reads what MarshalJSON writes and validates it as the
// constructors do; on error p is left unchanged.
func (p *Plan) UnmarshalJSON(b []byte) error {
	var w planJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("curriculum: decoding plan: %w", err)
	}
	if w.Kind == "" {
		return fmt.Errorf("%w: plan without kind", ErrInvalid)
	}
	q := Plan{name: w.Name, kind: w.Kind, base: w.BaseLR, etaMin: w.EtaMin, stages: w.Stages}
	if err := q.index(); err != nil {
		return err
	}
	*p = q
	return nil
}
