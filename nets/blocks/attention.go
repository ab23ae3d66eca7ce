package blocks

import (
	"fmt"
	"math"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// WindowAttention is window-based multi-head self-attention (W-MSA) with a
// learned relative position bias, as in Swin Transformer and SwinIR. It
// attends within each ws x ws window: the input is a batch of windows
// (B*nW, ws*ws, C) as WindowPartition makes them.
//
// libtorch 1.13 has no fused attention, so the forward pass is composed of
// matmul, add and softmax as in the reference: q is scaled before q k^T,
// then the bias (heads, N, N) is added, and the shifted-window mask
// (nW, N, N) if any (bias and mask are summed first, see windowAttention).
//
// State-dict names: relative_position_bias_table ((2ws-1)^2, heads),
// relative_position_index (ws^2, ws^2) int64 buffer, qkv.{weight,bias}
// (3C, C), proj.{weight,bias} (C, C).
type WindowAttention struct {
	RelativePositionBiasTable *torch.Tensor
	RelativePositionIndex     *torch.Tensor
	QKV, Proj                 *layers.Linear

	Dim, Heads, WindowSize int64
	// Scale multiplies q before q k^T: head_dim^-0.5 unless overridden.
	Scale float64
}

// NewWindowAttention returns the attention of a dim-channel token map with
// heads heads (dim must be divisible by heads) over ws x ws windows; qkv has
// a bias unless noQKVBias (the reference's qkv_bias=True). The linear layers
// are built with PyTorch's default initialisation from g; the
// bias table is drawn from a truncated normal (std 0.02), as the reference
// does. A nil g leaves the trainable tensors at zero (for loading).
func NewWindowAttention(g *torch.Generator, dim, heads, ws int64, noQKVBias bool) (*WindowAttention, error) {
	if dim <= 0 || heads <= 0 || dim%heads != 0 || ws < 1 {
		return nil, fmt.Errorf("blocks: new window attention: bad geometry dim=%d heads=%d window=%d", dim, heads, ws)
	}
	a := &WindowAttention{Dim: dim, Heads: heads, WindowSize: ws,
		Scale: 1 / math.Sqrt(float64(dim/heads))}
	var err error
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	span := 2*ws - 1
	if a.RelativePositionBiasTable, err = layers.NewParam(span*span, heads); err != nil {
		return nil, initErr("window attention", err)
	}
	if a.RelativePositionIndex, err = relativePositionIndexTensor(nil, int(ws), torch.CPU); err != nil {
		return nil, initErr("window attention", err)
	}
	if a.QKV, err = layers.NewLinear(g, dim, 3*dim, noQKVBias); err != nil {
		return nil, err
	}
	if a.Proj, err = layers.NewLinear(g, dim, dim, false); err != nil {
		return nil, err
	}
	if err = layers.TruncNormal(g, a.RelativePositionBiasTable, 0, 0.02, -2, 2); err != nil {
		return nil, initErr("window attention", err)
	}
	return a, nil
}

// Visit reports the bias table, the index buffer, qkv and proj.
func (a *WindowAttention) Visit(v layers.Visitor) {
	if a == nil {
		return
	}
	v.Param("relative_position_bias_table", &a.RelativePositionBiasTable)
	v.Buffer("relative_position_index", &a.RelativePositionIndex)
	v.Module("qkv", a.QKV)
	v.Module("proj", a.Proj)
}

// Close frees the tensors.
func (a *WindowAttention) Close() { layers.Close(a) }

// RelativePositionBias returns the bias added to the attention logits,
// (heads, N, N) with N = ws*ws, gathered from the table by the index (so it
// carries the table's gradient in training). The result and its
// intermediates belong to s.
func (a *WindowAttention) RelativePositionBias(s *torch.Scope) *torch.Tensor {
	return relativePositionBias(s, a.RelativePositionBiasTable, a.RelativePositionIndex, a.WindowSize, a.Heads)
}

// relativePositionBias gathers the (heads, N, N) logit bias, N = ws*ws, from
// a ((2ws-1)^2, heads) table by the (N, N) index; the result belongs to s.
func relativePositionBias(s *torch.Scope, table, index *torch.Tensor, ws, heads int64) *torch.Tensor {
	n := ws * ws
	return s.Use(table).IndexSelect(0, s.Use(index).Reshape(-1)).Reshape(n, n, heads).Permute(2, 0, 1)
}

// Forward attends within each window of x (B*nW, N, C). mask is nil for
// plain windows, or the (nW, N, N) additive mask of shifted windows
// (MaskCache.Get), nW being the number of windows per image.
// The intermediates are freed before it returns (see layers.Step).
func (a *WindowAttention) Forward(x, mask *torch.Tensor) *torch.Tensor {
	if x.Err() != nil {
		return x // see SwinBlocks.Forward
	}
	return layers.Step(x, func(x *torch.Tensor) *torch.Tensor {
		bias := a.RelativePositionBias(x.Scope())
		return windowAttention(x, a.QKV, a.Proj, bias, mask, a.Heads, a.Scale)
	})
}

// windowAttention is the attention arithmetic over windows x (B_, N, C).
func windowAttention(x *torch.Tensor, qkvL, projL *layers.Linear, bias, mask *torch.Tensor, heads int64, scale float64) *torch.Tensor {
	bn, n, c := x.Size(0), x.Size(1), x.Size(2)
	qkv := qkvL.Forward(x).Reshape(bn, n, 3, heads, c/heads).Permute(2, 0, 3, 1, 4)
	parts := qkv.Chunk(3, 0)
	if len(parts) != 3 {
		return parts[0] // Chunk's error
	}
	q := parts[0].Squeeze(0).MulScalar(scale)
	return attendWindows(q, parts[1].Squeeze(0), parts[2].Squeeze(0), bias, mask, projL)
}

// attendWindows finishes window attention from the scaled queries q and the
// keys k and values v, each (B_, heads, N, C/heads): logits plus the
// relative position bias (and the shifted-window mask), softmax, the values,
// heads merged back to (B_, N, C) and the output projection.
func attendWindows(q, k, v, bias, mask *torch.Tensor, projL *layers.Linear) *torch.Tensor {
	bn, heads, n, d := q.Size(0), q.Size(1), q.Size(2), q.Size(3)
	c := heads * d
	attn := q.Matmul(k.Transpose(-2, -1)) // (B_, heads, N, N)
	if mask == nil {
		attn = attn.Add(bias)
	} else {
		// bias + mask is (nW, heads, N, N): one pass over the logits instead
		// of two when the batch has several images. Unmasked logits get the
		// reference's values exactly; masked ones differ only in the rounding
		// of a value near -100, which the softmax turns into 0 either way.
		nw := mask.Size(0)
		bm := bias.Unsqueeze(0).Add(mask.Unsqueeze(1))
		attn = attn.Reshape(bn/nw, nw, heads, n, n).Add(bm).Reshape(bn, heads, n, n)
	}
	out := attn.Softmax(-1).Matmul(v).Transpose(1, 2).Reshape(bn, n, c)
	return projL.Forward(out)
}
