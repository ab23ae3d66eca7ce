package prompt

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// VectorSize is the length of a prompt vector (the extractor's width).
const VectorSize = 64

// Extractor is the prompt feature extractor F_ext of the reference: three
// convolutions (7x7 stride 2, then two 3x3 stride 2), each preceded by a
// one-pixel zero padding and followed by ReLU, then the global spatial mean.
// It maps an (N, C, H, W) prompt to an (N, 64) non-negative vector.
type Extractor struct {
	Conv1, Conv2, Conv3 *layers.Conv2d
}

// NewExtractor returns an extractor for prompts with in channels (1 for
// explicit maps, 3 for adaptive prompts), with PyTorch's default init from g.
func NewExtractor(g *torch.Generator, in int64) (*Extractor, error) {
	c1, err := layers.NewConv2d(g, in, VectorSize, 7, &layers.ConvConfig{Stride: 2})
	if err != nil {
		return nil, fmt.Errorf("prompt: extractor: %w", err)
	}
	e := &Extractor{Conv1: c1}
	if e.Conv2, err = layers.NewConv2d(g, VectorSize, VectorSize, 3, &layers.ConvConfig{Stride: 2}); err != nil {
		e.Close()
		return nil, fmt.Errorf("prompt: extractor: %w", err)
	}
	if e.Conv3, err = layers.NewConv2d(g, VectorSize, VectorSize, 3, &layers.ConvConfig{Stride: 2}); err != nil {
		e.Close()
		return nil, fmt.Errorf("prompt: extractor: %w", err)
	}
	return e, nil
}

// Visit reports conv1, conv2 and conv3.
func (e *Extractor) Visit(v layers.Visitor) {
	if e == nil {
		return
	}
	v.Module("conv1", e.Conv1)
	v.Module("conv2", e.Conv2)
	v.Module("conv3", e.Conv3)
}

// Forward returns the (N, 64) prompt vector of p (N, C, H, W).
func (e *Extractor) Forward(p *torch.Tensor) *torch.Tensor {
	pad := layers.ZeroPad2d(1)
	f := e.Conv1.Forward(pad(p)).ReLU()
	f = e.Conv2.Forward(pad(f)).ReLU()
	f = e.Conv3.Forward(pad(f)).ReLU()
	return f.Mean(false, 2, 3)
}

// Close frees the parameters.
func (e *Extractor) Close() {
	if e != nil {
		layers.Close(e)
	}
}
