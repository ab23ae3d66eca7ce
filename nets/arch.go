package nets

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/torch"
)

// Config is a backbone's configuration struct, with value receivers; its
// zero value is the paper configuration.
type Config interface {
	// ArchName is the registered name of the backbone ("SwinIR").
	ArchName() string
	// New builds the backbone, initialised from g as the reference does (a
	// nil g leaves zeros, for loading).
	New(g *torch.Generator) (Backbone, error)
	// Pad is the reference's test-time padding for this configuration.
	Pad() PadRule
}

// PadRule is a backbone's test-time padding (section 8.3 of the method):
// the input is reflect-padded at the bottom and right to a multiple of
// Multiple, then, when Square is set, reflect-padded symmetrically to a
// square (Uformer); the output is cropped back.
type PadRule struct {
	Multiple int64
	Square   bool
}

// Arch is what the library knows about one backbone.
type Arch struct {
	// Config is the configuration type, as its zero value (not a pointer):
	// its ArchName is the registry name, JSON configurations decode into
	// its type.
	Config Config
	// Infer recognises the backbone in a reference state dict and returns
	// its configuration, of Config's type. Its error wraps keys.ErrNoMatch
	// when the keys are another backbone's. Nil: no import of reference
	// checkpoints.
	Infer func(k *keys.Keys) (Config, error)
	// Recipe is the reference training recipe; Register fills its zero
	// fields from DefaultRecipe.
	Recipe Recipe
}

// Name is the registry name, Config.ArchName().
func (a Arch) Name() string { return a.Config.ArchName() }

var (
	archMu sync.RWMutex
	archs  = map[string]Arch{} // by lower-case name
)

// Register adds a backbone to the registry that mioir's New, Load, Import,
// InferConfig and Trainer read. Names are unique regardless of case.
func Register(a Arch) error {
	if a.Config == nil || reflect.TypeOf(a.Config).Kind() == reflect.Pointer || a.Name() == "" {
		return fmt.Errorf("nets: register: Config must be a named backbone's configuration value, not %T", a.Config)
	}
	a.Recipe = a.Recipe.withDefaults()
	for _, seq := range []bool{false, true} {
		if _, err := a.Recipe.Plan(seq); err != nil {
			return fmt.Errorf("nets: register %s: recipe: %w", a.Name(), err)
		}
	}
	archMu.Lock()
	defer archMu.Unlock()
	if _, dup := archs[strings.ToLower(a.Name())]; dup {
		return fmt.Errorf("nets: register: %q is already registered", a.Name())
	}
	archs[strings.ToLower(a.Name())] = a
	return nil
}

func mustRegister(a Arch) {
	if err := Register(a); err != nil {
		panic(err)
	}
}

// Archs returns the registered backbone names, sorted.
func Archs() []string {
	archMu.RLock()
	defer archMu.RUnlock()
	var names []string
	for _, a := range archs {
		names = append(names, a.Name())
	}
	slices.Sort(names)
	return names
}

// Lookup returns the registered backbone called name (case-insensitive).
func Lookup(name string) (Arch, error) {
	archMu.RLock()
	a, ok := archs[strings.ToLower(name)]
	archMu.RUnlock()
	if !ok {
		return a, fmt.Errorf("nets: unknown backbone %q (known: %s)", name, strings.Join(Archs(), ", "))
	}
	return a, nil
}

// Infer finds the registered backbone whose keys k holds and returns its
// configuration; arch, if not empty, restricts the search to that backbone.
func Infer(k *keys.Keys, arch string) (Config, error) {
	names, what := Archs(), "no registered backbone matches its keys"
	if arch != "" {
		a, err := Lookup(arch)
		if err != nil {
			return nil, err
		}
		names, what = []string{a.Name()}, "its keys are not those of "+a.Name()
	}
	var why []string
	for _, n := range names {
		a, _ := Lookup(n)
		if a.Infer == nil {
			why = append(why, n+": no key inference")
			continue
		}
		switch cfg, err := a.Infer(k); {
		case err == nil && reflect.TypeOf(cfg) == reflect.TypeOf(a.Config):
			return cfg, nil
		case err == nil:
			return nil, fmt.Errorf("nets: %s's Infer returned a %T, not a %T", n, cfg, a.Config)
		case !errors.Is(err, keys.ErrNoMatch):
			return nil, fmt.Errorf("looks like %s but: %w", n, err)
		default:
			why = append(why, err.Error())
		}
	}
	first := k.Names()
	if len(first) > 6 {
		first = append(first[:6], fmt.Sprintf("... (%d keys)", k.Len()))
	}
	return nil, fmt.Errorf("cannot infer the architecture: %s (%s); first keys: %s",
		what, strings.Join(why, "; "), strings.Join(first, ", "))
}

// backbone turns a constructor's result into New's, without a non-nil
// interface around a nil pointer.
func backbone[B Backbone](b B, err error) (Backbone, error) {
	if err != nil {
		return nil, err
	}
	return b, nil
}

// padForward reflect-pads x at the bottom and right to multiples of m, runs
// f and crops the result (up times larger) back: what a Forward needs to
// run at any size.
func padForward(x *torch.Tensor, m, up int64, f func(*torch.Tensor) *torch.Tensor) *torch.Tensor {
	h, w := x.Size(2), x.Size(3)
	ph, pw := (m-h%m)%m, (m-w%m)%m
	if ph == 0 && pw == 0 {
		return f(x)
	}
	return f(x.Pad([]int64{0, pw, 0, ph}, torch.PadReflect, 0)).Narrow(2, 0, h*up).Narrow(3, 0, w*up)
}
