package nets_test

import (
	"fmt"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// ExampleUformer restores a 120x200 image with an adaptive-prompt Uformer
// (Uformer_AP) as the reference test procedure does: the image is
// reflect-padded to 128x256 (multiples of 128), then to a 256x256 square
// (64 rows above and below); the padded image is both the network's input
// and its prompt; the result is cropped back.
func ExampleUformer() {
	cfg := nets.UformerConfig{EmbedDim: 4, Depths: []int{1, 1, 1, 1, 1, 1, 1, 1, 1}} // a small Uformer
	g, _ := torch.NewGenerator(1)
	defer g.Close()
	mod, _ := prompt.NewModulator(g, prompt.Adaptive, cfg.Modulation()) // prompt modules first, as the reference
	defer mod.Close()
	net, _ := nets.NewUformer(g, cfg)
	defer net.Close()

	pad, err := net.Padding(120, 200)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("pad bottom %d right %d, then top %d bottom %d: %dx%d\n",
		pad.Bottom, pad.Right, pad.Top, pad.BottomSq, pad.Side, pad.Side)

	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		img, _ := g.Rand(s, []int64{1, 3, 120, 200}, nil)
		x := pad.Pad(img)
		return pad.Crop(net.Forward(x, mod.Hook(x)))
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer out.Close()
	fmt.Println("restored:", out.Shape())

	_, err = net.Padding(100, 300) // 128x384 cannot be reflect-padded to a square
	fmt.Println(err != nil)
	// Output:
	// pad bottom 8 right 56, then top 64 bottom 64: 256x256
	// restored: [1 3 120 200]
	// true
}
