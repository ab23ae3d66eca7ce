package prompt

import (
	"testing"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/stretchr/testify/require"
)

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
	require.NoError(t, layers.LoadStateDict(m, sd, nil))
}
