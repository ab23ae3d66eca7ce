package mioir

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// TestDarkChannel: a 32x32 image at 0.6 with one black pixel has dark
// channel 0 over the 15x15 patch around that pixel and 0.6 elsewhere.
func TestDarkChannel(t *testing.T) {
	v := make([]float32, 3*32*32)
	for i := range v {
		v[i] = 0.6
	}
	v[32*32+16*32+16] = 0 // green of pixel (16, 16)
	x, err := torch.FromSlice(nil, v, 1, 3, 32, 32)
	require.NoError(t, err)
	defer x.Close()
	dc, err := darkChannel(x)
	require.NoError(t, err)
	require.InDelta(t, 0.6*(1-225.0/1024), dc, 1e-6)
}

// TestDarkChannelStrips: an image of 700 rows (strips of 256, 256 and 188
// rows, with black dots near the strip edges) has the one-pass dark channel.
func TestDarkChannelStrips(t *testing.T) {
	g, err := torch.NewGenerator(5)
	require.NoError(t, err)
	defer g.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x, err := g.Rand(s, []int64{1, 3, 700, 48}, nil)
	require.NoError(t, err)
	x = x.MulScalar(0.5).AddScalar(0.5)
	v, err := torch.ToSlice[float32](x)
	require.NoError(t, err)
	for _, y := range []int{250, 255, 256, 262, 511, 513} {
		v[700*48+y*48+20] = 0 // green, near the strip edges
	}
	x, err = torch.FromSlice(s, v, 1, 3, 700, 48)
	require.NoError(t, err)
	got, err := darkChannel(x)
	require.NoError(t, err)
	want, err := x.Amin(true, 1).Neg().MaxPool2d([2]int64{15, 15}, [2]int64{1, 1}, [2]int64{7, 7}).Neg().
		Mean(false).ToDType(torch.Float64).Item()
	require.NoError(t, err)
	require.InDelta(t, want, got, 1e-6) // float32 sums in another order
}

// TestGuard: with a small random EP model, a choice whose probability is
// under Guard.MinProb falls back (the input unchanged, or Options.Task when
// given) and Info says so; at or over it, or with a zero Guard, the choice
// is used.
func TestGuard(t *testing.T) {
	m := newGuardModel(t)
	img := testImage(40, 36, 3)
	ctx := context.Background()
	all := []degrade.Task{degrade.SR, degrade.Blur, degrade.Noise, degrade.JPEG, degrade.Rain, degrade.Haze, degrade.LowLight}

	raw, info, err := m.Restore(ctx, img, &Options{Auto: true, Guard: &Guard{}})
	require.NoError(t, err)
	require.Nil(t, info.Fallback)
	chosen := info.Task
	p := info.Probs[chosen.PromptIndex()]

	// Under the threshold: unchanged input, Fallback reported.
	out, info, err := m.Restore(ctx, img, &Options{Auto: true, Guard: &Guard{Risky: all, MinProb: p + 1e-4}})
	require.NoError(t, err)
	require.NotNil(t, info.Fallback)
	require.Equal(t, chosen, info.Fallback.Chosen)
	require.Contains(t, info.Fallback.Reason, "probability")
	require.Zero(t, info.Task)
	require.True(t, info.Auto)
	require.Equal(t, img.Pix, out.Pix)

	// Under the threshold with a task given: that task's restoration.
	withTask, info, err := m.Restore(ctx, img, &Options{Auto: true, Task: degrade.Noise, Guard: &Guard{Risky: all, MinProb: p + 1e-4}})
	require.NoError(t, err)
	require.NotNil(t, info.Fallback)
	require.Equal(t, degrade.Noise, info.Task)
	noise, _, err := m.Restore(ctx, img, &Options{Task: degrade.Noise})
	require.NoError(t, err)
	require.Equal(t, noise.Pix, withTask.Pix)

	// At the threshold, or the chosen task not risky: used as chosen.
	for _, g := range []*Guard{{Risky: all, MinProb: p}, {Risky: []degrade.Task{otherTask(chosen)}, MinProb: 2}} {
		out, info, err := m.Restore(ctx, img, &Options{Auto: true, Guard: g})
		require.NoError(t, err)
		require.Nil(t, info.Fallback)
		require.Equal(t, chosen, info.Task)
		require.Equal(t, raw.Pix, out.Pix)
	}

	// Five agreeing quadrants of four can never be had.
	_, info, err = m.Restore(ctx, img, &Options{Auto: true, Guard: &Guard{Risky: all, MinAgree: 5}})
	require.NoError(t, err)
	require.NotNil(t, info.Fallback)
	require.Contains(t, info.Fallback.Reason, "quadrants")

	// A given task without Auto never runs the guard.
	_, info, err = m.Restore(ctx, img, &Options{Task: degrade.Haze, Guard: &Guard{Risky: all, MinProb: 2}})
	require.NoError(t, err)
	require.Nil(t, info.Fallback)
	require.Equal(t, degrade.Haze, info.Task)
}

// TestGuardDecide: the guard decides from measurements alone, as Restore's
// does: a noise level that settles the task overrides the classifier's
// haze; a rain choice needs three agreeing quadrants and asks for their
// votes only then; missing traces, missing votes and a failing vote are
// errors, not decisions.
func TestGuardDecide(t *testing.T) {
	g := DefaultGuard()
	g.TraceModel = nil
	clean := Traces{NoiseSigma: 2.0 / 255, JPEGBlockiness: 0.9, UpscaleTrace: 1, GridAsymmetry: 0.05, UpscaleFit: 1,
		Reblur: 3.0 / 255, Detail: 0.4, MeanBrightness: 0.6, DarkChannel: 0.2, ToneCurveComb: 0.1, RainStreaks: 0.5}
	noVotes := func(degrade.Task) (int, error) { t.Fatal("votes asked for"); return 0, nil }

	noisy := clean
	noisy.NoiseSigma = 10.0 / 255
	fb, err := g.Decide(prediction(degrade.Haze, 0.9), &noisy, noVotes)
	require.NoError(t, err)
	require.Equal(t, &Fallback{Chosen: degrade.Haze, Reason: "noise sigma 10.0/255 >= 6.0/255", Use: degrade.Noise}, fb)

	for votes, want := range map[int]*Fallback{2: {Chosen: degrade.Rain, Reason: "2 of 4 quadrants agree < 3"}, 3: nil} {
		asked := 0
		fb, err := g.Decide(prediction(degrade.Rain, 0.9), &clean, func(task degrade.Task) (int, error) {
			asked++
			require.Equal(t, degrade.Rain, task)
			return votes, nil
		})
		require.NoError(t, err)
		require.Equal(t, want, fb, "%d votes", votes)
		require.Equal(t, 1, asked)
	}
	fb, err = g.Decide(prediction(degrade.SR, 0.9), &clean, noVotes)
	require.NoError(t, err)
	require.Nil(t, fb, "SR is not risky: no votes")

	_, err = g.Decide(prediction(degrade.Rain, 0.9), nil, noVotes)
	require.ErrorContains(t, err, "no traces")
	_, err = g.Decide(prediction(degrade.Rain, 0.9), &clean, nil)
	require.ErrorContains(t, err, "MinAgree needs the quadrants' votes")
	_, err = g.Decide(prediction(degrade.Rain, 0.9), &clean, func(degrade.Task) (int, error) { return 0, errors.New("no classifier") })
	require.ErrorContains(t, err, "no classifier")
}

// newGuardModel returns an untrained 2-block SRResNet EP model with a
// classifier (seed 7), closed when the test ends: the guard reads the
// traces and the prediction it is handed, not the weights.
func newGuardModel(t *testing.T) *Model {
	t.Helper()
	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 2},
		Prompt: prompt.Explicit, Classifier: true}, 7)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// prediction is a classifier output that puts prob on task and nothing
// on the others.
func prediction(task degrade.Task, prob float32) prompt.Prediction {
	var probs [prompt.NumTasks]float32
	probs[task.PromptIndex()] = prob
	return prompt.Prediction{Task: task, Probs: probs}
}

func otherTask(t degrade.Task) degrade.Task {
	if t == degrade.SR {
		return degrade.Blur
	}
	return degrade.SR
}

// TestMeanBrightness: half the pixels (0.2, 0.5, 0.9), half (0.7, 0.1,
// 0.3): the mean of the largest channel is (0.9 + 0.7) / 2.
func TestMeanBrightness(t *testing.T) {
	const h, w = 37, 24
	v := make([]float32, 3*h*w)
	for i := range h * w {
		px := []float32{0.2, 0.5, 0.9}
		if i%2 == 1 {
			px = []float32{0.7, 0.1, 0.3}
		}
		for c := range 3 {
			v[c*h*w+i] = px[c]
		}
	}
	x, err := torch.FromSlice(nil, v, 1, 3, h, w)
	require.NoError(t, err)
	defer x.Close()
	got, err := meanBrightness(x)
	require.NoError(t, err)
	require.InDelta(t, 0.8, got, 1e-6)
}

// TestGuardDarkMean: a low-light choice on an image brighter than
// Guard.MaxDarkMean falls back, naming the brightness; on a darker one, or
// with the check off, it passes.
func TestGuardDarkMean(t *testing.T) {
	m := newGuardModel(t)
	p := prediction(degrade.LowLight, 1)
	g := &Guard{Risky: []degrade.Task{degrade.LowLight}, MaxDarkMean: 0.4}
	grey := func(val float32) *torch.Tensor {
		v := make([]float32, 3*16*16)
		for i := range v {
			v[i] = val
		}
		x, err := torch.FromSlice(nil, v, 1, 3, 16, 16)
		require.NoError(t, err)
		return x
	}
	bright, dark := grey(0.6), grey(0.25)
	defer bright.Close()
	defer dark.Close()
	fb, err := m.guard(bright, p, g)
	require.NoError(t, err)
	require.NotNil(t, fb)
	require.Equal(t, degrade.LowLight, fb.Chosen)
	require.Equal(t, "mean brightness 0.600 > 0.400", fb.Reason)
	fb, err = m.guard(dark, p, g)
	require.NoError(t, err)
	require.Nil(t, fb)
	fb, err = m.guard(bright, p, &Guard{Risky: []degrade.Task{degrade.LowLight}})
	require.NoError(t, err)
	require.Nil(t, fb)
	require.Equal(t, float32(0.45), DefaultGuard().MaxDarkMean)
}
