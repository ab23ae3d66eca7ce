package pretrained_test

import (
	"context"
	"fmt"
	"image"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/eval"
	"github.com/gomioir/gomioir/mioir/pretrained"
)

// psnr is the paper's PSNR (RGB, crop 4) of img against ref.
func psnr(img, ref image.Image) (float64, error) {
	r, err := metrics.Measure(img, ref, &metrics.Options{CropBorder: metrics.PaperCropBorder, PSNROnly: true})
	return r.PSNR, err
}

// heldoutGain is the mean PSNR gain (dB, RGB, crop 4) of the default model
// over the degraded input on the held-out crops in testdata/heldout, In-Dis
// preset, seed 1, with the task given (the set's), as measured when the
// model was assembled. The test fails if a figure moves by more than 0.05 dB
// (a changed kernel, weights or pipeline); every task must also improve.
// Noise is restored at the strength the model predicts (9.659 dB at full
// strength).
var heldoutGain = map[degrade.Task]float64{
	degrade.SR:       0.114,
	degrade.Blur:     1.940,
	degrade.Noise:    9.584,
	degrade.JPEG:     0.572,
	degrade.Rain:     7.455,
	degrade.Haze:     7.509,
	degrade.LowLight: 10.568,
}

// classifierRight is how many of the 21 held-out crops the classifier
// assigns to their own task.
const classifierRight = 15

// heldOutInDis is the seven In-Dis sets of the held-out crops in
// testdata/heldout, degraded with seeds 1 .. draws.
func heldOutInDis(t *testing.T, draws int) []eval.Set {
	t.Helper()
	all, err := eval.CleanTestSetsDraws("testdata/heldout", 1, draws, nil)
	require.NoError(t, err)
	var sets []eval.Set
	for _, s := range all {
		if s.Group == metrics.InDis {
			sets = append(sets, s)
		}
	}
	require.Len(t, sets, 7)
	return sets
}

// TestDefaultHeldOut restores the held-out crops degraded with the In-Dis
// preset and checks the per-task gains and the classifier's answers.
func TestDefaultHeldOut(t *testing.T) {
	m, err := pretrained.Default()
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, "SRResNet_EP+Classifier", m.Config().Name())
	sets := heldOutInDis(t, 1)
	rep, err := eval.Evaluate(context.Background(), m, sets, &eval.Options{Task: eval.TaskFromSet})
	require.NoError(t, err)
	require.Empty(t, rep.Skipped)
	gains := map[degrade.Task]float64{}
	for _, s := range sets {
		in, out := rep.ImagesOf(rep.Input, s.Name), rep.ImagesOf(rep.Model, s.Name)
		require.Len(t, out, 3, s.Name)
		for i := range out {
			require.Equal(t, s.Task, out[i].Task)
			gains[s.Task] += (out[i].PSNR - in[i].PSNR) / float64(len(out))
		}
		t.Logf("%-5s gain %+.3f dB", s.Name, gains[s.Task])
	}
	for task, gain := range gains {
		require.Greater(t, gain, 0.0, "%s: the default model makes it worse", task.Name())
		require.InDelta(t, heldoutGain[task], gain, 0.05, task.Name())
	}
	rep, err = eval.Evaluate(context.Background(), m, sets, &eval.Options{Task: eval.TaskFromClassifier, NoInput: true})
	require.NoError(t, err)
	right := 0
	for _, im := range rep.Images {
		require.True(t, im.Auto)
		if sets[slices.IndexFunc(sets, func(s eval.Set) bool { return s.Name == im.Set })].Task == im.Task {
			right++
		}
	}
	t.Logf("classifier: %d of %d right", right, len(rep.Images))
	require.Equal(t, classifierRight, right)
}

// TestDefaultHeldOutDraws: over ten draws of the In-Dis degradations
// (seeds 1-10), every task improves every held-out crop on average, not just
// at seed 1.
func TestDefaultHeldOutDraws(t *testing.T) {
	m, err := pretrained.Default()
	require.NoError(t, err)
	defer m.Close()
	const draws = 10
	sets := heldOutInDis(t, draws)
	rep, err := eval.Evaluate(context.Background(), m, sets, &eval.Options{Task: eval.TaskFromSet})
	require.NoError(t, err)
	require.Empty(t, rep.Skipped)
	for _, s := range sets {
		in, out := rep.ImagesOf(rep.Input, s.Name), rep.ImagesOf(rep.Model, s.Name)
		require.Len(t, out, 3*draws, s.Name)
		photo := map[string]float64{}
		for i := range out {
			name, _, ok := strings.Cut(out[i].Name, "@seed")
			require.True(t, ok, out[i].Name)
			require.Equal(t, in[i].Name, out[i].Name)
			photo[name] += (out[i].PSNR - in[i].PSNR) / draws
		}
		require.Len(t, photo, 3)
		t.Logf("%-5s mean gain over %d draws: %v", s.Name, draws, photo)
		for name, gain := range photo {
			require.Greater(t, gain, 0.0, "%s on %s: the default model makes it worse on average", s.Name, name)
		}
	}
}

// TestSample restores the bundled sample: the classifier detects rain and the
// output is much closer to the clean original than the input.
func TestSample(t *testing.T) {
	lq, gt, err := pretrained.Sample()
	require.NoError(t, err)
	require.Equal(t, gt.Bounds(), lq.Bounds())
	m, err := pretrained.Default()
	require.NoError(t, err)
	defer m.Close()
	out, info, err := m.Restore(context.Background(), lq, &mioir.Options{Auto: true})
	require.NoError(t, err)
	require.True(t, info.Auto)
	require.Equal(t, pretrained.SampleTask, info.Task)
	before, err := psnr(lq, gt)
	require.NoError(t, err)
	after, err := psnr(out, gt)
	require.NoError(t, err)
	require.InDelta(t, sampleBefore, before, 1e-9)
	t.Logf("sample: PSNR %.4f -> %.4f dB", before, after)
	require.InDelta(t, sampleAfter, after, 0.05)
}

// The sample's PSNR before and after restoration, as measured when the model
// was assembled.
const sampleBefore, sampleAfter = 15.464539802796049, 21.471

// mioir.Open knows the default model by name once this package is linked
// in, and opens the same model as Default.
func TestOpenDefault(t *testing.T) {
	require.Contains(t, mioir.Bundled(), pretrained.DefaultName)
	a, err := mioir.Open(pretrained.DefaultName, nil)
	require.NoError(t, err)
	defer a.Close()
	b, err := pretrained.Default()
	require.NoError(t, err)
	defer b.Close()
	require.Equal(t, b.Config(), a.Config())
	lq, _, err := pretrained.Sample()
	require.NoError(t, err)
	want, wi, err := b.Restore(context.Background(), lq, &mioir.Options{Auto: true})
	require.NoError(t, err)
	got, gi, err := a.Restore(context.Background(), lq, &mioir.Options{Auto: true})
	require.NoError(t, err)
	require.Equal(t, degrade.Rain, gi.Task)
	require.Equal(t, wi.Probs, gi.Probs)
	require.Equal(t, want.Pix, got.Pix)
}

// Default models are independent copies: closing one leaves the other
// working, with the same output.
func TestDefaultCopies(t *testing.T) {
	a, err := pretrained.Default()
	require.NoError(t, err)
	b, err := pretrained.Default()
	require.NoError(t, err)
	defer b.Close()
	require.NotSame(t, a, b)
	lq, _, err := pretrained.Sample()
	require.NoError(t, err)
	o := &mioir.Options{Task: degrade.Rain}
	want, _, err := a.Restore(context.Background(), lq, o)
	require.NoError(t, err)
	a.Close()
	_, _, err = a.Restore(context.Background(), lq, o)
	require.ErrorIs(t, err, mioir.ErrClosedModel)
	got, _, err := b.Restore(context.Background(), lq, o)
	require.NoError(t, err)
	require.Equal(t, want.Pix, got.Pix)
}

func ExampleDefault() {
	m, err := pretrained.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	lq, clean, err := pretrained.Sample()
	if err != nil {
		fmt.Println(err)
		return
	}
	out, info, err := m.Restore(context.Background(), lq, &mioir.Options{Auto: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	before, _ := metrics.Measure(lq, clean, nil)
	after, _ := metrics.Measure(out, clean, nil)
	fmt.Printf("detected %s; PSNR gain %.0f dB\n", info.Task.Name(), after.PSNR-before.PSNR)
	// Output:
	// detected rain; PSNR gain 6 dB
}
