package layers

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/torch"
)

// Linear is nn.Linear: Weight (out, in) and an optional Bias (out).
type Linear struct {
	Weight, Bias *torch.Tensor
}

// NewLinear returns a linear layer from in to out features with a bias
// unless noBias, initialised from g as PyTorch does by default (weight, then
// bias, uniform in +-1/sqrt(in)); a nil g leaves zeros. SwinIR and Uformer
// re-initialise theirs with TruncNormal(std 0.02) and a zero bias.
func NewLinear(g *torch.Generator, in, out int64, noBias bool) (*Linear, error) {
	if in <= 0 || out <= 0 {
		return nil, fmt.Errorf("layers: new linear: bad size in=%d out=%d", in, out)
	}
	w, err := NewParam(out, in)
	if err != nil {
		return nil, initErr("linear", err)
	}
	var b *torch.Tensor
	if !noBias {
		if b, err = NewParam(out); err != nil {
			w.Close()
			return nil, initErr("linear", err)
		}
	}
	if err := DefaultInit(g, w, b, in); err != nil {
		closeAll(w, b)
		return nil, initErr("linear", err)
	}
	return &Linear{Weight: w, Bias: b}, nil
}

// Visit reports weight and bias.
func (l *Linear) Visit(v Visitor) {
	if l == nil {
		return
	}
	v.Param("weight", &l.Weight)
	v.Param("bias", &l.Bias)
}

// Forward returns x W^T + b over the last dimension of x (any leading
// dimensions).
func (l *Linear) Forward(x *torch.Tensor) *torch.Tensor {
	return x.Linear(l.Weight, l.Bias)
}

// Close frees the tensors.
func (l *Linear) Close() { Close(l) }

// LayerNorm is nn.LayerNorm over the trailing dimensions Shape, with an
// elementwise affine Weight (ones) and Bias (zeros).
type LayerNorm struct {
	Weight, Bias *torch.Tensor
	Shape        []int64
	Eps          float64
}

// NewLayerNorm returns a LayerNorm over a last dimension of size dim, with
// eps 1e-5 (PyTorch's default) when eps is 0, and a bias unless noBias.
func NewLayerNorm(dim int64, eps float64, noBias bool) (*LayerNorm, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("layers: new layer_norm: bad size %d", dim)
	}
	if eps == 0 {
		eps = 1e-5
	}
	w, err := FillParam(1, dim)
	if err != nil {
		return nil, initErr("layer_norm", err)
	}
	var b *torch.Tensor
	if !noBias {
		if b, err = NewParam(dim); err != nil {
			w.Close()
			return nil, initErr("layer_norm", err)
		}
	}
	return &LayerNorm{Weight: w, Bias: b, Shape: []int64{dim}, Eps: eps}, nil
}

// Visit reports weight and bias.
func (l *LayerNorm) Visit(v Visitor) {
	if l == nil {
		return
	}
	v.Param("weight", &l.Weight)
	v.Param("bias", &l.Bias)
}

// Forward normalises the trailing dimensions of x.
func (l *LayerNorm) Forward(x *torch.Tensor) *torch.Tensor {
	return x.LayerNorm(l.Shape, l.Weight, l.Bias, l.Eps)
}

// Close frees the tensors.
func (l *LayerNorm) Close() { Close(l) }
