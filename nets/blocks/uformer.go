package blocks

import (
	"fmt"
	"math"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// This file holds the building blocks of Uformer (Wang et al., "Uformer: A
// General U-Shaped Transformer for Image Restoration"), as MiOIR's
// uformer_arch uses them: the LeWin Transformer block (window attention with
// separate q and kv projections, an optional learned window modulator, and
// the locally-enhanced feed-forward network LeFF), and the token-sequence
// input/output projections and down/up-sampling of the U-shaped network.
//
// Uformer keeps its features as token sequences (B, H*W, C); the reference
// recovers the map size as H = W = sqrt(H*W). These layers take the map size
// explicitly instead, so they also work on non-square maps.

// UformerAttention is Uformer's window attention (W-MSA): multi-head
// self-attention within each ws x ws window with a learned relative position
// bias. It computes the same function as WindowAttention, but its projection
// is split as in the reference's LinearProjection: q = to_q(x) (C -> C) and
// (k, v) = to_kv(x) (C -> 2C). The logits are (q*scale) k^T + bias (+ mask),
// the softmax is over keys, and proj maps the heads back to C.
//
// State-dict names: relative_position_bias_table ((2ws-1)^2, heads),
// relative_position_index (ws^2, ws^2) int64 buffer, qkv.to_q.* (C, C),
// qkv.to_kv.* (2C, C), proj.* (C, C).
type UformerAttention struct {
	RelativePositionBiasTable *torch.Tensor
	RelativePositionIndex     *torch.Tensor
	ToQ, ToKV, Proj           *layers.Linear

	Dim, Heads, WindowSize int64
	// Scale multiplies q before q k^T: head_dim^-0.5 unless overridden.
	Scale float64
}

// NewUformerAttention returns the attention of a dim-channel token map with
// heads heads over ws x ws windows (to_q and to_kv with a bias unless
// noQKVBias, the reference's qkv_bias=True), initialised from g as the reference
// network ends up after its _init_weights: bias table truncated-normal (std
// 0.02), every Linear weight truncated-normal (std 0.02) with a zero bias.
// A nil g leaves zeros (for loading).
func NewUformerAttention(g *torch.Generator, dim, heads, ws int64, noQKVBias bool) (*UformerAttention, error) {
	if dim <= 0 || heads <= 0 || dim%heads != 0 || ws < 1 {
		return nil, fmt.Errorf("blocks: new uformer attention: bad geometry dim=%d heads=%d window=%d", dim, heads, ws)
	}
	a := &UformerAttention{Dim: dim, Heads: heads, WindowSize: ws, Scale: 1 / math.Sqrt(float64(dim/heads))}
	var err error
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	span := 2*ws - 1
	if a.RelativePositionBiasTable, err = layers.NewParam(span*span, heads); err != nil {
		return nil, initErr("uformer attention", err)
	}
	if a.RelativePositionIndex, err = relativePositionIndexTensor(nil, int(ws), torch.CPU); err != nil {
		return nil, initErr("uformer attention", err)
	}
	if err = layers.TruncNormal(g, a.RelativePositionBiasTable, 0, 0.02, -2, 2); err != nil {
		return nil, initErr("uformer attention", err)
	}
	if a.ToQ, err = newTruncLinear(g, dim, dim, noQKVBias); err != nil {
		return nil, err
	}
	if a.ToKV, err = newTruncLinear(g, dim, 2*dim, noQKVBias); err != nil {
		return nil, err
	}
	if a.Proj, err = newTruncLinear(g, dim, dim, false); err != nil {
		return nil, err
	}
	return a, nil
}

// newTruncLinear is a Linear with the Uformer/SwinIR initialisation: weight
// truncated-normal std 0.02 in [-2, 2], zero bias (nil g: zeros).
func newTruncLinear(g *torch.Generator, in, out int64, noBias bool) (*layers.Linear, error) {
	l, err := layers.NewLinear(nil, in, out, noBias)
	if err != nil {
		return nil, err
	}
	if err := layers.TruncNormal(g, l.Weight, 0, 0.02, -2, 2); err != nil {
		l.Close()
		return nil, initErr("linear", err)
	}
	return l, nil
}

// Visit reports the bias table, the index buffer, qkv.to_q, qkv.to_kv and
// proj.
func (a *UformerAttention) Visit(v layers.Visitor) {
	if a == nil {
		return
	}
	v.Param("relative_position_bias_table", &a.RelativePositionBiasTable)
	v.Buffer("relative_position_index", &a.RelativePositionIndex)
	v.Module("qkv.to_q", a.ToQ)
	v.Module("qkv.to_kv", a.ToKV)
	v.Module("proj", a.Proj)
}

// Close frees the tensors.
func (a *UformerAttention) Close() { layers.Close(a) }

// RelativePositionBias returns the (heads, N, N) bias added to the logits,
// N = ws*ws, gathered from the table (so it carries the table's gradient).
// The result and its intermediates belong to s.
func (a *UformerAttention) RelativePositionBias(s *torch.Scope) *torch.Tensor {
	return relativePositionBias(s, a.RelativePositionBiasTable, a.RelativePositionIndex, a.WindowSize, a.Heads)
}

// Forward attends within each window of x (B*nW, N, C), N = ws*ws. mask is
// nil for plain windows, or the (nW, N, N) additive mask of shifted windows
// (MaskCache.Get), nW being the number of windows per image. The
// intermediates are freed before it returns.
func (a *UformerAttention) Forward(x, mask *torch.Tensor) *torch.Tensor {
	return layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		bn, n, c := x.Size(0), x.Size(1), x.Size(2)
		h := a.Heads
		q := a.ToQ.Forward(x).Reshape(bn, n, h, c/h).Permute(0, 2, 1, 3).MulScalar(a.Scale)
		kv := a.ToKV.Forward(x).Reshape(bn, n, 2, h, c/h).Permute(2, 0, 3, 1, 4)
		parts := kv.Chunk(2, 0)
		if len(parts) != 2 {
			return parts[0] // Chunk's error
		}
		return attendWindows(q, parts[0].Squeeze(0), parts[1].Squeeze(0), a.RelativePositionBias(x.Scope()), mask, a.Proj)
	})
}

// LeFF is Uformer's locally-enhanced feed-forward network on tokens
// (B, H*W, C): Linear C -> hidden, GELU, the tokens reshaped to an H x W map,
// depthwise 3x3 convolution (with bias, padding 1), GELU, flattened back,
// Linear hidden -> C. GELU is the exact (erf) one.
//
// Names: linear1.0.*, dwconv.0.*, linear2.0.* (each layer sits at index 0 of
// an nn.Sequential in the reference).
type LeFF struct {
	Linear1 *layers.Linear
	DWConv  *layers.Conv2d
	Linear2 *layers.Linear
}

// NewLeFF returns a LeFF from dim to hidden channels and back, initialised as
// the reference network ends up: Linears truncated-normal (std 0.02) with zero
// biases, the depthwise convolution with PyTorch's default. A nil g leaves
// zeros.
func NewLeFF(g *torch.Generator, dim, hidden int64) (*LeFF, error) {
	l := &LeFF{}
	var err error
	if l.Linear1, err = newTruncLinear(g, dim, hidden, false); err != nil {
		return nil, err
	}
	if l.DWConv, err = layers.NewConv2d(g, hidden, hidden, 3, &layers.ConvConfig{Padding: 1, Groups: hidden}); err != nil {
		l.Close()
		return nil, err
	}
	if l.Linear2, err = newTruncLinear(g, hidden, dim, false); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Visit reports linear1.0, dwconv.0 and linear2.0.
func (l *LeFF) Visit(v layers.Visitor) {
	if l == nil {
		return
	}
	v.Module("linear1.0", l.Linear1)
	v.Module("dwconv.0", l.DWConv)
	v.Module("linear2.0", l.Linear2)
}

// Close frees the tensors.
func (l *LeFF) Close() { layers.Close(l) }

// Forward applies the LeFF to tokens x (B, h*w, C) of an h x w map.
func (l *LeFF) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	t := l.Linear1.Forward(x).GELU()
	t = l.DWConv.Forward(PatchUnembed(t, h, w)).GELU()
	return l.Linear2.Forward(TokensFromMap(t))
}

// TokensFromMap turns a feature map (B, C, H, W) into tokens (B, H*W, C), in
// raster order (the inverse of PatchUnembed).
func TokensFromMap(x *torch.Tensor) *torch.Tensor {
	return x.Flatten(2, 3).Transpose(1, 2)
}

// LeWinBlockConfig describes one LeWin Transformer block.
type LeWinBlockConfig struct {
	Dim, Heads, WindowSize int64
	// Shift is the cyclic shift of shifted-window blocks (WindowSize/2 for
	// the odd blocks of a layer), 0 for plain windows.
	Shift int64
	// MLPRatio sets the LeFF's hidden width int(Dim*MLPRatio); 0 means 4.
	MLPRatio float64
	// NoQKVBias drops the biases of to_q and to_kv.
	NoQKVBias bool
	// Modulator adds the learned window modulator: a (WindowSize^2, Dim)
	// embedding added to every window's tokens before the attention
	// (Uformer's decoder blocks).
	Modulator bool
	// Resolution is the side of the token map the reference network was
	// built for (Uformer: img_size / 2^level). As in the reference, a block
	// whose Resolution is not larger than WindowSize uses one window of that
	// size and no shift. 0 ignores it.
	Resolution int64
	// Masks, if set, caches the shifted-window masks; blocks of one network
	// share it. Without it each forward pass computes the mask again.
	Masks *MaskCache
	// DropPath is the stochastic-depth rate of both residual branches
	// (training only; see LeWinBlock.Rand).
	DropPath float64
}

// LeWinBlock is Uformer's LeWin Transformer block on tokens (B, H*W, C):
//
//	x = x + W-MSA(windows(LN(x)) + modulator)    (shifted windows when Shift > 0)
//	x = x + LeFF(LN(x))
//
// The modulator, when present, is added to each window's tokens after the
// cyclic shift and partition, so it enters q, k and v. The shifted-window
// mask is computed for the actual map size (the reference keeps none as a
// buffer).
//
// Names: modulator.weight (if any), norm1.*, attn.*, norm2.*, mlp.*.
type LeWinBlock struct {
	Modulator    *torch.Tensor // (WindowSize^2, Dim) or nil
	Norm1, Norm2 *layers.LayerNorm
	Attn         *UformerAttention
	MLP          *LeFF

	WindowSize, Shift int64
	Masks             *MaskCache

	// DropPath is the stochastic-depth rate: in training, each residual
	// branch is dropped per sample with this probability (and scaled by
	// 1/(1-DropPath) otherwise). It applies only while Rand is set and the
	// input's scope is in Grad mode, so evaluation is deterministic.
	DropPath float64
	Rand     *torch.Generator
}

// NewLeWinBlock builds a block initialised from g as the reference network
// ends up after its _init_weights (Linears truncated-normal 0.02 with zero
// biases, LayerNorms ones and zeros, bias tables truncated-normal 0.02, the
// depthwise convolution with PyTorch's default, the modulator standard
// normal, as nn.Embedding). The draws follow the reference's distributions,
// not its random stream. A nil g leaves zeros (LayerNorms ones) for loading.
func NewLeWinBlock(g *torch.Generator, c LeWinBlockConfig) (*LeWinBlock, error) {
	ws, shift := c.WindowSize, c.Shift
	if c.Resolution > 0 && c.Resolution <= ws {
		ws, shift = c.Resolution, 0
	}
	if ws < 1 || shift < 0 || shift >= ws {
		return nil, fmt.Errorf("blocks: new LeWin block: shift %d outside [0, %d)", shift, ws)
	}
	if c.Modulator && ws != c.WindowSize {
		// The reference sizes the modulator by the configured window and
		// fails at run time when the window shrinks to the resolution.
		return nil, fmt.Errorf("blocks: new LeWin block: a modulator of %d tokens cannot serve %dx%d windows (resolution %d)",
			c.WindowSize*c.WindowSize, ws, ws, c.Resolution)
	}
	if c.DropPath < 0 || c.DropPath >= 1 {
		return nil, fmt.Errorf("blocks: new LeWin block: drop-path rate %g outside [0, 1)", c.DropPath)
	}
	ratio := c.MLPRatio
	if ratio == 0 {
		ratio = 4
	}
	b := &LeWinBlock{WindowSize: ws, Shift: shift, Masks: c.Masks, DropPath: c.DropPath}
	var err error
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if c.Modulator {
		if b.Modulator, err = layers.NewParam(ws*ws, c.Dim); err != nil {
			return nil, initErr("LeWin block", err)
		}
		if g != nil {
			if err = g.Normal(b.Modulator, 0, 1); err != nil {
				return nil, initErr("LeWin block", err)
			}
		}
	}
	if b.Norm1, err = layers.NewLayerNorm(c.Dim, 0, false); err != nil {
		return nil, err
	}
	if b.Attn, err = NewUformerAttention(g, c.Dim, c.Heads, ws, c.NoQKVBias); err != nil {
		return nil, err
	}
	if b.Norm2, err = layers.NewLayerNorm(c.Dim, 0, false); err != nil {
		return nil, err
	}
	if b.MLP, err = NewLeFF(g, c.Dim, int64(float64(c.Dim)*ratio)); err != nil {
		return nil, err
	}
	return b, nil
}

// Visit reports modulator.weight (if any), norm1, attn, norm2 and mlp.
func (b *LeWinBlock) Visit(v layers.Visitor) {
	if b == nil {
		return
	}
	v.Param("modulator.weight", &b.Modulator)
	v.Module("norm1", b.Norm1)
	v.Module("attn", b.Attn)
	v.Module("norm2", b.Norm2)
	v.Module("mlp", b.MLP)
}

// Close frees the tensors (not the shared mask cache).
func (b *LeWinBlock) Close() { layers.Close(b) }

// Forward applies the block to tokens x (B, h*w, C) of an h x w map; h and w
// must be multiples of the window size. The result belongs to x's scope; the
// intermediates are freed before it returns.
func (b *LeWinBlock) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	return layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		n, c := x.Size(0), x.Size(2)
		ws, shift := b.WindowSize, b.Shift
		t := b.Norm1.Forward(x).Reshape(n, h, w, c)
		var mask *torch.Tensor
		if shift > 0 {
			t = t.Roll([]int64{-shift, -shift}, []int64{1, 2})
			var err error
			if b.Masks != nil {
				mask, err = b.Masks.Get(x.Scope(), int(h), int(w), int(ws), int(shift), x.Device())
			} else {
				mask, err = shiftedWindowMaskTensor(x.Scope(), int(h), int(w), int(ws), int(shift), x.Device())
			}
			if err != nil {
				// A geometry the mask refuses also fails the partition,
				// whose error names the shapes; any other failure must not
				// pass as an unmasked attention.
				if p := WindowPartition(t, ws); p.Err() != nil {
					return p
				}
				return x.Mul(nil)
			}
		}
		win := WindowPartition(t, ws)
		if b.Modulator != nil {
			win = win.Add(x.Scope().Use(b.Modulator))
		}
		t = WindowReverse(b.Attn.Forward(win, mask), ws, h, w)
		if shift > 0 {
			t = t.Roll([]int64{shift, shift}, []int64{1, 2})
		}
		x = x.Add(b.dropPath(t.Reshape(n, h*w, c)))
		return x.Add(b.dropPath(b.MLP.Forward(b.Norm2.Forward(x), h, w)))
	})
}

// dropPath applies the block's stochastic depth to a residual branch when
// training.
func (b *LeWinBlock) dropPath(x *torch.Tensor) *torch.Tensor {
	if b.DropPath == 0 || b.Rand == nil {
		return x
	}
	if s := x.Scope(); s == nil || s.Mode() != torch.Grad {
		return x
	}
	return DropPath(x, b.DropPath, b.Rand)
}

// UformerInputProj is Uformer's input projection: a 3x3 convolution
// (padding 1) and LeakyReLU(0.01) on the image (B, C, H, W), flattened to
// tokens (B, H*W, out). Names: proj.0.*.
type UformerInputProj struct {
	Conv *layers.Conv2d
}

// NewUformerInputProj returns the projection from in image channels to out
// token channels, with PyTorch's default initialisation from g.
func NewUformerInputProj(g *torch.Generator, in, out int64) (*UformerInputProj, error) {
	c, err := layers.NewConv2d(g, in, out, 3, &layers.ConvConfig{Padding: 1})
	if err != nil {
		return nil, err
	}
	return &UformerInputProj{Conv: c}, nil
}

// Visit reports proj.0.
func (p *UformerInputProj) Visit(v layers.Visitor) {
	if p == nil {
		return
	}
	v.Module("proj.0", p.Conv)
}

// Close frees the tensors.
func (p *UformerInputProj) Close() { layers.Close(p) }

// Forward maps an image (B, C, H, W) to tokens (B, H*W, out).
func (p *UformerInputProj) Forward(x *torch.Tensor) *torch.Tensor {
	return TokensFromMap(p.Conv.Forward(x).LeakyReLU(0.01))
}

// UformerOutputProj is Uformer's output projection: tokens (B, H*W, C)
// reshaped to a map and a 3x3 convolution (padding 1) to an image
// (B, out, H, W). Names: proj.0.*.
type UformerOutputProj struct {
	Conv *layers.Conv2d
}

// NewUformerOutputProj returns the projection from in token channels to out
// image channels, with PyTorch's default initialisation from g.
func NewUformerOutputProj(g *torch.Generator, in, out int64) (*UformerOutputProj, error) {
	c, err := layers.NewConv2d(g, in, out, 3, &layers.ConvConfig{Padding: 1})
	if err != nil {
		return nil, err
	}
	return &UformerOutputProj{Conv: c}, nil
}

// Visit reports proj.0.
func (p *UformerOutputProj) Visit(v layers.Visitor) {
	if p == nil {
		return
	}
	v.Module("proj.0", p.Conv)
}

// Close frees the tensors.
func (p *UformerOutputProj) Close() { layers.Close(p) }

// Forward maps tokens x (B, h*w, C) of an h x w map to an image (B, out, h, w).
func (p *UformerOutputProj) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	return p.Conv.Forward(PatchUnembed(x, h, w))
}

// UformerDownsample halves a token map: a 4x4 convolution with stride 2 and
// padding 1 on the (B, C, H, W) map, tokens in and out ((B, H*W, in) to
// (B, H/2*W/2, out)). Names: conv.0.* (the reference spells the modules
// "dowsample_N").
type UformerDownsample struct {
	Conv *layers.Conv2d
}

// NewUformerDownsample returns a downsampling from in to out channels, with
// PyTorch's default initialisation from g.
func NewUformerDownsample(g *torch.Generator, in, out int64) (*UformerDownsample, error) {
	c, err := layers.NewConv2d(g, in, out, 4, &layers.ConvConfig{Stride: 2, Padding: 1})
	if err != nil {
		return nil, err
	}
	return &UformerDownsample{Conv: c}, nil
}

// Visit reports conv.0.
func (d *UformerDownsample) Visit(v layers.Visitor) {
	if d == nil {
		return
	}
	v.Module("conv.0", d.Conv)
}

// Close frees the tensors.
func (d *UformerDownsample) Close() { layers.Close(d) }

// Forward downsamples tokens x (B, h*w, C) of an h x w map to tokens of an
// h/2 x w/2 map.
func (d *UformerDownsample) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	return TokensFromMap(d.Conv.Forward(PatchUnembed(x, h, w)))
}

// UformerUpsample doubles a token map: a 2x2 transposed convolution with
// stride 2, tokens in and out ((B, H*W, in) to (B, 2H*2W, out)).
// Names: deconv.0.*.
type UformerUpsample struct {
	Deconv *layers.ConvTranspose2d
}

// NewUformerUpsample returns an upsampling from in to out channels, with
// PyTorch's default initialisation from g.
func NewUformerUpsample(g *torch.Generator, in, out int64) (*UformerUpsample, error) {
	c, err := layers.NewConvTranspose2d(g, in, out, 2, &layers.ConvConfig{Stride: 2})
	if err != nil {
		return nil, err
	}
	return &UformerUpsample{Deconv: c}, nil
}

// Visit reports deconv.0.
func (u *UformerUpsample) Visit(v layers.Visitor) {
	if u == nil {
		return
	}
	v.Module("deconv.0", u.Deconv)
}

// Close frees the tensors.
func (u *UformerUpsample) Close() { layers.Close(u) }

// Forward upsamples tokens x (B, h*w, C) of an h x w map to tokens of a
// 2h x 2w map.
func (u *UformerUpsample) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	return TokensFromMap(u.Deconv.Forward(PatchUnembed(x, h, w)))
}
