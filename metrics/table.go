package metrics

import (
	"math"
	"slices"
)

// Score is the value of one table cell: the mean PSNR (and SSIM) of a
// model over the images of one test set.
type Score struct {
	PSNR    float64 // mean PSNR in dB (+Inf if every image was identical to its GT)
	SSIM    float64 // mean SSIM; meaningful only when HasSSIM
	HasSSIM bool    // whether SSIM was measured
	N       int     // number of images averaged; 0 when the score was set directly
}

// cell accumulates per-image results, or holds a score set directly.
type cell struct {
	sumPSNR, sumSSIM float64
	n, nSSIM         int
	fixed            bool
	score            Score
}

func (c *cell) value() (Score, bool) {
	if c == nil {
		return Score{}, false
	}
	if c.fixed {
		return c.score, true
	}
	if c.n == 0 {
		return Score{}, false
	}
	s := Score{PSNR: c.sumPSNR / float64(c.n), N: c.n}
	if c.nSSIM == c.n {
		s.SSIM, s.HasSSIM = c.sumSSIM/float64(c.n), true
	}
	return s, true
}

type tableRow struct {
	model    string
	baseline string
	cells    map[string]*cell
}

// Table collects evaluation results: rows are models (methods), columns
// are test sets, each tagged with a Group. It derives per-group averages
// and the gain of each row's averages over a baseline row, and renders as
// Markdown (the paper's layout), CSV and JSON.
//
// A cell is the mean of per-image results added with Add or AddPSNR (the
// reference's dataset score: the arithmetic mean of per-image PSNRs), or a
// score set directly with Set. A group average is the mean of the row's
// set scores in that group, defined only when every set of the group has a
// score. The methods are not safe for concurrent use.
type Table struct {
	// Title is printed above the Markdown table and stored in the JSON.
	Title string
	// Options records how the scores were measured (stored in the JSON).
	Options Options
	// Baseline is the model whose averages every row is compared with,
	// unless the row has its own (SetBaseline). Empty means no gains
	// except for rows with their own baseline.
	Baseline string
	// Layout controls the Markdown and CSV renderings.
	Layout Layout

	sets  []TestSet
	index map[string]int
	rows  []*tableRow
}

// NewTable returns an empty table whose columns are sets, in order (for
// example PaperTestSets()). Set names must be non-empty and distinct and
// groups valid. Options start as DefaultOptions.
func NewTable(sets []TestSet) (*Table, error) {
	t := &Table{Options: DefaultOptions(), sets: slices.Clone(sets), index: make(map[string]int, len(sets))}
	for i, s := range sets {
		if s.Name == "" {
			return nil, newError("NewTable", ErrBadSet, "set %d has no name", i)
		}
		if !s.Group.Valid() {
			return nil, newError("NewTable", ErrBadSet, "set %q has invalid group %d", s.Name, int(s.Group))
		}
		if _, dup := t.index[s.Name]; dup {
			return nil, newError("NewTable", ErrBadSet, "set %q given twice", s.Name)
		}
		t.index[s.Name] = i
	}
	return t, nil
}

// Sets returns a copy of the table's columns.
func (t *Table) Sets() []TestSet { return slices.Clone(t.sets) }

// Models returns the row names in the order they were first used.
func (t *Table) Models() []string {
	out := make([]string, len(t.rows))
	for i, r := range t.rows {
		out[i] = r.model
	}
	return out
}

// AddRow makes sure a row for model exists (rows are also created by Add,
// AddPSNR, Set and SetBaseline); it fixes the row order without adding a
// score.
func (t *Table) AddRow(model string) error {
	_, err := t.row("AddRow", model)
	return err
}

func (t *Table) row(op, model string) (*tableRow, error) {
	if model == "" {
		return nil, newError(op, ErrBadScore, "empty model name")
	}
	for _, r := range t.rows {
		if r.model == model {
			return r, nil
		}
	}
	r := &tableRow{model: model, cells: map[string]*cell{}}
	t.rows = append(t.rows, r)
	return r, nil
}

func (t *Table) find(model string) *tableRow {
	for _, r := range t.rows {
		if r.model == model {
			return r
		}
	}
	return nil
}

func (t *Table) cellFor(op, model, set string) (*cell, error) {
	if _, ok := t.index[set]; !ok {
		return nil, newError(op, ErrUnknownSet, "%q", set)
	}
	r, err := t.row(op, model)
	if err != nil {
		return nil, err
	}
	c := r.cells[set]
	if c == nil {
		c = &cell{}
		r.cells[set] = c
	}
	return c, nil
}

func checkPSNR(op string, p float64) error {
	if math.IsNaN(p) || math.IsInf(p, -1) {
		return newError(op, ErrBadScore, "PSNR %v", p)
	}
	return nil
}

// Add adds the result of one image of set to model's cell; the cell shows
// the mean over the images added. A cell whose score was set with Set
// starts over.
func (t *Table) Add(model, set string, r Result) error {
	if err := checkPSNR("Add", r.PSNR); err != nil {
		return err
	}
	if math.IsNaN(r.SSIM) {
		return newError("Add", ErrBadScore, "SSIM NaN")
	}
	c, err := t.cellFor("Add", model, set)
	if err != nil {
		return err
	}
	if c.fixed {
		*c = cell{}
	}
	c.sumPSNR += r.PSNR
	c.sumSSIM += r.SSIM
	c.n++
	c.nSSIM++
	return nil
}

// AddPSNR is Add for a PSNR-only measurement (the reference's setting).
// A cell mixing Add and AddPSNR reports no SSIM.
func (t *Table) AddPSNR(model, set string, psnr float64) error {
	if err := checkPSNR("AddPSNR", psnr); err != nil {
		return err
	}
	c, err := t.cellFor("AddPSNR", model, set)
	if err != nil {
		return err
	}
	if c.fixed {
		*c = cell{}
	}
	c.sumPSNR += psnr
	c.n++
	return nil
}

// Set stores a score directly (for example a published number), replacing
// whatever the cell held.
func (t *Table) Set(model, set string, s Score) error {
	if err := checkPSNR("Set", s.PSNR); err != nil {
		return err
	}
	if s.HasSSIM && math.IsNaN(s.SSIM) || s.N < 0 {
		return newError("Set", ErrBadScore, "SSIM %v, N %d", s.SSIM, s.N)
	}
	c, err := t.cellFor("Set", model, set)
	if err != nil {
		return err
	}
	if !s.HasSSIM {
		s.SSIM = 0
	}
	*c = cell{fixed: true, score: s}
	return nil
}

// SetBaseline makes baseline the row model is compared with, overriding
// Table.Baseline for that row (the paper compares each backbone's variants
// with its own -M model). A row named as another row's baseline is its own
// baseline. An empty baseline restores the table default.
func (t *Table) SetBaseline(model, baseline string) error {
	r, err := t.row("SetBaseline", model)
	if err != nil {
		return err
	}
	r.baseline = baseline
	return nil
}

// BaselineOf returns the model's effective baseline: the one given with
// SetBaseline; else the model itself when another row names it as its
// baseline; else Table.Baseline (possibly "").
func (t *Table) BaselineOf(model string) string {
	if r := t.find(model); r != nil && r.baseline != "" {
		return r.baseline
	}
	for _, r := range t.rows {
		if r.baseline == model {
			return model
		}
	}
	return t.Baseline
}

// Score returns model's score on set, and whether it has one.
func (t *Table) Score(model, set string) (Score, bool) {
	r := t.find(model)
	if r == nil {
		return Score{}, false
	}
	return r.cells[set].value()
}

// Average returns the mean of model's scores over the sets of group g (its
// N is the number of sets), and whether it is defined: the table must have
// at least one set of g and the row a score for each. The SSIM average is
// present when every set has SSIM.
func (t *Table) Average(model string, g Group) (Score, bool) {
	r := t.find(model)
	if r == nil {
		return Score{}, false
	}
	var avg Score
	avg.HasSSIM = true
	for _, s := range t.sets {
		if s.Group != g {
			continue
		}
		v, ok := r.cells[s.Name].value()
		if !ok {
			return Score{}, false
		}
		avg.PSNR += v.PSNR
		avg.SSIM += v.SSIM
		avg.HasSSIM = avg.HasSSIM && v.HasSSIM
		avg.N++
	}
	if avg.N == 0 {
		return Score{}, false
	}
	avg.PSNR /= float64(avg.N)
	avg.SSIM /= float64(avg.N)
	if !avg.HasSSIM {
		avg.SSIM = 0
	}
	return avg, true
}

// Gain returns the difference between model's PSNR average over group g
// and its baseline's (the paper's "Ipv."), and whether both are defined.
// The baseline row itself has a gain of 0.
func (t *Table) Gain(model string, g Group) (float64, bool) {
	base := t.BaselineOf(model)
	if base == "" {
		return 0, false
	}
	a, ok := t.Average(model, g)
	if !ok {
		return 0, false
	}
	b, ok := t.Average(base, g)
	if !ok {
		return 0, false
	}
	return a.PSNR - b.PSNR, true
}

// IsBaseline reports whether model is its own baseline, which the paper's
// tables mark "baseline" in the gain column.
func (t *Table) IsBaseline(model string) bool { return t.BaselineOf(model) == model }
