package layers_test

import (
	"errors"
	"fmt"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// Block is a user-written module: two convolutions and a skip.
type Block struct {
	Conv1, Conv2 *layers.Conv2d
}

// Visit names the tensors as a PyTorch module with attributes conv1 and
// conv2 would.
func (b *Block) Visit(v layers.Visitor) {
	v.Module("conv1", b.Conv1)
	v.Module("conv2", b.Conv2)
}

// Forward returns x + conv2(relu(conv1(x))).
func (b *Block) Forward(x *torch.Tensor) *torch.Tensor {
	return x.Add(b.Conv2.Forward(b.Conv1.Forward(x).ReLU()))
}

func newBlock(g *torch.Generator, ch int64) (*Block, error) {
	c1, err := layers.NewConv2d(g, ch, ch, 3, &layers.ConvConfig{Padding: 1})
	if err != nil {
		return nil, err
	}
	c2, err := layers.NewConv2d(g, ch, ch, 3, &layers.ConvConfig{Padding: 1})
	if err != nil {
		c1.Close()
		return nil, err
	}
	return &Block{Conv1: c1, Conv2: c2}, nil
}

// A custom module gets names, counts, export, strict import and Close from
// its Visit method alone.
func Example() {
	g, err := torch.NewGenerator(0)
	if err != nil {
		panic(err)
	}
	defer g.Close()
	net := layers.Sequential{layers.Func(func(x *torch.Tensor) *torch.Tensor { return x })}
	b, err := newBlock(g, 8)
	if err != nil {
		panic(err)
	}
	net = append(net, b)
	defer layers.Close(net)

	for _, p := range layers.Params(net) {
		fmt.Println(p.Name, p.Tensor().Shape())
	}
	fmt.Println("parameters:", layers.NumParams(net))

	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := g.Rand(s, []int64{1, 8, 16, 16}, nil)
		if err != nil {
			return nil
		}
		return net.Forward(x)
	})
	if err != nil {
		panic(err)
	}
	defer out.Close()
	fmt.Println("output:", out.Shape())
	// Output:
	// 1.conv1.weight [8 8 3 3]
	// 1.conv1.bias [8]
	// 1.conv2.weight [8 8 3 3]
	// 1.conv2.bias [8]
	// parameters: 1168
	// output: [1 8 16 16]
}

// LoadStateDict refuses a state dict that does not match exactly, and says
// which keys are wrong.
func ExampleLoadStateDict() {
	lin, err := layers.NewLinear(nil, 4, 2, false)
	if err != nil {
		panic(err)
	}
	defer lin.Close()
	sd := host.NewStateDict()
	_ = sd.Add("weight", host.FromFloat32([]int{2, 3}, make([]float32, 6)))
	_ = sd.Add("bais", host.FromFloat32([]int{2}, make([]float32, 2)))

	err = layers.LoadStateDict(lin, sd, nil)
	fmt.Println(err)
	var le *layers.LoadError
	fmt.Println(errors.As(err, &le), le.Missing, le.Unexpected)
	// Output:
	// layers: state dict does not match the module: 1 missing: bias; 1 unexpected: bais; 1 with another shape: weight (want [2 4], got [2 3])
	// true [bias] [bais]
}
