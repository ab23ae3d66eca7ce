package torch_test

import (
	"errors"
	"fmt"

	"github.com/gomioir/gomioir/nets/torch"
)

// skipBlock is a module written by hand: a 3x3 convolution over the
// reflect-padded input, a leaky ReLU, and a skip connection by
// concatenation, as in a U-Net. Its parameters are tensors the caller owns.
type skipBlock struct {
	weight, bias *torch.Tensor
}

func newSkipBlock(in, out int64) (*skipBlock, error) {
	w, err := torch.Full(nil, []int64{out, in, 3, 3}, 0.1, nil)
	if err != nil {
		return nil, err
	}
	b, err := torch.Zeros(nil, []int64{out}, nil)
	if err != nil {
		w.Close()
		return nil, err
	}
	for _, p := range []*torch.Tensor{w, b} {
		if err := p.SetRequiresGrad(true); err != nil {
			w.Close()
			b.Close()
			return nil, err
		}
	}
	return &skipBlock{weight: w, bias: b}, nil
}

// Forward maps (N, in, H, W) to (N, in+out, H, W). Its intermediates and its
// result go to x's scope; an error anywhere is carried by the result.
func (m *skipBlock) Forward(x *torch.Tensor) *torch.Tensor {
	y := x.Pad([]int64{1, 1, 1, 1}, torch.PadReflect, 0).Conv2d(m.weight, m.bias, nil).LeakyReLU(0.2)
	return torch.Cat([]*torch.Tensor{x, y}, 1)
}

func (m *skipBlock) Parameters() []*torch.Tensor { return []*torch.Tensor{m.weight, m.bias} }

func (m *skipBlock) Close() {
	m.weight.Close()
	m.bias.Close()
}

// One training step of a module of one's own: forward in a Grad scope, a
// loss, the backward pass and an Adam step.
func Example() {
	m, err := newSkipBlock(1, 1)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	opt, err := torch.NewAdam(m.Parameters(), &torch.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999})
	if err != nil {
		panic(err)
	}
	defer opt.Close()

	s := torch.NewScope(torch.Grad) // frees the step's intermediates
	defer s.Close()
	x, err := torch.FromSlice(s, []float32{
		0, 1, 2, 3,
		1, 2, 3, 4,
		2, 3, 4, 5,
		3, 4, 5, 6,
	}, 1, 1, 4, 4)
	if err != nil {
		panic(err)
	}
	target, err := torch.Full(s, []int64{1, 2, 4, 4}, 1, nil)
	if err != nil {
		panic(err)
	}
	y := m.Forward(x)
	loss := torch.L1Loss(y, target)
	if err := loss.Backward(); err != nil { // also any error of the chain
		panic(err)
	}
	if err := opt.Step(); err != nil {
		panic(err)
	}
	l, _ := loss.Item()
	w, _ := torch.ToSlice[float32](m.weight)
	b, _ := torch.ToSlice[float32](m.bias)
	fmt.Println("output shape:", y.Shape())
	fmt.Printf("loss %.4f\n", l)
	fmt.Printf("after one step: weight[0] %.4f, bias %.4f\n", w[0], b[0])
	// Output:
	// output shape: [1 2 4 4]
	// loss 1.9125
	// after one step: weight[0] 0.0900, bias -0.0100
}

// Operations never return an error themselves: their result carries the
// first error of the chain, so code reads like the math and checks once.
func ExampleTensor_Err() {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	a, _ := torch.Ones(s, []int64{2, 3}, nil)
	b, _ := torch.Ones(s, []int64{4}, nil)
	y := a.Add(b).MulScalar(2).Softmax(-1) // add fails: shapes do not broadcast
	var te *torch.Error
	if errors.As(y.Err(), &te) {
		fmt.Println("failed op:", te.Op)
	}
	fmt.Println("out of memory:", errors.Is(y.Err(), torch.ErrOutOfMemory))
	fmt.Println("the scope saw it:", s.Err() == y.Err())
	// Output:
	// failed op: add
	// out of memory: false
	// the scope saw it: true
}

// Run gives an inner scope to a computation and keeps only its result.
func ExampleRun() {
	x, _ := torch.FromSlice(nil, []float32{1, 2, 3, 4}, 1, 4) // owned by the caller
	defer x.Close()
	y, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		in := s.Use(x) // results of ops on in go to s
		return in.Softmax(-1).MulScalar(100).Round()
	})
	if err != nil {
		panic(err)
	}
	defer y.Close() // the result left the scope: the caller closes it
	v, _ := torch.ToSlice[float32](y)
	fmt.Println(v)
	// Output: [3 9 24 64]
}
