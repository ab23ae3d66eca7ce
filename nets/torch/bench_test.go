package torch

import (
	"testing"
)

// convBench holds the inputs of the conv2d benchmarks: 64->64 channels, 3x3,
// padding 1, on a 1x64x256x256 input (the body convolution of SRResNet at
// 256x256), as in scripts/bench_torch.py.
type convBench struct {
	x, w, b *Tensor
}

func newConvBench(b *testing.B, requiresGrad bool) *convBench {
	b.Helper()
	g, err := NewGenerator(0)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	c := &convBench{}
	for i, shape := range [][]int64{{1, 64, 256, 256}, {64, 64, 3, 3}, {64}} {
		t, err := g.Randn(nil, shape, nil)
		if err != nil {
			b.Fatal(err)
		}
		if i > 0 && requiresGrad {
			if err := t.SetRequiresGrad(true); err != nil {
				b.Fatal(err)
			}
		}
		*[]**Tensor{&c.x, &c.w, &c.b}[i] = t
	}
	b.Cleanup(func() { c.x.Close(); c.w.Close(); c.b.Close() })
	return c
}

var pad1 = &ConvOptions{Padding: [2]int64{1, 1}}

func BenchmarkConv2d(b *testing.B) {
	b.Run("forward", func(b *testing.B) {
		c := newConvBench(b, false)
		for b.Loop() {
			s := NewScope(Inference)
			if err := c.x.Conv2d(c.w, c.b, pad1).Err(); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("forward-backward", func(b *testing.B) {
		c := newConvBench(b, true)
		for b.Loop() {
			s := NewScope(Grad)
			out := s.Use(c.x).Conv2d(c.w, c.b, pad1).Sum(false)
			if err := out.Backward(); err != nil {
				b.Fatal(err)
			}
			c.w.ZeroGrad()
			c.b.ZeroGrad()
			s.Close()
		}
	})
}

// BenchmarkOpOverhead measures the cost of one binding call on a tiny tensor:
// cgo transition, error handling, scope bookkeeping.
func BenchmarkOpOverhead(b *testing.B) {
	x, err := Ones(nil, []int64{4}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	s := NewScope(Inference)
	defer s.Close()
	in := s.Use(x)
	for b.Loop() {
		in.AddScalar(1).Close()
	}
}
