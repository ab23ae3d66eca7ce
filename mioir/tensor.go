package mioir

import (
	"image"

	"github.com/gomioir/gomioir/nets/torch"
)

// The tensor essentials, re-exported so that users never import internal/
// packages. They are aliases: every method of torch.Tensor, torch.Scope, ...
// is available on them.
type (
	// Tensor is an n-dimensional array held by libtorch. Close frees it;
	// a Scope frees every tensor created in it. Operations return a tensor
	// that carries the first error of the chain (Err).
	Tensor = torch.Tensor
	// Scope frees, when closed, every tensor created in it that was not
	// moved out with Keep; its Mode is the autograd mode of its operations.
	Scope = torch.Scope
	// Mode is the autograd mode of a scope: Grad, NoGrad or Inference.
	Mode = torch.Mode
	// Device is the CPU or one CUDA GPU.
	Device = torch.Device
	// DType is a tensor element type.
	DType = torch.DType
	// Generator is a seeded random number generator.
	Generator = torch.Generator
	// Element is a Go type that maps to a tensor element type.
	Element = torch.Element
)

// Autograd modes.
const (
	Grad      = torch.Grad
	NoGrad    = torch.NoGrad
	Inference = torch.Inference
)

// Element types.
const (
	Float32 = torch.Float32
	Float64 = torch.Float64
	Int64   = torch.Int64
)

// CPU is the host.
var CPU = torch.CPU

// ErrOutOfMemory is matched (errors.Is) by errors from failed allocations;
// Restore backs off to smaller tiles on it.
var ErrOutOfMemory = torch.ErrOutOfMemory

// CUDA returns the i-th CUDA GPU.
func CUDA(i int) Device { return torch.CUDA(i) }

// CUDAAvailable reports whether a CUDA GPU can be used.
func CUDAAvailable() bool { return torch.CUDAAvailable() }

// ParseDevice reads "cpu", "cuda" or "cuda:N".
func ParseDevice(s string) (Device, error) { return torch.ParseDevice(s) }

// NewScope returns a top-level scope whose operations run in mode.
func NewScope(mode Mode) *Scope { return torch.NewScope(mode) }

// Run calls fn in a new scope of the given mode, keeps fn's result and
// closes the scope; the error is the first of fn's chain.
func Run(mode Mode, fn func(s *Scope) *Tensor) (*Tensor, error) { return torch.Run(mode, fn) }

// NewGenerator returns a generator seeded with seed (Close frees it).
func NewGenerator(seed uint64) (*Generator, error) { return torch.NewGenerator(seed) }

// FromImage converts img to a 1x3xHxW float32 tensor on dev with values in
// [0,1] (8-bit samples / 255, as BasicSR reads images), owned by s (nil: by
// the caller).
func FromImage(s *Scope, img image.Image, dev Device) (*Tensor, error) {
	return torch.FromImage(s, img, dev)
}

// ToImage converts a 1x3xHxW or 3xHxW float tensor to an 8-bit image with
// BasicSR's rounding (clamp to [0,1], round(x*255) half to even); NaN is an
// error.
func ToImage(t *Tensor) (*image.NRGBA, error) { return torch.ToImage(t) }

// FromSlice copies data into a new CPU tensor of the given shape, owned by s
// (nil: by the caller).
func FromSlice[T Element](s *Scope, data []T, shape ...int64) (*Tensor, error) {
	return torch.FromSlice(s, data, shape...)
}

// ToSlice copies t's elements (row-major) into a new Go slice; T must match
// t's element type.
func ToSlice[T Element](t *Tensor) ([]T, error) { return torch.ToSlice[T](t) }

// LiveTensors is the number of tensor handles not yet freed (tests use it
// to prove that loops free what they create).
func LiveTensors() int64 { return torch.LiveTensors() }
