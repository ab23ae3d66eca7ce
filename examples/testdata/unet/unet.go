package main

import (
	"cmp"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// UNetConfig configures UNet. As for the library's backbones, every zero
// field means the default, so UNetConfig{} is a usable network and a saved
// model's JSON configuration lists only departures from it.
type UNetConfig struct {
	Features int64 // channels at full resolution (16); 2x and 4x below
	Heads    int64 // attention heads of the bottleneck block (2)
}

// ArchName is the name the backbone is registered under: mioir.Config{Arch:
// "UNet"} and native model files refer to it.
func (UNetConfig) ArchName() string { return "UNet" }

// Pad is the test-time padding mioir's Restore applies: two halvings need
// sides that are multiples of 4.
func (UNetConfig) Pad() nets.PadRule { return nets.PadRule{Multiple: 4} }

// New builds the network, initialised from g as PyTorch initialises its
// layers by default; a nil g leaves zeros, which is what mioir.Load asks for
// before it copies the saved weights in.
func (c UNetConfig) New(g *torch.Generator) (nets.Backbone, error) {
	f := cmp.Or(c.Features, 16)
	heads := cmp.Or(c.Heads, 2)
	n := &UNet{}
	// conv keeps the first error, so the constructors read as a list.
	var err error
	conv := func(in, out, k int64, cc *layers.ConvConfig) *layers.Conv2d {
		if err != nil {
			return nil
		}
		var l *layers.Conv2d
		l, err = layers.NewConv2d(g, in, out, k, cc)
		return l
	}
	strided := &layers.ConvConfig{Stride: 2, Padding: 1} // the only zero-padded convolution
	n.Head = conv(3, f, 3, nil)                          // reflect-padded in Forward
	n.Down1 = conv(f, 2*f, 3, strided)                   // H -> H/2
	n.Down2 = conv(2*f, 4*f, 3, nil)                     // after a max-pool: H/2 -> H/4
	if err == nil {
		n.Attn, err = blocks.NewTransformerBlock(g, blocks.TransformerBlockConfig{Dim: 4 * f, Heads: heads})
	}
	if err == nil {
		n.Up2, err = layers.NewConvTranspose2d(g, 4*f, 2*f, 2, &layers.ConvConfig{Stride: 2}) // H/4 -> H/2
	}
	n.Fuse2 = conv(4*f, 2*f, 3, nil) // [up2, skip e2] -> 2f
	n.Up1 = conv(2*f, f, 1, nil)     // after a bilinear x2: H/2 -> H
	n.Fuse1 = conv(2*f, f, 3, nil)   // [up1, skip e1] -> f
	n.Tail = conv(f, 3, 3, nil)
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// UNet is a small U-Net: two levels down (a strided convolution, then a
// max-pool), a Restormer transformer block (channel attention) at the
// bottom, two levels up (a transposed convolution, then bilinear
// interpolation), skips joined by concatenation, and a global residual. Its
// fields are exported only so that the program reads like a model
// definition; the layers package needs nothing but Visit.
type UNet struct {
	Head, Down1, Down2 *layers.Conv2d
	Attn               *blocks.TransformerBlock
	Up2                *layers.ConvTranspose2d
	Fuse2, Up1, Fuse1  *layers.Conv2d
	Tail               *layers.Conv2d
}

// Visit names every tensor, as a PyTorch state_dict would ("head.weight",
// "attn.norm1.body.weight", ...). Saving, loading, the optimiser, devices
// and Close all work from this one method.
func (n *UNet) Visit(v layers.Visitor) {
	v.Module("head", n.Head)
	v.Module("down1", n.Down1)
	v.Module("down2", n.Down2)
	v.Module("attn", n.Attn)
	v.Module("up2", n.Up2)
	v.Module("fuse2", n.Fuse2)
	v.Module("up1", n.Up1)
	v.Module("fuse1", n.Fuse1)
	v.Module("tail", n.Tail)
}

// Modulation declares where prompts may act: the bottleneck (before the
// attention) and the last decoder feature. Both read the vector of one
// prompt extractor; package prompt builds it and the scale/shift layers
// under the keys given here, and calls the hook that Forward passes along.
func (n *UNet) Modulation() nets.Modulation {
	return nets.Modulation{Extractors: []string{"F_ext_net"}, Points: []nets.ModulationPoint{
		{Name: "bottleneck", Channels: n.Down2.Weight.Size(0), ScaleKey: "prompt_scale_bottleneck", ShiftKey: "prompt_shift_bottleneck"},
		{Name: "decoder", Channels: n.Fuse1.Weight.Size(0), ScaleKey: "prompt_scale_decoder", ShiftKey: "prompt_shift_decoder"},
	}}
}

// reflect1 reflect-pads one pixel on each side, so that 3x3 convolutions
// keep the size without the dark borders zero padding leaves.
func reflect1(x *torch.Tensor) *torch.Tensor {
	return x.Pad([]int64{1, 1, 1, 1}, torch.PadReflect, 0)
}

// Forward restores x (N, 3, H, W). Every operation's result goes to the
// scope of x, so the caller (the trainer, Restore) frees all intermediates
// by closing that scope. hook.Apply is the identity for a plain model.
func (n *UNet) Forward(x *torch.Tensor, hook nets.Hook) *torch.Tensor {
	// Pad to multiples of 4 (reflect, bottom and right) so that any size
	// runs, and crop back at the end. Restore already pads by Pad(); the
	// trainer's patches are multiples of 4 too, so this is for direct calls.
	h, w := x.Size(2), x.Size(3)
	ph, pw := (4-h%4)%4, (4-w%4)%4
	in := x
	if ph != 0 || pw != 0 {
		in = x.Pad([]int64{0, pw, 0, ph}, torch.PadReflect, 0)
	}
	lrelu := func(t *torch.Tensor) *torch.Tensor { return t.LeakyReLU(0.2) }

	e1 := lrelu(n.Head.Forward(reflect1(in)))                      // f, H
	e2 := lrelu(n.Down1.Forward(e1))                               // 2f, H/2
	pooled := e2.MaxPool2d([2]int64{2, 2}, [2]int64{}, [2]int64{}) // 2f, H/4
	b := lrelu(n.Down2.Forward(reflect1(pooled)))                  // 4f, H/4
	b = n.Attn.Forward(hook.Apply("bottleneck", b))                // prompt, then attention
	u2 := lrelu(n.Up2.Forward(b))                                  // 2f, H/2
	d2 := lrelu(n.Fuse2.Forward(reflect1(torch.Cat([]*torch.Tensor{u2, e2}, 1))))
	up := d2.Interpolate(2*d2.Size(2), 2*d2.Size(3), torch.Bilinear, nil) // 2f, H
	u1 := lrelu(n.Up1.Forward(up))                                        // f, H
	d1 := lrelu(n.Fuse1.Forward(reflect1(torch.Cat([]*torch.Tensor{u1, e1}, 1))))
	d1 = hook.Apply("decoder", d1)
	out := n.Tail.Forward(reflect1(d1)).Add(in) // predict the correction
	if ph != 0 || pw != 0 {
		out = out.Narrow(2, 0, h).Narrow(3, 0, w)
	}
	return out
}

// Close frees the parameters.
func (n *UNet) Close() { layers.Close(n) }
