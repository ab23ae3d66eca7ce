package mioir

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/prompt"
)

// TraceModel gives the probability of each task from an input's Traces
// alone: a multinomial logistic regression over TraceFeatures. It does not
// read the classifier, so it holds for any model; Guard.TraceModel lets it
// choose the task where it is sure.
//
// Why a second classifier: the reference's classifier sees 9x9-pixel
// blocks, and on held-out photos degraded by other programs its first
// choice is right on 34-60 % of the inputs, where the traces (noise, the
// JPEG grid, the x4 period and fit, detail, brightness, the dark channel,
// the tone-curve comb, rain streaks) measure what each degradation leaves
// on the whole image. The default model, fitted on crops of the bundled
// model's 35 training photos (scripts/tracemodel), is right on 98-99 % of
// the inputs of five held-out sets; what it still confuses is mostly haze
// and a few x4 upscales taken for blur (README "Automatic task choice").
type TraceModel struct {
	// Tasks names the classes, in the order of Weights and Bias.
	Tasks []string `json:"tasks"`
	// Center and Scale standardise TraceFeatures before the weights:
	// (f - Center) / Scale.
	Center []float64 `json:"center"`
	Scale  []float64 `json:"scale"`
	// Weights has one row of NumTraceFeatures weights per task.
	Weights [][]float64 `json:"weights"`
	Bias    []float64   `json:"bias"`
}

// NumTraceFeatures is the length of TraceFeatures: 10 measurements and
// their 55 pairwise products.
const NumTraceFeatures = 10 + 10*11/2

// TraceFeatures returns the TraceModel's inputs for t. First ten
// measurements: the logarithms of the noise sigma (in 8-bit units, plus
// 0.3), the JPEG blockiness, the x4-upscale trace, the grid asymmetry and
// the x4 fit (each plus 0.05) and the detail (plus 0.01), where ratios
// matter; the mean brightness, dark channel, tone-curve comb and rain
// streaks as they are. Then the products of each of them with itself and
// every later one, so that a linear model can weigh one trace by another
// (a dark channel means haze on a bright image, low light on a dark one).
func TraceFeatures(t *Traces) [NumTraceFeatures]float64 {
	var f [NumTraceFeatures]float64
	base := [10]float64{
		math.Log(max(t.NoiseSigma, 0)*255 + 0.3),
		math.Log(t.JPEGBlockiness + 0.05),
		math.Log(t.UpscaleTrace + 0.05),
		math.Log(t.GridAsymmetry + 0.05),
		math.Log(t.UpscaleFit + 0.05),
		math.Log(t.Detail + 0.01),
		t.MeanBrightness,
		t.DarkChannel,
		t.ToneCurveComb,
		t.RainStreaks,
	}
	n := copy(f[:], base[:])
	for i, a := range base {
		for _, b := range base[i:] {
			f[n] = a * b
			n++
		}
	}
	return f
}

// Validate checks that m's shapes agree and that its tasks are known and
// distinct.
func (m *TraceModel) Validate() error {
	n := len(m.Tasks)
	if n < 2 || n > prompt.NumTasks {
		return fmt.Errorf("mioir: trace model: %d tasks, want 2 to %d", n, prompt.NumTasks)
	}
	seen := map[degrade.Task]bool{}
	for _, s := range m.Tasks {
		t, err := degrade.ParseTask(s)
		if err != nil {
			return fmt.Errorf("mioir: trace model: %w", err)
		}
		if seen[t] {
			return fmt.Errorf("mioir: trace model: task %s twice", t)
		}
		seen[t] = true
	}
	if len(m.Center) != NumTraceFeatures || len(m.Scale) != NumTraceFeatures {
		return fmt.Errorf("mioir: trace model: %d centres and %d scales, want %d", len(m.Center), len(m.Scale), NumTraceFeatures)
	}
	if len(m.Weights) != n || len(m.Bias) != n {
		return fmt.Errorf("mioir: trace model: %d weight rows and %d biases for %d tasks", len(m.Weights), len(m.Bias), n)
	}
	for i, w := range m.Weights {
		if len(w) != NumTraceFeatures {
			return fmt.Errorf("mioir: trace model: %s has %d weights, want %d", m.Tasks[i], len(w), NumTraceFeatures)
		}
	}
	for i, s := range m.Scale {
		if !(s > 0) {
			return fmt.Errorf("mioir: trace model: scale %d is %g", i, s)
		}
	}
	return nil
}

// Posterior returns each task's probability for traces t, indexed by
// Task.PromptIndex (tasks the model does not name get 0).
func (m *TraceModel) Posterior(t *Traces) ([prompt.NumTasks]float64, error) {
	var p [prompt.NumTasks]float64
	if err := m.Validate(); err != nil {
		return p, err
	}
	f := TraceFeatures(t)
	for i, v := range f {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return p, fmt.Errorf("mioir: trace model: feature %d is %g", i, v)
		}
		f[i] = (v - m.Center[i]) / m.Scale[i]
	}
	probs := make([]float64, len(m.Tasks))
	m.softmax(&f, probs)
	for k, s := range m.Tasks {
		t, _ := degrade.ParseTask(s) // Validate parsed it
		p[t.PromptIndex()] = probs[k]
	}
	return p, nil
}

// softmax sets p to the class probabilities of the standardised features
// z.
func (m *TraceModel) softmax(z *[NumTraceFeatures]float64, p []float64) {
	top := math.Inf(-1)
	for k := range p {
		s := m.Bias[k]
		for i, v := range z {
			s += m.Weights[k][i] * v
		}
		p[k] = s
		top = max(top, s)
	}
	sum := 0.0
	for k := range p {
		p[k] = math.Exp(p[k] - top)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}

// Choose returns the most probable task for t and its probability.
func (m *TraceModel) Choose(t *Traces) (degrade.Task, float64, error) {
	p, err := m.Posterior(t)
	if err != nil {
		return 0, 0, err
	}
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	task, err := degrade.TaskFromPromptIndex(best)
	return task, p[best], err
}

//go:embed tracemodel.json
var defaultTraceModelJSON []byte

var defaultTraceModel = sync.OnceValues(func() (*TraceModel, error) {
	var m TraceModel
	if err := json.Unmarshal(defaultTraceModelJSON, &m); err != nil {
		return nil, fmt.Errorf("mioir: default trace model: %w", err)
	}
	return &m, m.Validate()
})

// DefaultTraceModel returns the trace model fitted by scripts/tracemodel
// on the bundled model's training photos. Each call returns a new copy.
func DefaultTraceModel() *TraceModel {
	m, err := defaultTraceModel()
	if err != nil {
		panic(err) // the embedded file is tested
	}
	c := &TraceModel{
		Tasks:  append([]string(nil), m.Tasks...),
		Center: append([]float64(nil), m.Center...),
		Scale:  append([]float64(nil), m.Scale...),
		Bias:   append([]float64(nil), m.Bias...),
	}
	for _, w := range m.Weights {
		c.Weights = append(c.Weights, append([]float64(nil), w...))
	}
	return c
}

// FitOptions are FitTraceModel's settings; nil means the defaults.
type FitOptions struct {
	// Iterations of full-batch gradient descent (default 3000).
	Iterations int
	// Rate is the step size on the standardised features (default 0.5).
	Rate float64
	// L2 is the weight decay (default 0.01, negative for none; not on the
	// biases).
	L2 float64
}

// FitTraceModel fits a TraceModel to the traces of inputs whose task is
// known: a multinomial logistic regression on the standardised
// TraceFeatures, by deterministic full-batch gradient descent. Its tasks
// are those in tasks, in prompt-index order. Cancelling ctx stops it
// between iterations with ctx's error; the 2,329 inputs of the default
// model take about 5 s.
func FitTraceModel(ctx context.Context, traces []Traces, tasks []degrade.Task, o *FitOptions) (*TraceModel, error) {
	if len(traces) != len(tasks) {
		return nil, fmt.Errorf("mioir: fit trace model: %d traces and %d tasks", len(traces), len(tasks))
	}
	opt := FitOptions{Iterations: 3000, Rate: 0.5, L2: 0.01}
	if o != nil {
		if o.Iterations > 0 {
			opt.Iterations = o.Iterations
		}
		if o.Rate > 0 {
			opt.Rate = o.Rate
		}
		if o.L2 != 0 {
			opt.L2 = max(o.L2, 0)
		}
	}
	var class [prompt.NumTasks]int // prompt index -> class + 1
	for _, t := range tasks {
		if !t.Valid() {
			return nil, fmt.Errorf("mioir: fit trace model: invalid task %v", t)
		}
		class[t.PromptIndex()] = 1
	}
	m := &TraceModel{}
	for i, c := range class {
		if c > 0 {
			t, _ := degrade.TaskFromPromptIndex(i)
			m.Tasks = append(m.Tasks, t.Name())
			class[i] = len(m.Tasks)
		}
	}
	k, n := len(m.Tasks), len(traces)
	if k < 2 {
		return nil, fmt.Errorf("mioir: fit trace model: %d distinct tasks, want at least 2", k)
	}
	z := make([][NumTraceFeatures]float64, n)
	y := make([]int, n)
	m.Center = make([]float64, NumTraceFeatures)
	m.Scale = make([]float64, NumTraceFeatures)
	for j := range traces {
		z[j] = TraceFeatures(&traces[j])
		for i, v := range z[j] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("mioir: fit trace model: input %d: feature %d is %g", j, i, v)
			}
			m.Center[i] += v / float64(n)
		}
		y[j] = class[tasks[j].PromptIndex()] - 1
	}
	for j := range z {
		for i, v := range z[j] {
			d := v - m.Center[i]
			m.Scale[i] += d * d / float64(n)
		}
	}
	for i := range m.Scale {
		m.Scale[i] = math.Sqrt(m.Scale[i]) + 1e-6
	}
	for j := range z {
		for i := range z[j] {
			z[j][i] = (z[j][i] - m.Center[i]) / m.Scale[i]
		}
	}
	m.Weights = make([][]float64, k)
	for c := range m.Weights {
		m.Weights[c] = make([]float64, NumTraceFeatures)
	}
	m.Bias = make([]float64, k)
	gw := make([][NumTraceFeatures]float64, k)
	gb := make([]float64, k)
	p := make([]float64, k)
	for range opt.Iterations {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("mioir: fit trace model: %w", err)
		}
		clear(gw)
		clear(gb)
		for j := range z {
			m.softmax(&z[j], p)
			for c := range p {
				g := p[c]
				if c == y[j] {
					g--
				}
				g /= float64(n)
				gb[c] += g
				for i, v := range z[j] {
					gw[c][i] += g * v
				}
			}
		}
		for c := range k {
			for i := range NumTraceFeatures {
				m.Weights[c][i] -= opt.Rate * (gw[c][i] + opt.L2*m.Weights[c][i])
			}
			m.Bias[c] -= opt.Rate * gb[c]
		}
	}
	return m, nil
}
