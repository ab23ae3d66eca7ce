package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// StateFormat is the "format" metadata entry of training state files.
const StateFormat = "gomioir.train_state"

// Tensor name prefixes of a training state file.
const (
	stModel  = "model."       // every tensor of the trained module (parameters and buffers)
	stEMA    = "ema."         // EMA of each trained parameter
	stExpAvg = "opt.exp_avg." // Adam's first moment of each parameter
	stExpSq  = "opt.exp_avg_sq."
)

// trainState is the JSON in the "state" metadata entry of a training state
// file: everything but the tensors.
type trainState struct {
	Version  int             `json:"version"`
	Kind     string          `json:"kind"`
	Iter     int             `json:"iter"`
	Plan     json.RawMessage `json:"plan"`
	Seed     uint64          `json:"seed,string"`
	Batch    int             `json:"batch"`           // per rank
	World    int             `json:"world,omitempty"` // ranks (0: 1)
	Patch    int             `json:"patch"`
	Model    json.RawMessage `json:"model,omitempty"` // the Config of a restoration model
	AdamW    bool            `json:"adamw"`
	Decay    float64         `json:"weight_decay"`
	EMADecay float64         `json:"ema_decay"`
	OptSteps []int64         `json:"opt_steps,omitempty"` // nil: the next iteration starts a fresh optimiser
	Gen      []byte          `json:"generator,omitempty"`
	History  History         `json:"history"`
}

// checkpoint writes the training state atomically to Dir/StateFile, then
// the history to Dir/HistoryFile.
func (t *Trainer) checkpoint() error {
	if t.cfg.Dir == "" || !t.leader() {
		return nil
	}
	path := filepath.Join(t.cfg.Dir, StateFile)
	if err := t.writeState(path); err != nil {
		return fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	t.log.Info("checkpoint", "iter", t.iter, "path", path)
	if err := t.writeHistory(); err != nil {
		t.log.Warn("history", "err", err)
	}
	return nil
}

// writeHistory writes the history to Dir/HistoryFile atomically.
func (t *Trainer) writeHistory() error {
	js, err := json.MarshalIndent(t.history, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(t.cfg.Dir, HistoryFile), js)
}

func (t *Trainer) writeState(path string) error {
	planJSON, err := json.Marshal(t.cfg.Plan)
	if err != nil {
		return err
	}
	st := trainState{
		Version: 1, Kind: t.target.kind(), Iter: t.iter, Plan: planJSON, Seed: t.cfg.Seed,
		Batch: t.cfg.Batch, World: t.world(), Patch: t.cfg.Patch, AdamW: t.cfg.Optimizer.Decoupled, Decay: t.cfg.Optimizer.WeightDecay,
		EMADecay: t.cfg.EMADecay, History: t.history,
	}
	if st.Model, err = t.target.config(); err != nil {
		return err
	}
	sd := host.NewStateDict()
	msd, err := layers.StateDict(t.target.root())
	if err != nil {
		return err
	}
	if err := addPrefixed(sd, stModel, msd); err != nil {
		return err
	}
	for i, e := range t.ema {
		r, err := torch.ToHost(e)
		if err != nil {
			return err
		}
		if err := sd.Add(stEMA+t.names[i], r); err != nil {
			return err
		}
	}
	// The optimiser's moments, unless the next iteration starts a fresh one.
	var os *torch.AdamState
	if t.iter < t.cfg.Plan.TotalIters() && !t.cfg.Plan.At(t.iter+1).Restart {
		if t.opt != nil {
			s, err := t.opt.State()
			if err != nil {
				return err
			}
			os = &s
		} else {
			os = t.pending
		}
	}
	if os != nil {
		if len(os.Steps) != len(t.params) || len(os.ExpAvg) != len(t.params) || len(os.ExpAvgSq) != len(t.params) {
			return fmt.Errorf("optimiser state has %d entries for %d parameters", len(os.Steps), len(t.params))
		}
		st.OptSteps = append([]int64{}, os.Steps...)
		for i, p := range t.params {
			shape := intShape(p.Shape())
			if err := sd.Add(stExpAvg+t.names[i], host.FromFloat32(shape, os.ExpAvg[i])); err != nil {
				return err
			}
			if err := sd.Add(stExpSq+t.names[i], host.FromFloat32(shape, os.ExpAvgSq[i])); err != nil {
				return err
			}
		}
	}
	if t.gen != nil && t.cfg.Group == nil { // data-parallel runs reseed per iteration
		if st.Gen, err = t.gen.State(); err != nil {
			return err
		}
	}
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return safetensors.WriteFile(path, sd, map[string]string{"format": StateFormat, "state": string(js)})
}

func addPrefixed(dst *host.StateDict, prefix string, src *host.StateDict) error {
	for _, k := range src.Keys() {
		r, _ := src.Get(k)
		if err := dst.Add(prefix+k, r); err != nil {
			return err
		}
	}
	return nil
}

func intShape(s []int64) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

// Resume restores the training state written by a checkpoint (path ""
// means Dir/StateFile): the module's weights and buffers, the EMA, the
// optimiser's moments and step counts, the iteration, the stochastic-depth
// generator and the history. The data loader needs no state: batch k is a
// function of (Seed, k, tasks). The plan, seed, batch, patch and optimiser
// settings of the Trainer must be those of the run that wrote the state
// (else an error says which differs), so Run then continues exactly where
// the interrupted run would have: with one intra-op thread, the final
// weights equal an uninterrupted run's bit for bit.
func (t *Trainer) Resume(path string) error {
	if t.closed {
		return errors.New("train: trainer is closed")
	}
	if !t.leader() {
		// Run takes rank 0's state (syncFromLeader); this rank's files,
		// possibly on another machine, are not read.
		t.synced = false
		return nil
	}
	if path == "" {
		if t.cfg.Dir == "" {
			return errors.New("train: resume: no path and no Config.Dir")
		}
		path = filepath.Join(t.cfg.Dir, StateFile)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("train: resume %s: "+format, append([]any{path}, a...)...)
	}
	if f.Metadata["format"] != StateFormat {
		return fail("not a training state (format %q)", f.Metadata["format"])
	}
	var st trainState
	if err := json.Unmarshal([]byte(f.Metadata["state"]), &st); err != nil {
		return fail("%v", err)
	}
	if st.Version != 1 {
		return fail("state version %d is not supported", st.Version)
	}
	var plan curriculum.Plan
	if err := json.Unmarshal(st.Plan, &plan); err != nil {
		return fail("plan: %v", err)
	}
	mine, _ := json.Marshal(t.cfg.Plan)
	theirs, _ := json.Marshal(plan)
	switch {
	case st.Kind != t.target.kind():
		return fail("a %s state, this trainer trains a %s", st.Kind, t.target.kind())
	case string(mine) != string(theirs):
		return fail("the plan differs: state %s, trainer %s", plan, t.cfg.Plan)
	case st.Seed != t.cfg.Seed:
		return fail("seed %d, trainer %d", st.Seed, t.cfg.Seed)
	case st.Batch*max(1, st.World) != t.cfg.Batch*t.world() || st.Patch != t.cfg.Patch:
		// The global batch decides the data (data.LoaderOptions.Offset):
		// 2 ranks x 4 resume as 1 x 8 and back.
		return fail("batch %d x %d ranks, patch %d; trainer batch %d x %d ranks, patch %d",
			st.Batch, max(1, st.World), st.Patch, t.cfg.Batch, t.world(), t.cfg.Patch)
	case st.AdamW != t.cfg.Optimizer.Decoupled || st.Decay != t.cfg.Optimizer.WeightDecay || st.EMADecay != t.cfg.EMADecay:
		return fail("optimiser or EMA settings differ")
	case st.Iter < 0 || st.Iter > plan.TotalIters():
		return fail("iteration %d outside the plan", st.Iter)
	case t.cfg.Group == nil && (st.Gen != nil) != (t.gen != nil):
		return fail("stochastic-depth generator state does not match the network")
	}
	if err := t.target.sameConfig(st.Model); err != nil {
		return fail("%v", err)
	}
	pick := func(prefix string) *host.StateDict {
		sd := host.NewStateDict()
		for _, k := range f.Tensors.Keys() {
			if len(k) > len(prefix) && k[:len(prefix)] == prefix {
				r, _ := f.Tensors.Get(k)
				_ = sd.Add(k[len(prefix):], r)
			}
		}
		return sd
	}
	// Every check before any change.
	emaSD := pick(stEMA)
	if t.ema != nil {
		if emaSD.Len() != len(t.names) {
			return fail("%d EMA tensors for %d parameters", emaSD.Len(), len(t.names))
		}
		for i, n := range t.names {
			r, ok := emaSD.Get(n)
			if !ok || !sameShape(r.Shape, t.params[i].Shape()) {
				return fail("EMA of %s missing or of another shape", n)
			}
		}
	}
	var os *torch.AdamState
	if st.OptSteps != nil {
		if len(st.OptSteps) != len(t.params) {
			return fail("optimiser state for %d parameters, %d here", len(st.OptSteps), len(t.params))
		}
		os = &torch.AdamState{Steps: append([]int64{}, st.OptSteps...)}
		for i, n := range t.names {
			a, ok1 := f.Tensors.Get(stExpAvg + n)
			b, ok2 := f.Tensors.Get(stExpSq + n)
			if !ok1 || !ok2 || !sameShape(a.Shape, t.params[i].Shape()) || !sameShape(b.Shape, t.params[i].Shape()) {
				return fail("optimiser moments of %s missing or of another shape", n)
			}
			av, err := a.Float32s()
			if err != nil {
				return fail("%s: %v", n, err)
			}
			bv, err := b.Float32s()
			if err != nil {
				return fail("%s: %v", n, err)
			}
			os.ExpAvg = append(os.ExpAvg, av)
			os.ExpAvgSq = append(os.ExpAvgSq, bv)
		}
	}
	err = func() error {
		if err := layers.SetRequiresGrad(t.module, false); err != nil {
			return err
		}
		if err := layers.LoadStateDict(t.target.root(), pick(stModel), nil); err != nil {
			return err
		}
		if err := layers.SetRequiresGrad(t.module, true); err != nil {
			return err
		}
		for i, n := range t.names {
			if t.ema == nil {
				break
			}
			r, _ := emaSD.Get(n)
			src, err := torch.FromHost(nil, r, t.ema[i].Device())
			if err != nil {
				return err
			}
			err = t.ema[i].CopyFrom(src)
			src.Close()
			if err != nil {
				return err
			}
		}
		if t.gen != nil && st.Gen != nil && t.cfg.Group == nil {
			if err := t.gen.SetState(st.Gen); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		return fail("%v", err)
	}
	if t.opt != nil {
		t.opt.Close()
		t.opt = nil
	}
	t.pending = os
	t.iter = st.Iter
	t.history = st.History
	t.synced = false
	t.log.Info("resumed", "path", path, "iter", t.iter, "optimiser", os != nil)
	return nil
}

func sameShape(a []int, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if int64(a[i]) != b[i] {
			return false
		}
	}
	return true
}

// exportWeights writes the trained target to path in its own file format
// (a model file that mioir.Load reads, or a classifier file for
// mioir.LoadClassifier): the raw weights or, with ema, the EMA in place of
// the trained parameters.
func (t *Trainer) exportWeights(path string, ema bool) error {
	var replace map[string]*torch.Tensor
	if ema && t.ema != nil {
		// The trained parameters' names are the root's: the network's
		// names are the model's (Model.Network reports them unprefixed).
		replace = make(map[string]*torch.Tensor, len(t.ema))
		for i, n := range t.names {
			replace[n] = t.ema[i]
		}
	}
	if err := t.target.export(path, replace); err != nil {
		return fmt.Errorf("train: export %s: %w", path, err)
	}
	return nil
}
