package blocks

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/torch"
)

// BenchmarkRestormerBlock times the parts of one paper-size level-1
// Restormer block (48 channels, one head) on a 256x256 map, in inference
// mode: the channel LayerNorm, MDTA, GDFN and the whole block.
func BenchmarkRestormerBlock(b *testing.B) {
	g, err := torch.NewGenerator(0)
	require.NoError(b, err)
	defer g.Close()
	blk, err := NewTransformerBlock(g, TransformerBlockConfig{Dim: 48, Heads: 1})
	require.NoError(b, err)
	defer blk.Close()
	x, err := g.Rand(nil, []int64{1, 48, 256, 256}, nil)
	require.NoError(b, err)
	defer x.Close()
	for _, c := range []struct {
		name string
		fn   func(x *torch.Tensor) *torch.Tensor
	}{
		{"norm", blk.Norm1.Forward},
		{"mdta", blk.Attn.Forward},
		{"gdfn", blk.FFN.Forward},
		{"block", blk.Forward},
	} {
		b.Run(c.name, func(b *testing.B) {
			run := func() {
				out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor { return c.fn(s.Use(x)) })
				require.NoError(b, err)
				out.Close()
			}
			run()
			b.ResetTimer()
			for b.Loop() {
				run()
			}
		})
	}
}
