package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/prompt"
)

// TestReplay: a record whose classifier chose haze on an input with a
// clear noise level is replayed as noise with the noise prompt's recorded
// gain; where a -lazy run did not measure that gain, replay says so; a
// choice the run made stays as recorded.
func TestReplay(t *testing.T) {
	g, err := guardWith("", "")
	require.NoError(t, err)
	g.TraceModel = nil // the measured noise level decides
	probs := make([]float32, prompt.NumTasks)
	probs[degrade.Haze.PromptIndex()] = 0.9
	rec := func() Record {
		r := Record{Image: "a#0", Case: "noise s25", Task: "noise", Probs: probs, Raw: "haze", Auto: "none", AutoGain: 0,
			Traces: &mioir.Traces{NoiseSigma: 20.0 / 255, JPEGBlockiness: 0.9, UpscaleTrace: 1, UpscaleFit: 1, Detail: 0.9,
				MeanBrightness: 0.5, DarkChannel: 0.2}}
		r.Gain[degrade.Noise.PromptIndex()] = 7.5
		return r
	}

	r := rec()
	ok, err := r.replay(g)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "noise", r.Auto)
	require.Equal(t, 7.5, r.AutoGain)
	require.True(t, r.Fallback)
	require.Equal(t, "noise sigma 20.0/255 >= 6.0/255", r.Reason)

	r = rec()
	r.Have = make([]bool, prompt.NumTasks) // a -lazy record without the noise prompt's gain
	ok, err = r.replay(g)
	require.NoError(t, err)
	require.False(t, ok)

	r = rec()
	r.Auto, r.AutoGain = "noise", 7.25 // measured by the run (with its strength): kept
	ok, err = r.replay(g)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 7.25, r.AutoGain)

	r = rec()
	r.Traces = nil
	_, err = r.replay(g)
	require.ErrorContains(t, err, "without traces")
}

// TestGuardWith: -trace-prob sets the thresholds it names and keeps the
// others; malformed values are refused.
func TestGuardWith(t *testing.T) {
	g, err := guardWith("", "haze=0.65,blur=0.9")
	require.NoError(t, err)
	def := mioir.DefaultGuard()
	require.Equal(t, float32(0.65), g.TraceProb[degrade.Haze])
	require.Equal(t, float32(0.9), g.TraceProb[degrade.Blur])
	require.Equal(t, def.TraceProb[degrade.LowLight], g.TraceProb[degrade.LowLight])
	require.Equal(t, def.TraceModel, g.TraceModel)
	for _, bad := range []string{"haze", "haze=1.5", "haze=x", "fog=0.5"} {
		_, err := guardWith("", bad)
		require.Error(t, err, bad)
	}
	_, err = guardWith("no-such-file.json", "")
	require.Error(t, err)
}
