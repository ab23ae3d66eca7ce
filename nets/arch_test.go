package nets

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/keys"
	"github.com/gomioir/gomioir/nets/torch"
)

// TestRecipes checks each backbone's recipe against the table of method.md
// section 3, through the plans it makes.
func TestRecipes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		adamW   bool
		decay   float64
		etaMin  float64
		period  int
		order   string
		pad     PadRule
		zeroCfg Config
	}{
		{"SRResNet", false, 0, 1e-7, 250_000, "sbnjrhd", PadRule{Multiple: 1}, SRResNetConfig{}},
		{"SwinIR", false, 0, 1e-7, 100_000, "sbnjrhd", PadRule{Multiple: 8}, SwinIRConfig{}},
		{"Restormer", true, 0, 1e-7, 100_000, "rjbsnhd", PadRule{Multiple: 64}, RestormerConfig{}},
		{"Uformer", true, 0.02, 1e-6, 100_000, "rjbsnhd", PadRule{Multiple: 128, Square: true}, UformerConfig{}},
		{"PromptIR", true, 0, 1e-7, 100_000, "rjbsnhd", PadRule{Multiple: 64}, PromptIRConfig{}},
	} {
		a, err := Lookup(tc.name)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.name, a.Name())
		require.Equal(t, tc.zeroCfg, a.Config)
		require.Equal(t, tc.pad, a.Config.Pad(), tc.name)
		require.Equal(t, torch.AdamConfig{LR: 2e-4, Beta1: 0.9, Beta2: 0.99, Decoupled: tc.adamW, WeightDecay: tc.decay},
			a.Recipe.Optimizer, tc.name)
		for _, seq := range []bool{false, true} {
			p, err := a.Recipe.Plan(seq, curriculum.WithName(tc.name))
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.name, p.Name())
			require.Equal(t, 10*tc.period, p.TotalIters(), tc.name)
			require.Equal(t, 2e-4, p.BaseLR())
			require.Equal(t, tc.etaMin, p.EtaMin(), tc.name)
			st := p.Stages()
			cycles := 0
			for _, s := range st {
				cycles += len(s.Periods)
				for _, per := range s.Periods {
					require.Equal(t, tc.period, per)
				}
			}
			require.Equal(t, 10, cycles, tc.name)
			if seq {
				require.Equal(t, curriculum.KindSequential, p.Kind())
				require.Len(t, st, 7)
				require.Len(t, st[6].Periods, 4)
				require.Equal(t, tc.order, degrade.TaskCodes(st[6].Tasks), tc.name)
				require.Equal(t, tc.order[:1], degrade.TaskCodes(st[0].Tasks), tc.name)
			} else {
				// The mixed plan lists the tasks s b n j r h d whatever the order.
				require.Equal(t, curriculum.KindMixed, p.Kind())
				require.Equal(t, "sbnjrhd", degrade.TaskCodes(st[0].Tasks), tc.name)
			}
		}
	}
	// Options apply after the recipe's.
	a, _ := Lookup("uformer")
	p, err := a.Recipe.Plan(false, curriculum.WithLR(1e-3, 0))
	require.NoError(t, err)
	require.Equal(t, 1e-3, p.BaseLR())
	require.Equal(t, 0.0, p.EtaMin())
	// A zero Recipe is the default one.
	zero, err := Recipe{}.Plan(true)
	require.NoError(t, err)
	def, err := DefaultRecipe().Plan(true)
	require.NoError(t, err)
	require.Equal(t, def, zero)
}

type badConfig struct{ SRResNetConfig }

func (badConfig) ArchName() string { return "srresnet" }

type otherConfig struct{ SRResNetConfig }

func (otherConfig) ArchName() string { return "Other" }

func TestRegisterErrors(t *testing.T) {
	require.ErrorContains(t, Register(Arch{}), "Config must be")
	require.ErrorContains(t, Register(Arch{Config: &SRResNetConfig{}}), "Config must be")
	require.ErrorContains(t, Register(Arch{Config: badConfig{}}), `"srresnet" is already registered`)
	require.ErrorIs(t, Register(Arch{Config: otherConfig{}, Recipe: Recipe{EtaMin: 1}}), curriculum.ErrInvalid)
	require.ErrorIs(t, Register(Arch{Config: otherConfig{}, Recipe: Recipe{Order: []degrade.Task{9}}}), curriculum.ErrInvalid)
	require.ErrorIs(t, Register(Arch{Config: otherConfig{}, Recipe: Recipe{Period: -1}}), curriculum.ErrInvalid)
	_, err := Lookup("Other")
	require.ErrorContains(t, err, `unknown backbone "Other" (known: `)
	require.Contains(t, Archs(), "SwinIR")
}

// TestInferFixtures recognises every reduced reference fixture from its
// keys (mioir's tests check the paper configurations and the models built
// from them).
func TestInferFixtures(t *testing.T) {
	for _, name := range []string{"SRResNet", "SRResNet_EP", "SwinIR_AP", "Restormer", "Uformer_EP", "PromptIR"} {
		k := keys.New(testutil.KeyShapes(t, name+".keys.json"))
		cfg, err := Infer(k, "")
		require.NoError(t, err, name)
		require.Equal(t, name[:len(cfg.ArchName())], cfg.ArchName(), name)
		_, err = Infer(k, "TwoConvNot")
		require.ErrorContains(t, err, "unknown backbone")
	}
	_, err := Infer(keys.New(testutil.KeyShapes(t, "SwinIR.keys.json")), "Restormer")
	require.ErrorContains(t, err, "its keys are not those of Restormer")
	_, err = Infer(keys.New([]string{"a.weight"}, [][]int64{{1}}), "")
	require.ErrorContains(t, err, "no registered backbone matches its keys")
	require.ErrorContains(t, err, "first keys: a.weight")
}
