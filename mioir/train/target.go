package train

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/data"
	"github.com/gomioir/gomioir/mioir/eval"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// target is what a Trainer trains: a restoration model (NewTrainer) or a
// task classifier (NewClassifierTrainer). Everything else (the plan, the
// optimiser, the EMA, checkpoints, exact resume, logging) is the same for
// both and lives in Trainer.
type target interface {
	// kind names the target in training states ("restoration" or
	// "classifier"); Resume refuses a state of another kind.
	kind() string
	device() torch.Device
	// module is the trained module: its parameters get the optimiser and
	// the EMA; root is what a training state holds and Resume loads (for a
	// model also its explicit maps and classifier).
	module() layers.Module
	root() layers.Module
	// optimizer is the reference optimiser (Config.Optimizer's
	// default): the backbone's recipe, or Adam for a classifier.
	optimizer() (torch.AdamConfig, error)
	// lqOnly: the loader needs only the degraded inputs.
	lqOnly() bool
	// stochastic reports stochastic depth; setTraining turns it on with g
	// (nil: off).
	stochastic() bool
	setTraining(g *torch.Generator)
	// step runs one training step with opt on b and returns the mean loss
	// and each sample's own loss; reduce, when not nil, runs between
	// backward and the optimiser step (the gradients' all-reduce).
	step(opt *torch.Adam, b *data.Batch, reduce func() error) (loss float64, perSample []float32, err error)
	// validate scores the target on sets (by set name) and renders the
	// scores as a Markdown table.
	validate(ctx context.Context, sets []eval.Set) (validation, error)
	// config is the model configuration recorded in training states (nil
	// for a classifier); sameConfig checks a recorded one against it.
	config() (json.RawMessage, error)
	sameConfig(recorded json.RawMessage) error
	// export writes the target's file format (Load or LoadClassifier read
	// it), with the named tensors replaced (the EMA).
	export(path string, replace map[string]*torch.Tensor) error
}

// validation is one validation's outcome.
type validation struct {
	scores map[string]float64 // by set name (a task's name)
	metric string             // "psnr" or "acc", the log attributes' prefix
	table  string             // Markdown
}

// stochasticDepth is a backbone with stochastic depth (SwinIR, Uformer).
type stochasticDepth interface{ SetTraining(*torch.Generator) }

// restoration trains a Model's network (prompt modules and backbone).
type restoration struct {
	m      *mioir.Model
	prompt prompt.Kind
	sd     stochasticDepth // nil when the backbone has none
}

func newRestoration(m *mioir.Model) *restoration {
	r := &restoration{m: m, prompt: m.Config().Prompt}
	r.sd, _ = m.Backbone().(stochasticDepth)
	return r
}

func (r *restoration) kind() string          { return "restoration" }
func (r *restoration) device() torch.Device  { return r.m.Device() }
func (r *restoration) module() layers.Module { return r.m.Network() }
func (r *restoration) root() layers.Module   { return r.m }
func (r *restoration) lqOnly() bool          { return false }
func (r *restoration) stochastic() bool      { return r.sd != nil }

func (r *restoration) optimizer() (torch.AdamConfig, error) {
	a, err := nets.Lookup(r.m.Config().Arch)
	if err != nil {
		return torch.AdamConfig{}, fmt.Errorf("train: %w", err)
	}
	return a.Recipe.Optimizer, nil
}

func (r *restoration) setTraining(g *torch.Generator) {
	if r.sd != nil {
		r.sd.SetTraining(g)
	}
}

// step is one L1 training step of the model.
func (r *restoration) step(opt *torch.Adam, b *data.Batch, reduce func() error) (float64, []float32, error) {
	s := torch.NewScope(torch.Grad)
	defer s.Close()
	if err := opt.ZeroGrad(); err != nil {
		return 0, nil, err
	}
	dev := r.m.Device()
	shape := []int64{int64(b.N), int64(b.C), int64(b.H), int64(b.W)}
	lq, err := torch.FromSliceOn(s, dev, b.LQ, shape...)
	if err != nil {
		return 0, nil, err
	}
	gt, err := torch.FromSliceOn(s, dev, b.GT, shape...)
	if err != nil {
		return 0, nil, err
	}
	var p *torch.Tensor // AP: nil, the input itself
	if r.prompt == prompt.Explicit {
		if p, err = r.m.TaskPrompt(s, b.Tasks...); err != nil {
			return 0, nil, err
		}
	}
	out, err := r.m.Forward(lq, p)
	if err != nil {
		return 0, nil, err
	}
	return finishStep(s, opt, reduce, torch.L1Loss(out, gt), out.Detach().Sub(gt).Abs().Mean(false, 1, 2, 3))
}

// finishStep back-propagates loss, reads it and the per-sample losses, runs
// reduce (when not nil) and steps the optimiser.
func finishStep(s *torch.Scope, opt *torch.Adam, reduce func() error, loss, perSample *torch.Tensor) (float64, []float32, error) {
	if err := loss.Backward(); err != nil {
		return 0, nil, err
	}
	per := perSample.ToDevice(torch.CPU)
	if err := s.Err(); err != nil {
		return 0, nil, err
	}
	lv, err := loss.Item()
	if err != nil {
		return 0, nil, err
	}
	ps, err := torch.ToSlice[float32](per)
	if err != nil {
		return 0, nil, err
	}
	if reduce != nil {
		if err := reduce(); err != nil {
			return 0, nil, err
		}
	}
	if err := opt.Step(); err != nil {
		return 0, nil, err
	}
	return lv, ps, nil
}

// validate evaluates the model (its raw weights) on sets, each image with
// its set's task, as eval.Evaluate measures any model.
func (r *restoration) validate(ctx context.Context, sets []eval.Set) (validation, error) {
	rep, err := eval.Evaluate(ctx, r.m, sets, &eval.Options{Name: "net_g", NoInput: true, Task: eval.TaskFromSet})
	if err != nil {
		return validation{}, err
	}
	if len(rep.Skipped) > 0 {
		k := rep.Skipped[0]
		return validation{}, fmt.Errorf("%s/%s: %w", k.Set, k.Name, k.Err)
	}
	v := validation{scores: map[string]float64{}, metric: "psnr", table: rep.Table.Markdown()}
	for _, s := range sets {
		if sc, ok := rep.Table.Score(rep.Model, s.Name); ok {
			v.scores[s.Name] = sc.PSNR
		}
	}
	return v, nil
}

func (r *restoration) config() (json.RawMessage, error) { return json.Marshal(r.m.Config()) }

// sameConfig compares configurations through a JSON round trip, so that
// fields left at their zero value compare equal however they were written.
func (r *restoration) sameConfig(recorded json.RawMessage) error {
	if recorded == nil {
		return nil
	}
	canon := func(b []byte) (string, error) {
		var c mioir.Config
		if err := json.Unmarshal(b, &c); err != nil {
			return "", err
		}
		out, err := json.Marshal(c)
		return string(out), err
	}
	mine, err := r.config()
	if err != nil {
		return err
	}
	a, err := canon(recorded)
	if err != nil {
		return fmt.Errorf("model config: %w", err)
	}
	b, err := canon(mine)
	if err != nil {
		return fmt.Errorf("model config: %w", err)
	}
	if a != b {
		return fmt.Errorf("model %s, trainer's model %s", a, b)
	}
	return nil
}

func (r *restoration) export(path string, replace map[string]*torch.Tensor) error {
	return r.m.SaveWith(path, replace)
}
