package nets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
	"github.com/gomioir/gomioir/prompt"
)

// restormerPrompted is Restormer_EP / Restormer_AP as this library composes
// them: a prompt.Modulator built from the backbone's modulation points, then
// the backbone (the reference's construction and state_dict order).
type restormerPrompted struct {
	mod *prompt.Modulator
	net *nets.Restormer
}

func newRestormerPrompted(t testing.TB, g *torch.Generator, kind prompt.Kind, cfg nets.RestormerConfig) *restormerPrompted {
	t.Helper()
	mod, err := prompt.NewModulator(g, kind, cfg.Modulation())
	require.NoError(t, err)
	net, err := nets.NewRestormer(g, cfg)
	if err != nil {
		mod.Close()
	}
	require.NoError(t, err)
	return &restormerPrompted{mod, net}
}

func (r *restormerPrompted) Visit(v layers.Visitor) { layers.Modules{r.mod, r.net}.Visit(v) }

// Forward runs the backbone modulated by prompt p (EP: (N,1,128,128) maps;
// AP: the input itself).
func (r *restormerPrompted) Forward(x, p *torch.Tensor) *torch.Tensor {
	return r.net.Forward(x, r.mod.Hook(p))
}

func (r *restormerPrompted) Close() {
	r.mod.Close()
	r.net.Close()
}

var restormerKinds = map[string]prompt.Kind{
	"Restormer":    prompt.None,
	"Restormer_EP": prompt.Explicit,
	"Restormer_AP": prompt.Adaptive,
}

// TestRestormerPromptedParity runs Restormer_EP and Restormer_AP loaded
// strictly from the reference .pth and compares with the reference outputs
// (EP prompt: Restormer_EP.prompt.npy; AP prompt: the input).
func TestRestormerPromptedParity(t *testing.T) {
	for _, name := range []string{"Restormer_EP", "Restormer_AP"} {
		t.Run(name, func(t *testing.T) {
			live := torch.LiveTensors()
			kind := restormerKinds[name]
			m := newRestormerPrompted(t, nil, kind, nets.RestormerFixtureConfigForTest(t, name))
			defer func() {
				m.Close()
				require.Equal(t, live, torch.LiveTensors())
			}()
			ck, err := pth.Load(fixtures.Path(t, "models", name+".pth"))
			require.NoError(t, err)
			sd, err := ck.StateDict("params")
			require.NoError(t, err)
			require.NoError(t, layers.LoadStateDict(m, sd, nil))
			require.Equal(t, int64(map[string]int{"Restormer_EP": 374_059, "Restormer_AP": 399_147}[name]),
				layers.NumParams(m))

			in, inShape := testutil.ReadNpy(t, name+".in.npy")
			want, wantShape := testutil.ReadNpy(t, name+".out.npy")
			var pv []float32
			var pShape []int64
			if kind == prompt.Explicit {
				pv, pShape = testutil.ReadNpy(t, name+".prompt.npy")
				pShape = append([]int64{pShape[0], 1}, pShape[1:]...) // (1,128,128) -> (1,1,128,128)
			}
			out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
				x, err := torch.FromSlice(s, in, inShape...)
				require.NoError(t, err)
				p := x
				if kind == prompt.Explicit {
					p, err = torch.FromSlice(s, pv, pShape...)
					require.NoError(t, err)
				}
				return m.Forward(x, p)
			})
			require.NoError(t, err)
			defer out.Close()
			require.Equal(t, wantShape, out.Shape())
			got, err := torch.ToSlice[float32](out)
			require.NoError(t, err)
			rel, maxAbs := testutil.RelL2(got, want)
			t.Logf("%s 64x64: relative L2 %.3g, max |diff| %.3g", name, rel, maxAbs)
			require.LessOrEqual(t, rel, 1e-5)
			require.Less(t, maxAbs, 1e-5)
		})
	}
}

// TestRestormerPromptedPaperParams checks the paper-configuration parameter
// counts of Restormer_EP and Restormer_AP (section 5.3) and their key lists.
func TestRestormerPromptedPaperParams(t *testing.T) {
	for name, want := range map[string]int64{"Restormer_EP": 26_547_578, "Restormer_AP": 26_572_666} {
		m := newRestormerPrompted(t, nil, restormerKinds[name], nets.RestormerConfig{})
		require.Equal(t, want, layers.NumParams(m), name)
		ps := layers.Params(m)
		keys := testutil.Keys(t, name+".full.keys.json")
		require.Len(t, ps, len(keys), name)
		for i, p := range ps {
			require.Equal(t, keys[i].Name, p.Name)
			require.Equal(t, keys[i].Shape, p.Tensor().Shape(), p.Name)
		}
		m.Close()
	}
}

// TestRestormerSeededInit: the fixtures' "params" are the reference
// constructors' own initialisation after torch.manual_seed(0). Built from a
// generator seeded with 0 in the reference's order (prompt modules first for
// EP/AP), this port gives the same tensors bit for bit.
func TestRestormerSeededInit(t *testing.T) {
	live := torch.LiveTensors()
	for _, name := range []string{"Restormer", "Restormer_EP", "Restormer_AP"} {
		t.Run(name, func(t *testing.T) {
			g, err := torch.NewGenerator(0)
			require.NoError(t, err)
			defer g.Close()
			cfg := nets.RestormerFixtureConfigForTest(t, name)
			var m layers.Module
			if kind := restormerKinds[name]; kind == prompt.None {
				n, err := nets.NewRestormer(g, cfg)
				require.NoError(t, err)
				m = n
			} else {
				m = newRestormerPrompted(t, g, kind, cfg)
			}
			defer layers.Close(m)
			got, err := layers.StateDict(m)
			require.NoError(t, err)
			ck, err := pth.Load(fixtures.Path(t, "models", name+".pth"))
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

// BenchmarkRestormerForward times one 1x3x256x256 inference-mode forward
// pass of Restormer, Restormer_EP (the blur map of seeded 128x128 maps) and
// Restormer_AP (the input as prompt), with seeded weights, in the paper
// configuration ("paper", skipped under -short) and the fixtures' reduced
// one ("reduced": dim 4, one block per level), as prompt's BenchmarkForward
// family does for SRResNet.
func BenchmarkRestormerForward(b *testing.B) {
	configs := []struct {
		name string
		cfg  func(b *testing.B) nets.RestormerConfig
	}{
		{"paper", func(*testing.B) nets.RestormerConfig { return nets.RestormerConfig{} }},
		{"reduced", func(b *testing.B) nets.RestormerConfig { return nets.RestormerFixtureConfigForTest(b, "Restormer") }},
	}
	for _, c := range configs {
		for _, name := range []string{"Restormer", "Restormer_EP", "Restormer_AP"} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				if c.name == "paper" && testing.Short() {
					b.Skip("paper-size Restormer forward skipped under -short")
				}
				g, err := torch.NewGenerator(0)
				require.NoError(b, err)
				defer g.Close()
				kind := restormerKinds[name]
				var fwd func(x, p *torch.Tensor) *torch.Tensor
				if kind == prompt.None {
					n, err := nets.NewRestormer(g, c.cfg(b))
					require.NoError(b, err)
					defer n.Close()
					fwd = func(x, _ *torch.Tensor) *torch.Tensor { return n.Forward(x, nil) }
				} else {
					m := newRestormerPrompted(b, g, kind, c.cfg(b))
					defer m.Close()
					fwd = m.Forward
				}
				maps, err := prompt.NewMaps(g, prompt.MapSize)
				require.NoError(b, err)
				defer maps.Close()
				x, err := g.Rand(nil, []int64{1, 3, 256, 256}, nil)
				require.NoError(b, err)
				defer x.Close()
				run := func() {
					out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
						in := s.Use(x)
						p := in
						if kind == prompt.Explicit {
							if p, err = maps.Prompt(s, torch.CPU, degrade.Blur); err != nil {
								return p
							}
						}
						return fwd(in, p)
					})
					require.NoError(b, err)
					out.Close()
				}
				run() // warm-up
				b.ResetTimer()
				for b.Loop() {
					run()
				}
			})
		}
	}
}
