package mioir

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/nets/torch"
)

// StrengthStats names the global statistics a StrengthModel weighs, in the
// order of its weights, each on the 8-bit-rounded input and output in 0-1
// units, luminance 0.299 R + 0.587 G + 0.114 B:
//
//	lmean   the input's mean luminance
//	lstd    the input's luminance standard deviation
//	ostd    the output's luminance standard deviation
//	ratio   ostd / lstd
//	dmean   the output's mean luminance minus the input's
//	imin    the 1st percentile of the input's darkest channel
//	omin    the same of the output
//	mimean  the mean of the input's darkest channel
//	momean  the same of the output
//	sati    the input's mean saturation, (max - min) / max over the channels
//	rms     the mean absolute change, over every sample
func StrengthStats() []string { return slices.Clone(strengthStatNames) }

var strengthStatNames = []string{"lmean", "lstd", "ostd", "ratio", "dmean", "imin", "omin", "mimean", "momean", "sati", "rms"}

// StrengthModel predicts, for one image, how much of the network's change
// to keep (Options.Strength): a linear function of the StrengthStats, clipped
// to [Min, Max]. A network trained on a few photos restores some unseen
// content too strongly (blind denoising at low noise levels smooths fine
// texture it never saw); blending its output back towards the input by a
// predicted share keeps the gain where the network is right and limits
// the loss where it is not. Weights are fitted on photos that neither
// trained the network nor serve to test it (scripts/autoeval/strength_fit.py).
type StrengthModel struct {
	// Stats names the statistics of Weights[1:], which must be
	// StrengthStats() (a check that the fit and this code agree).
	Stats []string
	// Weights are the intercept, then one weight per statistic.
	Weights []float64
	// Min and Max clip the prediction (0 < Min <= Max <= 1).
	Min, Max float64
}

// Validate checks the model's shape and range.
func (s *StrengthModel) Validate() error {
	switch {
	case s == nil:
		return errors.New("mioir: strength model is nil")
	case !slices.Equal(s.Stats, strengthStatNames):
		return fmt.Errorf("mioir: strength model over %v, want %v", s.Stats, strengthStatNames)
	case len(s.Weights) != len(strengthStatNames)+1:
		return fmt.Errorf("mioir: strength model has %d weights, want %d", len(s.Weights), len(strengthStatNames)+1)
	case !(s.Min > 0 && s.Min <= s.Max && s.Max <= 1):
		return fmt.Errorf("mioir: strength model range [%v, %v], want 0 < min <= max <= 1", s.Min, s.Max)
	}
	for _, w := range s.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("mioir: strength model weight %v", w)
		}
	}
	return nil
}

// Predict returns the share of the change to keep for an input and the
// network's output, both CHW float32 RGB of w x h pixels (0-1 units).
func (s *StrengthModel) Predict(in, out []float32, w, h int) (float64, error) {
	if w < 1 || h < 1 || len(in) != 3*w*h || len(out) != 3*w*h {
		return 0, fmt.Errorf("mioir: strength: %d and %d samples for a %dx%d RGB image", len(in), len(out), w, h)
	}
	if err := s.Validate(); err != nil {
		return 0, err
	}
	st := measureStrengthStats(in, out, w, h)
	k := s.Weights[0]
	for i, v := range st {
		k += s.Weights[i+1] * v
	}
	if math.IsNaN(k) {
		return s.Max, nil
	}
	return min(max(k, s.Min), s.Max), nil
}

// measureStrengthStats measures the statistics StrengthStats names. The
// samples are rounded to 8 bits first, as the files the weights were fitted
// on are, so percentiles come from 256-level histograms.
func measureStrengthStats(in, out []float32, w, h int) []float64 {
	n := w * h
	var (
		liSum, liSq, loSum, loSq float64
		miSum, moSum, satSum     float64
		absSum                   float64
		histI, histO             [256]int
	)
	for p := range n {
		ri, gi, bi := imgconv.Byte(in[p]), imgconv.Byte(in[n+p]), imgconv.Byte(in[2*n+p])
		ro, gO, bo := imgconv.Byte(out[p]), imgconv.Byte(out[n+p]), imgconv.Byte(out[2*n+p])
		li := (0.114*float64(bi) + 0.587*float64(gi) + 0.299*float64(ri)) / 255
		lo := (0.114*float64(bo) + 0.587*float64(gO) + 0.299*float64(ro)) / 255
		liSum, liSq, loSum, loSq = liSum+li, liSq+li*li, loSum+lo, loSq+lo*lo
		mi, mx, mo := min(ri, gi, bi), max(ri, gi, bi), min(ro, gO, bo)
		histI[mi]++
		histO[mo]++
		miSum += float64(mi)
		moSum += float64(mo)
		if mx > 0 {
			satSum += float64(mx-mi) / float64(mx)
		}
		absSum += absDiff(ri, ro) + absDiff(gi, gO) + absDiff(bi, bo)
	}
	fn := float64(n)
	lmean, omean := liSum/fn, loSum/fn
	lstd := math.Sqrt(max(liSq/fn-lmean*lmean, 0))
	ostd := math.Sqrt(max(loSq/fn-omean*omean, 0))
	return []float64{
		lmean, lstd, ostd, ostd / max(lstd, 1e-6), omean - lmean,
		histPercentile(&histI, n, 1) / 255, histPercentile(&histO, n, 1) / 255,
		miSum / fn / 255, moSum / fn / 255, satSum / fn, absSum / (3 * fn) / 255,
	}
}

func absDiff(a, b uint8) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

// histPercentile is numpy's default (linear) percentile q of the n values
// a histogram of 8-bit levels counts.
func histPercentile(hist *[256]int, n int, q float64) float64 {
	pos := q / 100 * float64(n-1)
	lo := int(math.Floor(pos))
	at := func(rank int) float64 { // the value of the rank-th smallest
		c := 0
		for v, k := range hist {
			if c += k; rank < c {
				return float64(v)
			}
		}
		return 255
	}
	a := at(lo)
	if lo+1 >= n {
		return a
	}
	return a + (pos-float64(lo))*(at(lo+1)-a)
}

// SetStrength gives the model a StrengthModel for task (nil removes it);
// Save stores it and Load reads it back.
func (m *Model) SetStrength(task degrade.Task, s *StrengthModel) error {
	if !task.Valid() {
		return fmt.Errorf("mioir: set strength: invalid task %d", int(task))
	}
	if s != nil {
		if err := s.Validate(); err != nil {
			return err
		}
		s = s.clone()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s == nil {
		delete(m.strength, task)
		return nil
	}
	if m.strength == nil {
		m.strength = map[degrade.Task]*StrengthModel{}
	}
	m.strength[task] = s
	return nil
}

// Strength returns a copy of the model's StrengthModel for task, or nil.
func (m *Model) Strength(task degrade.Task) *StrengthModel {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.strength[task].clone()
}

// clone copies s and its slices (nil for nil), so that the model's copy and
// the caller's never share storage.
func (s *StrengthModel) clone() *StrengthModel {
	if s == nil {
		return nil
	}
	c := *s
	c.Stats, c.Weights = slices.Clone(s.Stats), slices.Clone(s.Weights)
	return &c
}

// strengthJSON encodes the models for a file's metadata ("" when none).
func strengthJSON(ms map[degrade.Task]*StrengthModel) (string, error) {
	if len(ms) == 0 {
		return "", nil
	}
	b, err := json.Marshal(ms)
	return string(b), err
}

// parseStrength decodes and checks a file's strength metadata.
func parseStrength(s string) (map[degrade.Task]*StrengthModel, error) {
	if s == "" {
		return nil, nil
	}
	var ms map[degrade.Task]*StrengthModel
	if err := json.Unmarshal([]byte(s), &ms); err != nil {
		return nil, fmt.Errorf("strength: %w", err)
	}
	for t, sm := range ms {
		if err := sm.Validate(); err != nil {
			return nil, fmt.Errorf("strength of %s: %w", t, err)
		}
	}
	return ms, nil
}

// applyStrength blends chw, the network's w x h output, back towards the
// input xs by the share Options.Strength asks, or else the model's
// StrengthModel for task predicts, and records it in info. The model's
// prediction applies to outputs of the input's size only.
func (m *Model) applyStrength(xs *torch.Tensor, chw []float32, w, h int, task degrade.Task, asked float64, info *Info) error {
	sm := m.strength[task]
	if asked == 1 || asked == 0 && sm == nil {
		return nil
	}
	if sh := xs.Shape(); sh[2] != int64(h) || sh[3] != int64(w) {
		if asked == 0 {
			return nil
		}
		return fmt.Errorf("mioir: restore: Options.Strength %v needs an output of the input's size (%dx%d in, %dx%d out)", asked, sh[3], sh[2], w, h)
	}
	in, err := torch.ToSlice[float32](xs.ToDevice(torch.CPU).Contiguous())
	if err != nil {
		return fmt.Errorf("mioir: restore: %w", err)
	}
	k := asked
	if k == 0 {
		if k, err = sm.Predict(in, chw, w, h); err != nil {
			return fmt.Errorf("mioir: restore: %w", err)
		}
	}
	info.Strength = k
	blend(in, chw, float32(k))
	return nil
}

// blend sets out to in + k*(out - in).
func blend(in, out []float32, k float32) {
	for i, v := range in {
		out[i] = v + k*(out[i]-v)
	}
}
