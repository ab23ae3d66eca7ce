package prompt

import (
	"testing"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
	"github.com/stretchr/testify/require"
)

// The fixtures' "params" are the reference constructors' own initialisation
// after torch.manual_seed(0). Built from a generator seeded with 0 in the
// same order, our constructors give the same tensors, bit for bit: the
// initialisation rules and their draw order are those of PyTorch/BasicSR.
func TestSeededInitMatchesReference(t *testing.T) {
	live := torch.LiveTensors()
	for _, c := range []struct {
		name  string
		build func(g *torch.Generator) layers.Module
	}{
		{"SRResNet", func(g *torch.Generator) layers.Module {
			n, err := nets.NewSRResNet(g, nets.SRResNetConfig{})
			require.NoError(t, err)
			return n
		}},
		{"SRResNet_EP", func(g *torch.Generator) layers.Module { return newSRPrompted(t, g, Explicit) }},
		{"SRResNet_AP", func(g *torch.Generator) layers.Module { return newSRPrompted(t, g, Adaptive) }},
		{"Classifier", func(g *torch.Generator) layers.Module {
			c, err := NewClassifier(g)
			require.NoError(t, err)
			return c
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := torch.NewGenerator(0)
			require.NoError(t, err)
			defer g.Close()
			m := c.build(g)
			defer layers.Close(m)
			got, err := layers.StateDict(m)
			require.NoError(t, err)
			ck, err := pth.Load(fixtures.Path(t, "models", c.name+".pth"))
			require.NoError(t, err)
			want, err := ck.StateDict("params")
			require.NoError(t, err)
			require.Equal(t, want.Keys(), got.Keys())
			for _, k := range want.Keys() {
				a, _ := got.Get(k)
				b, _ := want.Get(k)
				require.True(t, host.Equal(a, b), "%s differs", k)
			}
		})
	}
	require.Equal(t, live, torch.LiveTensors())
}
