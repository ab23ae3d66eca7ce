package nets

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// UformerConfig configures a Uformer. Zero fields take the values MiOIR
// trains (section 5.4 of the method, the Uformer-B configuration): 3 image
// channels, embed_dim 32, depths [1,2,8,8,2,8,8,2,1], heads
// [1,2,4,8,16,16,8,4,2], window 8, MLP ratio 4, qkv bias, drop-path rate 0.1,
// img_size 256, token projection "linear", token MLP "leff", shifted windows
// and decoder modulators on.
type UformerConfig struct {
	// InChannels is the channel count of the output image (in_chans, 3).
	InChannels int64
	// DDIn is the channel count of the input image (dd_in, 3). When it is
	// 3 the output is the input plus the network's residual, otherwise the
	// residual alone.
	DDIn int64
	// EmbedDim is the token width of the first level (32); level k has
	// EmbedDim*2^k channels, the bottleneck 16*EmbedDim and the decoder
	// levels 16, 8, 4 and 2 times EmbedDim (after the skip concatenation).
	EmbedDim int64
	// Depths is the number of LeWin blocks of the nine layers: four encoder
	// levels, the bottleneck, four decoder levels. Heads the heads of each.
	Depths []int
	Heads  []int64
	// WindowSize is the attention window (8); odd blocks shift by half of it.
	WindowSize int64
	// MLPRatio sets the LeFF width int(dim*MLPRatio) (4).
	MLPRatio float64
	// NoQKVBias drops the biases of the q and kv projections.
	NoQKVBias bool
	// DropPathRate is the stochastic-depth rate (0.1): the encoder's blocks
	// rise linearly from 0 to it, the bottleneck's take it, and the decoder's
	// take the encoder's rates in reverse (training only, see
	// Uformer.SetTraining). 0 means 0.1; a negative value turns it off.
	DropPathRate float64
	// ImgSize is the training size the reference was built for (256). It
	// only decides, per layer, whether the layer's resolution ImgSize/2^k is
	// at most WindowSize, in which case that layer uses one window of that
	// size and no shift, as the reference does; any input size works.
	ImgSize int64
	// TokenProjection is the attention's projection; only "linear" (the
	// paper's) is supported.
	TokenProjection string
	// TokenMLP is the blocks' feed-forward network; only "leff" (the
	// paper's) is supported.
	TokenMLP string
	// NoShift turns shifted windows off (shift_flag False).
	NoShift bool
	// NoModulator drops the decoder blocks' learned window modulators
	// (modulator False; MiOIR trains with them).
	NoModulator bool
}

func init() {
	mustRegister(Arch{Config: UformerConfig{}, Infer: inferUformer, Recipe: Recipe{
		Optimizer: torch.AdamConfig{Decoupled: true, WeightDecay: 0.02}, EtaMin: 1e-6, Order: curriculum.OrderRJBSNHD()}})
}

// ArchName is "Uformer" (the EP/AP variants included).
func (UformerConfig) ArchName() string { return "Uformer" }

// New builds the network (NewUformer).
func (c UformerConfig) New(g *torch.Generator) (Backbone, error) { return backbone(NewUformer(g, c)) }

// Pad is the reference's hard-coded test padding: reflect to multiples of 16
// windows (128), then to a square (see Uformer.Padding).
func (c UformerConfig) Pad() PadRule {
	return PadRule{Multiple: 16 * c.withDefaults().WindowSize, Square: true}
}

// inferUformer reads Uformer, Uformer_EP and Uformer_AP keys; TokenProjection,
// TokenMLP, ImgSize, DropPathRate and NoShift take the paper's values.
func inferUformer(k *keys.Keys) (Config, error) {
	if !k.Has("input_proj.proj.0.weight") || !k.Has("output_proj.proj.0.weight") {
		return nil, fmt.Errorf("%w: Uformer needs input_proj.proj.0.weight and output_proj.proj.0.weight", keys.ErrNoMatch)
	}
	r := k.Reader()
	c := UformerPaperConfig()
	c.EmbedDim, c.DDIn = r.Dim("input_proj.proj.0.weight", 0), r.Dim("input_proj.proj.0.weight", 1)
	c.InChannels = r.Dim("output_proj.proj.0.weight", 0)
	c.Depths, c.Heads = nil, nil
	for i := range uformerLayers {
		p := "conv.blocks." // the bottleneck, layer 4
		switch {
		case i < 4:
			p = "encoderlayer_" + strconv.Itoa(i) + ".blocks."
		case i > 4:
			p = "decoderlayer_" + strconv.Itoa(i-5) + ".blocks."
		}
		c.Depths, c.Heads = append(c.Depths, r.Count(p)), append(c.Heads, r.Dim(p+"0.attn.relative_position_bias_table", 1))
	}
	first := "encoderlayer_0.blocks.0."
	c.WindowSize = r.Window(first + "attn.relative_position_bias_table")
	c.MLPRatio = float64(r.Dim(first+"mlp.linear1.0.weight", 0)) / float64(c.EmbedDim)
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("Uformer: %w", err)
	}
	c.NoQKVBias = !k.Has(first + "attn.qkv.to_q.bias")
	c.NoModulator = !k.Has("decoderlayer_0.blocks.0.modulator.weight")
	return c, nil
}

// UformerPaperConfig returns the configuration MiOIR trains (Uformer-B) with
// every field set.
func UformerPaperConfig() UformerConfig { return UformerConfig{}.withDefaults() }

func (c UformerConfig) withDefaults() UformerConfig {
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.DDIn == 0 {
		c.DDIn = 3
	}
	if c.EmbedDim == 0 {
		c.EmbedDim = 32
	}
	if c.Depths == nil {
		c.Depths = []int{1, 2, 8, 8, 2, 8, 8, 2, 1}
	}
	if c.Heads == nil {
		c.Heads = []int64{1, 2, 4, 8, 16, 16, 8, 4, 2}
	}
	if c.WindowSize == 0 {
		c.WindowSize = 8
	}
	if c.MLPRatio == 0 {
		c.MLPRatio = 4
	}
	if c.DropPathRate == 0 {
		c.DropPathRate = 0.1
	}
	if c.ImgSize == 0 {
		c.ImgSize = 256
	}
	if c.TokenProjection == "" {
		c.TokenProjection = "linear"
	}
	if c.TokenMLP == "" {
		c.TokenMLP = "leff"
	}
	c.Depths = slices.Clone(c.Depths)
	c.Heads = slices.Clone(c.Heads)
	return c
}

// uformerLayers is the number of LeWin layers of a Uformer.
const uformerLayers = 9

func (c UformerConfig) validate() error {
	switch {
	case c.InChannels < 1 || c.DDIn < 1 || c.EmbedDim < 1 || c.WindowSize < 1 || c.ImgSize < 1 ||
		c.MLPRatio < 0 || c.DropPathRate >= 1:
		return fmt.Errorf("bad size in %+v", c)
	case len(c.Depths) != uformerLayers || len(c.Heads) != uformerLayers:
		return fmt.Errorf("%d depths and %d head counts, want %d of each", len(c.Depths), len(c.Heads), uformerLayers)
	case c.TokenProjection != "linear":
		return fmt.Errorf("token projection %q is not supported (only \"linear\")", c.TokenProjection)
	case c.TokenMLP != "leff":
		return fmt.Errorf("token MLP %q is not supported (only \"leff\")", c.TokenMLP)
	case c.DDIn == 3 && c.InChannels != 3:
		return fmt.Errorf("dd_in 3 adds the input to a %d-channel output", c.InChannels)
	}
	for i, d := range c.Depths {
		if d < 1 || c.Heads[i] < 1 || c.layerDim(i)%c.Heads[i] != 0 {
			return fmt.Errorf("layer %d: depth %d, %d heads for width %d", i, d, c.Heads[i], c.layerDim(i))
		}
	}
	return nil
}

// layerDim is the token width of layer i (0-3 encoder, 4 bottleneck, 5-8
// decoder).
func (c UformerConfig) layerDim(i int) int64 {
	return c.EmbedDim * [uformerLayers]int64{1, 2, 4, 8, 16, 16, 8, 4, 2}[i]
}

// layerScale is the downsampling factor of layer i's token map.
func (c UformerConfig) layerScale(i int) int64 {
	return [uformerLayers]int64{1, 2, 4, 8, 16, 8, 4, 2, 1}[i]
}

// uformerDropPathRates returns the drop-path rate of every block of every
// layer, as the reference computes them: encoder torch.linspace(0, rate,
// sum(encoder depths)) in float32, bottleneck the rate, decoder the encoder's
// list reversed (blocks past its end get 0; the reference fails there).
func uformerDropPathRates(c UformerConfig) [][]float64 {
	rates := make([][]float64, uformerLayers)
	for i, d := range c.Depths {
		rates[i] = make([]float64, d)
	}
	if c.DropPathRate <= 0 {
		return rates
	}
	enc := 0
	for _, d := range c.Depths[:4] {
		enc += d
	}
	lin := make([]float64, enc)
	for i := range lin {
		if enc > 1 {
			lin[i] = float64(float32(c.DropPathRate * float64(i) / float64(enc-1)))
		}
	}
	if enc == 1 {
		lin[0] = 0
	}
	k := 0
	for i := range 4 {
		for j := range rates[i] {
			rates[i][j] = lin[k]
			k++
		}
	}
	for j := range rates[4] {
		rates[4][j] = c.DropPathRate
	}
	rev := slices.Clone(lin)
	slices.Reverse(rev)
	k = 0
	for i := 5; i < uformerLayers; i++ {
		for j := range rates[i] {
			if k < len(rev) {
				rates[i][j] = rev[k]
			}
			k++
		}
	}
	return rates
}

// UformerLayer is one of Uformer's nine layers (BasicUformerLayer): a stack of
// LeWin blocks, even ones on plain windows and odd ones on windows shifted
// by half a window. Names: blocks.N.*.
type UformerLayer struct {
	Blocks []*blocks.LeWinBlock
}

// Visit reports the blocks.
func (l *UformerLayer) Visit(v layers.Visitor) {
	if l == nil {
		return
	}
	for i, b := range l.Blocks {
		v.Module("blocks."+strconv.Itoa(i), b)
	}
}

// Forward applies the blocks to tokens x (B, h*w, C) of an h x w map.
func (l *UformerLayer) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	for _, b := range l.Blocks {
		x = b.Forward(x, h, w)
	}
	return x
}

// Uformer is the Uformer backbone as MiOIR uses it (uformer_arch, classes
// Uformer, Uformer_EP and Uformer_AP, which share every backbone key). With
// E = EmbedDim:
//
//	t0 = encoderlayer_0(input_proj(x))                  E channels, full size
//	tk = encoderlayer_k(dowsample_{k-1}(t_{k-1}))       E*2^k, k = 1..3
//	b  = conv(dowsample_3(t3))                          16E, 1/16 size; modulation "bottleneck"
//	d0 = decoderlayer_0(cat(upsample_0(b), t3))         16E; modulation "decoder0"
//	d1 = decoderlayer_1(cat(upsample_1(d0), t2))        8E;  modulation "decoder1"
//	d2 = decoderlayer_2(cat(upsample_2(d1), t1))        4E;  modulation "decoder2"
//	d3 = decoderlayer_3(cat(upsample_3(d2), t0))        2E;  modulation "decoder3"
//	y  = output_proj(d3)                                modulation "output"
//	return x + y
//
// Every window partition needs the map at 1/16 scale to be a multiple of the
// window, and the reference's reshapes assume square maps, so Forward pads
// the input as the reference test procedure does (see UformerPadding) and
// crops the result. For AP prompts, pad the image first and compute the
// prompt from the padded image (see Uformer.Padding).
type Uformer struct {
	Config     UformerConfig
	InputProj  *blocks.UformerInputProj
	OutputProj *blocks.UformerOutputProj
	Encoder    [4]*UformerLayer
	Downsample [4]*blocks.UformerDownsample
	Bottleneck *UformerLayer
	Upsample   [4]*blocks.UformerUpsample
	Decoder    [4]*UformerLayer

	masks *blocks.MaskCache
}

var _ Backbone = (*Uformer)(nil)

// NewUformer builds a Uformer initialised from g with the reference's
// distributions (convolutions with PyTorch's default; every Linear
// truncated-normal std 0.02 with zero bias; relative position tables
// truncated-normal 0.02; LayerNorms ones and zeros; modulators standard
// normal), not its random stream. A nil g leaves zeros for loading.
func NewUformer(g *torch.Generator, cfg UformerConfig) (*Uformer, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("nets: Uformer: %w", err)
	}
	n := &Uformer{Config: c, masks: &blocks.MaskCache{}}
	fail := func(err error) (*Uformer, error) {
		n.Close()
		return nil, fmt.Errorf("nets: Uformer: %w", err)
	}
	rates := uformerDropPathRates(c)
	layer := func(i int) (*UformerLayer, error) {
		l := &UformerLayer{}
		for j := range c.Depths[i] {
			shift := int64(0)
			if !c.NoShift && j%2 == 1 {
				shift = c.WindowSize / 2
			}
			b, err := blocks.NewLeWinBlock(g, blocks.LeWinBlockConfig{
				Dim: c.layerDim(i), Heads: c.Heads[i], WindowSize: c.WindowSize, Shift: shift,
				MLPRatio: c.MLPRatio, NoQKVBias: c.NoQKVBias, Modulator: i > 4 && !c.NoModulator,
				Resolution: c.ImgSize / c.layerScale(i), Masks: n.masks, DropPath: rates[i][j],
			})
			if err != nil {
				layers.Close(l)
				return nil, fmt.Errorf("layer %d block %d: %w", i, j, err)
			}
			l.Blocks = append(l.Blocks, b)
		}
		return l, nil
	}
	var err error
	// The reference's registration (and state_dict) order.
	if n.InputProj, err = blocks.NewUformerInputProj(g, c.DDIn, c.EmbedDim); err != nil {
		return fail(err)
	}
	if n.OutputProj, err = blocks.NewUformerOutputProj(g, 2*c.EmbedDim, c.InChannels); err != nil {
		return fail(err)
	}
	for k := range 4 {
		if n.Encoder[k], err = layer(k); err != nil {
			return fail(err)
		}
		if n.Downsample[k], err = blocks.NewUformerDownsample(g, c.layerDim(k), 2*c.layerDim(k)); err != nil {
			return fail(err)
		}
	}
	if n.Bottleneck, err = layer(4); err != nil {
		return fail(err)
	}
	for k := range 4 {
		// upsample_k maps the previous layer's width to half the next
		// decoder width; the skip supplies the other half.
		if n.Upsample[k], err = blocks.NewUformerUpsample(g, c.layerDim(4+k), c.layerDim(5+k)/2); err != nil {
			return fail(err)
		}
		if n.Decoder[k], err = layer(5 + k); err != nil {
			return fail(err)
		}
	}
	return n, nil
}

// SetTraining turns stochastic depth on (g drives the per-sample draws) or
// off (nil). Even when on, it only acts on forward passes whose scope is in
// Grad mode.
func (n *Uformer) SetTraining(g *torch.Generator) {
	for _, l := range n.layers() {
		for _, b := range l.Blocks {
			b.Rand = g
		}
	}
}

// layers returns the nine LeWin layers in order.
func (n *Uformer) layers() []*UformerLayer {
	return []*UformerLayer{n.Encoder[0], n.Encoder[1], n.Encoder[2], n.Encoder[3], n.Bottleneck,
		n.Decoder[0], n.Decoder[1], n.Decoder[2], n.Decoder[3]}
}

// Visit reports the tensors with the reference names, in its order:
// input_proj.proj.0, output_proj.proj.0, encoderlayer_k and dowsample_k
// (k = 0..3), conv (the bottleneck), upsample_k and decoderlayer_k.
func (n *Uformer) Visit(v layers.Visitor) {
	v.Module("input_proj", n.InputProj)
	v.Module("output_proj", n.OutputProj)
	for k := range 4 {
		v.Module("encoderlayer_"+strconv.Itoa(k), n.Encoder[k])
		v.Module("dowsample_"+strconv.Itoa(k), n.Downsample[k])
	}
	v.Module("conv", n.Bottleneck)
	for k := range 4 {
		v.Module("upsample_"+strconv.Itoa(k), n.Upsample[k])
		v.Module("decoderlayer_"+strconv.Itoa(k), n.Decoder[k])
	}
}

// Modulation point names of Uformer, besides "decoderN" (after decoder layer
// N, on tokens).
const (
	UformerBottleneck = "bottleneck"
	UformerOutput     = "output"
)

// UformerDecoderPoint is the name of the modulation point after decoder
// layer k (0..3).
func UformerDecoderPoint(k int) string { return "decoder" + strconv.Itoa(k) }

// Modulation lists the points of section 4.3 (Uformer_EP/AP), fed by five
// extractors F_ext_net1..F_ext_net5: after the bottleneck ("bottleneck",
// tokens, 16E channels, FC keys prompt_scale0/prompt_shift0, extractor 1),
// after each decoder layer k ("decoderK", tokens, 16E/8E/4E/2E channels,
// prompt_scale{k+1}, extractor 1, 2, 3, 4 for k = 0..3), and after the output
// projection ("output", the image residual, InChannels, prompt_scale5,
// extractor 5), before the input is added.
func (n *Uformer) Modulation() Modulation { return n.Config.withDefaults().Modulation() }

// Modulation is Uformer.Modulation without a network, so prompt modules can be
// built first, as the reference constructs them. (The reference then redraws
// its FC pairs, like every Linear, truncated-normal std 0.02 with zero bias;
// blocks.TruncNormalLinears does that to a seeded prompt.Modulator's
// Scale and Shift layers.)
func (c UformerConfig) Modulation() Modulation {
	c = c.withDefaults()
	m := Modulation{Extractors: []string{"F_ext_net1", "F_ext_net2", "F_ext_net3", "F_ext_net4", "F_ext_net5"}}
	add := func(name string, ch int64, layout Layout, ext, key int) {
		k := strconv.Itoa(key)
		m.Points = append(m.Points, ModulationPoint{Name: name, Channels: ch, Layout: layout, Extractor: ext,
			ScaleKey: "prompt_scale" + k, ShiftKey: "prompt_shift" + k})
	}
	add(UformerBottleneck, c.layerDim(4), ChannelsLast, 0, 0)
	for k := range 4 {
		add(UformerDecoderPoint(k), c.layerDim(5+k), ChannelsLast, k, k+1)
	}
	add(UformerOutput, c.InChannels, ChannelsFirst, 4, 5)
	return m
}

// UformerPadding is the reference test-time padding of a Uformer input of
// H x W: first reflect-pad the bottom and right to multiples of
// UformerConfig.Pad, 128 (Bottom, Right), then reflect-pad the shorter side
// symmetrically to a square (Top = BottomSq on the height, or Left = RightSq on the width).
// Crop undoes both.
type UformerPadding struct {
	H, W          int64 // the original size
	Bottom, Right int64 // step 1: to multiples of the pad multiple
	Top, BottomSq int64 // step 2 when the padded width is larger
	Left, RightSq int64 // step 2 when the padded height is larger
	Side          int64 // the padded (square) side
}

// None reports whether the input needs no padding.
func (p UformerPadding) None() bool {
	return p.Bottom == 0 && p.Right == 0 && p.Top == 0 && p.BottomSq == 0 && p.Left == 0 && p.RightSq == 0
}

// Pad applies the padding to x (N, C, H, W). The result belongs to x's scope.
func (p UformerPadding) Pad(x *torch.Tensor) *torch.Tensor {
	if p.Bottom > 0 || p.Right > 0 {
		x = x.Pad([]int64{0, p.Right, 0, p.Bottom}, torch.PadReflect, 0)
	}
	if p.Top > 0 || p.BottomSq > 0 || p.Left > 0 || p.RightSq > 0 {
		x = x.Pad([]int64{p.Left, p.RightSq, p.Top, p.BottomSq}, torch.PadReflect, 0)
	}
	return x
}

// Crop cuts the original H x W region out of a padded-size result y.
func (p UformerPadding) Crop(y *torch.Tensor) *torch.Tensor {
	if p.None() {
		return y
	}
	return y.Narrow(2, p.Top, p.H).Narrow(3, p.Left, p.W)
}

// Padding returns the reference's test-time padding for an h x w input, or an
// error when PyTorch's reflect padding cannot make it (each pad must be
// smaller than the side it extends: with the multiple 128, a side of 64
// pixels or fewer, or padded sides of which one is at least three times the
// other), the sizes the reference cannot restore.
func (n *Uformer) Padding(h, w int64) (UformerPadding, error) {
	m := n.Config.Pad().Multiple
	p := UformerPadding{H: h, W: w}
	if h < 1 || w < 1 {
		return p, fmt.Errorf("nets: Uformer: empty input %dx%d", h, w)
	}
	p.Bottom, p.Right = (m-h%m)%m, (m-w%m)%m
	if p.Bottom >= h || p.Right >= w {
		return p, fmt.Errorf("nets: Uformer: a %dx%d input cannot be reflect-padded to %dx%d (multiples of %d): "+
			"each pad must be smaller than the side it extends", h, w, h+p.Bottom, w+p.Right, m)
	}
	hp, wp := h+p.Bottom, w+p.Right
	switch {
	case wp > hp:
		p.Top = (wp - hp) / 2
		p.BottomSq = p.Top
		if p.Top >= hp {
			return p, fmt.Errorf("nets: Uformer: a %dx%d input (%dx%d after padding to multiples of %d) cannot be "+
				"reflect-padded to a square: %d rows on each side must be fewer than its %d rows", h, w, hp, wp, m, p.Top, hp)
		}
	case hp > wp:
		p.Left = (hp - wp) / 2
		p.RightSq = p.Left
		if p.Left >= wp {
			return p, fmt.Errorf("nets: Uformer: a %dx%d input (%dx%d after padding to multiples of %d) cannot be "+
				"reflect-padded to a square: %d columns on each side must be fewer than its %d columns", h, w, hp, wp, m, p.Left, wp)
		}
	}
	p.Side = max(hp, wp)
	return p, nil
}

// Forward restores x (N, DDIn, H, W), calling hook at every modulation point
// (nil: the plain network). An input that is not a square with sides a
// multiple of the Pad multiple is padded as Padding says and the result cropped;
// for a size Padding refuses, the result carries the padding's error (call
// Padding for a descriptive one). The result is (N, InChannels, H, W) and
// belongs to x's scope.
func (n *Uformer) Forward(x *torch.Tensor, hook Hook) *torch.Tensor {
	if x.Err() != nil || x.Dim() != 4 {
		return x.Reshape(-1, n.Config.DDIn, 0, 0) // carries x's error, or a shape error
	}
	p, err := n.Padding(x.Size(2), x.Size(3))
	if err != nil {
		if p.H < 1 || p.W < 1 {
			return x.Mul(nil) // the binding cannot build an errored tensor from a Go error
		}
		// The padding that fails, so that the result carries libtorch's
		// error.
		return p.Pad(x)
	}
	if p.None() {
		return n.forward(x, hook)
	}
	return p.Crop(n.forward(p.Pad(x), hook))
}

// forward runs the network on a square input whose side is a multiple of
// the Pad multiple.
func (n *Uformer) forward(x *torch.Tensor, hook Hook) *torch.Tensor {
	s := x.Size(2)
	var skips [4]*torch.Tensor
	t := n.InputProj.Forward(x)
	for k := range 4 {
		side := s >> k
		skips[k] = n.Encoder[k].Forward(t, side, side)
		t = n.Downsample[k].Forward(skips[k], side, side)
	}
	side := s >> 4
	t = hook.Apply(UformerBottleneck, n.Bottleneck.Forward(t, side, side))
	for k := range 4 {
		up := n.Upsample[k].Forward(t, side, side)
		side *= 2
		t = torch.Cat([]*torch.Tensor{up, skips[3-k]}, -1)
		t = hook.Apply(UformerDecoderPoint(k), n.Decoder[k].Forward(t, side, side))
	}
	y := hook.Apply(UformerOutput, n.OutputProj.Forward(t, s, s))
	if n.Config.DDIn == 3 {
		return x.Add(y)
	}
	return y
}

// Close frees the parameters and the cached attention masks.
func (n *Uformer) Close() {
	if n == nil {
		return
	}
	layers.Close(n)
	if n.masks != nil {
		n.masks.Close()
	}
}
