package mioir

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// TestTraceModelPosterior: the embedded model's posterior equals NumPy's
// on the same JSON (softmax of the standardised features times the
// weights; the values below were computed with NumPy from
// mioir/tracemodel.json, so refitting that file means recomputing them).
func TestTraceModelPosterior(t *testing.T) {
	m := DefaultTraceModel()
	for _, c := range []struct {
		tr   Traces
		want [prompt.NumTasks]float64
	}{
		{Traces{NoiseSigma: 0.05, JPEGBlockiness: 1.02, UpscaleTrace: 0.97, GridAsymmetry: 0.08, UpscaleFit: 0.97, Detail: 0.61,
			MeanBrightness: 0.52, DarkChannel: 0.11, ToneCurveComb: 0.2, RainStreaks: 0.05},
			[prompt.NumTasks]float64{0.003584, 0.941368, 0.017482, 0.008680, 0.020660, 0.005704, 0.002521}},
		// NoiseSigma -1 (too small to tell) counts as 0.
		{Traces{NoiseSigma: -1, JPEGBlockiness: 0.98, UpscaleTrace: 1.01, GridAsymmetry: 0.12, UpscaleFit: 0.99, Detail: 0.31,
			MeanBrightness: 0.71, DarkChannel: 0.42, ToneCurveComb: 0.1, RainStreaks: 0.6},
			[prompt.NumTasks]float64{0.028743, 0.003616, 0.064171, 0.070957, 0.813626, 0.000917, 0.017971}},
	} {
		p, err := m.Posterior(&c.tr)
		require.NoError(t, err)
		for i := range p {
			require.InDelta(t, c.want[i], p[i], 1e-6, "prompt index %d", i)
		}
	}
	_, err := m.Posterior(&Traces{Detail: math.NaN()})
	require.ErrorContains(t, err, "feature 5 is NaN")

	// Each call returns a copy: changing one does not change the next.
	m.Bias[0] = 100
	require.NotEqual(t, 100.0, DefaultTraceModel().Bias[0])
}

// TestTraceModelHeldOut: on the held-out coffee photo (not among the
// photos the model was fitted on), degraded by the library, the embedded
// model's most probable task is the one applied, with at least 0.5, and
// for rain and haze, where the classifier is often unsure, with at least
// the default guard's MinTraceProb.
func TestTraceModelHeldOut(t *testing.T) {
	coffee := degradedCoffee(t)
	tm := DefaultTraceModel()
	for _, c := range []struct {
		m       *degrade.Image
		want    degrade.Task
		minProb float64
	}{
		{coffee["dark"], degrade.LowLight, 0.5}, {coffee["noisy"], degrade.Noise, 0.5}, {coffee["jpeg"], degrade.JPEG, 0.5},
		{coffee["rainy"], degrade.Rain, 0.7}, {coffee["hazy"], degrade.Haze, 0.7},
	} {
		x, err := torch.FromSlice(nil, c.m.CHW(), 1, 3, int64(c.m.H), int64(c.m.W))
		require.NoError(t, err)
		tr, err := MeasureTraces(x)
		x.Close()
		require.NoError(t, err)
		task, prob, err := tm.Choose(tr)
		require.NoError(t, err)
		t.Logf("%s: %s %.3f", c.want, task, prob)
		require.Equal(t, c.want, task)
		require.GreaterOrEqual(t, prob, c.minProb, c.want)
	}
}

// TestFitTraceModel: on two classes that one trace separates, the fit is
// right on every input, its tasks are in prompt-index order, and it is
// deterministic; bad inputs are refused.
func TestFitTraceModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var trs []Traces
	var tasks []degrade.Task
	for i := range 200 {
		tr := Traces{NoiseSigma: r.Float64() * 2 / 255, JPEGBlockiness: 0.9 + 0.1*r.Float64(), UpscaleTrace: 1,
			GridAsymmetry: 0.1, Detail: 0.3 + 0.2*r.Float64(), MeanBrightness: r.Float64(), DarkChannel: 0.2 * r.Float64()}
		task := degrade.JPEG
		if i%2 == 0 {
			tr.NoiseSigma += 10.0 / 255
			task = degrade.Noise
		} else {
			tr.JPEGBlockiness += 1
		}
		trs = append(trs, tr)
		tasks = append(tasks, task)
	}
	m, err := FitTraceModel(context.Background(), trs, tasks, &FitOptions{Iterations: 300})
	require.NoError(t, err)
	require.Equal(t, []string{"noise", "jpeg"}, m.Tasks)
	for i := range trs {
		p, err := m.Posterior(&trs[i])
		require.NoError(t, err)
		require.Greater(t, p[tasks[i].PromptIndex()], 0.9, i)
	}
	again, err := FitTraceModel(context.Background(), trs, tasks, &FitOptions{Iterations: 300})
	require.NoError(t, err)
	require.Equal(t, m, again)

	_, err = FitTraceModel(context.Background(), trs, tasks[:10], nil)
	require.ErrorContains(t, err, "200 traces and 10 tasks")
	_, err = FitTraceModel(context.Background(), trs[:2], []degrade.Task{degrade.Rain, degrade.Rain}, nil)
	require.ErrorContains(t, err, "1 distinct tasks")
	bad := append([]Traces(nil), trs...)
	bad[7].DarkChannel = math.Inf(1)
	_, err = FitTraceModel(context.Background(), bad, tasks, nil)
	require.ErrorContains(t, err, "input 7: feature 7 is +Inf")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = FitTraceModel(ctx, trs, tasks, nil)
	require.ErrorIs(t, err, context.Canceled)
}

// TestTraceModelValidate: a model whose shapes disagree or whose tasks are
// unknown or repeated is refused before use.
func TestTraceModelValidate(t *testing.T) {
	require.NoError(t, DefaultTraceModel().Validate())
	for name, c := range map[string]struct {
		mod  func(*TraceModel)
		want string
	}{
		"unknown task":  {func(m *TraceModel) { m.Tasks[0] = "fog" }, "fog"},
		"task twice":    {func(m *TraceModel) { m.Tasks[1] = m.Tasks[0] }, "twice"},
		"short centre":  {func(m *TraceModel) { m.Center = m.Center[:3] }, "3 centres"},
		"zero scale":    {func(m *TraceModel) { m.Scale[2] = 0 }, "scale 2 is 0"},
		"missing row":   {func(m *TraceModel) { m.Weights = m.Weights[:2] }, "2 weight rows"},
		"short row":     {func(m *TraceModel) { m.Weights[3] = m.Weights[3][:1] }, "has 1 weights"},
		"one task only": {func(m *TraceModel) { m.Tasks = m.Tasks[:1] }, "1 tasks"},
	} {
		m := DefaultTraceModel()
		c.mod(m)
		_, err := m.Posterior(&Traces{})
		require.ErrorContains(t, err, c.want, name)
	}
}

// TestGuardTraceModel: the default guard's trace model decides after the
// traces that settle a task alone and before the classifier's checks, on
// the held-out coffee photo degraded by the library.
func TestGuardTraceModel(t *testing.T) {
	m := newGuardModel(t)
	coffee := degradedCoffee(t)
	rainy := coffee["rainy"]
	blurred, err := degrade.GaussianBlur(coffee["clean"], 15, 2.5)
	require.NoError(t, err)
	tensor := func(im *degrade.Image) *torch.Tensor {
		x, err := torch.FromSlice(nil, im.CHW(), 1, 3, int64(im.H), int64(im.W))
		require.NoError(t, err)
		t.Cleanup(func() { x.Close() })
		return x
	}
	g := DefaultGuard()
	g.MinAgree = 0 // the quadrants' votes need a trained classifier
	noModel := *g
	noModel.TraceModel = nil

	// Rain that the classifier is unsure of (or takes for blur): the trace
	// model is sure, and the streaks are there.
	for _, chosen := range []degrade.Task{degrade.Rain, degrade.Blur} {
		fb, err := m.guard(tensor(rainy), prediction(chosen, 0.5), g)
		require.NoError(t, err)
		if chosen == degrade.Rain {
			require.Nil(t, fb, "the classifier's own choice, confirmed")
		} else {
			require.NotNil(t, fb)
			require.Equal(t, degrade.Rain, fb.Use)
			require.Regexp(t, `^trace model: rain 0\.\d\d >= 0\.70$`, fb.Reason)
		}
		fb, err = m.guard(tensor(rainy), prediction(chosen, 0.5), &noModel)
		require.NoError(t, err)
		require.NotNil(t, fb)
		require.Zero(t, fb.Use, "without the trace model the classifier's doubt leaves the image")
	}

	// A lightly darkened photo (gamma 1.3): brighter than MaxDarkMean and
	// its comb too faint for a step, so without the trace model the
	// classifier's blur choice stands; the trace model, sure of low light,
	// is not held to MaxDarkMean.
	light, err := degrade.LowLightGamma(coffee["clean"], 1.3)
	require.NoError(t, err)
	fb, err := m.guard(tensor(light), prediction(degrade.Blur, 0.9), g)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Equal(t, degrade.LowLight, fb.Use)
	require.Regexp(t, `^trace model: dark 0\.9\d >= 0\.60$`, fb.Reason)
	tr, err := MeasureTraces(tensor(light))
	require.NoError(t, err)
	require.Greater(t, tr.MeanBrightness, float64(g.MaxDarkMean))
	fb, err = m.guard(tensor(light), prediction(degrade.Blur, 0.9), &noModel)
	require.NoError(t, err)
	require.Nil(t, fb)

	// Blur, which the trace model chooses from 0.8: over the classifier's
	// rain, and the classifier's own blur choice stands.
	fb, err = m.guard(tensor(blurred), prediction(degrade.Blur, 0.9), g)
	require.NoError(t, err)
	require.Nil(t, fb)
	fb, err = m.guard(tensor(blurred), prediction(degrade.Rain, 0.9), g)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Equal(t, degrade.Blur, fb.Use)
	require.Regexp(t, `^trace model: blur 0\.\d\d >= 0\.80$`, fb.Reason)
	withBlur := *g
	withBlur.TraceProb = map[degrade.Task]float32{degrade.Blur: 1.01} // out of reach
	fb, err = m.guard(tensor(blurred), prediction(degrade.Rain, 0.9), &withBlur)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Zero(t, fb.Use, "the classifier's rain goes through its checks and fails")
	// Without blur among TraceTasks, the trace model's blur defers to the
	// classifier's own blur choice.
	noBlur := *g
	noBlur.TraceTasks = slices.DeleteFunc(slices.Clone(g.TraceTasks), func(t degrade.Task) bool { return t == degrade.Blur })
	fb, err = m.guard(tensor(blurred), prediction(degrade.Rain, 0.9), &noBlur)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Zero(t, fb.Use)
	require.Regexp(t, `^trace model: blur 0\.\d\d, which only the classifier's own choice may confirm$`, fb.Reason)
	fb, err = m.guard(tensor(blurred), prediction(degrade.Blur, 0.9), &noBlur)
	require.NoError(t, err)
	require.Nil(t, fb)

	// An x4 upscale: the classifier's blur or haze is refused by the x4
	// fit (trace model and x4-period rule off), and the trace model takes
	// it for what it is.
	up := coffee["upscaled"]
	fitOnly := noModel
	fitOnly.UpscaleTrace, fitOnly.MaxBlurUpscaleTrace = 0, 0
	for _, chosen := range []degrade.Task{degrade.Blur, degrade.Haze} {
		fb, err = m.guard(tensor(up), prediction(chosen, 0.9), &fitOnly)
		require.NoError(t, err)
		require.NotNil(t, fb, chosen)
		require.Zero(t, fb.Use)
		require.Regexp(t, `^x4 upscale fit 0\.\d\d < 0\.85$`, fb.Reason, chosen)
	}
	fb, err = m.guard(tensor(up), prediction(degrade.Blur, 0.9), g)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Equal(t, degrade.SR, fb.Use)
	require.Regexp(t, `^trace model: sr (0\.9\d|1\.00) >= 0\.70$`, fb.Reason)

	// A black image, which the trace model takes for blur, is underexposed.
	black := degrade.NewImage(64, 64)
	fb, err = m.guard(tensor(black), prediction(degrade.Haze, 0.9), g)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Equal(t, degrade.LowLight, fb.Use)
	require.Equal(t, "mean brightness 0.000 <= 0.100", fb.Reason)
}
