package metrics

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Layout controls which columns the Markdown and CSV renderings show. The
// zero value shows every group that has a set, every set, PSNR with two
// decimals.
type Layout struct {
	// Groups lists the groups to show, in order; nil means every group
	// with at least one set, in the order In-Dis, Out-Dis, Unknown.
	Groups []Group
	// AverageOnly lists groups shown in Markdown by their average (and
	// gain) alone, without a column per set; the paper shows Out-Dis this
	// way. CSV always has every set.
	AverageOnly []Group
	// SSIM adds SSIM to every cell ("25.52 / 0.7400" in Markdown, extra
	// columns in CSV).
	SSIM bool
	// Decimals is the number of PSNR decimals in Markdown (0 means 2);
	// SSIM gets two more.
	Decimals int
}

// PaperLayout is the layout of the paper's tables: every group, Out-Dis as
// its average only, PSNR with two decimals.
func PaperLayout() Layout { return Layout{AverageOnly: []Group{OutDis}} }

func (t *Table) groups() []Group {
	if t.Layout.Groups != nil {
		return t.Layout.Groups
	}
	var out []Group
	for _, g := range Groups() {
		if slices.ContainsFunc(t.sets, func(s TestSet) bool { return s.Group == g }) {
			out = append(out, g)
		}
	}
	return out
}

func (t *Table) groupSets(g Group) []TestSet {
	var out []TestSet
	for _, s := range t.sets {
		if s.Group == g {
			out = append(out, s)
		}
	}
	return out
}

// hasGains reports whether any row has a baseline, so that the gain
// columns are worth showing.
func (t *Table) hasGains() bool {
	for _, r := range t.rows {
		if t.BaselineOf(r.model) != "" {
			return true
		}
	}
	return false
}

func fmtPSNR(v float64, dec int) string {
	if math.IsInf(v, 1) {
		return "inf"
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

func (t *Table) mdCell(s Score, ok bool) string {
	if !ok {
		return "-"
	}
	dec := t.Layout.Decimals
	if dec <= 0 {
		dec = 2
	}
	out := fmtPSNR(s.PSNR, dec)
	if t.Layout.SSIM {
		if s.HasSSIM {
			out += " / " + strconv.FormatFloat(s.SSIM, 'f', dec+2, 64)
		} else {
			out += " / -"
		}
	}
	return out
}

func (t *Table) mdGain(model string, g Group) string {
	if t.IsBaseline(model) {
		if _, ok := t.Average(model, g); ok {
			return "baseline"
		}
		return "-"
	}
	v, ok := t.Gain(model, g)
	if !ok {
		return "-"
	}
	dec := t.Layout.Decimals
	if dec <= 0 {
		dec = 2
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%+.*f", dec, v)
}

// Markdown renders the table as a GitHub-flavoured Markdown table in the
// paper's layout: a "Model" column, then for each group its set columns
// (unless the group is average-only), "<group> Avg" and, when any row has
// a baseline, "Ipv." (the gain of the average over the row's baseline,
// "baseline" on the baseline rows). Missing values show as "-", infinite
// PSNR as "inf". A non-empty Title becomes a heading line above the table.
func (t *Table) Markdown() string {
	gains := t.hasGains()
	header := []string{"Model"}
	type col func(model string) string
	var cols []col
	for _, g := range t.groups() {
		if !slices.Contains(t.Layout.AverageOnly, g) {
			for _, s := range t.groupSets(g) {
				name := s.Name
				header = append(header, s.Label)
				cols = append(cols, func(m string) string { return t.mdCell(t.Score(m, name)) })
			}
		}
		header = append(header, g.String()+" Avg")
		cols = append(cols, func(m string) string { return t.mdCell(t.Average(m, g)) })
		if gains {
			header = append(header, "Ipv.")
			cols = append(cols, func(m string) string { return t.mdGain(m, g) })
		}
	}
	cells := [][]string{header}
	for _, r := range t.rows {
		line := []string{escapeMD(r.model)}
		for _, c := range cols {
			line = append(line, c(r.model))
		}
		cells = append(cells, line)
	}
	width := make([]int, len(header))
	for _, line := range cells {
		for i, c := range line {
			width[i] = max(width[i], len(c), 3)
		}
	}
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "**%s**\n\n", escapeMD(t.Title))
	}
	writeLine := func(line []string) {
		b.WriteString("|")
		for i, c := range line {
			if i == 0 {
				fmt.Fprintf(&b, " %-*s |", width[i], c)
			} else {
				fmt.Fprintf(&b, " %*s |", width[i], c)
			}
		}
		b.WriteString("\n")
	}
	writeLine(cells[0])
	b.WriteString("|")
	for i, w := range width {
		if i == 0 {
			b.WriteString(" :" + strings.Repeat("-", w-1) + " |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		}
	}
	b.WriteString("\n")
	for _, line := range cells[1:] {
		writeLine(line)
	}
	return b.String()
}

func escapeMD(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func fmtFull(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// CSV renders the table as comma-separated values with a header line:
// "model", "baseline", then for each shown group (Layout.Groups) one
// column per set (named by the set's Name; followed by "<name> ssim" when
// Layout.SSIM), "<group> avg" (and "<group> avg ssim"), and "<group> gain"
// when any row has a baseline. Numbers have full precision; a missing
// value is an empty field, an infinite PSNR "+Inf".
func (t *Table) CSV() string {
	gains := t.hasGains()
	ssim := t.Layout.SSIM
	header := []string{"model", "baseline"}
	type col func(model string) []string
	var cols []col
	score := func(s Score, ok bool) []string {
		out := []string{""}
		if ok {
			out[0] = fmtFull(s.PSNR)
		}
		if ssim {
			if ok && s.HasSSIM {
				out = append(out, fmtFull(s.SSIM))
			} else {
				out = append(out, "")
			}
		}
		return out
	}
	for _, g := range t.groups() {
		for _, s := range t.groupSets(g) {
			name := s.Name
			header = append(header, name)
			if ssim {
				header = append(header, name+" ssim")
			}
			cols = append(cols, func(m string) []string { return score(t.Score(m, name)) })
		}
		header = append(header, g.String()+" avg")
		if ssim {
			header = append(header, g.String()+" avg ssim")
		}
		cols = append(cols, func(m string) []string { return score(t.Average(m, g)) })
		if gains {
			header = append(header, g.String()+" gain")
			cols = append(cols, func(m string) []string {
				if v, ok := t.Gain(m, g); ok {
					return []string{fmtFull(v)}
				}
				return []string{""}
			})
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(header)
	for _, r := range t.rows {
		line := []string{r.model, t.BaselineOf(r.model)}
		for _, c := range cols {
			line = append(line, c(r.model)...)
		}
		_ = w.Write(line)
	}
	w.Flush() // writing to a bytes.Buffer cannot fail
	return buf.String()
}

// Report is the JSON form of a Table (see Table.JSON): every set, every
// row's scores, group averages and gains. It can be decoded with
// encoding/json.
type Report struct {
	Title    string      `json:"title,omitempty"`
	Options  Options     `json:"options"`
	Baseline string      `json:"baseline,omitempty"`
	Sets     []TestSet   `json:"sets"`
	Rows     []ReportRow `json:"rows"`
}

// ReportRow is one model's results in a Report.
type ReportRow struct {
	Model    string          `json:"model"`
	Baseline string          `json:"baseline,omitempty"` // effective baseline
	Scores   []ReportScore   `json:"scores"`             // sets with a score, in column order
	Averages []ReportAverage `json:"averages"`           // groups with a defined average
}

// ReportScore is one cell of a Report. JSON has no infinity: an infinite
// PSNR is written as "psnr": null with "psnr_is_inf": true.
type ReportScore struct {
	Set       string   `json:"set"`
	PSNR      *float64 `json:"psnr"`
	PSNRIsInf bool     `json:"psnr_is_inf,omitempty"`
	SSIM      *float64 `json:"ssim,omitempty"`
	N         int      `json:"n,omitempty"`
}

// ReportAverage is a row's average over one group in a Report, with its
// gain over the row's baseline when defined.
type ReportAverage struct {
	Group     Group    `json:"group"`
	PSNR      *float64 `json:"psnr"`
	PSNRIsInf bool     `json:"psnr_is_inf,omitempty"`
	SSIM      *float64 `json:"ssim,omitempty"`
	Sets      int      `json:"sets"`
	Gain      *float64 `json:"gain,omitempty"`
}

func finite(v float64) (*float64, bool) {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, true
	}
	return &v, false
}

func ssimPtr(s Score) *float64 {
	if !s.HasSSIM {
		return nil
	}
	v := s.SSIM
	return &v
}

// Report returns the table's contents in JSON-ready form. Averages cover
// every group that has sets, whatever the Layout.
func (t *Table) Report() Report {
	rep := Report{Title: t.Title, Options: t.Options, Baseline: t.Baseline, Sets: t.Sets(), Rows: []ReportRow{}}
	for _, r := range t.rows {
		row := ReportRow{Model: r.model, Baseline: t.BaselineOf(r.model), Scores: []ReportScore{}, Averages: []ReportAverage{}}
		for _, s := range t.sets {
			v, ok := r.cells[s.Name].value()
			if !ok {
				continue
			}
			p, inf := finite(v.PSNR)
			row.Scores = append(row.Scores, ReportScore{Set: s.Name, PSNR: p, PSNRIsInf: inf, SSIM: ssimPtr(v), N: v.N})
		}
		for _, g := range Groups() {
			a, ok := t.Average(r.model, g)
			if !ok {
				continue
			}
			p, inf := finite(a.PSNR)
			avg := ReportAverage{Group: g, PSNR: p, PSNRIsInf: inf, SSIM: ssimPtr(a), Sets: a.N}
			if gain, ok := t.Gain(r.model, g); ok {
				avg.Gain, _ = finite(gain)
			}
			row.Averages = append(row.Averages, avg)
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep
}

// JSON returns the Report as indented JSON.
func (t *Table) JSON() ([]byte, error) {
	return json.MarshalIndent(t.Report(), "", "  ")
}
