package mioir

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// TrainStateFormat is the "format" metadata entry of training state files.
const TrainStateFormat = "gomioir.train_state"

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
	Batch    int             `json:"batch"`
	Patch    int             `json:"patch"`
	Model    json.RawMessage `json:"model,omitempty"` // the Config of a restoration model
	AdamW    bool            `json:"adamw"`
	Decay    float64         `json:"weight_decay"`
	EMADecay float64         `json:"ema_decay"`
	OptSteps []int64         `json:"opt_steps,omitempty"` // nil: the next iteration starts a fresh optimiser
	Gen      []byte          `json:"generator,omitempty"`
	History  History         `json:"history"`
}

// checkpoint writes the training state atomically to Dir/StateFile and
// redraws the curve.
func (t *Trainer) checkpoint() error {
	if t.cfg.Dir == "" {
		return nil
	}
	path := filepath.Join(t.cfg.Dir, StateFile)
	if err := t.writeState(path); err != nil {
		return fmt.Errorf("mioir: checkpoint %s: %w", path, err)
	}
	t.log.Info("checkpoint", "iter", t.iter, "path", path)
	if err := t.writeCurve(); err != nil {
		t.log.Warn("curve plot", "err", err)
	}
	return nil
}

func (t *Trainer) writeState(path string) error {
	planJSON, err := json.Marshal(t.cfg.Plan)
	if err != nil {
		return err
	}
	st := trainState{
		Version: 1, Kind: t.kind, Iter: t.iter, Plan: planJSON, Seed: t.cfg.Seed,
		Batch: t.cfg.Batch, Patch: t.cfg.Patch, AdamW: t.cfg.Optimizer.Decoupled, Decay: t.cfg.Optimizer.WeightDecay,
		EMADecay: t.cfg.EMADecay, History: t.history,
	}
	lock := t.lockModel()
	defer lock()
	sd := host.NewStateDict()
	if t.model != nil {
		if st.Model, err = json.Marshal(t.model.cfg); err != nil {
			return err
		}
		msd, err := layers.StateDict(t.model)
		if err != nil {
			return err
		}
		if err := addPrefixed(sd, stModel, msd); err != nil {
			return err
		}
	} else {
		msd, err := layers.StateDict(t.module)
		if err != nil {
			return err
		}
		if err := addPrefixed(sd, stModel, msd); err != nil {
			return err
		}
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
	if t.gen != nil {
		if st.Gen, err = t.gen.State(); err != nil {
			return err
		}
	}
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return safetensors.WriteFile(path, sd, map[string]string{"format": TrainStateFormat, "state": string(js)})
}

// lockModel takes the model's write lock (restoration training) and
// returns its release.
func (t *Trainer) lockModel() func() {
	if t.model == nil {
		return func() {}
	}
	t.model.mu.Lock()
	return t.model.mu.Unlock
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
		return errors.New("mioir: train: trainer is closed")
	}
	if path == "" {
		if t.cfg.Dir == "" {
			return errors.New("mioir: resume: no path and no TrainConfig.Dir")
		}
		path = filepath.Join(t.cfg.Dir, StateFile)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("mioir: resume: %w", err)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("mioir: resume %s: "+format, append([]any{path}, a...)...)
	}
	if f.Metadata["format"] != TrainStateFormat {
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
	case st.Kind != t.kind:
		return fail("a %s state, this trainer trains a %s", st.Kind, t.kind)
	case string(mine) != string(theirs):
		return fail("the plan differs: state %s, trainer %s", plan, t.cfg.Plan)
	case st.Seed != t.cfg.Seed:
		return fail("seed %d, trainer %d", st.Seed, t.cfg.Seed)
	case st.Batch != t.cfg.Batch || st.Patch != t.cfg.Patch:
		return fail("batch %d patch %d, trainer batch %d patch %d", st.Batch, st.Patch, t.cfg.Batch, t.cfg.Patch)
	case st.AdamW != t.cfg.Optimizer.Decoupled || st.Decay != t.cfg.Optimizer.WeightDecay || st.EMADecay != t.cfg.EMADecay:
		return fail("optimiser or EMA settings differ")
	case st.Iter < 0 || st.Iter > plan.TotalIters():
		return fail("iteration %d outside the plan", st.Iter)
	case (st.Gen != nil) != (t.gen != nil):
		return fail("stochastic-depth generator state does not match the network")
	}
	if t.model != nil && st.Model != nil {
		var cfg Config
		if err := json.Unmarshal(st.Model, &cfg); err != nil {
			return fail("model config: %v", err)
		}
		a, _ := json.Marshal(cfg)
		var mine Config
		mj, _ := json.Marshal(t.model.Config())
		if err := json.Unmarshal(mj, &mine); err != nil {
			return fail("model config: %v", err)
		}
		b, _ := json.Marshal(mine)
		if string(a) != string(b) {
			return fail("model %s, trainer's model %s", a, b)
		}
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
	unlock := t.lockModel()
	err = func() error {
		defer unlock()
		if err := layers.SetRequiresGrad(t.module, false); err != nil {
			return err
		}
		var target layers.Module = t.module
		if t.model != nil {
			target = t.model
		}
		if err := layers.LoadStateDict(target, pick(stModel), layers.LoadOptions{}); err != nil {
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
		if t.gen != nil {
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

// exportWeights writes the trained module to path: for a restoration model
// a native model file (Load reads it) with the raw weights or, with ema,
// the EMA in place of the trained parameters; for the classifier a
// safetensors file of its state dict under the reference's names.
func (t *Trainer) exportWeights(path string, ema bool) error {
	unlock := t.lockModel()
	defer unlock()
	var root layers.Module = t.module
	meta := map[string]string{"format": ClassifierFormat}
	if t.model != nil {
		root = t.model
		cfg, err := json.Marshal(t.model.cfg)
		if err != nil {
			return err
		}
		meta = map[string]string{metaFormat: Format, metaVersion: strconv.Itoa(FormatVersion), metaConfig: string(cfg)}
	}
	sd, err := layers.StateDict(root)
	if err != nil {
		return err
	}
	if ema && t.ema != nil {
		// The trained parameters' names relative to root: the network's
		// names are the model's (visitNetwork reports them unprefixed).
		over := make(map[string]*torch.Tensor, len(t.ema))
		for i, n := range t.names {
			over[n] = t.ema[i]
		}
		out := host.NewStateDict()
		for _, k := range sd.Keys() {
			r, _ := sd.Get(k)
			if e, ok := over[k]; ok {
				if r, err = torch.ToHost(e); err != nil {
					return err
				}
			}
			if err := out.Add(k, r); err != nil {
				return err
			}
		}
		sd = out
	}
	if err := safetensors.WriteFile(path, sd, meta); err != nil {
		return fmt.Errorf("mioir: export %s: %w", path, err)
	}
	return nil
}
