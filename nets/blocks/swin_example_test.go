package blocks_test

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/blocks"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// A small Swin stage of a user's own backbone: tokens from a feature map,
// a plain and a shifted-window block, back to a map.
func ExampleSwinBlocks() {
	g, _ := torch.NewGenerator(1)
	defer g.Close()
	var masks blocks.MaskCache // shared by the blocks of one network
	defer masks.Close()
	var stage blocks.SwinBlocks
	for i := range 2 {
		b, err := blocks.NewSwinBlock(g, blocks.SwinBlockConfig{
			Dim: 16, Heads: 4, WindowSize: 8, Shift: int64(i%2) * 4, MLPRatio: 2, Masks: &masks,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		stage = append(stage, b)
	}
	defer stage.Close()
	norm, _ := layers.NewLayerNorm(16, 0, false)
	embed := &blocks.PatchEmbed{Norm: norm}
	defer embed.Close()

	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, _ := g.Rand(s, []int64{1, 16, 24, 32}, nil) // (N, C, H, W), sides multiples of 8
		tokens := stage.Forward(embed.Forward(x), 24, 32)
		return blocks.PatchUnembed(tokens, 24, 32).Add(x)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer out.Close()
	fmt.Println(out.Shape(), layers.NumParams(stage))
	// Output: [1 16 24 32] 6248
}
