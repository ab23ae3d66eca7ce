package layers

import (
	"fmt"
	"math"

	"github.com/gomioir/gomioir/nets/torch"
)

// NewParam returns a zero-filled float32 CPU tensor of the given shape, owned
// by the caller: the storage of a parameter before its initialisation.
func NewParam(shape ...int64) (*torch.Tensor, error) {
	return torch.Zeros(nil, shape, nil)
}

// FillParam returns a float32 CPU tensor of the given shape filled with v
// (e.g. LayerNorm's weight of ones).
func FillParam(v float64, shape ...int64) (*torch.Tensor, error) {
	return torch.Full(nil, shape, v, nil)
}

// UniformInit fills t with numbers uniform in [-bound, bound) drawn from g.
// A nil g leaves t unchanged (parameters that will be loaded need no draw).
func UniformInit(g *torch.Generator, t *torch.Tensor, bound float64) error {
	if g == nil {
		return nil
	}
	return g.Uniform(t, -bound, bound)
}

// DefaultBound is PyTorch's default initialisation bound for a Conv or
// Linear weight and bias with the given fan-in: kaiming_uniform_ with
// a = sqrt(5) gives sqrt(6/((1+5)*fanIn)) = 1/sqrt(fanIn), and the bias
// bound is 1/sqrt(fanIn) too.
func DefaultBound(fanIn int64) float64 {
	if fanIn <= 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(fanIn))
}

// DefaultInit initialises a weight and an optional bias as PyTorch's Conv2d
// and Linear do, drawing the weight first, then the bias.
func DefaultInit(g *torch.Generator, weight, bias *torch.Tensor, fanIn int64) error {
	b := DefaultBound(fanIn)
	if err := UniformInit(g, weight, b); err != nil {
		return err
	}
	if bias != nil {
		return UniformInit(g, bias, b)
	}
	return nil
}

// KaimingNormal fills t as nn.init.kaiming_normal_(t, a=0, mode='fan_in')
// followed by t *= scale (BasicSR's default_init_weights uses scale 0.1).
// A nil g leaves t unchanged.
func KaimingNormal(g *torch.Generator, t *torch.Tensor, fanIn int64, scale float64) error {
	if g == nil {
		return nil
	}
	std := math.Sqrt(2 / float64(fanIn))
	if err := g.Normal(t, 0, std); err != nil {
		return err
	}
	if scale == 1 {
		return nil
	}
	return assign(t, t.MulScalar(scale))
}

// TruncNormal fills t with normal numbers of the given mean and std, limited
// to [a, b], by the inverse-CDF method of nn.init.trunc_normal_ (and timm's
// trunc_normal_ that SwinIR and Uformer use). A nil g leaves t unchanged.
func TruncNormal(g *torch.Generator, t *torch.Tensor, mean, std, a, b float64) error {
	if g == nil {
		return nil
	}
	cdf := func(x float64) float64 { return (1 + math.Erf(x/math.Sqrt2)) / 2 }
	l, u := cdf((a-mean)/std), cdf((b-mean)/std)
	if err := g.Uniform(t, 2*l-1, 2*u-1); err != nil {
		return err
	}
	e := t.Erfinv()
	s := e.MulScalar(std * math.Sqrt2)
	e.Close()
	m := s.AddScalar(mean)
	s.Close()
	c := m.Clamp(a, b)
	m.Close()
	return assign(t, c)
}

// Fill sets every element of t to v.
func Fill(t *torch.Tensor, v float64) error {
	f, err := torch.Full(nil, t.Shape(), v, &torch.Options{DType: t.DType(), Device: t.Device()})
	if err != nil {
		return err
	}
	return assign(t, f)
}

// assign copies src into t and frees src.
func assign(t, src *torch.Tensor) error {
	defer src.Close()
	if err := src.Err(); err != nil {
		return err
	}
	return t.CopyFrom(src)
}

// closeAll frees the given tensors (constructor error paths).
func closeAll(ts ...*torch.Tensor) {
	for _, t := range ts {
		t.Close()
	}
}

func initErr(layer string, err error) error {
	return fmt.Errorf("layers: new %s: %w", layer, err)
}
