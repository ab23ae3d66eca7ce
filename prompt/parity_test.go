package prompt

import (
	"math"
	"testing"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/stretchr/testify/require"
)

func TestParamCountsAndKeys(t *testing.T) {
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(0)
	require.NoError(t, err)
	defer g.Close()
	cls, err := NewClassifier(g)
	require.NoError(t, err)
	for _, c := range []struct {
		name   string
		m      layers.Module
		params int64
	}{
		{"SRResNet_EP", newSRPrompted(t, g, Explicit), 1441033},
		{"SRResNet_AP", newSRPrompted(t, g, Adaptive), 1447305},
		{"Classifier", cls, 188551},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.params, layers.NumParams(c.m))
			keys, shapes := testutil.FullKeys(t, c.name)
			ps := layers.Params(c.m)
			require.Len(t, ps, len(keys))
			for i, p := range ps {
				require.Equal(t, keys[i], p.Name)
				require.Equal(t, shapes[i], p.Tensor().Shape(), p.Name)
			}
		})
		layers.Close(c.m)
	}
	require.Equal(t, live, torch.LiveTensors())
}

// runSRPrompted loads <name>.pth's section and runs the fixture input with
// the fixture's prompt (EP) or the input itself (AP).
func runSRPrompted(t *testing.T, name string, kind Kind, section string) []float32 {
	t.Helper()
	m := newSRPrompted(t, nil, kind)
	defer m.Close()
	loadFixture(t, m, name, section)
	in, inShape := testutil.ReadNpy(t, name+".in.npy")
	var pr []float32
	var prShape []int64
	if kind == Explicit {
		pr, prShape = testutil.ReadNpy(t, name+".prompt.npy")
	}
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.FromSlice(s, in, inShape...)
		if err != nil {
			return nil
		}
		p := x
		if kind == Explicit {
			if p, err = torch.FromSlice(s, pr, prShape...); err != nil {
				return nil
			}
			p = p.Unsqueeze(0) // (1,128,128) -> (1,1,128,128), as the reference
		}
		return m.Forward(x, p)
	})
	require.NoError(t, err)
	defer out.Close()
	v, err := torch.ToSlice[float32](out)
	require.NoError(t, err)
	return v
}

func TestSRResNetPromptedParity(t *testing.T) {
	for _, c := range []struct {
		name string
		kind Kind
		ema  float64 // manifest.json: max_abs_diff_if_params_ema_loaded
	}{
		{"SRResNet_EP", Explicit, 0.019112229347229004},
		{"SRResNet_AP", Adaptive, 0.01787838339805603},
	} {
		t.Run(c.name, func(t *testing.T) {
			live := torch.LiveTensors()
			want, _ := testutil.ReadNpy(t, c.name+".out.npy")
			got := runSRPrompted(t, c.name, c.kind, "params")
			rel, maxAbs := testutil.RelL2(got, want)
			t.Logf("%s: rel L2 %.3g, max abs %.3g", c.name, rel, maxAbs)
			require.LessOrEqual(t, rel, 1e-5)

			ema := runSRPrompted(t, c.name, c.kind, "params_ema")
			var d float64
			for i := range got {
				d = math.Max(d, math.Abs(float64(got[i])-float64(ema[i])))
			}
			require.InDelta(t, c.ema, d, 1e-5)
			require.Equal(t, live, torch.LiveTensors())
		})
	}
}

// The explicit prompt of the fixture is row 1 (noise) of type7.npy, cast to
// float32; Maps must give exactly that tensor for degrade.Noise.
func TestMapsMatchFixturePrompt(t *testing.T) {
	live := torch.LiveTensors()
	maps, err := LoadMaps(fixtures.Path(t, "models", "type7.npy"))
	require.NoError(t, err)
	defer maps.Close()
	want, _ := testutil.ReadNpy(t, "SRResNet_EP.prompt.npy")
	p, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		p, err := maps.Prompt(s, torch.CPU, degrade.Noise, degrade.SR)
		if err != nil {
			return nil
		}
		return p
	})
	require.NoError(t, err)
	require.Equal(t, []int64{2, 1, 128, 128}, p.Shape())
	got, err := torch.ToSlice[float32](p)
	p.Close()
	require.NoError(t, err)
	require.Equal(t, want, got[:128*128])
	// The spec's loader check values of map 6 (sr), cast to float32.
	require.Equal(t, []float32{float32(0.31439301323966296), float32(0.482269133932687),
		float32(0.3834134399430861), float32(0.5938124366091703)}, got[128*128:128*128+4])
	maps.Close()
	require.Equal(t, live, torch.LiveTensors())
}

type taskFixture struct {
	Softmax       []float64 `json:"softmax"`
	Argmax        int       `json:"argmax"`
	SelectedIndex int       `json:"selected_index"`
	SelectedTask  string    `json:"selected_task"`
	Priority      []int     `json:"priority_order"`
	TieCases      []struct {
		Probs         []float64 `json:"probs"`
		SelectedIndex int       `json:"selected_index"`
		SelectedTask  string    `json:"selected_task"`
	} `json:"tie_cases"`
}

func readTaskFixture(t *testing.T) taskFixture {
	var f taskFixture
	testutil.ModelJSON(t, "Classifier.task.json", &f)
	return f
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func TestClassifierParity(t *testing.T) {
	live := torch.LiveTensors()
	c, err := NewClassifier(nil)
	require.NoError(t, err)
	defer c.Close()
	loadFixture(t, c, "Classifier", "params")
	in, shape := testutil.ReadNpy(t, "Classifier.in.npy")
	want, _ := testutil.ReadNpy(t, "Classifier.out.npy")
	x, err := torch.FromSlice(nil, in, shape...)
	require.NoError(t, err)
	defer x.Close()
	preds, err := c.Classify(x)
	require.NoError(t, err)
	require.Len(t, preds, 1)
	rel, maxAbs := testutil.RelL2(preds[0].Probs[:], want)
	t.Logf("Classifier: rel L2 %.3g, max abs %.3g", rel, maxAbs)
	require.LessOrEqual(t, rel, 1e-5)
	f := readTaskFixture(t)
	p := Priority()
	require.Equal(t, f.Priority, p[:])
	p[0] = 99 // a copy: the selection order cannot be changed from outside
	require.Equal(t, 3, Priority()[0])
	require.InDeltaSlice(t, f.Softmax, toF64(preds[0].Probs[:]), 1e-6)
	require.Equal(t, f.SelectedTask, preds[0].Task.Name())
	require.Equal(t, f.SelectedIndex, preds[0].Task.PromptIndex())

	// params_ema changes the output by the manifest's amount.
	e, err := NewClassifier(nil)
	require.NoError(t, err)
	defer e.Close()
	loadFixture(t, e, "Classifier", "params_ema")
	pe, err := e.Classify(x)
	require.NoError(t, err)
	var d float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(pe[0].Probs[i])-float64(preds[0].Probs[i])))
	}
	require.InDelta(t, 0.0001764148473739624, d, 1e-6)
	x.Close()
	c.Close()
	e.Close()
	require.Equal(t, live, torch.LiveTensors())
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestSelectTieCases(t *testing.T) {
	f := readTaskFixture(t)
	require.NotEmpty(t, f.TieCases)
	for _, c := range f.TieCases {
		i, err := SelectIndex(f32(c.Probs))
		require.NoError(t, err)
		require.Equal(t, c.SelectedIndex, i, "%v", c.Probs)
		task, err := Select(f32(c.Probs))
		require.NoError(t, err)
		require.Equal(t, c.SelectedTask, task.Name())
	}
	i, err := SelectIndex(f32(f.Softmax))
	require.NoError(t, err)
	require.Equal(t, f.SelectedIndex, i)
	_, err = SelectIndex([]float32{1, 2})
	require.Error(t, err)
	_, err = SelectIndex([]float32{0, float32(math.NaN()), 0, 0, 0, 0, 0})
	require.Error(t, err)
}
