package layers

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/torch"
)

// Module is anything that owns named tensors: a layer, a block, a whole
// network. Visit reports every parameter and buffer to v, in state_dict order,
// with names relative to the module; a composite module passes each child to
// v.Module with the child's name, which builds the dotted paths
// ("body.0.conv1.weight").
//
// Visit is the only method a module must write: parameter counts, state-dict
// export and strict import, Close, SetRequiresGrad and device moves are the
// package's functions over it.
type Module interface {
	Visit(v Visitor)
}

// Layer is a Module with a single-input forward pass, as used by Sequential.
type Layer interface {
	Module
	Forward(x *torch.Tensor) *torch.Tensor
}

// Param is one named tensor of a module, as reported by Visit.
type Param struct {
	// Name is the dotted path from the visited root, e.g. "body.0.conv1.weight".
	Name string
	// Ref points at the module's field holding the tensor, so that functions
	// such as To and Close can replace or clear it.
	Ref **torch.Tensor
	// Buffer marks a persistent buffer (state_dict entry that is not trained,
	// e.g. SwinIR's relative_position_index).
	Buffer bool
}

// Tensor returns the tensor the parameter currently holds.
func (p Param) Tensor() *torch.Tensor { return *p.Ref }

// Visitor receives the tensors of a module. Modules call Param, Buffer and
// Module on it from their Visit method; a Visitor is a small value, passed by
// value.
type Visitor struct {
	prefix string
	fn     func(Param)
}

// NewVisitor returns a Visitor that calls fn for every tensor, with full names.
func NewVisitor(fn func(Param)) Visitor { return Visitor{fn: fn} }

// Param reports a trainable parameter held in *t. A nil *t (an absent bias)
// is skipped.
func (v Visitor) Param(name string, t **torch.Tensor) {
	if t == nil || *t == nil || v.fn == nil {
		return
	}
	v.fn(Param{Name: v.prefix + name, Ref: t})
}

// Buffer reports a persistent buffer held in *t (nil is skipped).
func (v Visitor) Buffer(name string, t **torch.Tensor) {
	if t == nil || *t == nil || v.fn == nil {
		return
	}
	v.fn(Param{Name: v.prefix + name, Ref: t, Buffer: true})
}

// Module visits child m under name (the child's tensors become
// "name.<their name>"). An empty name visits m at the current level, which
// lets a module group children without adding a path element.
func (v Visitor) Module(name string, m Module) {
	if m == nil {
		return
	}
	if name == "" {
		m.Visit(v)
		return
	}
	m.Visit(Visitor{prefix: v.prefix + name + ".", fn: v.fn})
}

// Params returns m's parameters and buffers in state_dict order.
func Params(m Module) []Param {
	var ps []Param
	m.Visit(NewVisitor(func(p Param) { ps = append(ps, p) }))
	return ps
}

// Parameters returns m's trainable tensors (buffers excluded) in state_dict
// order, as an optimiser or an EMA takes them.
func Parameters(m Module) []*torch.Tensor {
	var ts []*torch.Tensor
	m.Visit(NewVisitor(func(p Param) {
		if !p.Buffer {
			ts = append(ts, *p.Ref)
		}
	}))
	return ts
}

// NumParams is the number of trainable elements of m (PyTorch's
// sum(p.numel() for p in model.parameters()); buffers are not counted).
func NumParams(m Module) int64 {
	var n int64
	m.Visit(NewVisitor(func(p Param) {
		if !p.Buffer {
			n += (*p.Ref).Numel()
		}
	}))
	return n
}

// Close frees every tensor of m and clears the fields that held them, so a
// second Close does nothing.
func Close(m Module) {
	if m == nil {
		return
	}
	m.Visit(NewVisitor(func(p Param) {
		(*p.Ref).Close()
		*p.Ref = nil
	}))
}

// SetRequiresGrad turns gradient tracking of every trainable parameter of m
// on or off (buffers never require a gradient).
func SetRequiresGrad(m Module, on bool) error {
	var err error
	m.Visit(NewVisitor(func(p Param) {
		if err != nil || p.Buffer {
			return
		}
		if e := (*p.Ref).SetRequiresGrad(on); e != nil {
			err = fmt.Errorf("layers: %s: %w", p.Name, e)
		}
	}))
	return err
}

// To moves every tensor of m to dev, replacing the tensors in place (the old
// ones are freed) and keeping their requires-grad flags.
func To(m Module, dev torch.Device) error {
	var err error
	m.Visit(NewVisitor(func(p Param) {
		if err != nil {
			return
		}
		old := *p.Ref
		if old.Device() == dev {
			return
		}
		grad := old.RequiresGrad()
		detached := old.Detach()
		moved := detached.ToDevice(dev)
		detached.Close()
		if e := moved.Err(); e != nil {
			moved.Close()
			err = fmt.Errorf("layers: moving %s to %s: %w", p.Name, dev, e)
			return
		}
		if grad {
			if e := moved.SetRequiresGrad(true); e != nil {
				moved.Close()
				err = fmt.Errorf("layers: %s: %w", p.Name, e)
				return
			}
		}
		old.Close()
		*p.Ref = moved
	}))
	return err
}

// CopyParams copies every tensor of src into the same-named tensor of dst
// (e.g. to initialise an EMA copy). Both must have the same names and shapes.
func CopyParams(dst, src Module) error {
	sp := Params(src)
	dp := Params(dst)
	if len(sp) != len(dp) {
		return fmt.Errorf("layers: CopyParams: %d tensors into %d", len(sp), len(dp))
	}
	for i := range sp {
		if sp[i].Name != dp[i].Name {
			return fmt.Errorf("layers: CopyParams: tensor %d is %q in src and %q in dst", i, sp[i].Name, dp[i].Name)
		}
		if err := (*dp[i].Ref).CopyFrom(*sp[i].Ref); err != nil {
			return fmt.Errorf("layers: CopyParams: %s: %w", sp[i].Name, err)
		}
	}
	return nil
}

// Modules groups modules at one level: Visit visits each in order without
// adding a path element. It is how a model made of separately built parts
// (a backbone and its prompt modules) presents one state dict.
type Modules []Module

// Visit visits every module of ms at the current level.
func (ms Modules) Visit(v Visitor) {
	for _, m := range ms {
		v.Module("", m)
	}
}

// Named is one child of a Group.
type Named struct {
	Name   string
	Module Module
}

// Group visits each child under its own name, in order.
type Group []Named

// Visit visits every child under its name.
func (g Group) Visit(v Visitor) {
	for _, c := range g {
		v.Module(c.Name, c.Module)
	}
}
