package nets_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// loadUformerPrompted builds the fixture's Uformer and its prompt.Modulator
// (prompt modules first, as the reference registers them) and loads the
// reference .pth strictly into both.
func loadUformerPrompted(t testing.TB, name string, kind prompt.Kind) (*nets.Uformer, *prompt.Modulator) {
	t.Helper()
	cfg := nets.UformerFixtureConfigForTest(t, name)
	mod, err := prompt.NewModulator(nil, kind, cfg.Modulation())
	require.NoError(t, err)
	net, err := nets.NewUformer(nil, cfg)
	require.NoError(t, err)
	ck, err := pth.Load(fixtures.Path(t, "models", name+".pth"))
	require.NoError(t, err)
	sd, err := ck.StateDict("params")
	require.NoError(t, err)
	require.NoError(t, layers.LoadStateDict(layers.Modules{mod, net}, sd, nil))
	return net, mod
}

// TestUformerPromptedParity runs Uformer_EP and Uformer_AP as this library
// composes them (the Uformer backbone modulated by a prompt.Modulator built
// from its modulation points), loaded strictly from the reference .pth, and
// compares with the reference outputs. EP's prompt is the fixture's noise map,
// AP's the input image.
func TestUformerPromptedParity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kind   prompt.Kind
		params int64
	}{
		{"Uformer_EP", prompt.Explicit, 635_061},
		{"Uformer_AP", prompt.Adaptive, 666_421},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net, mod := loadUformerPrompted(t, tc.name, tc.kind)
			defer net.Close()
			defer mod.Close()
			require.Equal(t, tc.params, layers.NumParams(layers.Modules{mod, net}))

			in, inShape := testutil.ReadNpy(t, tc.name+".in.npy")
			want, wantShape := testutil.ReadNpy(t, tc.name+".out.npy")
			var pv []float32
			var pShape []int64
			if tc.kind == prompt.Explicit {
				pv, pShape = testutil.ReadNpy(t, tc.name+".prompt.npy")
				pShape = append([]int64{pShape[0], 1}, pShape[1:]...) // (1,128,128) -> (1,1,128,128)
			}
			out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
				x, err := torch.FromSlice(s, in, inShape...)
				require.NoError(t, err)
				p := x // AP: the image itself
				if tc.kind == prompt.Explicit {
					p, err = torch.FromSlice(s, pv, pShape...)
					require.NoError(t, err)
				}
				return net.Forward(x, mod.Hook(p))
			})
			require.NoError(t, err)
			defer out.Close()
			require.Equal(t, wantShape, out.Shape())
			got, err := torch.ToSlice[float32](out)
			require.NoError(t, err)
			rel, maxAbs := testutil.RelL2(got, want)
			t.Logf("%s 128x128: relative L2 %.3g, max |diff| %.3g", tc.name, rel, maxAbs)
			require.LessOrEqual(t, rel, 1e-5)
		})
	}
}

// uformerKeyRows reads a <name>.keys.json fixture as "name shape dtype" rows.
func uformerKeyRows(t *testing.T, file string) []string {
	t.Helper()
	var rows [][3]any
	testutil.ModelJSON(t, file, &rows)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(r[0], " ", r[1], " ", r[2])
	}
	return out
}

// TestUformerPromptedPaperParams checks the paper-configuration parameter
// counts of Uformer_EP and Uformer_AP (section 5.4) and the full key lists
// (names, order, shapes, types) of the composed model.
func TestUformerPromptedPaperParams(t *testing.T) {
	net, err := nets.NewUformer(nil, nets.UformerConfig{})
	require.NoError(t, err)
	defer net.Close()
	for _, tc := range []struct {
		kind prompt.Kind
		name string
		want int64
	}{
		{prompt.Explicit, "Uformer_EP", 51_457_976},
		{prompt.Adaptive, "Uformer_AP", 51_489_336},
	} {
		mod, err := prompt.NewModulator(nil, tc.kind, net.Modulation())
		require.NoError(t, err)
		model := layers.Modules{mod, net}
		require.Equal(t, tc.want, layers.NumParams(model), tc.name)
		var got []string
		for _, p := range layers.Params(model) {
			shape := make([]any, 0, 4)
			for _, d := range p.Tensor().Shape() {
				shape = append(shape, float64(d))
			}
			got = append(got, fmt.Sprint(p.Name, " ", shape, " ", p.Tensor().DType().String()))
		}
		require.Equal(t, uformerKeyRows(t, tc.name+".full.keys.json"), got, tc.name)
		mod.Close()
	}
}

// TestUformerAPPromptIsPaddedInput shows how restoration code runs an AP
// model on an image whose size needs padding: pad first (Uformer.Padding),
// take the padded image as the prompt, run, crop. Forward on the unpadded
// image would compute the prompt from the unpadded image instead.
func TestUformerAPPromptIsPaddedInput(t *testing.T) {
	net, mod := loadUformerPrompted(t, "Uformer_AP", prompt.Adaptive)
	defer net.Close()
	defer mod.Close()
	const h, w = 120, 100
	in := make([]float32, 3*h*w)
	for i := range in {
		in[i] = float32((i*29)%89) / 89
	}
	pad, err := net.Padding(h, w)
	require.NoError(t, err)
	require.Equal(t, int64(128), pad.Side)
	run := func(padFirst bool) []float32 {
		out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
			x, err := torch.FromSlice(s, in, 1, 3, h, w)
			require.NoError(t, err)
			if !padFirst {
				return net.Forward(x, mod.Hook(x))
			}
			p := pad.Pad(x)
			return pad.Crop(net.Forward(p, mod.Hook(p))).Contiguous()
		})
		require.NoError(t, err)
		defer out.Close()
		require.Equal(t, []int64{1, 3, h, w}, out.Shape())
		v, err := torch.ToSlice[float32](out)
		require.NoError(t, err)
		return v
	}
	padded, unpadded := run(true), run(false)
	rel, _ := testutil.RelL2(unpadded, padded)
	require.Positive(t, rel, "the prompt of the padded image differs from the unpadded one's")
}

// BenchmarkUformerPromptedForward times inference-mode forward passes of
// Uformer_EP and Uformer_AP (backbone + prompt.Modulator): the fixture
// configuration at 128x128 and, unless -short, the paper configuration
// (random weights) at 256x256. The EP prompt is one 128x128 map.
func BenchmarkUformerPromptedForward(b *testing.B) {
	for _, v := range []struct {
		name  string
		kind  prompt.Kind
		paper bool
		side  int64
	}{
		{"Uformer_EP/fixture-128", prompt.Explicit, false, 128},
		{"Uformer_AP/fixture-128", prompt.Adaptive, false, 128},
		{"Uformer_EP/paper-256", prompt.Explicit, true, 256},
		{"Uformer_AP/paper-256", prompt.Adaptive, true, 256},
	} {
		b.Run(v.name, func(b *testing.B) {
			if v.paper && testing.Short() {
				b.Skip("paper-size Uformer forward skipped under -short")
			}
			g, err := torch.NewGenerator(0)
			require.NoError(b, err)
			defer g.Close()
			var net *nets.Uformer
			var mod *prompt.Modulator
			if v.paper {
				mod, err = prompt.NewModulator(g, v.kind, nets.UformerPaperConfig().Modulation())
				require.NoError(b, err)
				net, err = nets.NewUformer(g, nets.UformerConfig{})
				require.NoError(b, err)
			} else {
				net, mod = loadUformerPrompted(b, map[prompt.Kind]string{prompt.Explicit: "Uformer_EP",
					prompt.Adaptive: "Uformer_AP"}[v.kind], v.kind)
			}
			defer net.Close()
			defer mod.Close()
			maps, err := prompt.NewMaps(g, prompt.MapSize)
			require.NoError(b, err)
			defer maps.Close()
			x, err := g.Rand(nil, []int64{1, 3, v.side, v.side}, nil)
			require.NoError(b, err)
			defer x.Close()
			run := func() {
				out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
					in := s.Use(x)
					p := in
					if v.kind == prompt.Explicit {
						p = s.Use(maps.T).Narrow(0, 1, 1).Unsqueeze(1) // the noise map, (1, 1, 128, 128)
					}
					return net.Forward(in, mod.Hook(p))
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
