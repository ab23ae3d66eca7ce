package torch

import (
	"runtime"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// AdamConfig holds the hyper-parameters of Adam and AdamW. A nil
// *AdamConfig given to NewAdam means torch.optim.Adam's defaults: LR 1e-3,
// Beta1 0.9, Beta2 0.999, Eps 1e-8, no weight decay. A non-nil one is taken
// field by field as given (a zero beta is a valid choice), except Eps, whose
// zero means 1e-8.
type AdamConfig struct {
	LR          float64 // learning rate of the next step (SetLR changes it)
	Beta1       float64 // decay of the first moment, in [0, 1)
	Beta2       float64 // decay of the second moment, in [0, 1)
	Eps         float64 // added to the denominator; 0 means PyTorch's default 1e-8
	WeightDecay float64 // L2 penalty (Adam) or decoupled decay (AdamW); 0 is none
	// Decoupled selects AdamW (weight decay applied to the weights, as
	// torch.optim.AdamW) instead of Adam (decay added to the gradient).
	Decoupled bool
}

// Adam is torch.optim.Adam / AdamW with PyTorch 1.13's exact update rule. The
// learning rate may be changed before every step (schedules).
type Adam struct {
	cfg    AdamConfig
	params []*Tensor
	expAvg []*Tensor // first moments, one per parameter, owned by the optimiser
	expSq  []*Tensor // second moments
	steps  []int64   // per-parameter step counts, as PyTorch's state['step']
}

// NewAdam returns an optimiser over params (which it does not own) with the
// hyper-parameters cfg (nil: PyTorch's defaults, see AdamConfig). Close frees
// its moments.
func NewAdam(params []*Tensor, c *AdamConfig) (*Adam, error) {
	cfg := AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999}
	if c != nil {
		cfg = *c
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	if cfg.LR < 0 || cfg.Beta1 < 0 || cfg.Beta1 >= 1 || cfg.Beta2 < 0 || cfg.Beta2 >= 1 || cfg.WeightDecay < 0 {
		return nil, argError("adam", "invalid hyper-parameters %+v", cfg)
	}
	o := &Adam{cfg: cfg, params: params, steps: make([]int64, len(params))}
	for _, p := range params {
		info, err := p.Info()
		if err != nil {
			o.Close()
			return nil, err
		}
		opts := &Options{DType: info.DType, Device: info.Device}
		m, err := Zeros(nil, info.Shape, opts)
		if err != nil {
			o.Close()
			return nil, err
		}
		v, err := Zeros(nil, info.Shape, opts)
		if err != nil {
			m.Close()
			o.Close()
			return nil, err
		}
		o.expAvg = append(o.expAvg, m)
		o.expSq = append(o.expSq, v)
	}
	return o, nil
}

// Close frees the optimiser's state.
func (o *Adam) Close() {
	for i := range o.expAvg {
		o.expAvg[i].Close()
		o.expSq[i].Close()
	}
}

// LR returns the learning rate of the next step.
func (o *Adam) LR() float64 { return o.cfg.LR }

// SetLR sets the learning rate of the next step.
func (o *Adam) SetLR(lr float64) { o.cfg.LR = lr }

// Config returns the hyper-parameters.
func (o *Adam) Config() AdamConfig { return o.cfg }

// Step updates every parameter that has a gradient.
func (o *Adam) Step() error {
	p, err := ptrs(o.params)
	if err != nil {
		return err
	}
	m, err := ptrs(o.expAvg)
	if err != nil {
		return err
	}
	v, err := ptrs(o.expSq)
	if err != nil {
		return err
	}
	c := o.cfg
	err = capi.AdamStep(p, m, v, o.steps, c.LR, c.Beta1, c.Beta2, c.Eps, c.WeightDecay, c.Decoupled)
	runtime.KeepAlive(o)
	return fromC(err)
}

// ZeroGrad drops the gradients of all parameters.
func (o *Adam) ZeroGrad() error {
	for _, p := range o.params {
		if err := p.ZeroGrad(); err != nil {
			return err
		}
	}
	return nil
}

// AdamState is the optimiser's state, for checkpoints: per parameter, in the
// order of the parameters, the step count and both moments (row-major).
type AdamState struct {
	Steps    []int64
	ExpAvg   [][]float32
	ExpAvgSq [][]float32
}

// State copies the optimiser's state out (float32 parameters only).
func (o *Adam) State() (AdamState, error) {
	st := AdamState{Steps: append([]int64(nil), o.steps...)}
	for i := range o.params {
		m, err := ToSlice[float32](o.expAvg[i])
		if err != nil {
			return AdamState{}, err
		}
		v, err := ToSlice[float32](o.expSq[i])
		if err != nil {
			return AdamState{}, err
		}
		st.ExpAvg = append(st.ExpAvg, m)
		st.ExpAvgSq = append(st.ExpAvgSq, v)
	}
	return st, nil
}

// SetState restores a state returned by State, checking every size.
func (o *Adam) SetState(st AdamState) error {
	n := len(o.params)
	if len(st.Steps) != n || len(st.ExpAvg) != n || len(st.ExpAvgSq) != n {
		return argError("adam_set_state", "state for %d/%d/%d parameters, optimiser has %d",
			len(st.Steps), len(st.ExpAvg), len(st.ExpAvgSq), n)
	}
	for i := range n {
		for _, pair := range []struct {
			dst *Tensor
			src []float32
		}{{o.expAvg[i], st.ExpAvg[i]}, {o.expSq[i], st.ExpAvgSq[i]}} {
			shape := pair.dst.Shape()
			if int64(len(pair.src)) != numel(shape) {
				return argError("adam_set_state", "parameter %d: %d values for shape %v", i, len(pair.src), shape)
			}
			src, err := FromSlice(nil, pair.src, shape...)
			if err != nil {
				return err
			}
			err = pair.dst.CopyFrom(src)
			src.Close()
			if err != nil {
				return err
			}
		}
	}
	copy(o.steps, st.Steps)
	return nil
}
