package mioir_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// TestSaveWith writes replaced tensors in place of the model's own, refuses
// unknown names and other shapes, and Network holds exactly the prompt
// modules and the backbone.
func TestSaveWith(t *testing.T) {
	live := torch.LiveTensors()
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 4, Prompted: true}, Prompt: prompt.Explicit}, 1)
	require.NoError(t, err)
	defer m.Close()
	var names []string
	for _, p := range layers.Params(m.Network()) {
		names = append(names, p.Name)
	}
	require.Contains(t, names, "conv_first.weight")
	require.Contains(t, names, "F_ext_net.conv1.weight")
	require.NotContains(t, names, "prompt.maps")

	w := layers.Params(m.Network())[0]
	z, err := torch.Zeros(nil, w.Tensor().Shape(), nil)
	require.NoError(t, err)
	defer z.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	require.NoError(t, m.SaveWith(path, map[string]*torch.Tensor{w.Name: z}))
	l, err := mioir.Load(path)
	require.NoError(t, err)
	defer l.Close()
	a, err := layers.StateDict(m)
	require.NoError(t, err)
	b, err := layers.StateDict(l)
	require.NoError(t, err)
	for _, k := range a.Keys() {
		x, _ := a.Get(k)
		y, _ := b.Get(k)
		if k == w.Name {
			require.NotEqual(t, x.Data, y.Data)
			require.Equal(t, make([]byte, len(y.Data)), y.Data)
		} else {
			require.Equal(t, x, y, k)
		}
	}
	require.ErrorContains(t, m.SaveWith(path, map[string]*torch.Tensor{"nope": z}), "no tensor named nope")
	other, err := torch.Zeros(nil, []int64{1}, nil)
	require.NoError(t, err)
	defer other.Close()
	require.ErrorContains(t, m.SaveWith(path, map[string]*torch.Tensor{w.Name: other}), "replacement")

	// Classifier files round-trip.
	g, err := torch.NewGenerator(2)
	require.NoError(t, err)
	c, err := prompt.NewClassifier(g)
	g.Close()
	require.NoError(t, err)
	defer c.Close()
	cp := filepath.Join(dir, "c.safetensors")
	require.NoError(t, mioir.SaveClassifier(cp, c, nil))
	c2, err := mioir.LoadClassifier(cp)
	require.NoError(t, err)
	s1, err := layers.StateDict(c)
	require.NoError(t, err)
	s2, err := layers.StateDict(c2)
	require.NoError(t, err)
	require.Equal(t, s1, s2)
	c2.Close()
	_, err = mioir.LoadClassifier(path)
	require.ErrorContains(t, err, "not a gomioir classifier")
	for _, f := range []func(){z.Close, other.Close, c.Close, l.Close, m.Close} {
		f()
	}
	require.Equal(t, live, torch.LiveTensors(), "tensors leaked")
}
