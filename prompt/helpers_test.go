package prompt

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/npy"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/internal/torch"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/stretchr/testify/require"
)

// fixtureKeys reads <name>.full.keys.json: [key, shape, dtype] rows.
func fixtureKeys(t testing.TB, name string) (keys []string, shapes [][]int64) {
	t.Helper()
	b, err := os.ReadFile(fixtures.Path(t, "models", name+".full.keys.json"))
	require.NoError(t, err)
	var rows [][]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &rows))
	for _, r := range rows {
		var k string
		var s []int64
		require.NoError(t, json.Unmarshal(r[0], &k))
		require.NoError(t, json.Unmarshal(r[1], &s))
		keys = append(keys, k)
		shapes = append(shapes, s)
	}
	return keys, shapes
}

// readNpy returns a fixture array as float32 values and its shape.
func readNpy(t testing.TB, name string) ([]float32, []int64) {
	t.Helper()
	r, err := npy.ReadFile(fixtures.Path(t, "models", name))
	require.NoError(t, err)
	v, err := r.Float32s()
	require.NoError(t, err)
	shape := make([]int64, len(r.Shape))
	for i, d := range r.Shape {
		shape[i] = int64(d)
	}
	return v, shape
}

// relL2 is ||a-b|| / ||b||, and the largest |a-b|.
func relL2(a, b []float32) (rel, maxAbs float64) {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
		maxAbs = math.Max(maxAbs, math.Abs(d))
	}
	return math.Sqrt(num / den), maxAbs
}

// srPrompted is an SRResNet_EP / SRResNet_AP: the prompt modules followed by
// the backbone, which is also the reference's state_dict order.
type srPrompted struct {
	mod *Modulator
	net *nets.SRResNet
}

func (m *srPrompted) Visit(v layers.Visitor) { layers.Modules{m.mod, m.net}.Visit(v) }

// Forward runs the backbone modulated by prompt p.
func (m *srPrompted) Forward(x, p *torch.Tensor) *torch.Tensor {
	return m.net.Forward(x, m.mod.Hook(p))
}

func (m *srPrompted) Close() { layers.Close(m) }

func newSRPrompted(t testing.TB, g *torch.Generator, kind Kind) *srPrompted {
	t.Helper()
	// The reference builds the prompt modules first.
	cfg := nets.SRResNetConfig{Prompted: true}
	mod, err := NewModulator(g, kind, cfg.Modulation())
	require.NoError(t, err)
	n, err := nets.NewSRResNet(g, cfg)
	require.NoError(t, err)
	return &srPrompted{mod: mod, net: n}
}

// loadFixture loads section of <name>.pth strictly into m.
func loadFixture(t testing.TB, m layers.Module, name, section string) {
	t.Helper()
	ck, err := pth.Load(fixtures.Path(t, "models", name+".pth"))
	require.NoError(t, err)
	sd, err := ck.StateDict(section)
	require.NoError(t, err)
	require.NoError(t, layers.LoadStateDict(m, sd, layers.LoadOptions{}))
}
