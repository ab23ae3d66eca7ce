package nets_test

import (
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

// TestSwinIRPromptedParity runs SwinIR_EP and SwinIR_AP as this library
// composes them (the SwinIR backbone modulated by a prompt.Modulator built
// from its modulation points), loaded strictly from the reference .pth, and
// compares with the reference outputs.
func TestSwinIRPromptedParity(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind prompt.Kind
	}{
		{"SwinIR_EP", prompt.Explicit},
		{"SwinIR_AP", prompt.Adaptive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net, err := nets.NewSwinIR(nil, nets.SwinFixtureConfigForTest(t, tc.name))
			require.NoError(t, err)
			mod, err := prompt.NewModulator(nil, tc.kind, net.Modulation())
			require.NoError(t, err)
			model := layers.Modules{mod, net}
			defer net.Close()
			defer mod.Close()

			ck, err := pth.Load(fixtures.Path(t, "models", tc.name+".pth"))
			require.NoError(t, err)
			sd, err := ck.StateDict("params")
			require.NoError(t, err)
			require.NoError(t, layers.LoadStateDict(model, sd, nil))
			require.Equal(t, int64(map[string]int{"SwinIR_EP": 1_222_461, "SwinIR_AP": 1_228_733}[tc.name]),
				layers.NumParams(model))

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
			t.Logf("%s 64x64: relative L2 %.3g, max |diff| %.3g", tc.name, rel, maxAbs)
			require.LessOrEqual(t, rel, 1e-5)
		})
	}
}

// TestSwinIRPromptedPaperParams checks the paper-configuration parameter
// counts of SwinIR_EP and SwinIR_AP (section 5.2) for the composed model.
func TestSwinIRPromptedPaperParams(t *testing.T) {
	net, err := nets.NewSwinIR(nil, nets.SwinIRConfig{})
	require.NoError(t, err)
	defer net.Close()
	for kind, want := range map[prompt.Kind]int64{prompt.Explicit: 11_854_341, prompt.Adaptive: 11_860_613} {
		mod, err := prompt.NewModulator(nil, kind, net.Modulation())
		require.NoError(t, err)
		require.Equal(t, want, layers.NumParams(layers.Modules{mod, net}), kind.String())
		mod.Close()
	}
}
