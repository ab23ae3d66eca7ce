package nets_test

import (
	"cmp"
	"fmt"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// A sixth backbone is one file like this one: its configuration (a
// nets.Config), the network (a nets.Backbone), the key inference and one
// nets.Register call with its recipe in an init function.

// TwoConvConfig configures TwoConv. Zero fields take the paper values, and
// boolean fields are named so that false is the reference's choice: the
// convolutions have a bias, hence NoBias.
type TwoConvConfig struct {
	Features int64 // 8
	NoBias   bool
}

func (TwoConvConfig) ArchName() string { return "TwoConv" }

func (c TwoConvConfig) New(g *torch.Generator) (nets.Backbone, error) {
	cc := &layers.ConvConfig{Padding: 1, NoBias: c.NoBias}
	n := &TwoConv{}
	var err error
	if n.Head, err = layers.NewConv2d(g, 3, cmp.Or(c.Features, 8), 3, cc); err != nil {
		return nil, err
	}
	if n.Tail, err = layers.NewConv2d(g, cmp.Or(c.Features, 8), 3, 3, cc); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Pad: the network takes any size, but say the reference pads test images
// to even sides.
func (TwoConvConfig) Pad() nets.PadRule { return nets.PadRule{Multiple: 2} }

// TwoConv is conv, ReLU, modulation point "mid", conv, plus the input.
type TwoConv struct{ Head, Tail *layers.Conv2d }

// Visit names the tensors as the reference's state_dict does.
func (n *TwoConv) Visit(v layers.Visitor) {
	v.Module("head", n.Head)
	v.Module("tail", n.Tail)
}

func (n *TwoConv) Modulation() nets.Modulation {
	return nets.Modulation{Extractors: []string{"F_ext_net"}, Points: []nets.ModulationPoint{
		{Name: "mid", Channels: n.Head.Weight.Size(0), ScaleKey: "prompt_scale_mid", ShiftKey: "prompt_shift_mid"}}}
}

func (n *TwoConv) Forward(x *torch.Tensor, hook nets.Hook) *torch.Tensor {
	return n.Tail.Forward(hook.Apply("mid", n.Head.Forward(x).ReLU())).Add(x)
}

func (n *TwoConv) Close() { layers.Close(n) }

// inferTwoConv reads a TwoConvConfig from a reference checkpoint's keys.
func inferTwoConv(k *keys.Keys) (nets.Config, error) {
	if !k.Has("head.weight") || !k.Has("tail.weight") {
		return nil, fmt.Errorf("%w: TwoConv needs head.weight and tail.weight", keys.ErrNoMatch)
	}
	f, err := k.Dim("head.weight", 0)
	if err != nil {
		return nil, err
	}
	return TwoConvConfig{Features: f, NoBias: !k.Has("head.bias")}, nil
}

func init() {
	// AdamW with the default recipe's other settings (lr 2e-4 down to
	// 1e-7, betas 0.9 and 0.99, order s b n j r h d), cycles of 50k.
	err := nets.Register(nets.Arch{Config: TwoConvConfig{}, Infer: inferTwoConv,
		Recipe: nets.Recipe{Optimizer: torch.AdamConfig{Decoupled: true}, Period: 50_000}})
	if err != nil {
		panic(err)
	}
}

// The registered backbone is built, run, recognised from its keys and
// trained on its recipe's plan like the built-in ones (mioir.New,
// mioir.Import, mioir.NewTrainer do the same through the registry).
func Example_sixthBackbone() {
	a, err := nets.Lookup("twoconv")
	if err != nil {
		panic(err)
	}
	g, err := torch.NewGenerator(0)
	if err != nil {
		panic(err)
	}
	defer g.Close()
	net, err := TwoConvConfig{Features: 4, NoBias: true}.New(g)
	if err != nil {
		panic(err)
	}
	defer net.Close()
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := g.Rand(s, []int64{1, 3, 6, 6}, nil)
		if err != nil {
			return nil
		}
		return net.Forward(x, nil)
	})
	if err != nil {
		panic(err)
	}
	defer out.Close()
	fmt.Println(a.Name(), "output", out.Shape(), "pad", a.Config.Pad())

	var names []string
	var shapes [][]int64
	for _, p := range layers.Params(net) {
		names, shapes = append(names, p.Name), append(shapes, p.Tensor().Shape())
	}
	cfg, err := nets.Infer(keys.New(names, shapes), "")
	fmt.Printf("inferred %s %+v %v\n", cfg.ArchName(), cfg, err)

	plan, err := a.Recipe.Plan(true)
	fmt.Println(plan, err)
	fmt.Println("AdamW:", a.Recipe.Optimizer.Decoupled, "betas", a.Recipe.Optimizer.Beta1, a.Recipe.Optimizer.Beta2)
	// Output:
	// TwoConv output [1 3 6 6] pad {2 false}
	// inferred TwoConv {Features:4 NoBias:true} <nil>
	// sequential plan: 7 stages, 500000 iterations, lr 0.0002 to 1e-07 <nil>
	// AdamW: true betas 0.9 0.99
}
