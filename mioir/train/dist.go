package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// ErrStoppedByPeer is returned by Run on the ranks of a data-parallel run
// that stopped because another rank's context ended; every rank stops after
// the same iteration, and rank 0 writes the checkpoint.
var ErrStoppedByPeer = errors.New("train: another rank stopped the run")

// rendezvousSeq numbers the trainers made in this process, so that the
// setup checks of two trainers made one after the other over one group do
// not read each other's keys (every rank makes its trainers in the same
// order).
var rendezvousSeq atomic.Int64

// rank is this process's rank (0 without a group).
func (t *Trainer) rank() int {
	if t.cfg.Group == nil {
		return 0
	}
	return t.cfg.Group.Rank()
}

// world is the number of ranks (1 without a group).
func (t *Trainer) world() int {
	if t.cfg.Group == nil {
		return 1
	}
	return t.cfg.Group.World()
}

// leader reports whether this process writes files and logs progress.
func (t *Trainer) leader() bool { return t.rank() == 0 }

// setup describes everything that must be equal on every rank, one
// "name: value" line each, in a fixed order.
func (t *Trainer) setup() ([]string, error) {
	plan, err := json.Marshal(t.cfg.Plan)
	if err != nil {
		return nil, err
	}
	model, err := t.target.config()
	if err != nil {
		return nil, err
	}
	params := layers.Params(t.target.root())
	h := sha256.New()
	for _, p := range params {
		fmt.Fprintf(h, "%s %v %v %v;", p.Name, (*p.Ref).Shape(), (*p.Ref).DType(), p.Buffer)
	}
	var weights []string
	for _, task := range degrade.AllTasks() {
		if w, ok := t.cfg.TaskWeights[task]; ok {
			weights = append(weights, fmt.Sprintf("%s=%g", task.Name(), w))
		}
	}
	return []string{
		"kind: " + t.target.kind(),
		"model: " + string(model),
		fmt.Sprintf("tensors: %d, layout %s", len(params), hex.EncodeToString(h.Sum(nil))[:16]),
		"device: " + t.dev.String(),
		"plan: " + string(plan),
		fmt.Sprintf("batch per rank: %d", t.cfg.Batch),
		fmt.Sprintf("patch: %d", t.cfg.Patch),
		fmt.Sprintf("seed: %d", t.cfg.Seed),
		fmt.Sprintf("optimiser: %+v", *t.cfg.Optimizer),
		fmt.Sprintf("ema decay: %g", t.cfg.EMADecay),
		"task weights: " + strings.Join(weights, ","),
		fmt.Sprintf("world: %d", t.world()),
	}, nil
}

// rendezvous checks that every rank trains the same thing: each rank
// publishes its setup, rank 0 compares them all with its own and publishes
// the verdict, and every rank returns it, naming what differs.
func (t *Trainer) rendezvous() error {
	g := t.cfg.Group
	mine, err := t.setup()
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	prefix := fmt.Sprintf("train/%d/", rendezvousSeq.Add(1))
	js, _ := json.Marshal(mine)
	if err := g.Set(fmt.Sprintf("%ssetup/%d", prefix, g.Rank()), js); err != nil {
		return fmt.Errorf("train: rendezvous: %w", err)
	}
	if g.Rank() == 0 {
		var problems []string
		for r := 1; r < g.World(); r++ {
			v, err := g.Get(fmt.Sprintf("%ssetup/%d", prefix, r))
			if err != nil {
				problems = append(problems, fmt.Sprintf("rank %d did not report its setup: %v", r, err))
				continue
			}
			var theirs []string
			if err := json.Unmarshal(v, &theirs); err != nil {
				problems = append(problems, fmt.Sprintf("rank %d: %v", r, err))
				continue
			}
			if d := setupDiff(mine, theirs); d != "" {
				problems = append(problems, fmt.Sprintf("rank %d differs from rank 0: %s", r, d))
			}
		}
		if err := g.Set(prefix+"verdict", []byte(strings.Join(problems, "; "))); err != nil {
			return fmt.Errorf("train: rendezvous: %w", err)
		}
	}
	v, err := g.Get(prefix + "verdict")
	if err != nil {
		return fmt.Errorf("train: rendezvous: %w", err)
	}
	if len(v) > 0 {
		return fmt.Errorf("train: rendezvous refused (rank %d of %d): %s", g.Rank(), g.World(), v)
	}
	return nil
}

// setupDiff lists the lines of two setups that differ, as "name: a (rank 0: b)".
func setupDiff(rank0, other []string) string {
	var d []string
	for i := range max(len(rank0), len(other)) {
		var a, b string
		if i < len(rank0) {
			a = rank0[i]
		}
		if i < len(other) {
			b = other[i]
		}
		if a != b {
			_, av, _ := strings.Cut(a, ": ")
			d = append(d, fmt.Sprintf("%s (rank 0: %s)", b, av))
		}
	}
	return strings.Join(d, ", ")
}

// syncFromLeader makes every rank start from rank 0's training state: the
// iteration, every tensor of the trained target (parameters, buffers, and a
// model's explicit maps), the EMA and, when rank 0 resumed in the middle of
// a stage, the optimiser's moments and step counts.
func (t *Trainer) syncFromLeader() error {
	g := t.cfg.Group
	s := torch.NewScope(torch.NoGrad)
	defer s.Close()
	hasOpt := int64(0)
	if t.pending != nil {
		hasOpt = 1
	}
	meta, err := torch.FromSlice(s, []int64{int64(t.iter), hasOpt}, 2)
	if err != nil {
		return err
	}
	if err := g.Broadcast([]*torch.Tensor{meta}, 0); err != nil {
		return fmt.Errorf("train: sync: %w", err)
	}
	mv, err := torch.ToSlice[int64](meta)
	if err != nil {
		return err
	}
	t.iter = int(mv[0])
	var ts []*torch.Tensor
	for _, p := range layers.Params(t.target.root()) {
		ts = append(ts, *p.Ref)
	}
	ts = append(ts, t.ema...)
	if err := g.Broadcast(ts, 0); err != nil {
		return fmt.Errorf("train: sync: %w", err)
	}
	if mv[1] == 0 {
		t.pending = nil
		return nil
	}
	// The optimiser's state: rank 0's pending AdamState, through tensors.
	steps := make([]int64, len(t.params))
	if t.pending != nil {
		copy(steps, t.pending.Steps)
	}
	st, err := torch.FromSlice(s, steps, int64(len(steps)))
	if err != nil {
		return err
	}
	moments := []*torch.Tensor{st}
	for i, p := range t.params {
		for k := range 2 {
			var m *torch.Tensor
			if t.pending != nil {
				src := t.pending.ExpAvg[i]
				if k == 1 {
					src = t.pending.ExpAvgSq[i]
				}
				m, err = torch.FromSlice(s, src, p.Shape()...)
			} else {
				m, err = torch.Zeros(s, p.Shape(), nil)
			}
			if err != nil {
				return err
			}
			moments = append(moments, m.ToDevice(t.dev))
		}
	}
	if err := s.Err(); err != nil {
		return err
	}
	if err := g.Broadcast(moments, 0); err != nil {
		return fmt.Errorf("train: sync: %w", err)
	}
	if t.pending != nil {
		return nil
	}
	as := torch.AdamState{}
	if as.Steps, err = torch.ToSlice[int64](st); err != nil {
		return err
	}
	for i := range t.params {
		m, err := torch.ToSlice[float32](moments[1+2*i].ToDevice(torch.CPU))
		if err != nil {
			return err
		}
		v, err := torch.ToSlice[float32](moments[2+2*i].ToDevice(torch.CPU))
		if err != nil {
			return err
		}
		as.ExpAvg, as.ExpAvgSq = append(as.ExpAvg, m), append(as.ExpAvgSq, v)
	}
	t.pending = &as
	return nil
}

// averageGradients replaces every trained parameter's gradient with its mean
// over the ranks (one bucketed all-reduce), between backward and the
// optimiser step.
func (t *Trainer) averageGradients() error {
	grads := make([]*torch.Tensor, 0, len(t.params))
	defer func() {
		for _, g := range grads {
			g.Close()
		}
	}()
	for i, p := range t.params {
		g, err := p.Grad()
		if err != nil {
			return err
		}
		if g == nil {
			return fmt.Errorf("train: parameter %s got no gradient; data-parallel training needs every trained parameter in the graph", t.names[i])
		}
		grads = append(grads, g)
	}
	start := time.Now()
	err := t.cfg.Group.AllReduce(grads, torch.Mean)
	t.comm += time.Since(start)
	if err != nil {
		return fmt.Errorf("train: gradient all-reduce: %w", err)
	}
	return nil
}

// stepStats is what the ranks exchange after every step: the loss summed
// over the ranks, per-task loss sums and sample counts, and whether any
// rank wants to stop.
type stepStats struct {
	loss    float64
	perTask [2 * numTasks]float64 // sums, then counts, by PromptIndex
	stop    bool
}

const numTasks = 7

func localStats(loss float64, per []float32, tasks []degrade.Task, stop bool) stepStats {
	st := stepStats{loss: loss, stop: stop}
	for i, v := range per {
		if i >= len(tasks) {
			break
		}
		k := tasks[i].PromptIndex()
		st.perTask[k] += float64(v)
		st.perTask[numTasks+k]++
	}
	return st
}

// reduceStats sums the ranks' step statistics; the loss becomes the mean
// over the ranks (the global batch's loss).
func (t *Trainer) reduceStats(st stepStats) (stepStats, error) {
	s := torch.NewScope(torch.NoGrad)
	defer s.Close()
	v := append([]float64{st.loss, 0}, st.perTask[:]...)
	if st.stop {
		v[1] = 1
	}
	x, err := torch.FromSlice(s, v, int64(len(v)))
	if err != nil {
		return st, err
	}
	x = x.ToDevice(t.dev)
	start := time.Now()
	err = t.cfg.Group.AllReduce([]*torch.Tensor{x}, torch.Sum)
	t.comm += time.Since(start)
	if err != nil {
		return st, fmt.Errorf("train: iteration %d: %w", t.iter+1, err)
	}
	out, err := torch.ToSlice[float64](x.ToDevice(torch.CPU))
	if err != nil {
		return st, err
	}
	r := stepStats{loss: out[0] / float64(t.world()), stop: out[1] > 0}
	copy(r.perTask[:], out[2:])
	return r, nil
}

// reseed gives stochastic depth a fresh generator for iteration it, a
// function of the seed, the iteration and the rank: in a data-parallel run
// each rank draws its own samples' paths, and a resumed run needs no
// generator state from the other ranks.
func (t *Trainer) reseed(it int) error {
	g, err := torch.NewGenerator(mix(t.cfg.Seed^0x9e3779b97f4a7c15, uint64(it)<<16|uint64(t.rank())))
	if err != nil {
		return err
	}
	t.target.setTraining(g)
	if t.gen != nil {
		t.gen.Close()
	}
	t.gen = g
	return nil
}

// mix is SplitMix64's finaliser of a ^ b*golden.
func mix(a, b uint64) uint64 {
	z := a ^ (b * 0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
