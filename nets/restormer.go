package nets

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// RestormerConfig configures a Restormer. Zero fields take the paper's
// values (section 5.3 of the method: 3 in, 3 out, dim 48, blocks [4,6,6,8],
// 4 refinement blocks, heads [1,2,4,8], FFN expansion 2.66, no convolution
// bias, WithBias LayerNorm, global residual, no dual-pixel task).
type RestormerConfig struct {
	// InChannels and OutChannels are the image channels (3 and 3).
	InChannels, OutChannels int64
	// Dim is the width of level 1 (48); level k has Dim*2^(k-1) channels,
	// the latent Dim*8, and decoder level 1 and the refinement Dim*2.
	Dim int64
	// Blocks are the transformer blocks of encoder levels 1-3 and the
	// latent ([4, 6, 6, 8]); decoder level k repeats encoder level k's count.
	Blocks []int
	// RefinementBlocks is the count of refinement blocks at full
	// resolution (4); 0 means 4, a negative value none.
	RefinementBlocks int
	// Heads are the attention heads of levels 1-3 and the latent
	// ([1, 2, 4, 8]); decoder level 1 and the refinement use Heads[0].
	Heads []int64
	// FFNExpansion is the GDFN expansion factor (2.66).
	FFNExpansion float64
	// Bias adds a bias to every convolution (the paper's bias=False).
	Bias bool
	// Norm is the LayerNorm variant (WithBias).
	Norm blocks.NormType
	// NoGlobalResidual drops the final "+ input" (the reference's
	// global_residual=False).
	NoGlobalResidual bool
	// DualPixelTask selects the dual-pixel defocus deblurring head of the
	// reference: a skip_conv (1x1, Dim -> 2*Dim) from the embedded input is
	// added before the output convolution, and there is no global residual
	// (the reference's EP/AP classes then never apply their "out"
	// modulation, and neither does this port).
	DualPixelTask bool
}

func init() {
	mustRegister(Arch{Config: RestormerConfig{}, Infer: inferRestormer,
		Recipe: Recipe{Optimizer: torch.AdamConfig{Decoupled: true}, Order: curriculum.OrderRJBSNHD()}})
}

// ArchName is "Restormer" (the EP/AP variants included).
func (RestormerConfig) ArchName() string { return "Restormer" }

// New builds the network (NewRestormer).
func (c RestormerConfig) New(g *torch.Generator) (Backbone, error) {
	return backbone(NewRestormer(g, c))
}

// Pad is reflect padding to 64 (bottom and right); Forward itself only
// needs multiples of 8.
func (RestormerConfig) Pad() PadRule { return PadRule{Multiple: restormerPadMultiple} }

// RestormerPaperConfig returns the paper configuration with every field set.
func RestormerPaperConfig() RestormerConfig { return RestormerConfig{}.withDefaults() }

func (c RestormerConfig) withDefaults() RestormerConfig {
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.OutChannels == 0 {
		c.OutChannels = 3
	}
	if c.Dim == 0 {
		c.Dim = 48
	}
	if c.Blocks == nil {
		c.Blocks = []int{4, 6, 6, 8}
	}
	if c.RefinementBlocks == 0 {
		c.RefinementBlocks = 4
	}
	if c.Heads == nil {
		c.Heads = []int64{1, 2, 4, 8}
	}
	if c.FFNExpansion == 0 {
		c.FFNExpansion = blocks.DefaultFFNExpansion
	}
	c.Blocks = slices.Clone(c.Blocks)
	c.Heads = slices.Clone(c.Heads)
	return c
}

func (c RestormerConfig) validate() error {
	switch {
	case c.InChannels < 1 || c.OutChannels < 1 || c.Dim < 1 || c.FFNExpansion < 0:
		return fmt.Errorf("bad size in %+v", c)
	case len(c.Blocks) != 4 || len(c.Heads) != 4:
		return fmt.Errorf("%d block counts and %d head counts (want 4 each: levels 1-3 and the latent)", len(c.Blocks), len(c.Heads))
	case c.Norm != blocks.NormWithBias && c.Norm != blocks.NormBiasFree:
		return fmt.Errorf("unknown LayerNorm type %d", int(c.Norm))
	case c.DualPixelTask && c.NoGlobalResidual:
		return fmt.Errorf("the dual-pixel task has no global residual to drop")
	}
	for i, b := range c.Blocks {
		if b < 0 {
			return fmt.Errorf("level %d: %d blocks", i+1, b)
		}
	}
	for i, h := range c.Heads {
		if w := c.Dim << i; h < 1 || w%h != 0 {
			return fmt.Errorf("level %d: %d heads for %d channels", i+1, h, w)
		}
	}
	if c.Dim*2%c.Heads[0] != 0 {
		return fmt.Errorf("decoder level 1: %d heads for %d channels", c.Heads[0], c.Dim*2)
	}
	return nil
}

// Restormer is the Restormer backbone as MiOIR uses it (BasicSR's
// restormer_arch, classes Restormer, Restormer_EP and Restormer_AP, which
// share every backbone key): a four-level U-Net of transformer blocks
// (blocks.TransformerBlock: MDTA and GDFN) on feature maps.
//
//	e1 = enc1(patch_embed(x))                      Dim channels, H x W
//	e2 = enc2(down1_2(e1)); e3 = enc3(down2_3(e2)) 2*Dim, H/2; 4*Dim, H/4
//	l  = latent(down3_4(e3))                       8*Dim, H/8    modulation "latent"
//	d3 = dec3(reduce3(cat(up4_3(l), e3)))          4*Dim         modulation "decoder_level3"
//	d2 = dec2(reduce2(cat(up3_2(d3), e2)))         2*Dim         modulation "decoder_level2"
//	d1 = dec1(cat(up2_1(d2), e1))                  2*Dim, H x W  modulation "decoder_level1"
//	r  = refinement(d1)                                          modulation "refinement"
//	y  = output(r)                                 OutChannels   modulation "out"
//	return y + x
//
// H and W must be multiples of 8 (three 2x downsamplings): Forward
// reflect-pads other sizes at the bottom and right and crops the output.
// The reference test procedure pads every image to a multiple of 64 instead
// (RestormerConfig.Pad), which changes the values near the border: to reproduce
// its numbers, pad so before Forward (and, for AP, compute the
// prompt from the padded image), as mioir's Restore does.
type Restormer struct {
	Config     RestormerConfig
	PatchEmbed *blocks.OverlapPatchEmbed
	// Encoder holds encoder levels 1-3 (encoder_level1..3), Down the
	// downsamplers after them (down1_2, down2_3, down3_4).
	Encoder [3]layers.Sequential
	Down    [3]*blocks.ShuffleDown
	Latent  layers.Sequential
	// Up holds up4_3, up3_2, up2_1; Reduce reduce_chan_level3 and
	// reduce_chan_level2; Decoder decoder_level3, decoder_level2,
	// decoder_level1 (in forward order).
	Up         [3]*blocks.ShuffleUp
	Reduce     [2]*layers.Conv2d
	Decoder    [3]layers.Sequential
	Refinement layers.Sequential
	SkipConv   *layers.Conv2d // dual-pixel task only
	Output     *layers.Conv2d

	// ChannelsFirst skips the conversion of the input to channels-last
	// (NHWC) memory, which makes the depthwise convolutions faster on the
	// CPU. The blocks return channels-last maps in any case, so it only
	// changes the layout until the first block; it remains for measurements
	// (paper 256x256 forward, 2 threads: 10.8-11.7 s of CPU time by
	// default, 11.8 s with it). The result is NCHW either way.
	ChannelsFirst bool
}

var _ Backbone = (*Restormer)(nil)

// Modulation point names of Restormer (section 4.3 of the method), in
// forward order.
const (
	RestormerLatent     = "latent"
	RestormerDecoder3   = "decoder_level3"
	RestormerDecoder2   = "decoder_level2"
	RestormerDecoder1   = "decoder_level1"
	RestormerRefinement = "refinement"
	RestormerOut        = "out"
)

const (
	restormerPadMultiple = 64 // the reference test procedure's (and PromptIR's)
	restormerMinMultiple = 8  // the network's: three 2x pixel-unshuffle downsamplings
)

// NewRestormer builds a Restormer initialised from g as the reference does
// (every convolution with PyTorch's default init, in construction order;
// LayerNorms at ones and zeros; temperatures at one); a nil g leaves zeros
// for loading. With the same seed it reproduces the reference's initial
// weights bit for bit; for Restormer_EP/AP build the prompt modules first
// from the same generator (see RestormerConfig.Modulation).
func NewRestormer(g *torch.Generator, cfg RestormerConfig) (*Restormer, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("nets: Restormer: %w", err)
	}
	n := &Restormer{Config: c}
	fail := func(err error) (*Restormer, error) {
		n.Close()
		return nil, fmt.Errorf("nets: Restormer: %w", err)
	}
	stack := func(count int, dim, heads int64) (layers.Sequential, error) {
		return blocks.NewTransformerBlocks(g, count, blocks.TransformerBlockConfig{
			Dim: dim, Heads: heads, FFNExpansion: c.FFNExpansion, Bias: c.Bias, Norm: c.Norm})
	}
	var err error
	if n.PatchEmbed, err = blocks.NewOverlapPatchEmbed(g, c.InChannels, c.Dim, false); err != nil {
		return fail(err)
	}
	for i := range 3 {
		if n.Encoder[i], err = stack(c.Blocks[i], c.Dim<<i, c.Heads[i]); err != nil {
			return fail(err)
		}
		if n.Down[i], err = blocks.NewShuffleDown(g, c.Dim<<i); err != nil {
			return fail(err)
		}
	}
	if n.Latent, err = stack(c.Blocks[3], c.Dim*8, c.Heads[3]); err != nil {
		return fail(err)
	}
	cc := &layers.ConvConfig{NoBias: !c.Bias}
	for i := range 3 {
		// Level 3-i: up from 2^(3-i)*Dim channels.
		w := c.Dim << (3 - i)
		if n.Up[i], err = blocks.NewShuffleUp(g, w); err != nil {
			return fail(err)
		}
		dec := w / 2 // decoder levels 3 and 2: after the 1x1 reduction
		heads := c.Heads[2-i]
		if i < 2 {
			if n.Reduce[i], err = layers.NewConv2d(g, w, w/2, 1, cc); err != nil {
				return fail(err)
			}
		} else {
			dec, heads = w, c.Heads[0] // level 1: the concatenation, 2*Dim
		}
		if n.Decoder[i], err = stack(c.Blocks[2-i], dec, heads); err != nil {
			return fail(err)
		}
	}
	if n.Refinement, err = stack(max(c.RefinementBlocks, 0), c.Dim*2, c.Heads[0]); err != nil {
		return fail(err)
	}
	if c.DualPixelTask {
		if n.SkipConv, err = layers.NewConv2d(g, c.Dim, c.Dim*2, 1, cc); err != nil {
			return fail(err)
		}
	}
	if n.Output, err = layers.NewConv2d(g, c.Dim*2, c.OutChannels, 3, &layers.ConvConfig{Padding: 1, NoBias: !c.Bias}); err != nil {
		return fail(err)
	}
	return n, nil
}

// Visit reports the tensors with the reference names, in its order:
// patch_embed, encoder_level1, down1_2, encoder_level2, down2_3,
// encoder_level3, down3_4, latent, up4_3, reduce_chan_level3,
// decoder_level3, up3_2, reduce_chan_level2, decoder_level2, up2_1,
// decoder_level1, refinement, skip_conv (dual-pixel only), output.
func (n *Restormer) Visit(v layers.Visitor) {
	v.Module("patch_embed", n.PatchEmbed)
	downs := [3]string{"down1_2", "down2_3", "down3_4"}
	for i := range 3 {
		v.Module("encoder_level"+strconv.Itoa(i+1), n.Encoder[i])
		v.Module(downs[i], n.Down[i])
	}
	v.Module("latent", n.Latent)
	ups := [3]string{"up4_3", "up3_2", "up2_1"}
	for i := range 3 {
		v.Module(ups[i], n.Up[i])
		if i < 2 {
			v.Module("reduce_chan_level"+strconv.Itoa(3-i), n.Reduce[i])
		}
		v.Module("decoder_level"+strconv.Itoa(3-i), n.Decoder[i])
	}
	v.Module("refinement", n.Refinement)
	v.Module("skip_conv", n.SkipConv)
	v.Module("output", n.Output)
}

// Modulation lists the points of section 4.3 for this network.
func (n *Restormer) Modulation() Modulation { return n.Config.Modulation() }

// Modulation lists the points of section 4.3 (Restormer_EP/AP), fed by four
// extractors F_ext_net1..4:
//
//	point             channels     extractor   FC keys
//	"latent"          8*Dim        F_ext_net1  prompt_scale1 / prompt_shift1
//	"decoder_level3"  4*Dim        F_ext_net2  prompt_scale2 / prompt_shift2
//	"decoder_level2"  2*Dim        F_ext_net3  prompt_scale3 / prompt_shift3
//	"decoder_level1"  2*Dim        F_ext_net3  prompt_scale4 / prompt_shift4
//	"refinement"      2*Dim        F_ext_net3  prompt_scale5 / prompt_shift5
//	"out"             OutChannels  F_ext_net4  prompt_scaleout / prompt_shiftout
//
// All are channels-first maps. "out" is the output convolution's result,
// before the input is added. It needs no network, so prompt modules can be
// built before the backbone (the reference's construction order, which
// seeded builds follow).
func (c RestormerConfig) Modulation() Modulation {
	c = c.withDefaults()
	m := Modulation{Extractors: []string{"F_ext_net1", "F_ext_net2", "F_ext_net3", "F_ext_net4"}}
	add := func(name, suffix string, ch int64, ext int) {
		m.Points = append(m.Points, ModulationPoint{Name: name, Channels: ch, Layout: ChannelsFirst,
			Extractor: ext, ScaleKey: "prompt_scale" + suffix, ShiftKey: "prompt_shift" + suffix})
	}
	add(RestormerLatent, "1", c.Dim*8, 0)
	add(RestormerDecoder3, "2", c.Dim*4, 1)
	add(RestormerDecoder2, "3", c.Dim*2, 2)
	add(RestormerDecoder1, "4", c.Dim*2, 2)
	add(RestormerRefinement, "5", c.Dim*2, 2)
	add(RestormerOut, "out", c.OutChannels, 3)
	return m
}

// Forward restores x (N, InChannels, H, W), calling hook at every
// modulation point (nil: the plain network). Sizes that are not multiples
// of 8 are reflect-padded at the bottom and right and the output cropped.
// The result is (N, OutChannels, H, W) and belongs to x's scope.
func (n *Restormer) Forward(x *torch.Tensor, hook Hook) *torch.Tensor {
	return padForward(x, restormerMinMultiple, 1, func(x *torch.Tensor) *torch.Tensor { return n.forward(x, hook) })
}

func (n *Restormer) forward(x *torch.Tensor, hook Hook) *torch.Tensor {
	in := x
	if !n.ChannelsFirst {
		in = x.ChannelsLast() // the convolutions keep the layout of their input
	}
	e0 := n.PatchEmbed.Forward(in)
	var enc [3]*torch.Tensor
	t := e0
	for i := range 3 {
		enc[i] = n.Encoder[i].Forward(t)
		t = n.Down[i].Forward(enc[i])
	}
	t = hook.Apply(RestormerLatent, n.Latent.Forward(t))
	points := [3]string{RestormerDecoder3, RestormerDecoder2, RestormerDecoder1}
	for i := range 3 {
		t = torch.Cat([]*torch.Tensor{n.Up[i].Forward(t), enc[2-i]}, 1)
		if i < 2 {
			t = n.Reduce[i].Forward(t)
		}
		t = hook.Apply(points[i], n.Decoder[i].Forward(t))
	}
	t = hook.Apply(RestormerRefinement, n.Refinement.Forward(t))
	if n.Config.DualPixelTask {
		return n.Output.Forward(t.Add(n.SkipConv.Forward(e0))).Contiguous()
	}
	y := hook.Apply(RestormerOut, n.Output.Forward(t))
	if !n.Config.NoGlobalResidual {
		y = y.Add(x)
	}
	return y.Contiguous()
}

// Close frees the parameters.
func (n *Restormer) Close() {
	if n != nil {
		layers.Close(n)
	}
}

// inferRestormer reads Restormer, Restormer_EP and Restormer_AP keys.
func inferRestormer(k *keys.Keys) (Config, error) {
	if !k.Has("patch_embed.proj.weight") || !k.Has("encoder_level1.0.attn.temperature") {
		return nil, fmt.Errorf("%w: Restormer needs patch_embed.proj.weight and encoder_level1.*", keys.ErrNoMatch)
	}
	if k.Has("prompt1.prompt_param") {
		return nil, fmt.Errorf("%w: prompt1.prompt_param is PromptIR's", keys.ErrNoMatch)
	}
	c, err := inferRestormerBody(k)
	if err != nil {
		return nil, err
	}
	if c.RefinementBlocks == 0 {
		c.RefinementBlocks = -1
	}
	c.DualPixelTask = k.Has("skip_conv.weight")
	return c, nil
}

// inferRestormerBody reads what Restormer and PromptIR share: widths, block
// and head counts, the FFN expansion, bias and LayerNorm variant.
func inferRestormerBody(k *keys.Keys) (RestormerConfig, error) {
	r := k.Reader()
	c := RestormerConfig{Dim: r.Dim("patch_embed.proj.weight", 0), InChannels: r.Dim("patch_embed.proj.weight", 1),
		OutChannels: r.Dim("output.weight", 0)}
	lo, hi := 0.0, math.Inf(1)
	var hidden []int64
	for i, l := range []string{"encoder_level1", "encoder_level2", "encoder_level3", "latent"} {
		c.Blocks, c.Heads = append(c.Blocks, r.Count(l+".")), append(c.Heads, r.Dim(l+".0.attn.temperature", 0))
		h := r.Dim(l+".0.ffn.project_out.weight", 1)
		hidden = append(hidden, h)
		d := float64(c.Dim << i)
		lo, hi = max(lo, float64(h)/d), min(hi, float64(h+1)/d)
	}
	if err := r.Err(); err != nil {
		return c, err
	}
	// The FFN expansion: the paper's 2.66 when it gives every level's
	// hidden width, else a value inside the interval they allow.
	fits := func(e float64) bool {
		for i, h := range hidden {
			if blocks.GDFNHidden(c.Dim<<i, e) != h {
				return false
			}
		}
		return true
	}
	switch {
	case fits(blocks.DefaultFFNExpansion):
		c.FFNExpansion = blocks.DefaultFFNExpansion
	case lo < hi && fits((lo+hi)/2):
		c.FFNExpansion = (lo + hi) / 2
	default:
		return c, errors.New("no FFN expansion factor gives the hidden widths of *.ffn.project_out.weight")
	}
	c.RefinementBlocks = len(k.Indices("refinement."))
	// The reference never gives the patch embedding a bias; the output conv
	// has one exactly when the network was built with bias=True.
	c.Bias = k.Has("output.bias")
	if !k.Has("encoder_level1.0.norm1.body.bias") {
		c.Norm = blocks.NormBiasFree
	}
	return c, nil
}
