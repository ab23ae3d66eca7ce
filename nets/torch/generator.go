package torch

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Generator is a seeded random number generator (libtorch's CPU Philox/MT
// generator). The same seed gives the same numbers, on every device: numbers
// are drawn on the CPU and then moved. Safe for concurrent use.
type Generator struct {
	mu sync.Mutex
	p  C.tt_generator // nil once closed
	h  *genHandle
}

type genHandle struct {
	p     C.tt_generator
	freed atomic.Bool
}

func (h *genHandle) free() {
	if !h.freed.Swap(true) {
		C.tt_generator_free(h.p)
	}
}

// NewGenerator returns a generator seeded with seed. Close frees it.
func NewGenerator(seed uint64) (*Generator, error) {
	var p C.tt_generator
	if err := takeError(C.tt_generator_new(C.uint64_t(seed), C.TT_CPU, 0, &p)); err != nil {
		return nil, err
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
	g.p = nil
	g.h.free()
}

func (g *Generator) draw(s *Scope, kind int, shape []int64, a, b float64, o *Options) (*Tensor, error) {
	if err := checkShape("random", shape); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p == nil {
		return nil, argError("random", "generator is closed")
	}
	dt, dev := o.get()
	return scopeOp(s, func(mode C.int, out *C.tt_tensor) C.tt_error {
		return C.tt_random(g.p, C.int(kind), shapePtr(shape), C.int(len(shape)), C.double(a),
			C.double(b), C.int(dt), C.int(dev.Type), C.int(dev.Index), mode, out)
	})
}

// Rand returns uniform numbers in [0, 1), as torch.rand with this generator.
func (g *Generator) Rand(s *Scope, shape []int64, o *Options) (*Tensor, error) {
	return g.draw(s, 0, shape, 0, 1, o)
}

// Randn returns standard normal numbers, as torch.randn with this generator.
func (g *Generator) Randn(s *Scope, shape []int64, o *Options) (*Tensor, error) {
	return g.draw(s, 1, shape, 0, 1, o)
}

func (g *Generator) fill(t *Tensor, kind int, a, b float64) error {
	if err := t.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p == nil {
		return argError("random", "generator is closed")
	}
	err := takeError(C.tt_random_(g.p, C.int(kind), t.ptr(), C.double(a), C.double(b)))
	runtime.KeepAlive(t)
	return err
}

// Uniform fills t in place with numbers uniform in [lo, hi) (Tensor.uniform_).
func (g *Generator) Uniform(t *Tensor, lo, hi float64) error { return g.fill(t, 0, lo, hi) }

// Normal fills t in place with normal numbers (Tensor.normal_).
func (g *Generator) Normal(t *Tensor, mean, std float64) error { return g.fill(t, 1, mean, std) }

// State returns the generator's state, for checkpoints.
func (g *Generator) State() ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p == nil {
		return nil, argError("generator_get_state", "generator is closed")
	}
	var out C.tt_tensor
	if err := takeError(C.tt_generator_get_state(g.p, &out)); err != nil {
		return nil, err
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
	if g.p == nil {
		return argError("generator_set_state", "generator is closed")
	}
	err = takeError(C.tt_generator_set_state(g.p, t.ptr()))
	runtime.KeepAlive(t)
	return err
}
