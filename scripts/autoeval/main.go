// Command autoeval measures the bundled model's automatic task choice on
// photos it never saw in training, degraded by code other than the library's
// degrade package where such code exists: JPEG by libjpeg-turbo's cjpeg and
// djpeg (several qualities, 4:2:0 and 4:4:4) and by Go's image/jpeg, Gaussian
// noise, Gaussian and defocus blur, and low light (gamma and exposure) by the
// simple code below; rain, haze and x4 SR, which have no outside
// implementation here, from the library's In-Dis preset.
//
// For every degraded image it restores with each of the seven task prompts,
// records the classifier's probabilities and what Options.Auto does under
// the default guard (mioir.DefaultGuard), then prints the confusion matrix
// and a per-image table of PSNR(restored, clean) - PSNR(degraded, clean)
// (dB, RGB, crop 4) for the task given, the raw classifier choice and the
// guarded auto mode:
//
//	go run ./scripts/autoeval -photos a.png,b.png [-model M] [-classifier C] [-crop 192] [-json out.jsonl] [-write dir] [-reuse old.jsonl]
//
// -reuse takes each prompt's gain from an earlier -json run on the same
// photos and model (its degraded inputs are the same: every case is
// seeded by the image and case names) and runs only auto mode, e.g. to
// measure a new guard in an eighth of the time.
// -lazy restores only with the prompts the tables read (the task given,
// the classifier's choice, the trace model's and auto mode's: 1.7
// restorations per image on the README's five sets, against 8 in a full
// run); its records say which gains they hold (Have), and a later -reuse
// of them measures the ones it misses.
// -stats-only classifies and measures the inputs without restoring them:
// each -json record then holds the classifier's probabilities and every
// trace the guard decides on (mioir.MeasureTraces), which is how the guard's
// thresholds are read off training crops.
// -trace-model (a scripts/tracemodel file) and -trace-prob ("task=p,...",
// the trace model's thresholds) change the default guard auto mode runs
// under. -report prints the tables of a -json file; with either of them it
// first replays auto mode from each record's measurements under the guard
// so changed (mioir.Guard.Decide), taking a changed choice's gain from the
// record and naming the images whose records lack it (a -reuse -lazy run
// with the same flags measures them).
// -cases runs the cases named, e.g. -cases "ramp haze,uniform haze": haze
// whose transmission does not depend on the photo (outside.Haze), which the
// default 17 lack, since the library's haze takes its depth partly from the
// photo's dark channel.
// A case that leaves a crop as it was (a flat white crop through JPEG or
// blur) is left out of every table and record, with a message.
// -write saves every clean crop and degraded input as PNG (a manifest.tsv
// names them), e.g. for test fixtures. Without cjpeg on the PATH the libjpeg
// rows are left out with a message.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"image"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	_ "github.com/gomioir/gomioir/mioir/pretrained" // bundled:default
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
	"github.com/gomioir/gomioir/scripts/internal/outside"
)

// A case is one way of degrading a photo.
type dcase struct {
	name string
	task degrade.Task
	fn   func(img *degrade.Image, key uint64) (*degrade.Image, error)
}

// Record is one degraded image's measurements (one JSON line with -json).
type Record struct {
	Image, Case string
	Task        string
	PSNRIn      float64
	Probs       []float32
	// Gain holds PSNR(restored with task t) - PSNRIn, by prompt index.
	Gain [prompt.NumTasks]float64
	// Have says which of Gain were measured (-lazy); nil: all of them.
	Have []bool `json:",omitempty"`
	// Raw is the classifier's unguarded choice; Auto what Restore with
	// Options.Auto did (the default guard), AutoGain its gain.
	Raw, Auto string
	Fallback  bool
	// Reason is the guard's (Fallback.Reason) when it did not take Raw.
	Reason    string
	AutoGain  float64
	CropProbs [][]float32
	// Input statistics: 1st percentile of the pixels' minimum channel, mean
	// and 99th percentile luminance.
	Black, Mean, Bright float64
	// Traces are what the guard measures on the input (mioir.MeasureTraces),
	// its mean dark channel among them.
	Traces *mioir.Traces
	// Trace is the default trace model's most probable task for Traces,
	// TraceProb its probability.
	Trace     string
	TraceProb float64
}

// traceModel is the default guard's trace model, read once.
var traceModel = mioir.DefaultTraceModel()

// traceChoice sets r.Trace and r.TraceProb from r.Traces.
func (r *Record) traceChoice() error {
	t, p, err := traceModel.Choose(r.Traces)
	r.Trace, r.TraceProb = t.String(), p
	return err
}

// readRecords reads a -json file.
func readRecords(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var recs []Record
	for dec.More() {
		var r Record
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

func inputStats(m *degrade.Image) (black, mean, bright float64) {
	n := m.W * m.H
	mins := make([]float64, n)
	lum := make([]float64, n)
	r, g, b := m.Plane(0), m.Plane(1), m.Plane(2)
	for i := range n {
		mins[i] = float64(min(r[i], g[i], b[i]))
		lum[i] = 0.299*float64(r[i]) + 0.587*float64(g[i]) + 0.114*float64(b[i])
		mean += lum[i]
	}
	sort.Float64s(mins)
	sort.Float64s(lum)
	return mins[n/100], mean / float64(n), lum[n*99/100]
}

func quadrants(m *degrade.Image) []*degrade.Image {
	w, h := m.W/2, m.H/2
	return []*degrade.Image{m.Crop(image.Rect(0, 0, w, h)), m.Crop(image.Rect(w, 0, 2*w, h)),
		m.Crop(image.Rect(0, h, w, 2*h)), m.Crop(image.Rect(w, h, 2*w, 2*h))}
}

// traces measures img as the guard would.
func traces(img *degrade.Image) (*mioir.Traces, error) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x, err := torch.FromImage(s, img.ToImage(), torch.CPU)
	if err != nil {
		return nil, err
	}
	return mioir.MeasureTraces(x)
}

func classify(m *mioir.Model, img *degrade.Image) ([]float32, error) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x, err := torch.FromImage(s, img.ToImage(), torch.CPU)
	if err != nil {
		return nil, err
	}
	p, err := m.Classify(x)
	if err != nil {
		return nil, err
	}
	return p[0].Probs[:], nil
}

func main() {
	photos := flag.String("photos", "", "comma-separated clean photos never used in training")
	side := flag.Int("crop", 192, "crop side (pixels, multiple of 4); up to 4 crops per photo")
	jsonOut := flag.String("json", "", "write one JSON record per degraded image here")
	write := flag.String("write", "", "save clean crops and degraded inputs as PNG in this folder")
	statsOnly := flag.Bool("stats-only", false, "classify and measure the inputs only (no restoration; no tables)")
	model := flag.String("model", "bundled:default", "model to measure (any name mioir.Open takes)")
	classifier := flag.String("classifier", "", "a classifier file (examples/train -classifier) to use instead of the model's")
	reuse := flag.String("reuse", "", "a -json file of an earlier run with the same model: take each task's gain from it and run only auto mode")
	lazy := flag.Bool("lazy", false, "restore only with the prompts the tables read (task given, classifier's, trace model's, auto's)")
	only := flag.String("cases", "", "comma-separated names of the cases to run (default: the 17 of the tables; also "+strconv.Quote(strings.Join(caseNames(contentFreeHaze()), ","))+")")
	reportOnly := flag.String("report", "", "print the tables of a -json file (the trace model's choice computed from its traces where missing) and exit")
	traceModelFile := flag.String("trace-model", "", "run auto mode (or, with -report, replay it from the records) under the default guard with this trace model (scripts/tracemodel's JSON)")
	traceProb := flag.String("trace-prob", "", `run (or, with -report, replay) auto mode with these trace-model thresholds, e.g. "blur=0.8,haze=0.5" (other tasks: the default guard's)`)
	flag.Parse()
	var g *mioir.Guard // nil: the default guard
	if *traceModelFile != "" || *traceProb != "" {
		var err error
		if g, err = guardWith(*traceModelFile, *traceProb); err != nil {
			log.Fatal(err)
		}
		traceModel = g.TraceModel
	}
	if *reportOnly != "" {
		recs, err := readRecords(*reportOnly)
		if err != nil {
			log.Fatal(err)
		}
		var missing []string
		for i := range recs {
			r := &recs[i]
			if (r.Trace == "" || g != nil) && r.Traces != nil {
				if err := r.traceChoice(); err != nil {
					log.Fatal(err)
				}
			}
			if g == nil {
				continue
			}
			if ok, err := r.replay(g); err != nil {
				log.Fatal(err)
			} else if !ok {
				missing = append(missing, r.Image+" "+r.Case+": "+r.Auto)
			}
		}
		if len(missing) > 0 {
			log.Fatalf("autoeval: %s lacks the replayed choice's gain on %d of its images (measure them with -reuse and -lazy and the same -trace-model and -trace-prob):\n%s",
				*reportOnly, len(missing), strings.Join(missing, "\n"))
		}
		report(recs)
		return
	}
	if *reuse != "" {
		recs, err := readRecords(*reuse)
		if err != nil {
			log.Fatal(err)
		}
		reused = map[string]Record{}
		for _, r := range recs {
			reused[reuseKey(r.Image, r.Case)] = r
		}
	}
	if *photos == "" {
		log.Fatal("autoeval: -photos is required")
	}
	m, err := mioir.Open(*model, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if *classifier != "" {
		c, err := mioir.LoadClassifier(*classifier)
		if err == nil {
			err = m.SetClassifier(c)
		}
		if err != nil {
			log.Fatal(err)
		}
	}

	cases, err := pickCases(*only)
	if err != nil {
		log.Fatal(err)
	}
	var recs []Record
	var manifest []string
	for _, p := range strings.Split(*photos, ",") {
		crops, err := loadCrops(p, *side)
		if err != nil {
			log.Fatal(err)
		}
		for ci, clean := range crops {
			id := fmt.Sprintf("%s#%d", strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), ci)
			for _, c := range cases {
				key := hash(id + c.name)
				deg, err := c.fn(clean, key)
				if err != nil {
					log.Fatalf("%s %s: %v", id, c.name, err)
				}
				ref := clean.CropMod(4) // rain and haze crop to multiples of 4
				if deg.W != ref.W || deg.H != ref.H {
					log.Fatalf("%s %s: %dx%d output for a %dx%d input", id, c.name, deg.W, deg.H, ref.W, ref.H)
				}
				r, err := measure(m, g, id, c, ref, deg, *statsOnly, *lazy)
				if errors.Is(err, errUnchanged) {
					// A flat crop that the case leaves as it was (a white sky
					// through JPEG or blur) tests nothing, and its infinite
					// input PSNR has no JSON form.
					fmt.Fprintf(os.Stderr, "%-22s %-14s left out: %v\n", id, c.name, err)
					continue
				}
				if err != nil {
					log.Fatalf("%s %s: %v", id, c.name, err)
				}
				recs = append(recs, r)
				fmt.Fprintf(os.Stderr, "%-22s %-14s in %5.2f given %+6.2f raw %-5s %+6.2f auto %-5s %+6.2f\n", id, c.name,
					r.PSNRIn, r.Gain[c.task.PromptIndex()], r.Raw, r.gainOf(r.Raw), r.Auto, r.AutoGain)
				if *write != "" {
					base := strings.NewReplacer("#", "-", " ", "-").Replace(id)
					dn := base + "_" + strings.ReplaceAll(c.name, " ", "-") + ".png"
					if err := outside.SavePNG(filepath.Join(*write, "clean", base+".png"), ref); err != nil {
						log.Fatal(err)
					}
					if err := outside.SavePNG(filepath.Join(*write, dn), deg); err != nil {
						log.Fatal(err)
					}
					manifest = append(manifest, fmt.Sprintf("%s\t%s\tclean/%s.png\t%s", dn, c.task, base, c.name))
				}
			}
		}
	}
	if *write != "" {
		if err := os.WriteFile(filepath.Join(*write, "manifest.tsv"), []byte(strings.Join(manifest, "\n")+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *jsonOut != "" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				log.Fatal(err)
			}
		}
		if err := os.WriteFile(*jsonOut, b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if !*statsOnly {
		report(recs)
	}
}

func (r Record) gainOf(task string) float64 {
	if task == "" || task == "none" {
		return 0
	}
	t, err := degrade.ParseTask(task)
	if err != nil {
		return math.NaN()
	}
	return r.Gain[t.PromptIndex()]
}

// reused holds -reuse's records by reuseKey.
var reused map[string]Record

// errUnchanged marks a degraded input equal to its clean crop.
var errUnchanged = errors.New("the degradation left the crop unchanged")

func reuseKey(image, name string) string { return image + "|" + name }

// measure restores deg with each prompt (or takes the gains from -reuse)
// and with Auto (the default guard).
func measure(m *mioir.Model, g *mioir.Guard, id string, c dcase, clean, deg *degrade.Image, statsOnly, lazy bool) (Record, error) {
	ctx := context.Background()
	in, ref := deg.ToImage(), clean.ToImage()
	ps := func(img image.Image) (float64, error) {
		res, err := metrics.Measure(img, ref, &metrics.Options{CropBorder: 4, PSNROnly: true})
		return res.PSNR, err
	}
	r := Record{Image: id, Case: c.name, Task: c.task.String()}
	var err error
	if r.PSNRIn, err = ps(in); err != nil {
		return r, err
	}
	if math.IsInf(r.PSNRIn, 1) {
		return r, errUnchanged
	}
	// gain restores in with o and returns the PSNR change over the input.
	gain := func(o *mioir.Options) (float64, *mioir.Info, error) {
		out, info, err := m.Restore(ctx, in, o)
		if err != nil {
			return 0, nil, err
		}
		p, err := ps(out)
		return p - r.PSNRIn, info, err
	}
	r.Black, r.Mean, r.Bright = inputStats(deg)
	if r.Traces, err = traces(deg); err != nil {
		return r, err
	}
	if err := r.traceChoice(); err != nil {
		return r, err
	}
	for _, q := range quadrants(deg) {
		pr, err := classify(m, q)
		if err != nil {
			return r, err
		}
		r.CropProbs = append(r.CropProbs, pr)
	}
	if statsOnly {
		r.Probs, err = classify(m, deg)
		return r, err
	}
	var have [prompt.NumTasks]bool
	if reused != nil {
		old, ok := reused[reuseKey(id, c.name)]
		if !ok {
			return r, fmt.Errorf("-reuse has no record of %s %s", id, c.name)
		}
		if math.Abs(old.PSNRIn-r.PSNRIn) > 1e-9 {
			return r, fmt.Errorf("-reuse: input PSNR %.4f, here %.4f: not the same degraded image", old.PSNRIn, r.PSNRIn)
		}
		r.Gain = old.Gain
		for i := range have {
			have[i] = old.Have == nil || old.Have[i]
		}
	}
	var info *mioir.Info
	if r.AutoGain, info, err = gain(&mioir.Options{Auto: true, Guard: g}); err != nil {
		return r, err
	}
	raw, err := prompt.Select(info.Probs)
	if err != nil {
		return r, err
	}
	need := degrade.AllTasks()
	if lazy {
		need = []degrade.Task{c.task, raw}
		if t, err := degrade.ParseTask(r.Trace); err == nil {
			need = append(need, t)
		}
	}
	if info.Task != 0 && !have[info.Task.PromptIndex()] {
		r.Gain[info.Task.PromptIndex()], have[info.Task.PromptIndex()] = r.AutoGain, true
	}
	for _, t := range need {
		if have[t.PromptIndex()] {
			continue
		}
		if r.Gain[t.PromptIndex()], _, err = gain(&mioir.Options{Task: t}); err != nil {
			return r, err
		}
		have[t.PromptIndex()] = true
	}
	if slices.Contains(have[:], false) {
		r.Have = have[:]
	}
	r.Probs = info.Probs
	r.Raw, r.Auto = raw.String(), info.Task.String()
	if info.Task == 0 {
		r.Auto = "none"
	}
	if f := info.Fallback; f != nil {
		r.Fallback, r.Reason = true, f.Reason
	}
	return r, nil
}

// guardWith returns the default guard with the trace model in file (none:
// the bundled one) and the trace-model thresholds in probs ("task=p,...").
func guardWith(file, probs string) (*mioir.Guard, error) {
	g := mioir.DefaultGuard()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var m mioir.TraceModel
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		g.TraceModel = &m
	}
	if probs != "" {
		for _, kv := range strings.Split(probs, ",") {
			name, v, ok := strings.Cut(kv, "=")
			t, err := degrade.ParseTask(name)
			if !ok || err != nil {
				return nil, fmt.Errorf("autoeval: -trace-prob %q: want task=probability", kv)
			}
			p, err := strconv.ParseFloat(v, 32)
			if err != nil || !(p >= 0 && p <= 1) {
				return nil, fmt.Errorf("autoeval: -trace-prob %q: the probability must be in [0, 1]", kv)
			}
			g.TraceProb[t] = float32(p)
		}
	}
	return g, nil
}

// replay decides auto mode's task for r again under g from r's recorded
// measurements (the classifier's probabilities and choice, the traces, the
// quadrants' probabilities) and sets Auto, AutoGain, Fallback and Reason.
// Where the task changes, its gain is the record's; ok is false when the
// record lacks it (a -lazy run that did not restore with that prompt).
func (r *Record) replay(g *mioir.Guard) (ok bool, err error) {
	if r.Traces == nil || len(r.Probs) != prompt.NumTasks {
		return false, fmt.Errorf("%s %s: a record without traces or probabilities (a -stats-only run measures them)", r.Image, r.Case)
	}
	p := prompt.Prediction{}
	copy(p.Probs[:], r.Probs)
	if p.Task, err = degrade.ParseTask(r.Raw); err != nil {
		return false, fmt.Errorf("%s %s: %w", r.Image, r.Case, err)
	}
	votes := func(t degrade.Task) (int, error) {
		n := 0
		for _, q := range r.CropProbs {
			c, err := prompt.Select(q)
			if err != nil {
				return 0, err
			}
			if c == t {
				n++
			}
		}
		return n, nil
	}
	fb, err := g.Decide(p, r.Traces, votes)
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", r.Image, r.Case, err)
	}
	task := p.Task
	r.Fallback, r.Reason = fb != nil, ""
	if fb != nil {
		task, r.Reason = fb.Use, fb.Reason
	}
	auto := "none"
	if task != 0 {
		auto = task.String()
	}
	if auto == r.Auto {
		return true, nil
	}
	r.Auto, r.AutoGain = auto, 0
	if task == 0 {
		return true, nil
	}
	i := task.PromptIndex()
	if r.Have != nil && !r.Have[i] {
		return false, nil
	}
	r.AutoGain = r.Gain[i]
	return true, nil
}

func report(recs []Record) {
	confusion(recs, "the classifier's choice", func(r Record) string { return r.Raw })
	if len(recs) > 0 && recs[0].Trace != "" {
		confusion(recs, "the trace model's most probable task", func(r Record) string { return r.Trace })
	}
	confusion(recs, "the task auto mode used (none: the input left)", func(r Record) string { return r.Auto })
	fmt.Println("\nPer image: PSNR(restored) - PSNR(degraded), dB, RGB, crop 4")
	fmt.Println("| image | degradation | input dB | task given | raw classifier (choice) | auto, guarded (choice) |")
	fmt.Println("|---|---|---:|---:|---:|---:|")
	for _, r := range recs {
		t, _ := degrade.ParseTask(r.Task)
		auto := r.Auto
		if r.Fallback {
			auto += ", fallback"
		}
		fmt.Printf("| %s | %s | %.2f | %+.2f | %+.2f (%s) | %+.2f (%s) |\n", r.Image, r.Case, r.PSNRIn,
			r.Gain[t.PromptIndex()], r.gainOf(r.Raw), r.Raw, r.AutoGain, auto)
	}

	fmt.Println("\nSummary by degradation (mean gain dB; worst over images; auto fallbacks)")
	fmt.Println("| degradation | n | given mean | raw mean | raw worst | auto mean | auto worst | fallbacks |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	var names []string
	by := map[string][]Record{}
	for _, r := range recs {
		if _, ok := by[r.Case]; !ok {
			names = append(names, r.Case)
		}
		by[r.Case] = append(by[r.Case], r)
	}
	line := func(name string, rs []Record) {
		var g, ra, a stats
		fb := 0
		for _, r := range rs {
			t, _ := degrade.ParseTask(r.Task)
			g.add(r.Gain[t.PromptIndex()])
			ra.add(r.gainOf(r.Raw))
			a.add(r.AutoGain)
			if r.Fallback {
				fb++
			}
		}
		fmt.Printf("| %s | %d | %+.2f | %+.2f | %+.2f | %+.2f | %+.2f | %d |\n", name, len(rs), g.mean(), ra.mean(), ra.min, a.mean(), a.min, fb)
	}
	sort.SliceStable(names, func(i, j int) bool { return by[names[i]][0].Task < by[names[j]][0].Task })
	for _, n := range names {
		line(n, by[n])
	}
	line("**all**", recs)
}

// confusion prints a confusion matrix of choice against the true task.
func confusion(recs []Record, what string, choice func(Record) string) {
	cols := []string{}
	for _, t := range degrade.AllTasks() {
		cols = append(cols, t.String())
	}
	for _, r := range recs {
		if choice(r) == "none" {
			cols = append(cols, "none")
			break
		}
	}
	fmt.Printf("\nConfusion matrix (rows: degradation; columns: %s; n = images)\n", what)
	fmt.Printf("| true \\ chosen | %s | n | correct |\n", strings.Join(cols, " | "))
	fmt.Println("|---|" + strings.Repeat("---:|", len(cols)+2))
	for _, tt := range degrade.AllTasks() {
		n, right := 0, 0
		cnt := map[string]int{}
		for _, r := range recs {
			if r.Task == tt.String() {
				cnt[choice(r)]++
				n++
				if choice(r) == r.Task {
					right++
				}
			}
		}
		if n == 0 {
			continue
		}
		fmt.Printf("| %s |", tt)
		for _, c := range cols {
			fmt.Printf(" %d |", cnt[c])
		}
		fmt.Printf(" %d | %.0f %% |\n", n, 100*float64(right)/float64(n))
	}
}

type stats struct {
	sum, min float64
	n        int
}

func (s *stats) add(v float64) {
	if s.n == 0 || v < s.min {
		s.min = v
	}
	s.sum += v
	s.n++
}

func (s *stats) mean() float64 { return s.sum / float64(max(s.n, 1)) }

// loadCrops reads a photo and returns up to four crops of side (corners
// inward and centre, distinct), or the whole photo cropped to a multiple of
// 4 when it is smaller.
func loadCrops(path string, side int) ([]*degrade.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	src := degrade.FromImage(img)
	if src.W < side || src.H < side {
		return []*degrade.Image{src.CropMod(4)}, nil
	}
	var out []*degrade.Image
	seen := map[image.Point]bool{}
	for _, p := range []image.Point{{0, 0}, {src.W - side, src.H - side}, {(src.W - side) / 2, (src.H - side) / 2}, {src.W - side, 0}} {
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, src.Crop(image.Rect(p.X, p.Y, p.X+side, p.Y+side)))
	}
	return out, nil
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// contentFreeHaze are haze cases made by outside.Haze, whose transmission
// does not depend on the photo (the library's haze, the last of
// externalCases, makes pale content the haziest): a grey airlight of 0.9,
// and t falling from 1 at the bottom row to exp(-1.5) at the top, or 0.5
// everywhere (a uniform fog). They are not among the default cases.
func contentFreeHaze() []dcase {
	ramp := func(row, rows int) float64 { return math.Exp(-1.5 * (1 - float64(row)/float64(rows-1))) }
	return []dcase{
		{"ramp haze", degrade.Haze, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.Haze(m, 0.9, ramp), nil
		}},
		{"uniform haze", degrade.Haze, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.Haze(m, 0.9, func(int, int) float64 { return 0.5 }), nil
		}},
	}
}

func caseNames(cs []dcase) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.name)
	}
	return names
}

// pickCases returns the cases named in list (comma-separated), or the
// default cases when list is empty.
func pickCases(list string) ([]dcase, error) {
	if list == "" {
		return externalCases(), nil
	}
	all := append(externalCases(), contentFreeHaze()...)
	var out []dcase
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(all, func(c dcase) bool { return c.name == name })
		if i < 0 {
			return nil, fmt.Errorf("autoeval: no case %q (cases: %s)", name, strings.Join(caseNames(all), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func externalCases() []dcase {
	var cs []dcase
	if _, err := exec.LookPath("cjpeg"); err == nil {
		for _, q := range []int{10, 20, 40} {
			cs = append(cs, dcase{fmt.Sprintf("cjpeg q%d", q), degrade.JPEG, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
				return outside.LibJPEG(m, q, outside.LibJPEGOptions{})
			}})
		}
		cs = append(cs, dcase{"cjpeg q20 444", degrade.JPEG, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.LibJPEG(m, 20, outside.LibJPEGOptions{Sample: "1x1"})
		}})
	} else {
		fmt.Fprintln(os.Stderr, "autoeval: cjpeg not found (apt-get install libjpeg-turbo-progs): libjpeg rows left out")
	}
	cs = append(cs,
		dcase{"go-jpeg q15", degrade.JPEG, func(m *degrade.Image, _ uint64) (*degrade.Image, error) { return outside.GoJPEG(m, 15) }},
		dcase{"noise s15", degrade.Noise, func(m *degrade.Image, k uint64) (*degrade.Image, error) { return outside.Noise(m, 15, k), nil }},
		dcase{"noise s25", degrade.Noise, func(m *degrade.Image, k uint64) (*degrade.Image, error) { return outside.Noise(m, 25, k), nil }},
		dcase{"noise s40", degrade.Noise, func(m *degrade.Image, k uint64) (*degrade.Image, error) { return outside.Noise(m, 40, k), nil }},
		dcase{"gauss blur s1.5", degrade.Blur, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.Convolve(m, outside.GaussKernel(1.5)), nil
		}},
		dcase{"gauss blur s2.5", degrade.Blur, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.Convolve(m, outside.GaussKernel(2.5)), nil
		}},
		dcase{"defocus r3", degrade.Blur, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.Convolve(m, outside.DiskKernel(3)), nil
		}},
		dcase{"gamma 1.6", degrade.LowLight, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.Pointwise(m, func(v float64) float64 { return math.Pow(v, 1.6) }), nil
		}},
		dcase{"gamma 2.4", degrade.LowLight, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.Pointwise(m, func(v float64) float64 { return math.Pow(v, 2.4) }), nil
		}},
		dcase{"exposure x0.4", degrade.LowLight, func(m *degrade.Image, _ uint64) (*degrade.Image, error) {
			return outside.Pointwise(m, func(v float64) float64 { return 0.4 * v }), nil
		}},
	)
	lib := degrade.NewSampler(degrade.InDis(), 1)
	for _, t := range []degrade.Task{degrade.SR, degrade.Rain, degrade.Haze} {
		cs = append(cs, dcase{"library " + t.String(), t, func(m *degrade.Image, k uint64) (*degrade.Image, error) {
			out, _, err := lib.Degrade(m, t, k, nil)
			return out, err
		}})
	}
	return cs
}
