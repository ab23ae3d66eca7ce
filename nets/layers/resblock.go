package layers

import (
	"github.com/gomioir/gomioir/nets/torch"
)

// ResidualBlockNoBN is BasicSR's residual block without batch norm:
// x + res_scale * conv2(relu(conv1(x))), both convolutions 3x3 with padding 1
// and a bias.
type ResidualBlockNoBN struct {
	Conv1, Conv2 *Conv2d
	ResScale     float64
}

// NewResidualBlockNoBN returns a block of feat channels initialised as
// BasicSR does: each convolution is first built with PyTorch's default init,
// then both weights are redrawn with Kaiming-normal scaled by 0.1 and the
// biases set to zero. resScale 0 means 1.
func NewResidualBlockNoBN(g *torch.Generator, feat int64, resScale float64) (*ResidualBlockNoBN, error) {
	if resScale == 0 {
		resScale = 1
	}
	c1, err := NewConv2d(g, feat, feat, 3, &ConvConfig{Padding: 1})
	if err != nil {
		return nil, err
	}
	c2, err := NewConv2d(g, feat, feat, 3, &ConvConfig{Padding: 1})
	if err != nil {
		c1.Close()
		return nil, err
	}
	b := &ResidualBlockNoBN{Conv1: c1, Conv2: c2, ResScale: resScale}
	if g != nil {
		for _, c := range []*Conv2d{c1, c2} {
			if err := ScaledKaimingInit(g, c, 0.1); err != nil {
				b.Close()
				return nil, initErr("residual block", err)
			}
		}
	}
	return b, nil
}

// ScaledKaimingInit redraws a convolution as BasicSR's default_init_weights
// does: Kaiming-normal weight (fan-in) times scale, zero bias.
func ScaledKaimingInit(g *torch.Generator, c *Conv2d, scale float64) error {
	if g == nil {
		return nil
	}
	sh := c.Weight.Shape()
	fanIn := int64(1)
	for _, d := range sh[1:] {
		fanIn *= d
	}
	if err := KaimingNormal(g, c.Weight, fanIn, scale); err != nil {
		return err
	}
	if c.Bias != nil {
		return Fill(c.Bias, 0)
	}
	return nil
}

// Visit reports conv1 and conv2.
func (b *ResidualBlockNoBN) Visit(v Visitor) {
	if b == nil {
		return
	}
	v.Module("conv1", b.Conv1)
	v.Module("conv2", b.Conv2)
}

// Forward applies the block.
func (b *ResidualBlockNoBN) Forward(x *torch.Tensor) *torch.Tensor {
	h := b.Conv1.ForwardFused(x, torch.ReLU, nil)
	if b.ResScale == 1 {
		return b.Conv2.ForwardFused(h, torch.NoActivation, x)
	}
	return x.Add(b.Conv2.Forward(h).MulScalar(b.ResScale))
}

// Close frees the tensors.
func (b *ResidualBlockNoBN) Close() { Close(b) }
