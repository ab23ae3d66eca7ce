package prompt

import (
	"path/filepath"
	"testing"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/npy"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
	"github.com/stretchr/testify/require"
)

func TestMapsErrors(t *testing.T) {
	live := torch.LiveTensors()
	_, err := LoadMaps(filepath.Join(t.TempDir(), "absent.npy"))
	require.Error(t, err)
	bad := filepath.Join(t.TempDir(), "bad.npy")
	require.NoError(t, npy.WriteFile(bad, host.FromFloat32([]int{6, 2, 2}, make([]float32, 24))))
	_, err = LoadMaps(bad)
	require.ErrorContains(t, err, "want (7, H, W)")

	g, err := torch.NewGenerator(1)
	require.NoError(t, err)
	defer g.Close()
	m, err := NewMaps(g, 4)
	require.NoError(t, err)
	defer m.Close()
	_, err = m.Prompt(nil, torch.CPU, degrade.SR)
	require.ErrorContains(t, err, "scope")
	s := torch.NewScope(torch.Inference)
	_, err = m.Prompt(s, torch.CPU)
	require.ErrorContains(t, err, "no task")
	_, err = m.Prompt(s, torch.CPU, degrade.Task(0))
	require.ErrorContains(t, err, "invalid task")
	p, err := m.Prompt(s, torch.CPU, degrade.Haze)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 1, 4, 4}, p.Shape())
	s.Close()
	m.Close()
	require.Equal(t, live, torch.LiveTensors())
}

func TestClassifyBatch(t *testing.T) {
	g, err := torch.NewGenerator(2)
	require.NoError(t, err)
	defer g.Close()
	c, err := NewClassifier(g)
	require.NoError(t, err)
	defer c.Close()
	one, err := g.Rand(nil, []int64{1, 3, 32, 32}, nil)
	require.NoError(t, err)
	defer one.Close()
	two := torch.Cat([]*torch.Tensor{one, one}, 0)
	defer two.Close()
	p1, err := c.Classify(one)
	require.NoError(t, err)
	p2, err := c.Classify(two)
	require.NoError(t, err)
	require.Len(t, p2, 2)
	require.InDeltaSlice(t, toF64(p1[0].Probs[:]), toF64(p2[1].Probs[:]), 1e-6)
	var sum float64
	for _, v := range p1[0].Probs {
		sum += float64(v)
	}
	require.InDelta(t, 1, sum, 1e-6)
}

func TestModulatorErrors(t *testing.T) {
	m := nets.Modulation{Extractors: []string{"F"}, Points: []nets.ModulationPoint{
		{Name: "a", Channels: 4, ScaleKey: "sa", ShiftKey: "ha"},
		{Name: "a", Channels: 4, ScaleKey: "sb", ShiftKey: "hb"},
	}}
	_, err := NewModulator(nil, Explicit, m)
	require.ErrorContains(t, err, `duplicate modulation point "a"`)
	m.Points[1].Name, m.Points[1].Extractor = "b", 1
	_, err = NewModulator(nil, Explicit, m)
	require.ErrorContains(t, err, "extractor 1 of 1")
	_, err = NewModulator(nil, None, m)
	require.Error(t, err)
	require.Equal(t, "ap", Adaptive.String())
	require.Equal(t, int64(1), Explicit.Channels())
}

// hookDiff builds an adaptive modulator for m from seed, returns the value
// of the scalar that diff computes with it in inference scope s, and
// checks that nothing leaks.
func hookDiff(t *testing.T, seed uint64, m nets.Modulation, diff func(s *torch.Scope, g *torch.Generator, mod *Modulator) *torch.Tensor) float64 {
	t.Helper()
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(seed)
	require.NoError(t, err)
	defer g.Close()
	mod, err := NewModulator(g, Adaptive, m)
	require.NoError(t, err)
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor { return diff(s, g, mod) })
	require.NoError(t, err)
	d, err := out.Item()
	require.NoError(t, err)
	out.Close()
	mod.Close()
	require.Equal(t, live, torch.LiveTensors())
	return d
}

// A channels-last point (tokens) broadcasts the scale over the tokens.
func TestHookChannelsLast(t *testing.T) {
	m := nets.Modulation{Extractors: []string{"F"}, Points: []nets.ModulationPoint{
		{Name: "t", Channels: 5, Layout: nets.ChannelsLast, ScaleKey: "s", ShiftKey: "h"},
	}}
	d := hookDiff(t, 3, m, func(s *torch.Scope, g *torch.Generator, mod *Modulator) *torch.Tensor {
		x, err := g.Rand(s, []int64{2, 3, 16, 16}, nil)
		require.NoError(t, err)
		f, err := g.Rand(s, []int64{2, 7, 5}, nil)
		require.NoError(t, err)
		got := mod.Hook(x)("t", f)
		v := mod.Vectors(x)[0]
		sc := mod.Scale[0].Forward(v).Unsqueeze(1)
		sh := mod.Shift[0].Forward(v).Unsqueeze(1)
		want := f.Mul(sc).Add(sh).Add(f)
		return got.Sub(want).Abs().Amax(false, 0, 1, 2)
	})
	require.Less(t, d, 1e-6)
}

// FixedHook applies the same rule as Hook, with the scale and shift computed
// once; a point it does not know leaves the feature unchanged.
func TestFixedHookMatchesHook(t *testing.T) {
	m := nets.Modulation{Extractors: []string{"F"}, Points: []nets.ModulationPoint{
		{Name: "t", Channels: 5, Layout: nets.ChannelsLast, ScaleKey: "s", ShiftKey: "h"},
		{Name: "c", Channels: 4, Layout: nets.ChannelsFirst, ScaleKey: "s2", ShiftKey: "h2"},
	}}
	d := hookDiff(t, 5, m, func(s *torch.Scope, g *torch.Generator, mod *Modulator) *torch.Tensor {
		x, err := g.Rand(s, []int64{2, 3, 16, 16}, nil)
		require.NoError(t, err)
		ft, err := g.Rand(s, []int64{2, 7, 5}, nil)
		require.NoError(t, err)
		fc, err := g.Rand(s, []int64{2, 4, 3, 3}, nil)
		require.NoError(t, err)
		hook, fixed := mod.Hook(x), mod.FixedHook(x)
		require.Same(t, fc, fixed("unknown", fc))
		dt := fixed("t", ft).Sub(hook("t", ft)).Abs().Amax(false, 0, 1, 2)
		dc := fixed("c", fc).Sub(hook("c", fc)).Abs().Amax(false, 0, 1, 2, 3)
		return dt.Add(dc)
	})
	require.Less(t, d, 1e-6)
}
