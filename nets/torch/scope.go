package torch

import (
	"errors"
	"runtime"
	"sync"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// Mode is the autograd mode of the operations whose results go to a scope.
type Mode int

const (
	// Grad records the autograd graph where an input requires a gradient
	// (training).
	Grad Mode = Mode(capi.ModeGrad)
	// NoGrad records no graph; results may still be used with autograd later.
	NoGrad Mode = Mode(capi.ModeNoGrad)
	// Inference is libtorch's inference mode: no graph and less bookkeeping;
	// its results must not be used in autograd.
	Inference Mode = Mode(capi.ModeInference)
)

func (m Mode) String() string {
	switch m {
	case Grad:
		return "grad"
	case NoGrad:
		return "no-grad"
	case Inference:
		return "inference"
	}
	return "Mode(?)"
}

// Scope frees, when closed, every tensor created in it that was not moved out
// with Keep. It is safe for concurrent use.
type Scope struct {
	mode   Mode
	parent *Scope
	depth  int

	mu     sync.Mutex
	owned  []*Tensor
	err    error
	closed bool
}

// NewScope returns a top-level scope whose operations run in mode.
func NewScope(mode Mode) *Scope { return &Scope{mode: mode, depth: 1} }

// Child returns a scope nested in s; results kept from it move to s.
func (s *Scope) Child(mode Mode) *Scope {
	return &Scope{mode: mode, parent: s, depth: s.depth + 1}
}

// Mode returns the autograd mode of s.
func (s *Scope) Mode() Mode { return s.mode }

// Err returns the first error of an operation whose result went to s.
func (s *Scope) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Scope) setErr(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *Scope) add(t *Tensor) {
	s.mu.Lock()
	t.scope = s
	s.owned = append(s.owned, t)
	s.mu.Unlock()
}

// Close frees every tensor still owned by s. It is idempotent.
func (s *Scope) Close() {
	s.mu.Lock()
	var mine []*Tensor
	for _, t := range s.owned {
		if t.scope == s {
			mine = append(mine, t)
		}
	}
	s.owned = nil
	s.closed = true
	s.mu.Unlock()
	for _, t := range mine {
		t.Close()
	}
}

// Keep moves t out of s: to the parent scope for a child scope, otherwise to
// the caller, who must Close it. It returns t for chaining.
func (s *Scope) Keep(t *Tensor) *Tensor {
	if t == nil || t.scope != s {
		return t
	}
	s.mu.Lock()
	t.scope = nil
	s.mu.Unlock()
	if s.parent != nil {
		// Errored tensors move too, so their Scope stays the one further
		// work belongs to (closing skips them: they own nothing).
		s.parent.add(t)
	}
	return t
}

// Use returns a new handle to t's data that belongs to s, so that operations
// on it put their results in s even when t belongs to an outer scope. Closing
// the new handle does not affect t.
func (s *Scope) Use(t *Tensor) *Tensor {
	if err := t.Err(); err != nil {
		return failed(s, err)
	}
	if err := s.checkOpen(); err != nil {
		return &Tensor{err: err}
	}
	out, err := capi.ShallowCopy(t.ptr())
	runtime.KeepAlive(t)
	if err != nil {
		return failed(s, fromC(err))
	}
	return newTensor(out, s)
}

// Run calls fn in a new scope of the given mode, keeps fn's result and closes
// the scope. The error is fn's, else the scope's first error, else the
// result's.
func Run(mode Mode, fn func(s *Scope) *Tensor) (*Tensor, error) {
	s := NewScope(mode)
	defer s.Close()
	out := fn(s)
	if err := s.Err(); err != nil {
		return nil, err
	}
	if err := out.Err(); err != nil {
		return nil, err
	}
	return s.Keep(out), nil
}

// deepest returns the scope among the inputs' scopes that is nested deepest.
func deepest(ins []*Tensor) *Scope {
	var s *Scope
	for _, t := range ins {
		if t != nil && t.scope != nil && (s == nil || t.scope.depth > s.depth) {
			s = t.scope
		}
	}
	return s
}

// ErrScopeClosed is matched by errors from operations whose result would go
// to a scope that was already closed.
var ErrScopeClosed = errors.New("torch: scope is closed")

func (s *Scope) checkOpen() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrScopeClosed
	}
	return nil
}

func (s *Scope) cmode() capi.Mode {
	if s == nil {
		return capi.ModeGrad
	}
	return capi.Mode(s.mode)
}

// op runs one raw ABI call whose result is a single tensor. Inputs that are
// nil are optional arguments left out. The result goes to the deepest scope
// of the inputs; the first error of an input or of the call becomes the
// result's.
func op(ins []*Tensor, call func(mode capi.Mode) (capi.Tensor, error)) *Tensor {
	s := deepest(ins)
	for _, t := range ins {
		if t == nil {
			continue
		}
		if err := t.Err(); err != nil {
			return failed(s, err)
		}
	}
	if err := s.checkOpen(); err != nil {
		return &Tensor{err: err}
	}
	out, err := call(s.cmode())
	runtime.KeepAlive(ins)
	if err != nil {
		return failed(s, fromC(err))
	}
	return newTensor(out, s)
}

// scopeOp runs a call with no tensor inputs (a constructor) in scope s.
func scopeOp(s *Scope, call func(mode capi.Mode) (capi.Tensor, error)) (*Tensor, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	out, err := call(s.cmode())
	if err != nil {
		err = fromC(err)
		if s != nil {
			s.setErr(err)
		}
		return nil, err
	}
	return newTensor(out, s), nil
}
