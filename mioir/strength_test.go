package mioir

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/torch"
)

// TestStrengthStats: the statistics of the bundled sample's degraded image
// (as input) and clean image (as output) equal what
// scripts/autoeval/strength_fit.py computes on the same files with numpy
// (cv2.imread, BGR luminance, np.percentile, np.std).
func TestStrengthStats(t *testing.T) {
	dir := filepath.Join("pretrained", "sample")
	in, w, h := imgconv.CHW(testutil.ReadPNG(t, filepath.Join(dir, "degraded.png")))
	out, w2, h2 := imgconv.CHW(testutil.ReadPNG(t, filepath.Join(dir, "clean.png")))
	require.Equal(t, [2]int{w, h}, [2]int{w2, h2})
	want := []float64{0.4981142788157744, 0.298679226599713, 0.28122527773720235, 0.9415628965522189,
		-0.09966207586550258, 0.00392156862745098, 0.0, 0.3205599317363664, 0.2114659926470588,
		0.6042784930244, 0.09990836748110703}
	got := measureStrengthStats(in, out, w, h)
	require.Len(t, got, len(StrengthStats()))
	for i, name := range StrengthStats() {
		require.InDelta(t, want[i], got[i], 1e-12, name)
	}
}

// TestHistPercentile: numpy's linear percentile of {1, 3, 7, 9, 200}.
func TestHistPercentile(t *testing.T) {
	var hist [256]int
	for _, v := range []int{3, 7, 200, 9, 1} {
		hist[v]++
	}
	for q, want := range map[float64]float64{0: 1, 1: 1.08, 50: 7, 90: 123.6, 100: 200} {
		require.InDelta(t, want, histPercentile(&hist, 5, q), 1e-12, "q=%v", q)
	}
}

func testStrengthModel() *StrengthModel {
	w := make([]float64, len(StrengthStats())+1)
	w[0], w[len(w)-1] = 1, -5 // 1 - 5*rms
	return &StrengthModel{Stats: StrengthStats(), Weights: w, Min: 0.3, Max: 1}
}

func TestStrengthModelPredictAndValidate(t *testing.T) {
	sm := testStrengthModel()
	require.NoError(t, sm.Validate())
	n := 4 * 4
	in := make([]float32, 3*n)
	for _, change := range []struct {
		delta float32 // every sample's change, in 8-bit steps
		want  float64
	}{{0, 1}, {51, 0}, {10, 1 - 5*10.0/255}} {
		out := make([]float32, 3*n)
		for i := range out {
			out[i] = change.delta / 255
		}
		k, err := sm.Predict(in, out, 4, 4)
		require.NoError(t, err)
		require.InDelta(t, min(max(change.want, 0.3), 1), k, 1e-12, "delta %v", change.delta)
	}
	bad := []*StrengthModel{nil,
		{Stats: StrengthStats()[1:], Weights: sm.Weights, Min: 0.3, Max: 1},
		{Stats: StrengthStats(), Weights: sm.Weights[1:], Min: 0.3, Max: 1},
		{Stats: StrengthStats(), Weights: sm.Weights, Min: 0, Max: 1},
		{Stats: StrengthStats(), Weights: sm.Weights, Min: 0.5, Max: 1.2},
		{Stats: StrengthStats(), Weights: append([]float64{math.NaN()}, sm.Weights[1:]...), Min: 0.3, Max: 1},
	}
	for i, b := range bad {
		require.Error(t, b.Validate(), "case %d", i)
	}
	for _, c := range []struct {
		in, out []float32
		w, h    int
	}{{in, in, 4, 3}, {in, in[:3], 4, 4}, {in[:0], in[:0], 0, 0}} {
		_, err := sm.Predict(c.in, c.out, c.w, c.h)
		require.ErrorContains(t, err, "samples for a", "%dx%d", c.w, c.h)
	}
	_, err := (&StrengthModel{}).Predict(in, in, 4, 4)
	require.Error(t, err, "an invalid model predicts nothing")
}

// TestRestoreStrength: Options.Strength blends the network's output with
// the input exactly; 0 applies the model's StrengthModel for the task (and
// only for that task); the model survives Save and Load; bad values are
// refused.
func TestRestoreStrength(t *testing.T) {
	m, err := New(smallConfigs["SRResNet_AP"], 3)
	require.NoError(t, err)
	defer m.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x := randInput(t, s, 40, 48, 5)
	in, err := torch.ToSlice[float32](x)
	require.NoError(t, err)

	full, info := restoreSlice(t, m, x, &Options{Task: degrade.Noise})
	require.Equal(t, 1.0, info.Strength)
	half, info := restoreSlice(t, m, x, &Options{Task: degrade.Noise, Strength: 0.5})
	require.Equal(t, 0.5, info.Strength)
	for i := range half {
		require.InDelta(t, in[i]+0.5*(full[i]-in[i]), half[i], 1e-6)
	}

	sm := testStrengthModel()
	require.NoError(t, m.SetStrength(degrade.Noise, sm))
	wantK, err := sm.Predict(in, full, 48, 40)
	require.NoError(t, err)
	require.Less(t, wantK, 1.0, "the test needs a prediction below 1")
	check := func(m *Model) {
		got, info := restoreSlice(t, m, x, &Options{Task: degrade.Noise})
		require.InDelta(t, wantK, info.Strength, 1e-12)
		for i := range got {
			require.InDelta(t, in[i]+float32(wantK)*(full[i]-in[i]), got[i], 1e-6)
		}
		_, info = restoreSlice(t, m, x, &Options{Task: degrade.Noise, Strength: 1})
		require.Equal(t, 1.0, info.Strength, "Strength 1 turns the prediction off")
		_, info = restoreSlice(t, m, x, &Options{Task: degrade.Haze})
		require.Equal(t, 1.0, info.Strength, "no strength model for haze")
	}
	check(m)

	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))
	m2, err := Load(path)
	require.NoError(t, err)
	defer m2.Close()
	require.Equal(t, sm, m2.Strength(degrade.Noise))
	require.Nil(t, m2.Strength(degrade.Haze))
	check(m2)
	require.NoError(t, m2.SetStrength(degrade.Noise, nil))
	require.Nil(t, m2.Strength(degrade.Noise))

	for _, v := range []float64{-0.1, 1.5, math.NaN()} {
		_, _, err := m.RestoreTensor(context.Background(), x, &Options{Task: degrade.Noise, Strength: v})
		require.ErrorContains(t, err, "Options.Strength", "%v", v)
	}
	require.Error(t, m.SetStrength(degrade.Noise, &StrengthModel{}))
	require.Error(t, m.SetStrength(0, sm))
}
