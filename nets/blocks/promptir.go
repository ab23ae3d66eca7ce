package blocks

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// PromptGenConfig sizes a PromptGenBlock.
type PromptGenConfig struct {
	// Dim is the channel count of the generated prompt (PromptIR: 64, 128,
	// 320).
	Dim int64
	// Len is the number of learned prompt components (5).
	Len int64
	// Size is the side of the learned prompts (64, 32, 16); they are resized
	// to the feature's size.
	Size int64
	// LinDim is the channel count of the feature the block reads (96, 192,
	// 384).
	LinDim int64
}

// PromptGenBlock is PromptIR's prompt generation block. From a feature x
// (B, LinDim, H, W) it computes component weights w = softmax(linear(mean_HW
// x)) (B, Len), the weighted sum of the learned prompt components (Len, Dim,
// Size, Size), resizes that sum bilinearly (align_corners false) to H x W and
// applies a 3x3 convolution without bias: the result is (B, Dim, H, W).
//
// Names: prompt_param (1, Len, Dim, Size, Size), linear_layer.{weight,bias}
// (Len, LinDim), conv3x3.weight (Dim, Dim, 3, 3).
type PromptGenBlock struct {
	PromptParam *torch.Tensor
	Linear      *layers.Linear
	Conv        *layers.Conv2d
}

// NewPromptGenBlock builds a block initialised from g in the reference's
// order: prompt_param uniform in [0, 1) (torch.rand), then the linear layer
// and the convolution with PyTorch's default initialisation. A nil g leaves
// zeros, for loading.
func NewPromptGenBlock(g *torch.Generator, c PromptGenConfig) (*PromptGenBlock, error) {
	if c.Dim <= 0 || c.Len <= 0 || c.Size <= 0 || c.LinDim <= 0 {
		return nil, fmt.Errorf("blocks: new prompt_gen_block: bad size %+v", c)
	}
	b := &PromptGenBlock{}
	fail := func(err error) (*PromptGenBlock, error) {
		b.Close()
		return nil, initErr("prompt_gen_block", err)
	}
	var err error
	shape := []int64{1, c.Len, c.Dim, c.Size, c.Size}
	if g == nil {
		b.PromptParam, err = layers.NewParam(shape...)
	} else {
		b.PromptParam, err = g.Rand(nil, shape, nil)
	}
	if err != nil {
		return fail(err)
	}
	if b.Linear, err = layers.NewLinear(g, c.LinDim, c.Len, false); err != nil {
		return fail(err)
	}
	if b.Conv, err = layers.NewConv2d(g, c.Dim, c.Dim, 3, &layers.ConvConfig{Padding: 1, NoBias: true}); err != nil {
		return fail(err)
	}
	return b, nil
}

// Visit reports prompt_param, linear_layer and conv3x3.
func (b *PromptGenBlock) Visit(v layers.Visitor) {
	if b == nil {
		return
	}
	v.Param("prompt_param", &b.PromptParam)
	v.Module("linear_layer", b.Linear)
	v.Module("conv3x3", b.Conv)
}

// Weights returns the softmax weights of the prompt components for x (B,
// LinDim, H, W): (B, Len).
func (b *PromptGenBlock) Weights(x *torch.Tensor) *torch.Tensor {
	return b.Linear.Forward(x.Mean(false, -2, -1)).Softmax(1)
}

// Forward returns the prompt (B, Dim, H, W) for the feature x (B, LinDim,
// H, W). Its intermediates are freed before it returns (see layers.Step).
func (b *PromptGenBlock) Forward(x *torch.Tensor) *torch.Tensor {
	return layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		h, w := x.Size(2), x.Size(3)
		wt := b.Weights(x)
		wt = wt.Reshape(wt.Size(0), wt.Size(1), 1, 1, 1)
		p := wt.Mul(b.PromptParam).Sum(false, 1)
		p = p.Interpolate(h, w, torch.Bilinear, nil)
		return b.Conv.Forward(p)
	})
}

// Close frees the tensors.
func (b *PromptGenBlock) Close() { layers.Close(b) }
