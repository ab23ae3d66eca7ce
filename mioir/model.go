package mioir

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// Model is a restoration network: a backbone, an optional prompt (explicit
// per-task maps or the adaptive input prompt) with its extractor and FC
// pairs, and an optional task classifier. Its parameters are read-only
// during inference, so Forward, Classify and Restore may be called from
// several goroutines at once; Close, To and loading wait for them.
type Model struct {
	mu  sync.RWMutex
	cfg Config
	pad nets.PadRule

	net  nets.Backbone
	mod  *prompt.Modulator // nil for a plain backbone
	maps *prompt.Maps      // explicit prompts; nil when none are loaded
	cls  *prompt.Classifier
	dev  torch.Device

	// strength predicts Options.Strength per task (strength.go); saved in
	// the file's metadata.
	strength map[degrade.Task]*StrengthModel

	// failTile, when set (tests), is called before each tile's forward pass
	// and may return an error (e.g. an injected torch.ErrOutOfMemory).
	failTile func(h, w int64) error

	// need is the network's measured memory per input pixel (memory.go).
	need struct {
		once    sync.Once
		perPix  float64 // peak CPU tensor bytes per input pixel of a forward pass
		largest float64 // the largest tensor block per input pixel
		scale   int64   // output side / input side
		err     error
	}
}

// New builds a model from cfg with weights initialised from seed (the
// reference's initialisation rules); explicit-prompt models get seven
// 128x128 maps drawn from the same seed, as the reference's maps were made.
func New(cfg Config, seed uint64) (*Model, error) {
	g, err := torch.NewGenerator(seed)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	m, err := build(cfg, g)
	if err != nil {
		return nil, err
	}
	if cfg.Prompt == prompt.Explicit {
		if m.maps, err = prompt.NewMaps(g, prompt.MapSize); err != nil {
			m.Close()
			return nil, fmt.Errorf("mioir: new %s: %w", cfg.Name(), err)
		}
	}
	return m, nil
}

// build constructs the modules of cfg (g nil: zeros, for loading); maps are
// left to the caller.
func build(cfg Config, g *torch.Generator) (*Model, error) {
	rc, _, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	cfg.Arch = rc.Arch // Net stays as given (nil: the paper configuration)
	if cfg.Prompt != prompt.None && cfg.Prompt != prompt.Explicit && cfg.Prompt != prompt.Adaptive {
		return nil, fmt.Errorf("mioir: unknown prompt kind %v", cfg.Prompt)
	}
	m := &Model{cfg: cfg, pad: rc.Net.Pad(), dev: torch.CPU}
	if m.pad.Multiple < 1 {
		m.pad.Multiple = 1
	}
	fail := func(err error) (*Model, error) {
		m.Close()
		return nil, fmt.Errorf("mioir: build %s: %w", cfg.Name(), err)
	}
	// The reference builds the prompt modules before the backbone; for a
	// seeded build the order only changes which numbers each tensor gets.
	if m.net, err = rc.Net.New(g); err != nil {
		return fail(err)
	}
	if cfg.Prompt != prompt.None && len(m.net.Modulation().Points) == 0 {
		return fail(fmt.Errorf("%s has no modulation points, so no %s variant", cfg.Arch, cfg.Prompt))
	}
	if cfg.Prompt != prompt.None {
		if m.mod, err = prompt.NewModulator(g, cfg.Prompt, m.net.Modulation()); err != nil {
			return fail(err)
		}
	}
	if cfg.Classifier {
		if m.cls, err = prompt.NewClassifier(g); err != nil {
			return fail(err)
		}
	}
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cfg
}

// PadRule returns the test-time padding of the model's backbone.
func (m *Model) PadRule() nets.PadRule { return m.pad }

// Device returns the device the parameters live on.
func (m *Model) Device() torch.Device {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.dev
}

// Backbone returns the backbone network (for inspection; do not close it).
func (m *Model) Backbone() nets.Backbone { return m.net }

// Modulator returns the prompt modules (extractors and FC pairs), nil for a
// plain model (for training and inspection; do not close it).
func (m *Model) Modulator() *prompt.Modulator { return m.mod }

// Classifier returns the attached task classifier or nil (do not close it).
func (m *Model) Classifier() *prompt.Classifier {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cls
}

// HasMaps reports whether the model holds explicit-prompt maps.
func (m *Model) HasMaps() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.maps != nil
}

// HasClassifier reports whether a task classifier is attached.
func (m *Model) HasClassifier() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cls != nil
}

// NumParams is the number of trainable parameters (backbone, prompt modules
// and classifier).
func (m *Model) NumParams() int64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return layers.NumParams(m)
}

// Visit reports the model's tensors under their native names: the prompt
// modules and the backbone with the reference's names, then the explicit
// maps as "prompt.maps" and the classifier under "classifier.".
func (m *Model) Visit(v layers.Visitor) {
	m.visitNetwork(v)
	v.Module("prompt", m.maps)
	v.Module("classifier", m.cls)
}

// visitNetwork reports what a reference checkpoint of the backbone class
// holds: the prompt modules, then the backbone.
func (m *Model) visitNetwork(v layers.Visitor) {
	if m.mod != nil {
		v.Module("", m.mod)
	}
	if m.net != nil {
		v.Module("", m.net)
	}
}

type moduleFunc func(v layers.Visitor)

func (f moduleFunc) Visit(v layers.Visitor) { f(v) }

// network is the part of the model that a reference checkpoint holds.
func (m *Model) network() layers.Module { return moduleFunc(m.visitNetwork) }

// Close frees every tensor of the model. It waits for running calls and is
// idempotent.
func (m *Model) Close() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net != nil {
		m.net.Close()
	}
	m.mod.Close()
	m.maps.Close()
	m.cls.Close()
	m.net, m.mod, m.maps, m.cls = nil, nil, nil, nil
}

// ErrClosedModel is returned by calls on a closed model.
var ErrClosedModel = errors.New("mioir: model is closed")

// To moves the parameters to dev (e.g. torch.CUDA(0)). It waits for running calls.
func (m *Model) To(dev torch.Device) error {
	if err := dev.Check(); err != nil {
		return fmt.Errorf("mioir: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return ErrClosedModel
	}
	if err := layers.To(m, dev); err != nil {
		return fmt.Errorf("mioir: move to %s: %w", dev, err)
	}
	m.dev = dev
	return nil
}

// SetMaps replaces the explicit-prompt maps (e.g. the reference's
// type7.npy, see LoadMaps); the model takes ownership of maps.
func (m *Model) SetMaps(maps *prompt.Maps) error {
	if m.cfg.Prompt != prompt.Explicit {
		return fmt.Errorf("mioir: %s takes no explicit-prompt maps", m.cfg.Name())
	}
	if maps == nil || maps.T == nil {
		return errors.New("mioir: nil maps")
	}
	sh := maps.T.Shape()
	if len(sh) != 3 || sh[0] != prompt.NumTasks {
		return fmt.Errorf("mioir: maps have shape %v, want (%d, H, W)", sh, prompt.NumTasks)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return ErrClosedModel
	}
	if m.dev != torch.CPU {
		if err := layers.To(maps, m.dev); err != nil {
			return err
		}
	}
	m.maps.Close()
	m.maps = maps
	return nil
}

// LoadMaps reads explicit-prompt maps from a .npy file of shape (7, H, W),
// such as the reference's data/type7.npy, and gives them to the model.
func (m *Model) LoadMaps(path string) error {
	maps, err := prompt.LoadMaps(path)
	if err != nil {
		return fmt.Errorf("mioir: %w", err)
	}
	if err := m.SetMaps(maps); err != nil {
		maps.Close()
		return err
	}
	return nil
}

// SetClassifier attaches a task classifier (the model takes ownership; a
// previous one is closed). The configuration records it.
func (m *Model) SetClassifier(c *prompt.Classifier) error {
	if c == nil {
		return errors.New("mioir: nil classifier")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return ErrClosedModel
	}
	if m.dev != torch.CPU {
		if err := layers.To(c, m.dev); err != nil {
			return err
		}
	}
	m.cls.Close()
	m.cls = c
	m.cfg.Classifier = true
	return nil
}

// Forward runs the network (no padding, no tiling) on x (N, 3, H, W), which
// must belong to a torch.Scope; the result goes to x's scope. p is the prompt:
// ignored (may be nil) for plain models; for EP the (N, 1, h, w) maps (see
// TaskPrompt); for AP the prompt image, nil meaning x itself. Parity with
// the reference is checked through this call.
func (m *Model) Forward(x, p *torch.Tensor) (*torch.Tensor, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.net == nil {
		return nil, ErrClosedModel
	}
	if m.cfg.Prompt == prompt.Explicit && p == nil {
		return nil, errors.New("mioir: an explicit-prompt model needs a prompt (TaskPrompt)")
	}
	out := m.forward(x, m.hook(x, p))
	return out, out.Err()
}

// hook returns the modulation hook for input x and prompt p (nil for a
// plain model).
func (m *Model) hook(x, p *torch.Tensor) nets.Hook {
	switch m.cfg.Prompt {
	case prompt.Adaptive:
		if p == nil {
			p = x
		}
		return m.mod.Hook(p)
	case prompt.Explicit:
		return m.mod.Hook(p)
	}
	return nil
}

func (m *Model) forward(x *torch.Tensor, hook nets.Hook) *torch.Tensor { return m.net.Forward(x, hook) }

// TaskPrompt returns the explicit prompt of the given tasks (one per sample)
// as an (N, 1, H, W) tensor on the model's device, owned by s.
func (m *Model) TaskPrompt(s *torch.Scope, tasks ...degrade.Task) (*torch.Tensor, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.net == nil {
		return nil, ErrClosedModel
	}
	return m.taskPrompt(s, tasks...)
}

func (m *Model) taskPrompt(s *torch.Scope, tasks ...degrade.Task) (*torch.Tensor, error) {
	if m.cfg.Prompt != prompt.Explicit {
		return nil, fmt.Errorf("mioir: %s has no explicit prompt", m.cfg.Name())
	}
	if m.maps == nil {
		return nil, errors.New("mioir: this explicit-prompt model has no task maps: load the reference's type7.npy (Model.LoadMaps, ImportOptions.Maps)")
	}
	return m.maps.Prompt(s, m.dev, tasks...)
}

// Classify runs the task classifier on x (N, 3, H, W), which should be the
// full unpadded image as the reference does, and returns one prediction per
// image.
func (m *Model) Classify(x *torch.Tensor) ([]prompt.Prediction, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.net == nil {
		return nil, ErrClosedModel
	}
	return m.classify(x)
}

func (m *Model) classify(x *torch.Tensor) ([]prompt.Prediction, error) {
	if m.cls == nil {
		return nil, fmt.Errorf("mioir: %s has no task classifier", m.cfg.Name())
	}
	return m.cls.Classify(x)
}
