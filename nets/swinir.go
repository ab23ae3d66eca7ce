package nets

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// SwinIRConfig configures a SwinIR. Zero fields take the paper's values
// (section 5.2 of the method: embed 180, six RSTBs of six blocks with six
// heads, window 8, MLP ratio 2, img_size 128, upscale 1, img_range 1, mean
// (0.4488, 0.4371, 0.4040), '1conv' residual connection, 'pixelshuffle'
// reconstruction).
type SwinIRConfig struct {
	// InChannels is the channel count of input and output (3).
	InChannels int64
	// EmbedDim is the token width (180). The reference EP/AP classes
	// hard-code 180 for their modulation; this port takes the width from
	// the modulation points, so any width works with prompts.
	EmbedDim int64
	// Depths is the number of Swin blocks of each RSTB; Heads the heads of
	// each RSTB's attention (same length).
	Depths []int
	Heads  []int64
	// WindowSize is the attention window (8); odd blocks shift by half of it.
	WindowSize int64
	// MLPRatio sets the MLP width int(EmbedDim*MLPRatio) (2).
	MLPRatio float64
	// ImgSize is the training patch size the reference was built for (128).
	// It only decides the shape of the attn_mask buffers that reference
	// checkpoints carry; any input size works.
	ImgSize int64
	// Upscale is the output scale: 1 (the MiOIR setting), a power of two, or 3.
	Upscale int
	// ImgRange scales the mean-subtracted input (1).
	ImgRange float64
	// Mean is subtracted from the input and added back to the output; nil
	// means (0.4488, 0.4371, 0.4040) for 3 channels and zeros otherwise.
	Mean []float32
	// ResiConnection is the convolution closing each RSTB and the body:
	// "1conv" (one 3x3 convolution) or "3conv" (3x3 to C/4, 1x1, 3x3 back,
	// with LeakyReLU(0.2) between).
	ResiConnection string
	// Upsampler is the reconstruction module; only "pixelshuffle" (the
	// paper's) is supported.
	Upsampler string
	// NoQKVBias drops the bias of the attention's qkv projection.
	NoQKVBias bool
	// DropPathRate is the stochastic-depth rate of the last Swin block,
	// rising linearly from 0 over the blocks (training only, see
	// SwinIR.SetTraining). 0 means the reference's 0.1; a negative value
	// turns stochastic depth off.
	DropPathRate float64
}

func init() {
	mustRegister(Arch{Config: SwinIRConfig{}, Infer: inferSwinIR, Recipe: Recipe{Order: curriculum.OrderSBNJRHD()}})
}

// ArchName is "SwinIR" (the EP/AP variants included).
func (SwinIRConfig) ArchName() string { return "SwinIR" }

// New builds the network (NewSwinIR).
func (c SwinIRConfig) New(g *torch.Generator) (Backbone, error) { return backbone(NewSwinIR(g, c)) }

// Pad is reflect padding to the window.
func (c SwinIRConfig) Pad() PadRule { return PadRule{Multiple: c.withDefaults().WindowSize} }

// SwinIRPaperConfig returns the paper configuration with every field set.
func SwinIRPaperConfig() SwinIRConfig { return SwinIRConfig{}.withDefaults() }

func (c SwinIRConfig) withDefaults() SwinIRConfig {
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.EmbedDim == 0 {
		c.EmbedDim = 180
	}
	if c.Depths == nil {
		c.Depths = []int{6, 6, 6, 6, 6, 6}
	}
	if c.Heads == nil {
		c.Heads = []int64{6, 6, 6, 6, 6, 6}
	}
	if c.WindowSize == 0 {
		c.WindowSize = 8
	}
	if c.MLPRatio == 0 {
		c.MLPRatio = 2
	}
	if c.ImgSize == 0 {
		c.ImgSize = 128
	}
	if c.Upscale == 0 {
		c.Upscale = 1
	}
	if c.ImgRange == 0 {
		c.ImgRange = 1
	}
	if c.Mean == nil {
		if c.InChannels == 3 {
			c.Mean = []float32{0.4488, 0.4371, 0.4040}
		} else {
			c.Mean = make([]float32, c.InChannels)
		}
	}
	if c.ResiConnection == "" {
		c.ResiConnection = "1conv"
	}
	if c.Upsampler == "" {
		c.Upsampler = "pixelshuffle"
	}
	if c.DropPathRate == 0 {
		c.DropPathRate = 0.1
	}
	c.Depths = slices.Clone(c.Depths)
	c.Heads = slices.Clone(c.Heads)
	c.Mean = slices.Clone(c.Mean)
	return c
}

func (c SwinIRConfig) validate() error {
	switch {
	case c.InChannels < 1 || c.EmbedDim < 1 || c.WindowSize < 1 || c.ImgSize < 1 || c.MLPRatio < 0 || c.DropPathRate >= 1:
		return fmt.Errorf("bad size in %+v", c)
	case len(c.Depths) == 0 || len(c.Depths) != len(c.Heads):
		return fmt.Errorf("%d depths for %d head counts", len(c.Depths), len(c.Heads))
	case int64(len(c.Mean)) != c.InChannels:
		return fmt.Errorf("%d mean values for %d channels", len(c.Mean), c.InChannels)
	case c.Upsampler != "pixelshuffle":
		return fmt.Errorf("upsampler %q is not supported (only \"pixelshuffle\")", c.Upsampler)
	case c.ResiConnection != "1conv" && c.ResiConnection != "3conv":
		return fmt.Errorf("resi_connection %q is not \"1conv\" or \"3conv\"", c.ResiConnection)
	case c.Upscale < 1 || (c.Upscale != 3 && bits.OnesCount(uint(c.Upscale)) != 1):
		return fmt.Errorf("upscale %d is not 1, a power of two or 3", c.Upscale)
	}
	for i, d := range c.Depths {
		if d < 1 || c.Heads[i] < 1 || c.EmbedDim%c.Heads[i] != 0 {
			return fmt.Errorf("RSTB %d: depth %d, %d heads for width %d", i, d, c.Heads[i], c.EmbedDim)
		}
	}
	return nil
}

// RSTB is SwinIR's residual Swin Transformer block: a group of Swin blocks
// (even ones on plain windows, odd ones on windows shifted by half a
// window), a convolution on the unflattened map, and a residual connection
// around all of it. Names: residual_group.blocks.N.*, conv.* (conv.0/2/4
// for "3conv").
type RSTB struct {
	Blocks blocks.SwinBlocks
	Conv   layers.Layer
}

// Visit reports the blocks and the convolution.
func (r *RSTB) Visit(v layers.Visitor) {
	if r == nil {
		return
	}
	v.Module("residual_group.blocks", r.Blocks)
	v.Module("conv", r.Conv)
}

// Forward applies the RSTB to tokens x (B, h*w, C); its intermediates are
// freed before it returns.
func (r *RSTB) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	return layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		t := r.Conv.Forward(blocks.PatchUnembed(r.Blocks.Forward(x, h, w), h, w))
		return (*blocks.PatchEmbed)(nil).Forward(t).Add(x)
	})
}

// SwinIR is the SwinIR backbone as MiOIR uses it (BasicSR's swinir_arch,
// classes SwinIR, SwinIR_EP and SwinIR_AP, which share every backbone key):
//
//	x = (x - mean) * img_range
//	f = conv_first(x)
//	t = norm(RSTB_n(...RSTB_1(patch_embed(f))))    modulation after each RSTB
//	f = conv_after_body(unembed(t)) + f             modulation "after_body"
//	f = LeakyReLU_0.01(conv_before_upsample(f))     modulation "before_upsample"
//	y = conv_last(upsample(f))                      modulation "last"
//	return y / img_range + mean
//
// There is no global image skip. The upsample is empty for upscale 1.
// Inputs whose sides are not multiples of the window are reflect-padded at
// the bottom and right and the output cropped, as the reference test
// procedure does (for AP prompts, pad the image before computing the prompt:
// see SwinIRConfig.Pad).
type SwinIR struct {
	Config             SwinIRConfig
	ConvFirst          *layers.Conv2d
	PatchEmbed         *blocks.PatchEmbed
	Layers             []*RSTB
	Norm               *layers.LayerNorm
	ConvAfterBody      layers.Layer
	ConvBeforeUpsample layers.Sequential // conv, LeakyReLU(0.01)
	Upsample           layers.Sequential // (conv, PixelShuffle) per factor; empty for 1
	ConvLast           *layers.Conv2d

	mean  *torch.Tensor // (1, C, 1, 1), a plain attribute in the reference (no state_dict key)
	masks *blocks.MaskCache
}

var _ Backbone = (*SwinIR)(nil)

// NewSwinIR builds a SwinIR initialised from g as the reference does
// (convolutions with PyTorch's default, every Linear truncated-normal std
// 0.02 with zero bias, relative position tables truncated-normal 0.02,
// LayerNorms ones and zeros); a nil g leaves zeros for loading. The draws
// follow the reference's distributions, not its random stream.
func NewSwinIR(g *torch.Generator, cfg SwinIRConfig) (*SwinIR, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("nets: SwinIR: %w", err)
	}
	n := &SwinIR{Config: c, masks: &blocks.MaskCache{}}
	fail := func(err error) (*SwinIR, error) {
		n.Close()
		return nil, fmt.Errorf("nets: SwinIR: %w", err)
	}
	conv := func(in, out, k int64) (*layers.Conv2d, error) {
		return layers.NewConv2d(g, in, out, k, &layers.ConvConfig{Padding: k / 2})
	}
	resi := func() (layers.Layer, error) {
		if c.ResiConnection == "1conv" {
			return conv(c.EmbedDim, c.EmbedDim, 3)
		}
		q := c.EmbedDim / 4
		var s layers.Sequential
		for _, k := range [][3]int64{{c.EmbedDim, q, 3}, {q, q, 1}, {q, c.EmbedDim, 3}} {
			l, err := conv(k[0], k[1], k[2])
			if err != nil {
				s.Close()
				return nil, err
			}
			if len(s) > 0 {
				s = append(s, layers.LeakyReLU(0.2))
			}
			s = append(s, l)
		}
		return s, nil
	}
	var err error
	if n.mean, err = torch.FromSlice(nil, c.Mean, 1, c.InChannels, 1, 1); err != nil {
		return fail(err)
	}
	if n.ConvFirst, err = conv(c.InChannels, c.EmbedDim, 3); err != nil {
		return fail(err)
	}
	n.PatchEmbed = &blocks.PatchEmbed{}
	if n.PatchEmbed.Norm, err = layers.NewLayerNorm(c.EmbedDim, 0, false); err != nil {
		return fail(err)
	}
	rates := dropPathRates(c)
	for i, depth := range c.Depths {
		r := &RSTB{}
		n.Layers = append(n.Layers, r)
		for j := range depth {
			b, err := blocks.NewSwinBlock(g, blocks.SwinBlockConfig{
				Dim: c.EmbedDim, Heads: c.Heads[i], WindowSize: c.WindowSize,
				Shift: int64(j%2) * (c.WindowSize / 2), MLPRatio: c.MLPRatio, NoQKVBias: c.NoQKVBias,
				Resolution: [2]int64{c.ImgSize, c.ImgSize}, Masks: n.masks, DropPath: rates[0],
			})
			rates = rates[1:]
			if err != nil {
				return fail(err)
			}
			r.Blocks = append(r.Blocks, b)
			if err := blocks.TruncNormalLinears(g, b); err != nil {
				return fail(err)
			}
		}
		if r.Conv, err = resi(); err != nil {
			return fail(err)
		}
	}
	if n.Norm, err = layers.NewLayerNorm(c.EmbedDim, 0, false); err != nil {
		return fail(err)
	}
	if n.ConvAfterBody, err = resi(); err != nil {
		return fail(err)
	}
	const feat = 64
	cb, err := conv(c.EmbedDim, feat, 3)
	if err != nil {
		return fail(err)
	}
	n.ConvBeforeUpsample = layers.Sequential{cb, layers.LeakyReLU(0.01)}
	n.Upsample = layers.Sequential{}
	steps, r := 0, int64(2)
	if c.Upscale == 3 {
		steps, r = 1, 3
	} else {
		steps = bits.TrailingZeros(uint(c.Upscale))
	}
	for range steps {
		up, err := conv(feat, r*r*feat, 3)
		if err != nil {
			return fail(err)
		}
		r := r
		n.Upsample = append(n.Upsample, up, layers.Func(func(x *torch.Tensor) *torch.Tensor { return x.PixelShuffle(r) }))
	}
	if n.ConvLast, err = conv(feat, c.InChannels, 3); err != nil {
		return fail(err)
	}
	return n, nil
}

// dropPathRates is the reference's torch.linspace(0, rate, blocks), in
// float32 as torch computes it.
func dropPathRates(c SwinIRConfig) []float64 {
	total := 0
	for _, d := range c.Depths {
		total += d
	}
	rates := make([]float64, total)
	if c.DropPathRate <= 0 || total < 2 {
		return rates
	}
	for i := range rates {
		rates[i] = float64(float32(c.DropPathRate * float64(i) / float64(total-1)))
	}
	return rates
}

// SetTraining turns stochastic depth on (g drives the per-sample draws) or
// off (nil). Even when on, it only acts on forward passes whose scope is in
// Grad mode.
func (n *SwinIR) SetTraining(g *torch.Generator) {
	for _, l := range n.Layers {
		for _, b := range l.Blocks {
			b.Rand = g
		}
	}
}

// Visit reports the tensors with the reference names: conv_first,
// patch_embed.norm, layers.N.residual_group.blocks.M.*, layers.N.conv, norm,
// conv_after_body, conv_before_upsample.0, upsample.*, conv_last.
func (n *SwinIR) Visit(v layers.Visitor) {
	v.Module("conv_first", n.ConvFirst)
	v.Module("patch_embed", n.PatchEmbed)
	for i, l := range n.Layers {
		v.Module("layers."+strconv.Itoa(i), l)
	}
	v.Module("norm", n.Norm)
	v.Module("conv_after_body", n.ConvAfterBody)
	v.Module("conv_before_upsample", n.ConvBeforeUpsample)
	v.Module("upsample", n.Upsample)
	v.Module("conv_last", n.ConvLast)
}

// Modulation point names of SwinIR, besides "layerN" (after RSTB N, on
// tokens).
const (
	SwinIRAfterBody      = "after_body"
	SwinIRBeforeUpsample = "before_upsample"
	SwinIRLast           = "last"
)

// SwinIRLayerPoint is the name of the modulation point after RSTB i.
func SwinIRLayerPoint(i int) string { return "layer" + strconv.Itoa(i) }

// Modulation lists the points of section 4.3 (SwinIR_EP/AP), all fed by one
// extractor F_ext_net: after each RSTB (tokens, EmbedDim channels, FC keys
// layers.N.prompt_scale/prompt_shift), after the body's residual
// ("after_body", prompt_scale_after_body), after conv_before_upsample's
// activation ("before_upsample", 64 channels) and after conv_last ("last",
// InChannels, before the mean is added back).
func (n *SwinIR) Modulation() Modulation {
	m := Modulation{Extractors: []string{"F_ext_net"}}
	for i := range n.Layers {
		p := "layers." + strconv.Itoa(i) + "."
		m.Points = append(m.Points, ModulationPoint{Name: SwinIRLayerPoint(i), Channels: n.Config.EmbedDim,
			Layout: ChannelsLast, ScaleKey: p + "prompt_scale", ShiftKey: p + "prompt_shift"})
	}
	add := func(name string, ch int64) {
		m.Points = append(m.Points, ModulationPoint{Name: name, Channels: ch, Layout: ChannelsFirst,
			ScaleKey: "prompt_scale_" + name, ShiftKey: "prompt_shift_" + name})
	}
	add(SwinIRAfterBody, n.Config.EmbedDim)
	add(SwinIRBeforeUpsample, 64)
	add(SwinIRLast, n.Config.InChannels)
	return m
}

// Forward restores x (N, C, H, W), calling hook at every modulation point
// (nil: the plain network). The result is (N, C, H*upscale, W*upscale) and
// belongs to x's scope.
func (n *SwinIR) Forward(x *torch.Tensor, hook Hook) *torch.Tensor {
	if x.Err() != nil {
		return x
	}
	return padForward(x, n.Config.WindowSize, int64(n.Config.Upscale), func(x *torch.Tensor) *torch.Tensor { return n.forward(x, hook) })
}

func (n *SwinIR) forward(x *torch.Tensor, hook Hook) *torch.Tensor {
	c := n.Config
	h, w := x.Size(2), x.Size(3)
	mean := x.Scope().Use(n.mean).To(x.DType(), x.Device())
	// Each stage runs in a child scope (layers.Step) and the previous
	// feature is freed once the next exists, so a forward pass holds a few
	// feature maps at a time.
	f := layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		t := x.Sub(mean)
		if c.ImgRange != 1 {
			t = t.MulScalar(c.ImgRange)
		}
		return n.ConvFirst.Forward(t)
	})
	tok := layers.Step(f, n.PatchEmbed.Forward)
	for i, l := range n.Layers {
		next := layers.Step(tok, func(t *torch.Tensor) *torch.Tensor {
			return hook.Apply(SwinIRLayerPoint(i), l.Forward(t, h, w))
		})
		tok.Close()
		tok = next
	}
	g := layers.Step(tok, func(t *torch.Tensor) *torch.Tensor {
		body := blocks.PatchUnembed(n.Norm.Forward(t), h, w)
		return hook.Apply(SwinIRAfterBody, n.ConvAfterBody.Forward(body).Add(f))
	})
	tok.Close()
	f.Close()
	next := layers.Step(g, func(g *torch.Tensor) *torch.Tensor {
		return hook.Apply(SwinIRBeforeUpsample, n.ConvBeforeUpsample.Forward(g))
	})
	g.Close()
	y := layers.Step(next, func(g *torch.Tensor) *torch.Tensor {
		y := hook.Apply(SwinIRLast, n.ConvLast.Forward(n.Upsample.Forward(g)))
		if c.ImgRange != 1 {
			y = y.DivScalar(c.ImgRange)
		}
		return y.Add(mean)
	})
	next.Close()
	mean.Close()
	return y
}

// Close frees the parameters and the cached attention masks.
func (n *SwinIR) Close() {
	if n == nil {
		return
	}
	layers.Close(n)
	n.mean.Close()
	if n.masks != nil {
		n.masks.Close()
	}
}

// inferSwinIR reads SwinIR, SwinIR_EP and SwinIR_AP keys. ImgRange and Mean
// leave no trace: they take the paper's values (zeros but for 3 channels).
func inferSwinIR(k *keys.Keys) (Config, error) {
	if !k.Has("patch_embed.norm.weight") || !k.Has("conv_first.weight") {
		return nil, fmt.Errorf("%w: SwinIR needs patch_embed.norm.weight and conv_first.weight", keys.ErrNoMatch)
	}
	r := k.Reader()
	c := SwinIRPaperConfig()
	c.EmbedDim, c.InChannels = r.Dim("conv_first.weight", 0), r.Dim("conv_first.weight", 1)
	if c.InChannels != 3 {
		c.Mean = make([]float32, c.InChannels)
	}
	c.Depths, c.Heads, c.WindowSize = nil, nil, 0
	sized := false
	for i := range r.Count("layers.") {
		p := "layers." + strconv.Itoa(i) + ".residual_group.blocks."
		tab := p + "0.attn.relative_position_bias_table"
		c.Depths, c.Heads = append(c.Depths, r.Count(p)), append(c.Heads, r.Dim(tab, 1))
		c.MLPRatio = float64(r.Dim(p+"0.mlp.fc1.weight", 0)) / float64(c.EmbedDim)
		w := r.Window(tab)
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("SwinIR: %w", err)
		}
		if c.WindowSize != 0 && w != c.WindowSize {
			return nil, fmt.Errorf("SwinIR: %s gives window %d, earlier layers %d", tab, w, c.WindowSize)
		}
		c.WindowSize = w
		// The attn_mask buffers hold (ImgSize/window)^2 windows.
		if m := k.Shape(p + "1.attn_mask"); len(m) == 3 && !sized {
			side, ok := keys.Sqrt(m[0])
			if !ok {
				return nil, fmt.Errorf("SwinIR: %s1.attn_mask has %d windows, not a square", p, m[0])
			}
			c.ImgSize, sized = side*w, true
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("SwinIR: %w", err)
	}
	c.NoQKVBias = !k.Has("layers.0.residual_group.blocks.0.attn.qkv.bias")
	switch {
	case k.Has("layers.0.conv.weight"):
		c.ResiConnection = "1conv"
	case k.Has("layers.0.conv.0.weight"):
		c.ResiConnection = "3conv"
	default:
		return nil, errors.New("SwinIR: neither layers.0.conv.weight (1conv) nor layers.0.conv.0.weight (3conv)")
	}
	switch up := k.Indices("upsample."); {
	case len(up) == 0:
		c.Upscale = 1
	case len(up) == 2 && k.Shape("upsample.0.weight") != nil && k.Shape("upsample.0.weight")[0] == 9*64:
		c.Upscale = 3
	default:
		c.Upscale = 1 << (len(up) / 2)
	}
	return c, nil
}
