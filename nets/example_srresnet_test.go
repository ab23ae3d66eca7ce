package nets_test

import (
	"fmt"

	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// A backbone calls its hook at every modulation point; package prompt
// supplies the real hook, but any function will do, here one that records
// where it was called and the feature's shape.
func ExampleSRResNet_Forward() {
	g, err := torch.NewGenerator(0)
	if err != nil {
		panic(err)
	}
	defer g.Close()
	net, err := nets.NewSRResNet(g, nets.SRResNetConfig{Blocks: 2})
	if err != nil {
		panic(err)
	}
	defer net.Close()
	fmt.Println("parameters:", layers.NumParams(net))
	for _, p := range net.Modulation().Points {
		fmt.Println("point", p.Name, p.Channels, p.ScaleKey)
	}

	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := g.Rand(s, []int64{1, 3, 16, 16}, nil)
		if err != nil {
			return nil
		}
		return net.Forward(x, func(point string, f *torch.Tensor) *torch.Tensor {
			fmt.Println("hook", point, f.Shape())
			return f
		})
	})
	if err != nil {
		panic(err)
	}
	defer out.Close()
	// Output:
	// parameters: 188163
	// point body1 64 prompt_scale1
	// point body2 64 prompt_scale2
	// point hr 64 prompt_scalehr
	// point out 3 prompt_scaleout
	// hook body1 [1 64 16 16]
	// hook body2 [1 64 16 16]
	// hook hr [1 64 16 16]
	// hook out [1 3 16 16]
}
