package blocks

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// Restormer's building blocks (Zamir et al., "Restormer: Efficient
// Transformer for High-Resolution Image Restoration"), as MiOIR's
// restormer_arch and PromptIR use them. They work on (N, C, H, W) feature
// maps and carry the reference's state_dict names.

// NormType selects the variant of Restormer's channel LayerNorm.
type NormType int

const (
	// NormWithBias normalises to zero mean and unit variance, then applies
	// a weight and a bias (the paper's "WithBias", the default).
	NormWithBias NormType = iota
	// NormBiasFree divides by the standard deviation without subtracting
	// the mean and applies a weight only ("BiasFree").
	NormBiasFree
)

// ParseNormType reads the reference's LayerNorm_type string: "WithBias"
// (or "") and "BiasFree". The reference takes any string other than
// "BiasFree" as WithBias; an unknown string is refused here, being more
// likely a typo than a choice.
func ParseNormType(s string) (NormType, error) {
	switch s {
	case "", "WithBias":
		return NormWithBias, nil
	case "BiasFree":
		return NormBiasFree, nil
	}
	return 0, fmt.Errorf("blocks: LayerNorm type %q is not \"WithBias\" or \"BiasFree\"", s)
}

// String returns "WithBias" or "BiasFree".
func (t NormType) String() string {
	if t == NormBiasFree {
		return "BiasFree"
	}
	return "WithBias"
}

// RestormerEps is the variance epsilon of Restormer's LayerNorm.
const RestormerEps = 1e-5

// ChannelNorm is Restormer's LayerNorm: at each pixel of an (N, C, H, W)
// map, the C channel values are normalised with their mean and their biased
// variance (unbiased=False, eps 1e-5 inside the square root), then scaled by
// Weight (C) and shifted by Bias (C, WithBias only): (x - mean) /
// sqrt(var + eps) * weight + bias. BiasFree does not subtract the mean:
// x / sqrt(var + eps) * weight.
//
// WithBias runs libtorch's fused layer_norm on a channels-last view of x
// (one pass instead of six; the same formula, equal to rounding, and the
// result is channels-last in memory); Explicit evaluates the reference's
// expression step by step on the channel dimension instead. BiasFree is
// always evaluated step by step.
//
// Names: body.weight, body.bias (the reference wraps the norm in a module
// called body).
type ChannelNorm struct {
	Weight, Bias *torch.Tensor
	Type         NormType
	Eps          float64
	// Explicit selects the step-by-step evaluation for WithBias.
	Explicit bool
}

// NewChannelNorm returns a ChannelNorm over dim channels, weight ones and
// bias zeros (as the reference initialises them).
func NewChannelNorm(dim int64, typ NormType) (*ChannelNorm, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("blocks: new channel norm: %d channels", dim)
	}
	w, err := layers.FillParam(1, dim)
	if err != nil {
		return nil, initErr("channel norm", err)
	}
	n := &ChannelNorm{Weight: w, Type: typ, Eps: RestormerEps}
	if typ == NormWithBias {
		if n.Bias, err = layers.NewParam(dim); err != nil {
			w.Close()
			return nil, initErr("channel norm", err)
		}
	}
	return n, nil
}

// Visit reports body.weight and body.bias.
func (n *ChannelNorm) Visit(v layers.Visitor) {
	if n == nil {
		return
	}
	v.Param("body.weight", &n.Weight)
	v.Param("body.bias", &n.Bias)
}

// Forward normalises x (N, C, H, W) over its channels.
func (n *ChannelNorm) Forward(x *torch.Tensor) *torch.Tensor {
	c := x.Size(1)
	if n.Type == NormWithBias && !n.Explicit {
		// (N, H, W, C) is a view of a channels-last x (layer_norm copies an
		// NCHW one first); the result goes back to (N, C, H, W) as a view.
		return x.Permute(0, 2, 3, 1).LayerNorm([]int64{c}, n.Weight, n.Bias, n.Eps).Permute(0, 3, 1, 2)
	}
	sd := x.Var(false, true, 1).AddScalar(n.Eps).Sqrt()
	// The (C, 1, 1) views of the parameters belong to no scope (their only
	// input is a parameter): close them here; the results keep the data.
	w := n.Weight.Reshape(c, 1, 1)
	defer w.Close()
	if n.Type == NormBiasFree {
		return x.Div(sd).Mul(w)
	}
	b := n.Bias.Reshape(c, 1, 1)
	defer b.Close()
	return x.Sub(x.Mean(true, 1)).Div(sd).Mul(w).Add(b)
}

// Close frees the tensors.
func (n *ChannelNorm) Close() { layers.Close(n) }

// MDTA is Restormer's multi-Dconv head transposed attention: a 1x1
// convolution to 3C channels (qkv) and a 3x3 depthwise convolution
// (qkv_dwconv) give q, k and v; per head, q and k (C/heads channels of H*W
// values) are L2-normalised along the spatial dimension (eps 1e-12), the
// (C/heads) x (C/heads) attention q k^T is multiplied by the head's learnable
// temperature, soft-maxed over the key channels and applied to v; a 1x1
// convolution (project_out) ends it. The cost is linear in H*W.
//
// Names: temperature (heads, 1, 1), qkv.weight (3C, C, 1, 1),
// qkv_dwconv.weight (3C, 1, 3, 3), project_out.weight (C, C, 1, 1), and
// their biases when built with one.
type MDTA struct {
	Temperature          *torch.Tensor
	QKV, QKVDWConv, Proj *layers.Conv2d
	Heads                int64
}

// NewMDTA returns the attention of a dim-channel map with heads heads (dim
// must be divisible by heads), its convolutions initialised from g as
// PyTorch does by default in the reference's order (qkv, qkv_dwconv,
// project_out), the temperature at one. bias adds a bias to every
// convolution (Restormer: none).
func NewMDTA(g *torch.Generator, dim, heads int64, bias bool) (*MDTA, error) {
	if dim <= 0 || heads <= 0 || dim%heads != 0 {
		return nil, fmt.Errorf("blocks: new MDTA: %d channels for %d heads", dim, heads)
	}
	a := &MDTA{Heads: heads}
	var err error
	if a.Temperature, err = layers.FillParam(1, heads, 1, 1); err != nil {
		return nil, initErr("MDTA", err)
	}
	cc := &layers.ConvConfig{NoBias: !bias}
	if a.QKV, err = layers.NewConv2d(g, dim, 3*dim, 1, cc); err == nil {
		if a.QKVDWConv, err = layers.NewConv2d(g, 3*dim, 3*dim, 3, &layers.ConvConfig{Padding: 1, Groups: 3 * dim, NoBias: !bias}); err == nil {
			a.Proj, err = layers.NewConv2d(g, dim, dim, 1, cc)
		}
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Visit reports temperature, qkv, qkv_dwconv and project_out.
func (a *MDTA) Visit(v layers.Visitor) {
	if a == nil {
		return
	}
	v.Param("temperature", &a.Temperature)
	v.Module("qkv", a.QKV)
	v.Module("qkv_dwconv", a.QKVDWConv)
	v.Module("project_out", a.Proj)
}

// Forward attends over the channels of x (N, C, H, W).
//
// It works on the token view (N, H*W, 3C) of the qkv map, which is free
// when the map is channels-last in memory (as in Restormer's forward pass)
// and one copy otherwise: q^T k and v attn^T are then matrix products of
// strided views, with no per-head copies of q, k and v, and the result
// comes out channels-last.
func (a *MDTA) Forward(x *torch.Tensor) *torch.Tensor {
	n, c, h, w := x.Size(0), x.Size(1), x.Size(2), x.Size(3)
	heads := a.Heads
	d := c / heads
	t := a.QKVDWConv.Forward(a.QKV.Forward(x)).Permute(0, 2, 3, 1).Reshape(n, h*w, 3*c)
	part := func(i int64) *torch.Tensor { return t.Narrow(2, i*c, c).Reshape(n, h*w, heads, d) }
	// (N, HW, heads, d), normalised along HW.
	q := part(0).Normalize(2, 1, 1e-12)
	k := part(1).Normalize(2, 1, 1e-12)
	// attn = q^T k per head: (N, heads, d, HW) x (N, heads, HW, d).
	attn := q.Permute(0, 2, 3, 1).Matmul(k.Permute(0, 2, 1, 3)).Mul(a.Temperature).Softmax(-1)
	// out^T = v attn^T: (N, heads, HW, d), then back to channels.
	o := part(2).Permute(0, 2, 1, 3).Matmul(attn.Transpose(-2, -1))
	o = o.Permute(0, 2, 1, 3).Reshape(n, h, w, c).Permute(0, 3, 1, 2)
	return a.Proj.Forward(o)
}

// Close frees the tensors.
func (a *MDTA) Close() { layers.Close(a) }

// DefaultFFNExpansion is Restormer's ffn_expansion_factor.
const DefaultFFNExpansion = 2.66

// GDFNHidden is the hidden width of a GDFN: int(dim*expansion), computed in
// float64 and truncated as Python's int() does (127, 255, 510 and 1021 for
// 48, 96, 192 and 384 channels at 2.66).
func GDFNHidden(dim int64, expansion float64) int64 {
	return int64(float64(dim) * expansion)
}

// GDFN is Restormer's gated-Dconv feed-forward network: a 1x1 convolution
// (project_in) to 2*hidden channels, a 3x3 depthwise convolution (dwconv),
// a split into halves x1, x2, the gate GELU(x1) * x2 (exact erf GELU), and a
// 1x1 convolution (project_out) back to dim channels.
//
// Names: project_in.weight (2h, C, 1, 1), dwconv.weight (2h, 1, 3, 3),
// project_out.weight (C, h, 1, 1), and their biases when built with one.
type GDFN struct {
	ProjectIn, DWConv, ProjectOut *layers.Conv2d
}

// NewGDFN returns a GDFN of dim channels with hidden width
// GDFNHidden(dim, expansion) (expansion 0 means 2.66), initialised from g as
// PyTorch does by default in the reference's order. bias adds a bias to
// every convolution (Restormer: none).
func NewGDFN(g *torch.Generator, dim int64, expansion float64, bias bool) (*GDFN, error) {
	if expansion == 0 {
		expansion = DefaultFFNExpansion
	}
	hid := GDFNHidden(dim, expansion)
	if dim <= 0 || hid <= 0 {
		return nil, fmt.Errorf("blocks: new GDFN: %d channels, expansion %g", dim, expansion)
	}
	f := &GDFN{}
	var err error
	if f.ProjectIn, err = layers.NewConv2d(g, dim, 2*hid, 1, &layers.ConvConfig{NoBias: !bias}); err == nil {
		if f.DWConv, err = layers.NewConv2d(g, 2*hid, 2*hid, 3, &layers.ConvConfig{Padding: 1, Groups: 2 * hid, NoBias: !bias}); err == nil {
			f.ProjectOut, err = layers.NewConv2d(g, hid, dim, 1, &layers.ConvConfig{NoBias: !bias})
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Visit reports project_in, dwconv and project_out.
func (f *GDFN) Visit(v layers.Visitor) {
	if f == nil {
		return
	}
	v.Module("project_in", f.ProjectIn)
	v.Module("dwconv", f.DWConv)
	v.Module("project_out", f.ProjectOut)
}

// Forward applies the network to x (N, C, H, W).
func (f *GDFN) Forward(x *torch.Tensor) *torch.Tensor {
	parts := f.DWConv.Forward(f.ProjectIn.Forward(x)).Chunk(2, 1)
	if len(parts) != 2 {
		return parts[0]
	}
	return f.ProjectOut.Forward(parts[0].GELU().Mul(parts[1]))
}

// Close frees the tensors.
func (f *GDFN) Close() { layers.Close(f) }

// TransformerBlockConfig describes one Restormer transformer block.
type TransformerBlockConfig struct {
	Dim, Heads int64
	// FFNExpansion is the GDFN's expansion factor (0 means 2.66).
	FFNExpansion float64
	// Bias adds a bias to every convolution (Restormer: false).
	Bias bool
	// Norm is the LayerNorm variant (zero: WithBias).
	Norm NormType
}

// TransformerBlock is Restormer's transformer block on a feature map:
// x + MDTA(LN(x)), then x + GDFN(LN(x)).
//
// Names: norm1.body.*, attn.*, norm2.body.*, ffn.*.
type TransformerBlock struct {
	Norm1 *ChannelNorm
	Attn  *MDTA
	Norm2 *ChannelNorm
	FFN   *GDFN
}

// NewTransformerBlock builds a block initialised from g in the reference's
// order (norms at ones and zeros; convolutions with PyTorch's default).
// A nil g leaves the convolutions at zero, for loading.
func NewTransformerBlock(g *torch.Generator, c TransformerBlockConfig) (*TransformerBlock, error) {
	b := &TransformerBlock{}
	var err error
	if b.Norm1, err = NewChannelNorm(c.Dim, c.Norm); err == nil {
		if b.Attn, err = NewMDTA(g, c.Dim, c.Heads, c.Bias); err == nil {
			if b.Norm2, err = NewChannelNorm(c.Dim, c.Norm); err == nil {
				b.FFN, err = NewGDFN(g, c.Dim, c.FFNExpansion, c.Bias)
			}
		}
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Visit reports norm1, attn, norm2 and ffn.
func (b *TransformerBlock) Visit(v layers.Visitor) {
	if b == nil {
		return
	}
	v.Module("norm1", b.Norm1)
	v.Module("attn", b.Attn)
	v.Module("norm2", b.Norm2)
	v.Module("ffn", b.FFN)
}

// Forward applies the block to x (N, C, H, W). The result belongs to x's
// scope; the intermediates are freed before it returns (see layers.Step).
func (b *TransformerBlock) Forward(x *torch.Tensor) *torch.Tensor {
	return layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		x = x.Add(b.Attn.Forward(b.Norm1.Forward(x)))
		return x.Add(b.FFN.Forward(b.Norm2.Forward(x)))
	})
}

// Close frees the tensors.
func (b *TransformerBlock) Close() { layers.Close(b) }

// NewTransformerBlocks returns n blocks of one configuration, as the
// reference's nn.Sequential of TransformerBlocks (names "0.", "1.", ...).
func NewTransformerBlocks(g *torch.Generator, n int, c TransformerBlockConfig) (layers.Sequential, error) {
	s := make(layers.Sequential, 0, n)
	for range n {
		b, err := NewTransformerBlock(g, c)
		if err != nil {
			s.Close()
			return nil, err
		}
		s = append(s, b)
	}
	return s, nil
}

// OverlapPatchEmbed is Restormer's input embedding: a 3x3 convolution
// (padding 1) from the image channels to the feature width. Names: proj.*.
type OverlapPatchEmbed struct {
	Proj *layers.Conv2d
}

// NewOverlapPatchEmbed returns the embedding from in to dim channels,
// initialised from g (PyTorch's default); bias adds a bias (Restormer:
// none).
func NewOverlapPatchEmbed(g *torch.Generator, in, dim int64, bias bool) (*OverlapPatchEmbed, error) {
	c, err := layers.NewConv2d(g, in, dim, 3, &layers.ConvConfig{Padding: 1, NoBias: !bias})
	if err != nil {
		return nil, err
	}
	return &OverlapPatchEmbed{Proj: c}, nil
}

// Visit reports proj.
func (p *OverlapPatchEmbed) Visit(v layers.Visitor) {
	if p == nil {
		return
	}
	v.Module("proj", p.Proj)
}

// Forward embeds x (N, in, H, W).
func (p *OverlapPatchEmbed) Forward(x *torch.Tensor) *torch.Tensor { return p.Proj.Forward(x) }

// Close frees the tensors.
func (p *OverlapPatchEmbed) Close() { layers.Close(p) }

// ShuffleDown is Restormer's Downsample: a 3x3 convolution (padding 1, no
// bias) from C to C/2 channels, then PixelUnshuffle(2): (N, C, H, W) ->
// (N, 2C, H/2, W/2). H and W must be even. Names: body.0.weight.
type ShuffleDown struct {
	Conv *layers.Conv2d
}

// NewShuffleDown returns the downsampler of a feat-channel map (feat even),
// initialised from g (PyTorch's default).
func NewShuffleDown(g *torch.Generator, feat int64) (*ShuffleDown, error) {
	if feat < 2 || feat%2 != 0 {
		return nil, fmt.Errorf("blocks: new shuffle down: %d channels (want an even count)", feat)
	}
	c, err := layers.NewConv2d(g, feat, feat/2, 3, &layers.ConvConfig{Padding: 1, NoBias: true})
	if err != nil {
		return nil, err
	}
	return &ShuffleDown{Conv: c}, nil
}

// Visit reports body.0 (the reference's nn.Sequential(conv, PixelUnshuffle)).
func (d *ShuffleDown) Visit(v layers.Visitor) {
	if d == nil {
		return
	}
	v.Module("body.0", d.Conv)
}

// Forward halves the resolution of x and doubles its channels.
func (d *ShuffleDown) Forward(x *torch.Tensor) *torch.Tensor {
	return d.Conv.Forward(x).PixelUnshuffle(2)
}

// Close frees the tensors.
func (d *ShuffleDown) Close() { layers.Close(d) }

// ShuffleUp is Restormer's Upsample: a 3x3 convolution (padding 1, no bias)
// from C to 2C channels, then PixelShuffle(2): (N, C, H, W) -> (N, C/2, 2H,
// 2W). Names: body.0.weight.
type ShuffleUp struct {
	Conv *layers.Conv2d
}

// NewShuffleUp returns the upsampler of a feat-channel map (feat even),
// initialised from g (PyTorch's default).
func NewShuffleUp(g *torch.Generator, feat int64) (*ShuffleUp, error) {
	if feat < 2 || feat%2 != 0 {
		return nil, fmt.Errorf("blocks: new shuffle up: %d channels (want an even count)", feat)
	}
	c, err := layers.NewConv2d(g, feat, 2*feat, 3, &layers.ConvConfig{Padding: 1, NoBias: true})
	if err != nil {
		return nil, err
	}
	return &ShuffleUp{Conv: c}, nil
}

// Visit reports body.0 (the reference's nn.Sequential(conv, PixelShuffle)).
func (u *ShuffleUp) Visit(v layers.Visitor) {
	if u == nil {
		return
	}
	v.Module("body.0", u.Conv)
}

// Forward doubles the resolution of x and halves its channels.
func (u *ShuffleUp) Forward(x *torch.Tensor) *torch.Tensor {
	return u.Conv.Forward(x).PixelShuffle(2)
}

// Close frees the tensors.
func (u *ShuffleUp) Close() { layers.Close(u) }
