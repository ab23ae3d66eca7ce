package nets_test

import (
	"fmt"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// Restormer_AP is the Restormer backbone modulated by a prompt.Modulator
// built from its modulation points: four prompt extractors and six FC
// pairs. Built in this order from one seeded generator, the pair has the
// reference's state_dict (prompt keys first) and, for seed 0, its initial
// weights; an AP prompt is the (padded) input image itself.
func ExampleRestormer_Forward() {
	g, err := torch.NewGenerator(0)
	if err != nil {
		panic(err)
	}
	defer g.Close()
	cfg := nets.RestormerConfig{Dim: 8, Blocks: []int{1, 1, 1, 1}, RefinementBlocks: 1}
	mod, err := prompt.NewModulator(g, prompt.Adaptive, cfg.Modulation())
	if err != nil {
		panic(err)
	}
	defer mod.Close()
	net, err := nets.NewRestormer(g, cfg)
	if err != nil {
		panic(err)
	}
	defer net.Close()
	fmt.Println("parameters:", layers.NumParams(layers.Modules{mod, net}))
	fmt.Println("pad test images to a multiple of", net.Config.Pad().Multiple)
	for _, p := range net.Modulation().Points {
		fmt.Println("point", p.Name, p.Channels, net.Modulation().Extractors[p.Extractor], p.ScaleKey)
	}

	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := g.Rand(s, []int64{1, 3, 64, 64}, nil)
		if err != nil {
			return nil
		}
		hook := mod.Hook(x) // AP: the prompt is the input
		return net.Forward(x, func(point string, f *torch.Tensor) *torch.Tensor {
			fmt.Println("hook", point, f.Shape())
			return hook(point, f)
		})
	})
	if err != nil {
		panic(err)
	}
	defer out.Close()
	fmt.Println("output", out.Shape())
	// Output:
	// parameters: 560647
	// pad test images to a multiple of 64
	// point latent 64 F_ext_net1 prompt_scale1
	// point decoder_level3 32 F_ext_net2 prompt_scale2
	// point decoder_level2 16 F_ext_net3 prompt_scale3
	// point decoder_level1 16 F_ext_net3 prompt_scale4
	// point refinement 16 F_ext_net3 prompt_scale5
	// point out 3 F_ext_net4 prompt_scaleout
	// hook latent [1 64 8 8]
	// hook decoder_level3 [1 32 16 16]
	// hook decoder_level2 [1 16 32 32]
	// hook decoder_level1 [1 16 64 64]
	// hook refinement [1 16 64 64]
	// hook out [1 3 64 64]
	// output [1 3 64 64]
}
