package prompt

import (
	"fmt"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// Kind is how a prompt is given to the network.
type Kind int

const (
	// None is the plain backbone: no prompt, no modulation.
	None Kind = iota
	// Explicit prompts are per-task maps (1 x 128 x 128) chosen by the task
	// (EP; at test time by the classifier).
	Explicit
	// Adaptive prompts are the degraded input image itself (AP).
	Adaptive
)

// String returns "none", "ep" or "ap".
func (k Kind) String() string {
	switch k {
	case None:
		return "none"
	case Explicit:
		return "ep"
	case Adaptive:
		return "ap"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Channels is the channel count of this kind's prompt: 1 for explicit maps,
// 3 for adaptive (image) prompts, 0 for None.
func (k Kind) Channels() int64 {
	switch k {
	case Explicit:
		return 1
	case Adaptive:
		return 3
	}
	return 0
}

// Modulator holds everything prompt learning adds to a backbone: one
// Extractor per entry of the backbone's Modulation.Extractors and one
// (scale, shift) Linear(64, C) pair per modulation point. Its Hook applies
// f*(1+s)+b per channel (the reference's f*s + b + f, in two passes over the
// feature instead of three).
type Modulator struct {
	Kind       Kind
	Modulation nets.Modulation
	Extractors []*Extractor
	Scale      []*layers.Linear // one per point, in Modulation.Points order
	Shift      []*layers.Linear
	index      map[string]int
}

// NewModulator builds the prompt modules for a backbone's modulation points,
// initialised from g in the order extractors, scales, shifts (PyTorch's
// default init; SwinIR/Uformer re-initialise their FCs with TruncNormal).
func NewModulator(g *torch.Generator, kind Kind, m nets.Modulation) (*Modulator, error) {
	if kind != Explicit && kind != Adaptive {
		return nil, fmt.Errorf("prompt: a modulator needs an explicit or adaptive kind, not %s", kind)
	}
	mod := &Modulator{Kind: kind, Modulation: m, index: make(map[string]int, len(m.Points))}
	fail := func(err error) (*Modulator, error) {
		mod.Close()
		return nil, fmt.Errorf("prompt: modulator: %w", err)
	}
	for i, p := range m.Points {
		if _, dup := mod.index[p.Name]; dup {
			return fail(fmt.Errorf("duplicate modulation point %q", p.Name))
		}
		if p.Extractor < 0 || p.Extractor >= len(m.Extractors) {
			return fail(fmt.Errorf("point %q uses extractor %d of %d", p.Name, p.Extractor, len(m.Extractors)))
		}
		mod.index[p.Name] = i
	}
	for range m.Extractors {
		e, err := NewExtractor(g, kind.Channels())
		if err != nil {
			return fail(err)
		}
		mod.Extractors = append(mod.Extractors, e)
	}
	for _, pair := range []*[]*layers.Linear{&mod.Scale, &mod.Shift} {
		for _, p := range m.Points {
			l, err := layers.NewLinear(g, VectorSize, p.Channels, false)
			if err != nil {
				return fail(err)
			}
			*pair = append(*pair, l)
		}
	}
	return mod, nil
}

// Visit reports the extractors under their reference prefixes, then every
// scale FC, then every shift FC (the order of SRResNet_EP's state_dict).
func (m *Modulator) Visit(v layers.Visitor) {
	if m == nil {
		return
	}
	for i, e := range m.Extractors {
		v.Module(m.Modulation.Extractors[i], e)
	}
	for i, l := range m.Scale {
		v.Module(m.Modulation.Points[i].ScaleKey, l)
	}
	for i, l := range m.Shift {
		v.Module(m.Modulation.Points[i].ShiftKey, l)
	}
}

// Vectors returns the prompt vector (N, 64) of every extractor for prompt p
// (explicit: the maps, (N, 1, 128, 128); adaptive: the input image).
func (m *Modulator) Vectors(p *torch.Tensor) []*torch.Tensor {
	vs := make([]*torch.Tensor, len(m.Extractors))
	for i, e := range m.Extractors {
		vs[i] = layers.Step(p, e.Forward) // only the (N, 64) vector stays
	}
	return vs
}

// Hook returns the hook that modulates a backbone's forward pass with prompt
// p. The prompt vectors are computed once, here; call it inside the scope
// of the forward pass, since its tensors go to p's scope.
func (m *Modulator) Hook(p *torch.Tensor) nets.Hook {
	vs := m.Vectors(p)
	return func(point string, f *torch.Tensor) *torch.Tensor {
		i, ok := m.index[point]
		if !ok {
			return f // not a point of this modulator: unchanged
		}
		pt := m.Modulation.Points[i]
		v := vs[pt.Extractor]
		// f*(1+s)+b: the reference writes f*s + b + f, which costs one more
		// pass over the feature map; the two agree to rounding (the
		// fixture parity tests hold either way).
		return modulate(f, m.Scale[i].Forward(v).AddScalar(1), m.Shift[i].Forward(v), pt.Layout)
	}
}

// FixedHook is Hook with the per-point scale and shift computed once, here,
// from prompt p, rather than at every call: the returned hook can serve
// many forward passes (the tiles of one image share one prompt this way).
// The precomputed tensors stay in p's scope; at each call they are used in
// f's scope, so f's scope must not outlive p's.
func (m *Modulator) FixedHook(p *torch.Tensor) nets.Hook {
	vs := m.Vectors(p)
	type pair struct {
		scale, shift *torch.Tensor // 1+s and b, (N, C)
		layout       nets.Layout
	}
	pairs := make(map[string]pair, len(m.Modulation.Points))
	for i, pt := range m.Modulation.Points {
		v := vs[pt.Extractor]
		pairs[pt.Name] = pair{m.Scale[i].Forward(v).AddScalar(1), m.Shift[i].Forward(v), pt.Layout}
	}
	return func(point string, f *torch.Tensor) *torch.Tensor {
		pr, ok := pairs[point]
		if !ok {
			return f // not a point of this modulator: unchanged
		}
		s1, b := pr.scale, pr.shift
		if sc := f.Scope(); sc != nil {
			s1, b = sc.Use(s1), sc.Use(b)
		}
		return modulate(f, s1, b, pr.layout)
	}
}

// modulate applies f*s1+b with the (N, C) vectors s1 (1+s) and b
// broadcast over f's spatial or token dimensions, in one pass over f (one
// feature map allocated instead of two).
func modulate(f, s1, b *torch.Tensor, l nets.Layout) *torch.Tensor {
	return torch.Addcmul(broadcastable(b, f, l), f, broadcastable(s1, f, l), 1)
}

// broadcastable reshapes an (N, C) vector so that it broadcasts over f's
// spatial or token dimensions.
func broadcastable(v, f *torch.Tensor, l nets.Layout) *torch.Tensor {
	d := f.Dim()
	if d < 2 {
		return v
	}
	shape := make([]int64, d)
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = v.Size(0)
	if l == nets.ChannelsLast {
		shape[d-1] = v.Size(1)
	} else {
		shape[1] = v.Size(1)
	}
	return v.Reshape(shape...)
}

// Close frees the parameters.
func (m *Modulator) Close() {
	if m != nil {
		layers.Close(m)
	}
}
