package prompt_test

import (
	"fmt"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// Select breaks ties between equal probabilities in the reference's
// priority order (rain, haze, blur, noise, jpeg, dark, sr).
func ExampleSelect() {
	// blur (0) and sr (6) tie; blur comes first in the priority order.
	task, err := prompt.Select([]float32{0.3, 0.1, 0.1, 0.1, 0.1, 0.0, 0.3})
	if err != nil {
		panic(err)
	}
	fmt.Println(task.Name())
	// Output: blur
}

// An adaptive-prompt SRResNet: the backbone's modulation points decide which
// prompt modules are built; the input image is the prompt.
func ExampleNewModulator() {
	g, err := torch.NewGenerator(0)
	if err != nil {
		panic(err)
	}
	defer g.Close()
	// Prompt modules first, then the backbone: the reference's construction
	// order, so that seed 0 gives SRResNet_AP's initial weights exactly.
	cfg := nets.SRResNetConfig{Prompted: true}
	mod, err := prompt.NewModulator(g, prompt.Adaptive, cfg.Modulation())
	if err != nil {
		panic(err)
	}
	defer mod.Close()
	net, err := nets.NewSRResNet(g, cfg)
	if err != nil {
		panic(err)
	}
	defer net.Close()
	fmt.Println("parameters:", layers.NumParams(layers.Modules{mod, net}))

	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := g.Rand(s, []int64{1, 3, 32, 32}, nil)
		if err != nil {
			return nil
		}
		return net.Forward(x, mod.Hook(x))
	})
	if err != nil {
		panic(err)
	}
	defer out.Close()
	fmt.Println("output:", out.Shape())
	// Output:
	// parameters: 1447305
	// output: [1 3 32 32]
}
