package prompt

import (
	"testing"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/stretchr/testify/require"
)

// One training step of an EP SRResNet: every parameter (prompt extractor,
// FC pairs and backbone) receives a gradient through the hook, Adam moves
// the loss down, and no tensor is left behind.
func TestTrainingStepReachesEveryParameter(t *testing.T) {
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(5)
	require.NoError(t, err)
	defer g.Close()
	m := newSRPrompted(t, g, Explicit)
	maps, err := NewMaps(g, MapSize)
	require.NoError(t, err)
	require.NoError(t, layers.SetRequiresGrad(m, true))
	opt, err := torch.NewAdam(layers.Parameters(m), &torch.AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99})
	require.NoError(t, err)

	x, err := g.Rand(nil, []int64{2, 3, 24, 24}, nil)
	require.NoError(t, err)
	target, err := g.Rand(nil, []int64{2, 3, 24, 24}, nil)
	require.NoError(t, err)
	step := func() float64 {
		s := torch.NewScope(torch.Grad)
		defer s.Close()
		p, err := maps.Prompt(s, torch.CPU, degrade.Noise, degrade.Rain)
		require.NoError(t, err)
		loss := torch.L1Loss(m.Forward(s.Use(x), p), s.Use(target))
		require.NoError(t, opt.ZeroGrad())
		require.NoError(t, loss.Backward())
		require.NoError(t, s.Err())
		v, err := loss.Item()
		require.NoError(t, err)
		return v
	}
	first := step()
	for _, p := range layers.Params(m) {
		gr, err := p.Tensor().Grad()
		require.NoError(t, err)
		require.NotNil(t, gr, "%s has no gradient", p.Name)
		gr.Close()
	}
	require.NoError(t, opt.Step())
	for range 3 {
		step()
		require.NoError(t, opt.Step())
	}
	require.Less(t, step(), first)

	opt.Close()
	x.Close()
	target.Close()
	maps.Close()
	m.Close()
	require.Equal(t, live, torch.LiveTensors())
}
