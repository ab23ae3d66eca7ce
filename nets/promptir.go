package nets

import (
	"fmt"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// PromptIRConfig configures a PromptIR. Zero fields take the paper's values
// (section 5.5 of the method, the official PromptIR: 3 in and out channels,
// width 48, blocks [4, 6, 6, 8], 4 refinement blocks, heads [1, 2, 4, 8],
// FFN expansion 2.66, no convolution bias, WithBias LayerNorm, the prompt
// decoder on; prompts of 5 components, 64/128/320 channels at 64/32/16
// pixels, noise-level blocks with heads[2] heads).
//
// The reference hard-codes the prompt widths and the linear layers' inputs
// 96/192/384, which pins Dim to 48; this port reads the linear inputs from
// the decoder widths (2, 4 and 8 times Dim), so other widths build too.
// The reference's decoder=False cannot run (the latent's 8*Dim channels would
// reach an upsampler built for 4*Dim), so the decoder is always on.
type PromptIRConfig struct {
	// InChannels and OutChannels are the image channels (3); the output
	// adds the input, so they must be equal.
	InChannels, OutChannels int64
	// Dim is the width of the first level (48); the levels have Dim, 2Dim,
	// 4Dim and 8Dim channels.
	Dim int64
	// Blocks is the number of transformer blocks of encoder levels 1-3 and
	// the latent (decoder levels 3-1 mirror encoder levels 3-1).
	Blocks []int
	// RefinementBlocks is the number of blocks after decoder level 1 (4).
	RefinementBlocks int
	// Heads is the number of attention heads per level ([1, 2, 4, 8]).
	Heads []int64
	// FFNExpansion is the GDFN expansion factor (2.66).
	FFNExpansion float64
	// Bias adds a bias to every convolution (false).
	Bias bool
	// Norm is the LayerNorm variant (zero: WithBias).
	Norm blocks.NormType
	// PromptLen is the number of components of each prompt (5).
	PromptLen int64
	// PromptDims are the channels of prompt1, prompt2 and prompt3 (64, 128,
	// 320), added at decoder level 2, decoder level 3 and the latent.
	PromptDims [3]int64
	// PromptSizes are the sides of their learned components (64, 32, 16).
	PromptSizes [3]int64
	// NoiseHeads is the head count of the noise-level blocks (0: Heads[2]).
	NoiseHeads int64
}

func init() {
	mustRegister(Arch{Config: PromptIRConfig{}, Infer: inferPromptIR,
		Recipe: Recipe{Optimizer: torch.AdamConfig{Decoupled: true}, Order: curriculum.OrderRJBSNHD()}})
}

// ArchName is "PromptIR".
func (PromptIRConfig) ArchName() string { return "PromptIR" }

// New builds the network (NewPromptIR).
func (c PromptIRConfig) New(g *torch.Generator) (Backbone, error) { return backbone(NewPromptIR(g, c)) }

// Pad is Restormer's: reflect padding to 64 (bottom and right).
func (PromptIRConfig) Pad() PadRule { return PadRule{Multiple: restormerPadMultiple} }

// inferPromptIR reads PromptIR keys.
func inferPromptIR(k *keys.Keys) (Config, error) {
	if !k.Has("patch_embed.proj.weight") || !k.Has("prompt1.prompt_param") {
		return nil, fmt.Errorf("%w: PromptIR needs patch_embed.proj.weight and prompt1.prompt_param", keys.ErrNoMatch)
	}
	r, err := inferRestormerBody(k)
	if err != nil {
		return nil, err
	}
	c := PromptIRConfig{InChannels: r.InChannels, OutChannels: r.OutChannels, Dim: r.Dim, Blocks: r.Blocks,
		RefinementBlocks: r.RefinementBlocks, Heads: r.Heads, FFNExpansion: r.FFNExpansion, Bias: r.Bias, Norm: r.Norm}
	rd := k.Reader() // promptN.prompt_param: (1, len, dim, size, size)
	for i := range 3 {
		key := fmt.Sprintf("prompt%d.prompt_param", i+1)
		c.PromptDims[i], c.PromptSizes[i] = rd.Dim(key, 2), rd.Dim(key, 4)
	}
	c.PromptLen, c.NoiseHeads = rd.Dim("prompt1.prompt_param", 1), rd.Dim("noise_level1.attn.temperature", 0)
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("PromptIR: %w", err)
	}
	return c, nil
}

// PromptIRPaperConfig returns the paper configuration with every field set.
func PromptIRPaperConfig() PromptIRConfig { return PromptIRConfig{}.withDefaults() }

func (c PromptIRConfig) withDefaults() PromptIRConfig {
	// The Restormer body's defaults (and slice copies) are Restormer's.
	r := RestormerConfig{InChannels: c.InChannels, OutChannels: c.OutChannels, Dim: c.Dim, Blocks: c.Blocks,
		RefinementBlocks: c.RefinementBlocks, Heads: c.Heads, FFNExpansion: c.FFNExpansion}.withDefaults()
	c.InChannels, c.OutChannels, c.Dim, c.Blocks = r.InChannels, r.OutChannels, r.Dim, r.Blocks
	c.RefinementBlocks, c.Heads, c.FFNExpansion = r.RefinementBlocks, r.Heads, r.FFNExpansion
	if c.PromptLen == 0 {
		c.PromptLen = 5
	}
	for i, d := range [3]int64{64, 128, 320} {
		if c.PromptDims[i] == 0 {
			c.PromptDims[i] = d
		}
	}
	for i, s := range [3]int64{64, 32, 16} {
		if c.PromptSizes[i] == 0 {
			c.PromptSizes[i] = s
		}
	}
	if c.NoiseHeads == 0 && len(c.Heads) > 2 {
		c.NoiseHeads = c.Heads[2]
	}
	return c
}

func (c PromptIRConfig) validate() error {
	switch {
	case c.InChannels < 1 || c.Dim < 1 || c.RefinementBlocks < 1 || c.FFNExpansion <= 0 || c.PromptLen < 1:
		return fmt.Errorf("bad size in %+v", c)
	case c.OutChannels != c.InChannels:
		return fmt.Errorf("%d output channels for %d input channels (the output adds the input)", c.OutChannels, c.InChannels)
	case len(c.Blocks) != 4 || len(c.Heads) != 4:
		return fmt.Errorf("%d block counts and %d head counts (want 4 of each)", len(c.Blocks), len(c.Heads))
	}
	for i, b := range c.Blocks {
		w := c.Dim << i
		if b < 1 || c.Heads[i] < 1 || w%c.Heads[i] != 0 {
			return fmt.Errorf("level %d: %d blocks, %d heads for width %d", i+1, b, c.Heads[i], w)
		}
	}
	for i := range 3 {
		w := c.Dim<<(i+1) + c.PromptDims[i]
		if c.PromptDims[i] < 1 || c.PromptSizes[i] < 1 || c.NoiseHeads < 1 || w%c.NoiseHeads != 0 {
			return fmt.Errorf("prompt%d: %d channels at %d pixels, %d noise heads for width %d",
				i+1, c.PromptDims[i], c.PromptSizes[i], c.NoiseHeads, w)
		}
	}
	return nil
}

// PromptIR is the PromptIR backbone (the official PromptIR as MiOIR trains
// it, class PromptIR): a Restormer whose decoder adds learned prompts.
// With E1..E3 the encoder levels, L the latent and P1..P3 the prompt blocks:
//
//	e1 = E1(patch_embed(x)); e2 = E2(down1_2(e1)); e3 = E3(down2_3(e2))
//	l  = L(down3_4(e3))
//	l  = reduce_noise_level3(noise_level3(cat(l, P3(l))))
//	d3 = D3(reduce_chan_level3(cat(up4_3(l), e3)))
//	d3 = reduce_noise_level2(noise_level2(cat(d3, P2(d3))))
//	d2 = D2(reduce_chan_level2(cat(up3_2(d3), e2)))
//	d2 = reduce_noise_level1(noise_level1(cat(d2, P1(d2))))
//	d1 = refinement(D1(cat(up2_1(d2), e1)))
//	return output(d1) + x
//
// The noise-level blocks are Restormer transformer blocks over the
// concatenated channels, the reductions 1x1 convolutions. PromptIR has no
// EP/AP variant in the reference, so it has no modulation points: the hook
// is never called.
//
// Forward pads to multiples of 8 and the reference test procedure to 64
// (PromptIRConfig.Pad), as for Restormer.
type PromptIR struct {
	Config PromptIRConfig

	// The fields are the reference's modules, named after them, in its
	// state_dict order. Prompt1 feeds decoder level 2's noise-level block,
	// Prompt2 decoder level 3's, Prompt3 the latent's.
	PatchEmbed                *blocks.OverlapPatchEmbed
	Prompt1, Prompt2, Prompt3 *blocks.PromptGenBlock
	EncoderLevel1             layers.Sequential
	Down1_2                   *blocks.ShuffleDown
	EncoderLevel2             layers.Sequential
	Down2_3                   *blocks.ShuffleDown
	EncoderLevel3             layers.Sequential
	Down3_4                   *blocks.ShuffleDown
	Latent                    layers.Sequential
	Up4_3                     *blocks.ShuffleUp
	ReduceChanLevel3          *layers.Conv2d
	NoiseLevel3               *blocks.TransformerBlock
	ReduceNoiseLevel3         *layers.Conv2d
	DecoderLevel3             layers.Sequential
	Up3_2                     *blocks.ShuffleUp
	ReduceChanLevel2          *layers.Conv2d
	NoiseLevel2               *blocks.TransformerBlock
	ReduceNoiseLevel2         *layers.Conv2d
	DecoderLevel2             layers.Sequential
	Up2_1                     *blocks.ShuffleUp
	NoiseLevel1               *blocks.TransformerBlock
	ReduceNoiseLevel1         *layers.Conv2d
	DecoderLevel1             layers.Sequential
	Refinement                layers.Sequential
	Output                    *layers.Conv2d
}

var _ Backbone = (*PromptIR)(nil)

// NewPromptIR builds a PromptIR initialised from g in the reference's
// construction order (convolutions and linear layers with PyTorch's default,
// prompt components uniform in [0, 1), LayerNorms ones and zeros,
// temperatures one); a nil g leaves zeros for loading. The draws follow the
// reference's distributions, not its random stream.
func NewPromptIR(g *torch.Generator, cfg PromptIRConfig) (*PromptIR, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("nets: PromptIR: %w", err)
	}
	n := &PromptIR{Config: c}
	var err error
	// step runs one construction step unless an earlier one failed.
	step := func(f func() error) {
		if err == nil {
			err = f()
		}
	}
	stack := func(dst *layers.Sequential, count int, dim, heads int64) {
		step(func() (e error) {
			*dst, e = blocks.NewTransformerBlocks(g, count, n.blockConfig(dim, heads))
			return e
		})
	}
	conv := func(dst **layers.Conv2d, in, out, k int64) {
		step(func() (e error) {
			*dst, e = layers.NewConv2d(g, in, out, k, &layers.ConvConfig{Padding: k / 2, NoBias: !c.Bias})
			return e
		})
	}
	prompt := func(dst **blocks.PromptGenBlock, i int) {
		step(func() (e error) {
			*dst, e = blocks.NewPromptGenBlock(g, blocks.PromptGenConfig{Dim: c.PromptDims[i], Len: c.PromptLen,
				Size: c.PromptSizes[i], LinDim: c.Dim << (i + 1)})
			return e
		})
	}
	noise := func(dst **blocks.TransformerBlock, i int) {
		step(func() (e error) {
			*dst, e = blocks.NewTransformerBlock(g, n.blockConfig(c.Dim<<(i+1)+c.PromptDims[i], c.NoiseHeads))
			return e
		})
	}
	down := func(dst **blocks.ShuffleDown, feat int64) {
		step(func() (e error) { *dst, e = blocks.NewShuffleDown(g, feat); return e })
	}
	up := func(dst **blocks.ShuffleUp, feat int64) {
		step(func() (e error) { *dst, e = blocks.NewShuffleUp(g, feat); return e })
	}
	d := c.Dim
	step(func() (e error) { n.PatchEmbed, e = blocks.NewOverlapPatchEmbed(g, c.InChannels, d, c.Bias); return e })
	prompt(&n.Prompt1, 0)
	prompt(&n.Prompt2, 1)
	prompt(&n.Prompt3, 2)
	stack(&n.EncoderLevel1, c.Blocks[0], d, c.Heads[0])
	down(&n.Down1_2, d)
	stack(&n.EncoderLevel2, c.Blocks[1], 2*d, c.Heads[1])
	down(&n.Down2_3, 2*d)
	stack(&n.EncoderLevel3, c.Blocks[2], 4*d, c.Heads[2])
	down(&n.Down3_4, 4*d)
	stack(&n.Latent, c.Blocks[3], 8*d, c.Heads[3])
	up(&n.Up4_3, 4*d) // after reduce_noise_level3: 4d channels
	conv(&n.ReduceChanLevel3, 2*d+4*d, 4*d, 1)
	noise(&n.NoiseLevel3, 2)
	conv(&n.ReduceNoiseLevel3, 8*d+c.PromptDims[2], 4*d, 1)
	stack(&n.DecoderLevel3, c.Blocks[2], 4*d, c.Heads[2])
	up(&n.Up3_2, 4*d)
	conv(&n.ReduceChanLevel2, 2*d+2*d, 2*d, 1)
	noise(&n.NoiseLevel2, 1)
	conv(&n.ReduceNoiseLevel2, 4*d+c.PromptDims[1], 4*d, 1)
	stack(&n.DecoderLevel2, c.Blocks[1], 2*d, c.Heads[1])
	up(&n.Up2_1, 2*d)
	noise(&n.NoiseLevel1, 0)
	conv(&n.ReduceNoiseLevel1, 2*d+c.PromptDims[0], 2*d, 1)
	stack(&n.DecoderLevel1, c.Blocks[0], 2*d, c.Heads[0])
	stack(&n.Refinement, c.RefinementBlocks, 2*d, c.Heads[0])
	conv(&n.Output, 2*d, c.OutChannels, 3)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("nets: PromptIR: %w", err)
	}
	return n, nil
}

func (n *PromptIR) blockConfig(dim, heads int64) blocks.TransformerBlockConfig {
	c := n.Config
	return blocks.TransformerBlockConfig{Dim: dim, Heads: heads, FFNExpansion: c.FFNExpansion, Bias: c.Bias, Norm: c.Norm}
}

// Visit reports the tensors with the reference names, in its state_dict
// order: patch_embed, prompt1-3, encoder_level1, down1_2, encoder_level2,
// down2_3, encoder_level3, down3_4, latent, up4_3, reduce_chan_level3,
// noise_level3, reduce_noise_level3, decoder_level3, up3_2,
// reduce_chan_level2, noise_level2, reduce_noise_level2, decoder_level2,
// up2_1, noise_level1, reduce_noise_level1, decoder_level1, refinement,
// output.
func (n *PromptIR) Visit(v layers.Visitor) {
	v.Module("patch_embed", n.PatchEmbed)
	v.Module("prompt1", n.Prompt1)
	v.Module("prompt2", n.Prompt2)
	v.Module("prompt3", n.Prompt3)
	v.Module("encoder_level1", n.EncoderLevel1)
	v.Module("down1_2", n.Down1_2)
	v.Module("encoder_level2", n.EncoderLevel2)
	v.Module("down2_3", n.Down2_3)
	v.Module("encoder_level3", n.EncoderLevel3)
	v.Module("down3_4", n.Down3_4)
	v.Module("latent", n.Latent)
	v.Module("up4_3", n.Up4_3)
	v.Module("reduce_chan_level3", n.ReduceChanLevel3)
	v.Module("noise_level3", n.NoiseLevel3)
	v.Module("reduce_noise_level3", n.ReduceNoiseLevel3)
	v.Module("decoder_level3", n.DecoderLevel3)
	v.Module("up3_2", n.Up3_2)
	v.Module("reduce_chan_level2", n.ReduceChanLevel2)
	v.Module("noise_level2", n.NoiseLevel2)
	v.Module("reduce_noise_level2", n.ReduceNoiseLevel2)
	v.Module("decoder_level2", n.DecoderLevel2)
	v.Module("up2_1", n.Up2_1)
	v.Module("noise_level1", n.NoiseLevel1)
	v.Module("reduce_noise_level1", n.ReduceNoiseLevel1)
	v.Module("decoder_level1", n.DecoderLevel1)
	v.Module("refinement", n.Refinement)
	v.Module("output", n.Output)
}

// Modulation is empty: the reference has no prompted (EP/AP) PromptIR.
func (n *PromptIR) Modulation() Modulation { return Modulation{} }

// Forward restores x (N, C, H, W). hook is never called (no modulation
// points). Sides that are not multiples of 8 are reflect-padded at the
// bottom and right and the output cropped back. The result belongs to x's
// scope.
func (n *PromptIR) Forward(x *torch.Tensor, hook Hook) *torch.Tensor {
	return padForward(x, restormerMinMultiple, 1, n.forward)
}

// promptIRPromptStep adds a prompt to f and brings the channels back: reduce(noise(
// cat(f, prompt(f)))). Its intermediates are freed before it returns.
func promptIRPromptStep(f *torch.Tensor, p *blocks.PromptGenBlock, noise *blocks.TransformerBlock, reduce *layers.Conv2d) *torch.Tensor {
	return layers.Step(f, func(f *torch.Tensor) *torch.Tensor {
		return reduce.Forward(noise.Forward(torch.Cat([]*torch.Tensor{f, p.Forward(f)}, 1)))
	})
}

// promptIRUpStep upsamples f, appends the skip feature and reduces the channels
// (reduce may be nil: decoder level 1 has no reduction).
func promptIRUpStep(f, skip *torch.Tensor, up *blocks.ShuffleUp, reduce *layers.Conv2d) *torch.Tensor {
	return layers.Step(f, func(f *torch.Tensor) *torch.Tensor {
		t := torch.Cat([]*torch.Tensor{up.Forward(f), skip}, 1)
		if reduce != nil {
			t = reduce.Forward(t)
		}
		return t
	})
}

func (n *PromptIR) forward(x *torch.Tensor) *torch.Tensor {
	e1 := n.EncoderLevel1.Forward(n.PatchEmbed.Forward(x))
	e2 := n.EncoderLevel2.Forward(n.Down1_2.Forward(e1))
	e3 := n.EncoderLevel3.Forward(n.Down2_3.Forward(e2))
	l := n.Latent.Forward(n.Down3_4.Forward(e3))
	l = promptIRPromptStep(l, n.Prompt3, n.NoiseLevel3, n.ReduceNoiseLevel3)
	d3 := n.DecoderLevel3.Forward(promptIRUpStep(l, e3, n.Up4_3, n.ReduceChanLevel3))
	d3 = promptIRPromptStep(d3, n.Prompt2, n.NoiseLevel2, n.ReduceNoiseLevel2)
	d2 := n.DecoderLevel2.Forward(promptIRUpStep(d3, e2, n.Up3_2, n.ReduceChanLevel2))
	d2 = promptIRPromptStep(d2, n.Prompt1, n.NoiseLevel1, n.ReduceNoiseLevel1)
	d1 := n.DecoderLevel1.Forward(promptIRUpStep(d2, e1, n.Up2_1, nil))
	return n.Output.Forward(n.Refinement.Forward(d1)).Add(x)
}

// Close frees the parameters.
func (n *PromptIR) Close() {
	if n == nil {
		return
	}
	layers.Close(n)
}
