package blocks

import (
	"fmt"
	"strconv"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// MLP is the two-layer feed-forward network of a transformer block:
// fc2(GELU(fc1(x))) with the exact (erf) GELU. Names: fc1.*, fc2.*.
type MLP struct {
	FC1, FC2 *layers.Linear
}

// NewMLP returns an MLP from dim to hidden and back to dim, with PyTorch's
// default initialisation from g (nil: zeros).
func NewMLP(g *torch.Generator, dim, hidden int64) (*MLP, error) {
	fc1, err := layers.NewLinear(g, dim, hidden, false)
	if err != nil {
		return nil, err
	}
	fc2, err := layers.NewLinear(g, hidden, dim, false)
	if err != nil {
		fc1.Close()
		return nil, err
	}
	return &MLP{FC1: fc1, FC2: fc2}, nil
}

// Visit reports fc1 and fc2.
func (m *MLP) Visit(v layers.Visitor) {
	if m == nil {
		return
	}
	v.Module("fc1", m.FC1)
	v.Module("fc2", m.FC2)
}

// Forward applies the MLP over the last dimension of x.
func (m *MLP) Forward(x *torch.Tensor) *torch.Tensor {
	return m.FC2.Forward(m.FC1.Forward(x).GELU())
}

// Close frees the tensors.
func (m *MLP) Close() { layers.Close(m) }

// SwinBlockConfig describes one Swin Transformer block.
type SwinBlockConfig struct {
	Dim, Heads, WindowSize int64
	// Shift is the cyclic shift of shifted-window blocks (WindowSize/2 for
	// the odd blocks of a stage), 0 for plain windows.
	Shift int64
	// MLPRatio sets the MLP's hidden width int(Dim*MLPRatio); 0 means 4.
	MLPRatio float64
	// NoQKVBias drops the bias of the qkv projection.
	NoQKVBias bool
	// Resolution is the token-map size (H, W) the reference network was
	// built for (SwinIR: img_size/patch_size). When set, a shifted block
	// keeps the mask of that size as its attn_mask buffer (so strict loading
	// of reference checkpoints finds it), and, as the reference, a block
	// whose Resolution is not larger than WindowSize uses one window of that
	// size without shift. Zero means no buffer: masks are computed for each
	// input size.
	Resolution [2]int64
	// Masks, if set, caches the masks and window-order indices of every
	// size; blocks of one network share it, and their attn_mask buffers
	// share its storage. Without it each forward pass computes them again.
	Masks *MaskCache
	// DropPath is the stochastic-depth rate of both residual branches
	// (training only; see SwinBlock.Rand).
	DropPath float64
}

// SwinBlock is a Swin Transformer block on a token sequence (B, H*W, C):
// x + W-MSA(LN(x)) (shifted windows when Shift > 0), then x + MLP(LN(x)).
//
// Names: attn_mask (shifted blocks with a Resolution: float32 buffer
// (nW, N, N)), norm1.*, attn.*, norm2.*, mlp.*; the mask comes first, as in
// the reference state_dict.
type SwinBlock struct {
	AttnMask     *torch.Tensor
	Norm1, Norm2 *layers.LayerNorm
	Attn         *WindowAttention
	MLP          *MLP

	WindowSize, Shift int64
	Resolution        [2]int64
	Masks             *MaskCache

	// DropPath is the stochastic-depth rate: in training, each residual
	// branch is dropped per sample with this probability (and scaled by
	// 1/(1-DropPath) otherwise). It applies only while Rand is set and the
	// input's scope is in Grad mode, so evaluation is deterministic.
	DropPath float64
	Rand     *torch.Generator
}

// NewSwinBlock builds a block with PyTorch's default initialisation from g
// (the reference SwinIR then redraws every Linear; see TruncNormalLinears).
func NewSwinBlock(g *torch.Generator, c SwinBlockConfig) (*SwinBlock, error) {
	ws, shift := c.WindowSize, c.Shift
	if r := min(c.Resolution[0], c.Resolution[1]); r > 0 && r <= ws {
		ws, shift = r, 0
	}
	if ws < 1 || shift < 0 || shift >= ws {
		return nil, fmt.Errorf("blocks: new swin block: shift %d outside [0, %d)", shift, ws)
	}
	ratio := c.MLPRatio
	if ratio == 0 {
		ratio = 4
	}
	hidden := int64(float64(c.Dim) * ratio)
	if c.DropPath < 0 || c.DropPath >= 1 {
		return nil, fmt.Errorf("blocks: new swin block: drop-path rate %g outside [0, 1)", c.DropPath)
	}
	b := &SwinBlock{WindowSize: ws, Shift: shift, Resolution: c.Resolution, Masks: c.Masks, DropPath: c.DropPath}
	var err error
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if b.Norm1, err = layers.NewLayerNorm(c.Dim, 0, false); err != nil {
		return nil, err
	}
	if b.Attn, err = NewWindowAttention(g, c.Dim, c.Heads, ws, c.NoQKVBias); err != nil {
		return nil, err
	}
	if b.Norm2, err = layers.NewLayerNorm(c.Dim, 0, false); err != nil {
		return nil, err
	}
	if b.MLP, err = NewMLP(g, c.Dim, hidden); err != nil {
		return nil, err
	}
	if shift > 0 && c.Resolution[0] > 0 && c.Resolution[1] > 0 {
		rh, rw := int(c.Resolution[0]), int(c.Resolution[1])
		if c.Masks != nil {
			// A handle of its own on the cache's storage: the blocks of a
			// network share one copy (SwinIR's 18 masks of 128x128 would
			// take 72 MB, more than its weights).
			b.AttnMask, err = c.Masks.Get(nil, rh, rw, int(ws), int(shift), torch.CPU)
		} else {
			b.AttnMask, err = shiftedWindowMaskTensor(nil, rh, rw, int(ws), int(shift), torch.CPU)
		}
		if err != nil {
			return nil, fmt.Errorf("blocks: new swin block: %w", err)
		}
	}
	return b, nil
}

// Visit reports attn_mask (if any), norm1, attn, norm2 and mlp.
func (b *SwinBlock) Visit(v layers.Visitor) {
	if b == nil {
		return
	}
	v.Buffer("attn_mask", &b.AttnMask)
	v.Module("norm1", b.Norm1)
	v.Module("attn", b.Attn)
	v.Module("norm2", b.Norm2)
	v.Module("mlp", b.MLP)
}

// Close frees the tensors (not the shared mask cache).
func (b *SwinBlock) Close() { layers.Close(b) }

// mask returns the shifted-window mask for an h x w map on dev, in s: the
// stored buffer when the size is the block's Resolution (as the reference),
// else a cached or freshly computed one. A nil result with a nil error never
// happens for a shifted block.
func (b *SwinBlock) mask(s *torch.Scope, h, w int64, dev torch.Device) (*torch.Tensor, error) {
	if b.AttnMask != nil && h == b.Resolution[0] && w == b.Resolution[1] && b.AttnMask.Device() == dev {
		return s.Use(b.AttnMask), nil
	}
	if b.Masks != nil {
		return b.Masks.Get(s, int(h), int(w), int(b.WindowSize), int(b.Shift), dev)
	}
	return shiftedWindowMaskTensor(s, int(h), int(w), int(b.WindowSize), int(b.Shift), dev)
}

// Forward applies the block to tokens x (B, h*w, C) of an h x w map; h and w
// must be multiples of the window size. The result belongs to x's scope; the
// intermediates are freed before it returns (see layers.Step).
func (b *SwinBlock) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	return SwinBlocks{b}.Forward(x, h, w)
}

// gather returns the index reordering tokens from the window order of shift
// from to that of shift to (or raster), in s.
func (b *SwinBlock) gather(s *torch.Scope, h, w int64, from, to int, dev torch.Device) (*torch.Tensor, error) {
	if b.Masks != nil {
		return b.Masks.gather(s, int(h), int(w), int(b.WindowSize), from, to, dev)
	}
	return windowGatherTensor(s, int(h), int(w), int(b.WindowSize), from, to, dev)
}

// forwardWindowed is Forward on tokens already in the block's window order
// (windowOrder with the block's WindowSize and Shift): t is (B, h*w, C)
// whose tokens k*N..k*N+N-1 form window k. The result is in the same order.
// The reference's cyclic shift, partition, reverse and shift back are then
// only a reordering, done once by the caller (see SwinBlocks); every
// per-token operation gives the same values in any order.
func (b *SwinBlock) forwardWindowed(t *torch.Tensor, h, w int64) *torch.Tensor {
	if t.Err() != nil {
		return t // see SwinBlocks.Forward
	}
	return layers.Step(t, func(t *torch.Tensor) *torch.Tensor {
		n, c := t.Size(0), t.Size(2)
		var mask *torch.Tensor
		if b.Shift > 0 {
			// A geometry the mask refuses fails the gather before it.
			mask, _ = b.mask(t.Scope(), h, w, t.Device())
		}
		ws := b.WindowSize
		a := b.Attn.Forward(b.Norm1.Forward(t).Reshape(-1, ws*ws, c), mask)
		t = t.Add(b.dropPath(a.Reshape(n, h*w, c)))
		return t.Add(b.dropPath(b.MLP.Forward(b.Norm2.Forward(t))))
	})
}

// SwinBlocks is a sequence of Swin blocks on one token map (a Swin stage,
// SwinIR's residual_group.blocks). Names: 0.*, 1.*, ...
type SwinBlocks []*SwinBlock

// Visit reports each block under its index.
func (bs SwinBlocks) Visit(v layers.Visitor) {
	for i, b := range bs {
		v.Module(strconv.Itoa(i), b)
	}
}

// Close frees the blocks' tensors.
func (bs SwinBlocks) Close() { layers.Close(bs) }

// Forward applies the blocks in turn to tokens x (B, h*w, C) in raster order
// and returns raster-order tokens. Between blocks the tokens stay in window
// order: one gather per block replaces the reference's roll, partition,
// reverse and roll back, with the same values. The intermediates are freed
// before it returns.
func (bs SwinBlocks) Forward(x *torch.Tensor, h, w int64) *torch.Tensor {
	if len(bs) == 0 || x.Err() != nil {
		// An errored input is passed on as it is: it may have lost its
		// scope (Keep clears it), and tensors brought into a nil scope
		// would be nobody's to free.
		return x
	}
	return layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		s, dev := x.Scope(), x.Device()
		t, cur := x, raster
		for i, b := range bs {
			if b.WindowSize != bs[0].WindowSize {
				return bs.forwardRaster(x, h, w) // mixed window sizes: no common order
			}
			if i > 0 && cur == int(b.Shift) {
				t = b.forwardWindowed(t, h, w)
				continue
			}
			idx, err := b.gather(s, h, w, cur, int(b.Shift), dev)
			if err != nil {
				return bs.forwardRaster(x, h, w) // carries the geometry error
			}
			t = b.forwardWindowed(t.IndexSelect(1, idx), h, w)
			cur = int(b.Shift)
		}
		idx, err := bs[len(bs)-1].gather(s, h, w, cur, raster, dev)
		if err != nil {
			return bs.forwardRaster(x, h, w)
		}
		return t.IndexSelect(1, idx)
	})
}

// forwardRaster runs each block with the reference's own sequence of roll,
// partition, attention, reverse and roll back.
func (bs SwinBlocks) forwardRaster(x *torch.Tensor, h, w int64) *torch.Tensor {
	for _, b := range bs {
		x = b.forwardRaster(x, h, w)
	}
	return x
}

func (b *SwinBlock) forwardRaster(x *torch.Tensor, h, w int64) *torch.Tensor {
	n, c := x.Size(0), x.Size(2)
	ws, shift := b.WindowSize, b.Shift
	t := b.Norm1.Forward(x).Reshape(n, h, w, c)
	var mask *torch.Tensor
	if shift > 0 {
		t = t.Roll([]int64{-shift, -shift}, []int64{1, 2})
		// A geometry the mask refuses also fails WindowPartition below,
		// whose error the result then carries.
		mask, _ = b.mask(x.Scope(), h, w, x.Device())
	}
	a := b.Attn.Forward(WindowPartition(t, ws), mask)
	t = WindowReverse(a, ws, h, w)
	if shift > 0 {
		t = t.Roll([]int64{shift, shift}, []int64{1, 2})
	}
	x = x.Add(b.dropPath(t.Reshape(n, h*w, c)))
	return x.Add(b.dropPath(b.MLP.Forward(b.Norm2.Forward(x))))
}

// dropPath applies the block's stochastic depth to a residual branch when
// training.
func (b *SwinBlock) dropPath(x *torch.Tensor) *torch.Tensor {
	if b.DropPath == 0 || b.Rand == nil {
		return x
	}
	if s := x.Scope(); s == nil || s.Mode() != torch.Grad {
		return x
	}
	return DropPath(x, b.DropPath, b.Rand)
}

// DropPath is stochastic depth (timm's drop_path, as SwinIR uses it): each
// sample (first dimension) of the residual branch x is zeroed with
// probability p and the others are divided by 1-p, with a per-sample draw
// floor(1-p + U[0,1)) from g. p = 0 or a nil g returns x. The result belongs
// to x's scope.
func DropPath(x *torch.Tensor, p float64, g *torch.Generator) *torch.Tensor {
	if p == 0 || g == nil || x.Err() != nil {
		return x
	}
	shape := make([]int64, max(x.Dim(), 1))
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = x.Size(0)
	keep := 1 - p
	r, err := g.Rand(x.Scope(), shape, &torch.Options{DType: x.DType(), Device: x.Device()})
	if err != nil {
		return torch.Failed(x.Scope(), err)
	}
	return x.DivScalar(keep).Mul(r.AddScalar(keep).Floor())
}

// TruncNormalLinears redraws every Linear weight of m, a Linear, LayerNorm,
// MLP, WindowAttention or SwinBlock (in state-dict order),
// from a truncated normal of std 0.02 and zeroes its bias, and resets every
// LayerNorm to ones and zeros: the _init_weights of SwinIR and Uformer.
// A nil g does nothing.
func TruncNormalLinears(g *torch.Generator, m layers.Module) error {
	if g == nil {
		return nil
	}
	var err error
	walkLayers(m, func(l any) {
		if err != nil {
			return
		}
		switch l := l.(type) {
		case *layers.Linear:
			if err = layers.TruncNormal(g, l.Weight, 0, 0.02, -2, 2); err == nil && l.Bias != nil {
				err = layers.Fill(l.Bias, 0)
			}
		case *layers.LayerNorm:
			if err = layers.Fill(l.Weight, 1); err == nil && l.Bias != nil {
				err = layers.Fill(l.Bias, 0)
			}
		}
	})
	return err
}

// walkLayers calls fn for the Linear and LayerNorm modules reachable through
// the Swin building blocks of this file.
func walkLayers(m layers.Module, fn func(any)) {
	switch m := m.(type) {
	case nil:
	case *layers.Linear, *layers.LayerNorm:
		fn(m)
	case *MLP:
		walkLayers(m.FC1, fn)
		walkLayers(m.FC2, fn)
	case *WindowAttention:
		walkLayers(m.QKV, fn)
		walkLayers(m.Proj, fn)
	case *SwinBlock:
		walkLayers(m.Norm1, fn)
		walkLayers(m.Attn, fn)
		walkLayers(m.Norm2, fn)
		walkLayers(m.MLP, fn)
	}
}

// PatchEmbed turns a feature map (B, C, H, W) into tokens (B, H*W, C), then
// applies Norm (SwinIR's patch_embed.norm) if set. Patch size 1, as SwinIR.
type PatchEmbed struct {
	Norm *layers.LayerNorm
}

// Visit reports norm.*.
func (p *PatchEmbed) Visit(v layers.Visitor) {
	if p == nil {
		return
	}
	v.Module("norm", p.Norm)
}

// Forward flattens x to tokens and normalises them.
func (p *PatchEmbed) Forward(x *torch.Tensor) *torch.Tensor {
	t := x.Flatten(2, 3).Transpose(1, 2)
	if p != nil && p.Norm != nil {
		t = p.Norm.Forward(t)
	}
	return t
}

// Close frees the tensors.
func (p *PatchEmbed) Close() { layers.Close(p) }

// PatchUnembed turns tokens (B, h*w, C) back into a feature map (B, C, h, w).
func PatchUnembed(x *torch.Tensor, h, w int64) *torch.Tensor {
	return x.Transpose(1, 2).Reshape(x.Size(0), x.Size(2), h, w)
}
