package mioir

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// PadRule is a backbone's test-time padding (section 8.3 of the method):
// the input is reflect-padded at the bottom and right to a multiple of
// Multiple, then, when Square is set, reflect-padded symmetrically to a
// square (Uformer); the output is cropped back.
type PadRule struct {
	Multiple int64
	Square   bool
}

// Arch describes one backbone to package mioir: how to build it from its
// configuration struct, its padding rule, and how to recognise it in a
// reference checkpoint. Adding a backbone is one RegisterArch call.
type Arch struct {
	// Name is the registry name ("SRResNet", "SwinIR").
	Name string
	// NewConfig returns a pointer to a new zero configuration struct (the
	// backbone's own, e.g. *nets.SwinIRConfig); JSON configurations are
	// decoded into it.
	NewConfig func() any
	// Build builds the backbone from a configuration (a value or pointer of
	// NewConfig's type) for a model with the given prompt kind, initialised
	// from g (nil: zeros, for loading).
	Build func(g *torch.Generator, cfg any, kind prompt.Kind) (nets.Backbone, error)
	// Pad returns the test-time padding rule for a configuration.
	Pad func(cfg any) PadRule
	// Infer recognises the backbone's keys in a reference state dict and
	// returns its configuration (a value of NewConfig's element type). It
	// returns an error wrapping ErrNoMatch when the keys are not this
	// backbone's, and another error when they are but cannot be read.
	// May be nil (no import of reference checkpoints).
	Infer func(k *Keys) (any, error)
}

// ErrNoMatch is wrapped by Arch.Infer errors for checkpoints that are not
// of that backbone.
var ErrNoMatch = errors.New("keys do not match")

var (
	archMu sync.RWMutex
	archs  = map[string]Arch{}
)

// RegisterArch adds a backbone to the registry (used by New, Load and
// Import). Names are unique.
func RegisterArch(a Arch) error {
	if a.Name == "" || a.NewConfig == nil || a.Build == nil || a.Pad == nil {
		return fmt.Errorf("mioir: register arch %q: Name, NewConfig, Build and Pad are required", a.Name)
	}
	archMu.Lock()
	defer archMu.Unlock()
	if _, dup := archs[a.Name]; dup {
		return fmt.Errorf("mioir: register arch: %q is already registered", a.Name)
	}
	archs[a.Name] = a
	return nil
}

// Archs returns the registered backbone names, sorted.
func Archs() []string {
	archMu.RLock()
	defer archMu.RUnlock()
	names := make([]string, 0, len(archs))
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupArch returns the registered backbone called name (case-insensitive).
func LookupArch(name string) (Arch, error) {
	archMu.RLock()
	defer archMu.RUnlock()
	if a, ok := archs[name]; ok {
		return a, nil
	}
	for n, a := range archs {
		if strings.EqualFold(n, name) {
			return a, nil
		}
	}
	names := make([]string, 0, len(archs))
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return Arch{}, fmt.Errorf("mioir: unknown backbone %q (known: %s)", name, strings.Join(names, ", "))
}

// Keys is a read-only view of a checkpoint's tensor names and shapes, for
// Arch.Infer.
type Keys struct {
	names  []string
	shapes map[string][]int64
}

// NewKeys returns a Keys over names with their shapes.
func NewKeys(names []string, shapes [][]int64) *Keys {
	k := &Keys{names: slices.Clone(names), shapes: make(map[string][]int64, len(names))}
	for i, n := range names {
		k.shapes[n] = shapes[i]
	}
	return k
}

// Names returns the keys in checkpoint order.
func (k *Keys) Names() []string { return slices.Clone(k.names) }

// Has reports whether key is present.
func (k *Keys) Has(key string) bool { _, ok := k.shapes[key]; return ok }

// Shape returns the shape of key (nil when absent).
func (k *Keys) Shape(key string) []int64 { return k.shapes[key] }

// Dim returns dimension d of key's shape, or an error naming the key.
func (k *Keys) Dim(key string, d int) (int64, error) {
	s, ok := k.shapes[key]
	if !ok {
		return 0, fmt.Errorf("missing key %s", key)
	}
	if d >= len(s) {
		return 0, fmt.Errorf("key %s has shape %v, expected at least %d dimensions", key, s, d+1)
	}
	return s[d], nil
}

// Indices returns the sorted distinct integers N of keys matching
// prefix + N + "." + ... (e.g. Indices("layers.") of SwinIR gives 0..5).
func (k *Keys) Indices(prefix string) []int {
	seen := map[int]bool{}
	for _, n := range k.names {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(num); err == nil && i >= 0 {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// contiguous checks that idx is 0..len-1.
func contiguous(what string, idx []int) error {
	for i, v := range idx {
		if v != i {
			return fmt.Errorf("%s: indices %v are not 0..%d", what, idx, len(idx)-1)
		}
	}
	return nil
}

var extractorKey = regexp.MustCompile(`^F_ext_net[0-9]*\.conv1\.weight$`)

// inferKind reads the prompt kind from the prompt extractors' first
// convolution: 1 input channel for explicit maps, 3 for adaptive prompts,
// no extractor for a plain backbone.
func inferKind(k *Keys) (prompt.Kind, error) {
	kind, from := prompt.None, ""
	for _, n := range k.names {
		if !extractorKey.MatchString(n) {
			continue
		}
		s := k.shapes[n]
		var kk prompt.Kind
		switch {
		case len(s) == 4 && s[1] == 1:
			kk = prompt.Explicit
		case len(s) == 4 && s[1] == 3:
			kk = prompt.Adaptive
		default:
			return 0, fmt.Errorf("prompt extractor %s has shape %v: expected 1 (EP) or 3 (AP) input channels", n, s)
		}
		if from != "" && kk != kind {
			return 0, fmt.Errorf("prompt extractors disagree: %s is %s, %s is %s", from, kind, n, kk)
		}
		kind, from = kk, n
	}
	return kind, nil
}

// configAs dereferences a pointer configuration so that registry
// functions accept both forms.
func configAs[T any](cfg any) (T, error) {
	switch c := cfg.(type) {
	case T:
		return c, nil
	case *T:
		if c != nil {
			return *c, nil
		}
	case nil:
		var zero T
		return zero, nil
	}
	var zero T
	return zero, fmt.Errorf("mioir: configuration of type %T, expected %T", cfg, zero)
}

func init() {
	for _, a := range []Arch{srresnetArch, swinirArch} {
		if err := RegisterArch(a); err != nil {
			panic(err)
		}
	}
}

// srresnetArch is SRResNet, SRResNet_EP and SRResNet_AP (no padding).
var srresnetArch = Arch{
	Name:      "SRResNet",
	NewConfig: func() any { return new(nets.SRResNetConfig) },
	Build: func(g *torch.Generator, cfg any, _ prompt.Kind) (nets.Backbone, error) {
		c, err := configAs[nets.SRResNetConfig](cfg)
		if err != nil {
			return nil, err
		}
		// Prompted (the naming and init of SRResNet_EP/AP) is the
		// configuration's choice: Import infers it from the keys.
		return nets.NewSRResNet(g, c)
	},
	Pad: func(any) PadRule { return PadRule{Multiple: 1} },
	Infer: func(k *Keys) (any, error) {
		if !k.Has("conv_first.weight") || !k.Has("conv_hr.weight") || !k.Has("conv_last.weight") {
			return nil, fmt.Errorf("%w: SRResNet needs conv_first, conv_hr and conv_last", ErrNoMatch)
		}
		var c nets.SRResNetConfig
		plain := k.Indices("body.")
		switch {
		case len(plain) > 0:
			if err := contiguous("SRResNet body.N", plain); err != nil {
				return nil, err
			}
			c.Blocks = len(plain)
		case k.Has("body1.0.conv1.weight"):
			c.Prompted = true
			n := 0
			for k.Has("body" + strconv.Itoa(n+1) + ".0.conv1.weight") {
				n++
			}
			c.Blocks = n
		default:
			return nil, fmt.Errorf("%w: SRResNet needs body.0.* or body1.0.*", ErrNoMatch)
		}
		var err error
		if c.Features, err = k.Dim("conv_first.weight", 0); err != nil {
			return nil, err
		}
		if c.InChannels, err = k.Dim("conv_first.weight", 1); err != nil {
			return nil, err
		}
		if c.OutChannels, err = k.Dim("conv_last.weight", 0); err != nil {
			return nil, err
		}
		c.Upscale = 1
		return c, nil
	},
}

// swinirArch is SwinIR, SwinIR_EP and SwinIR_AP (reflect padding to the
// window).
var swinirArch = Arch{
	Name:      "SwinIR",
	NewConfig: func() any { return new(nets.SwinIRConfig) },
	Build: func(g *torch.Generator, cfg any, _ prompt.Kind) (nets.Backbone, error) {
		c, err := configAs[nets.SwinIRConfig](cfg)
		if err != nil {
			return nil, err
		}
		return nets.NewSwinIR(g, c)
	},
	Pad: func(cfg any) PadRule {
		c, _ := configAs[nets.SwinIRConfig](cfg)
		if c.WindowSize == 0 {
			c.WindowSize = 8
		}
		return PadRule{Multiple: c.WindowSize}
	},
	Infer: inferSwinIR,
}

func inferSwinIR(k *Keys) (any, error) {
	if !k.Has("patch_embed.norm.weight") || !k.Has("conv_first.weight") {
		return nil, fmt.Errorf("%w: SwinIR needs patch_embed.norm.weight and conv_first.weight", ErrNoMatch)
	}
	c := nets.SwinIRPaperConfig()
	var err error
	if c.EmbedDim, err = k.Dim("conv_first.weight", 0); err != nil {
		return nil, err
	}
	if c.InChannels, err = k.Dim("conv_first.weight", 1); err != nil {
		return nil, err
	}
	if c.InChannels != 3 {
		c.Mean = make([]float32, c.InChannels)
	}
	layersIdx := k.Indices("layers.")
	if len(layersIdx) == 0 {
		return nil, errors.New("SwinIR: no layers.N.* keys")
	}
	if err := contiguous("SwinIR layers.N", layersIdx); err != nil {
		return nil, err
	}
	c.Depths, c.Heads = nil, nil
	ws := int64(0)
	imgSize := int64(0)
	for _, i := range layersIdx {
		p := "layers." + strconv.Itoa(i) + ".residual_group.blocks."
		blocks := k.Indices(p)
		if len(blocks) == 0 {
			return nil, fmt.Errorf("SwinIR: layer %d has no %s* keys", i, p)
		}
		if err := contiguous(p+"N", blocks); err != nil {
			return nil, err
		}
		c.Depths = append(c.Depths, len(blocks))
		tab := p + "0.attn.relative_position_bias_table"
		heads, err := k.Dim(tab, 1)
		if err != nil {
			return nil, err
		}
		c.Heads = append(c.Heads, heads)
		rows, _ := k.Dim(tab, 0)
		w := int64(0)
		for w = 1; (2*w-1)*(2*w-1) < rows; w++ {
		}
		if (2*w-1)*(2*w-1) != rows {
			return nil, fmt.Errorf("SwinIR: %s has %d rows, not (2*window-1)^2", tab, rows)
		}
		if ws != 0 && w != ws {
			return nil, fmt.Errorf("SwinIR: %s gives window %d, earlier layers %d", tab, w, ws)
		}
		ws = w
		fc1 := p + "0.mlp.fc1.weight"
		hidden, err := k.Dim(fc1, 0)
		if err != nil {
			return nil, err
		}
		c.MLPRatio = float64(hidden) / float64(c.EmbedDim)
		if i == 0 {
			c.NoQKVBias = !k.Has(p + "0.attn.qkv.bias")
			switch {
			case k.Has("layers.0.conv.weight"):
				c.ResiConnection = "1conv"
			case k.Has("layers.0.conv.0.weight"):
				c.ResiConnection = "3conv"
			default:
				return nil, errors.New("SwinIR: neither layers.0.conv.weight (1conv) nor layers.0.conv.0.weight (3conv)")
			}
		}
		if m := k.Shape(p + "1.attn_mask"); len(m) == 3 && imgSize == 0 {
			side := int64(1)
			for side*side < m[0] {
				side++
			}
			if side*side != m[0] {
				return nil, fmt.Errorf("SwinIR: %s1.attn_mask has %d windows, not a square", p, m[0])
			}
			imgSize = side * ws
		}
	}
	c.WindowSize = ws
	if imgSize > 0 {
		c.ImgSize = imgSize
	}
	up := k.Indices("upsample.")
	switch {
	case len(up) == 0:
		c.Upscale = 1
	case len(up) == 2 && k.Shape("upsample.0.weight") != nil && k.Shape("upsample.0.weight")[0] == 9*64:
		c.Upscale = 3
	default:
		c.Upscale = 1 << (len(up) / 2)
	}
	return c, nil
}
