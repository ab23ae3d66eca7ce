package torch

import (
	"runtime"
	"sync"
	"sync/atomic"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// Generator is a seeded random number generator (libtorch's CPU Philox/MT
// generator). The same seed gives the same numbers, on every device: numbers
// are drawn on the CPU and then moved. Safe for concurrent use.
type Generator struct {
	mu sync.Mutex
	p  capi.Generator // the zero handle once closed
	h  *genHandle
}

type genHandle struct {
	p     capi.Generator
	freed atomic.Bool
}

func (h *genHandle) free() {
	if !h.freed.Swap(true) {
		capi.FreeGenerator(h.p)
	}
}

// NewGenerator returns a generator seeded with seed. Close frees it.
func NewGenerator(seed uint64) (*Generator, error) {
	p, err := capi.NewGenerator(seed, capi.CPU, 0)
	if err != nil {
		return nil, fromC(err)
	}
	h := &genHandle{p: p}
	g := &Generator{p: p, h: h}
	runtime.AddCleanup(g, func(h *genHandle) { h.free() }, h)
	return g, nil
}

// Close frees the generator; later draws fail.
func (g *Generator) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.p = capi.Generator{}
	g.h.free()
}

func (g *Generator) draw(s *Scope, kind capi.Distribution, shape []int64, a, b float64, o *Options) (*Tensor, error) {
	if err := checkShape("random", shape); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p.IsNil() {
		return nil, argError("random", "generator is closed")
	}
	dt, dev := o.get()
	return scopeOp(s, func(mode capi.Mode) (capi.Tensor, error) {
		return capi.Random(g.p, kind, shape, a, b, capi.DType(dt), capi.DeviceType(dev.Type()), dev.Index(), mode)
	})
}

// Rand returns uniform numbers in [0, 1), as torch.rand with this generator.
func (g *Generator) Rand(s *Scope, shape []int64, o *Options) (*Tensor, error) {
	return g.draw(s, capi.Uniform, shape, 0, 1, o)
}

// Randn returns standard normal numbers, as torch.randn with this generator.
func (g *Generator) Randn(s *Scope, shape []int64, o *Options) (*Tensor, error) {
	return g.draw(s, capi.Normal, shape, 0, 1, o)
}

func (g *Generator) fill(t *Tensor, kind capi.Distribution, a, b float64) error {
	if err := t.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p.IsNil() {
		return argError("random", "generator is closed")
	}
	err := capi.RandomFill(g.p, kind, t.ptr(), a, b)
	runtime.KeepAlive(t)
	return fromC(err)
}

// Uniform fills t in place with numbers uniform in [lo, hi) (Tensor.uniform_).
func (g *Generator) Uniform(t *Tensor, lo, hi float64) error { return g.fill(t, capi.Uniform, lo, hi) }

// Normal fills t in place with normal numbers (Tensor.normal_).
func (g *Generator) Normal(t *Tensor, mean, std float64) error {
	return g.fill(t, capi.Normal, mean, std)
}

// State returns the generator's state, for checkpoints.
func (g *Generator) State() ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p.IsNil() {
		return nil, argError("generator_get_state", "generator is closed")
	}
	out, err := capi.GeneratorState(g.p)
	if err != nil {
		return nil, fromC(err)
	}
	t := newTensor(out, nil)
	defer t.Close()
	return ToSlice[uint8](t)
}

// SetState restores a state returned by State.
func (g *Generator) SetState(state []byte) error {
	t, err := FromSlice(nil, state, int64(len(state)))
	if err != nil {
		return err
	}
	defer t.Close()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p.IsNil() {
		return argError("generator_set_state", "generator is closed")
	}
	err = capi.SetGeneratorState(g.p, t.ptr())
	runtime.KeepAlive(t)
	return fromC(err)
}
