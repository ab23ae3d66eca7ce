package metrics

import (
	"fmt"
	"strings"

	"github.com/gomioir/gomioir/degrade"
)

// Group is one of the paper's three families of test sets. The zero value
// is not a valid group.
type Group int

// The three groups, in the order of the paper's tables.
const (
	// InDis: the seven single degradations with the training
	// distribution's parameters ("in distribution").
	InDis Group = iota + 1
	// OutDis: the seven degradations with stronger, unseen parameters
	// ("out of distribution"); the paper reports only their average.
	OutDis
	// Unknown: external real-world or unknown degradations (NTIRE 2018
	// DIV2K mild/difficult/wild, NTIRE 2020, T-OLED).
	Unknown
)

var groupNames = [...]string{InDis: "In-Dis", OutDis: "Out-Dis", Unknown: "Unknown"}

// Groups returns the three groups in table order.
func Groups() []Group { return []Group{InDis, OutDis, Unknown} }

// Valid reports whether g is one of the three groups.
func (g Group) Valid() bool { return g >= InDis && g <= Unknown }

// String returns the paper's name of the group: "In-Dis", "Out-Dis" or
// "Unknown".
func (g Group) String() string {
	if !g.Valid() {
		return fmt.Sprintf("Group(%d)", int(g))
	}
	return groupNames[g]
}

// ParseGroup parses a group name, case-insensitively, with or without the
// hyphen ("In-Dis", "indis", "out_dis", "unknown").
func ParseGroup(s string) (Group, error) {
	k := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(s)))
	for _, g := range Groups() {
		if strings.ReplaceAll(strings.ToLower(g.String()), "-", "") == k {
			return g, nil
		}
	}
	return 0, fmt.Errorf("metrics: unknown group %q (want In-Dis, Out-Dis or Unknown)", s)
}

// MarshalText implements encoding.TextMarshaler (the String form).
func (g Group) MarshalText() ([]byte, error) {
	if !g.Valid() {
		return nil, fmt.Errorf("metrics: invalid group %d", int(g))
	}
	return []byte(g.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (what ParseGroup accepts).
func (g *Group) UnmarshalText(b []byte) error {
	v, err := ParseGroup(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// TestSet describes one evaluation set: a column of a results table.
type TestSet struct {
	// Name identifies the set; for the paper's sets it is the dataset name
	// of the reference test configurations ("sr", "blur_outbig",
	// "DIV2K_valid_LR_mild").
	Name string `json:"name"`
	// Label is the column heading ("SR", "Low-Light", "Mild").
	Label string `json:"label"`
	// Group is the family the set belongs to.
	Group Group `json:"group"`
	// Task is the synthetic degradation of the set; zero (no task) for
	// the Unknown sets.
	Task degrade.Task `json:"task,omitempty"`
	// LQDir and GTDir are the reference's degraded and ground-truth
	// folders, relative to its CL_test root (empty for user sets).
	LQDir string `json:"lq_dir,omitempty"`
	GTDir string `json:"gt_dir,omitempty"`
}

// PaperTestSets returns the 19 test sets of the reference, in its order:
// the seven In-Dis sets (s b n j r h d), the seven Out-Dis sets in the same
// task order, and the five Unknown sets. The slice is freshly allocated.
func PaperTestSets() []TestSet {
	sets := make([]TestSet, 0, 19)
	labels := map[degrade.Task]string{
		degrade.SR: "SR", degrade.Blur: "Blur", degrade.Noise: "Noise", degrade.JPEG: "JPEG",
		degrade.Rain: "Rain", degrade.Haze: "Haze", degrade.LowLight: "Low-Light",
	}
	for _, t := range degrade.AllTasks() {
		sets = append(sets, TestSet{
			Name: t.Name(), Label: labels[t], Group: InDis, Task: t,
			LQDir: "single_indis/" + t.Name(), GTDir: "original/GT",
		})
	}
	for _, t := range degrade.AllTasks() {
		name := t.Name() + "_outbig"
		sets = append(sets, TestSet{
			Name: name, Label: labels[t] + " (Out)", Group: OutDis, Task: t,
			LQDir: "single_outbig/" + name, GTDir: "original/GT",
		})
	}
	for _, u := range []struct{ name, label, lq, gt string }{
		{"DIV2K_valid_LR_difficult", "Difficult", "unknow/LQ_LR/DIV2K_valid_LR_difficult", "unknow/DIV2K_valid_HR_toLR"},
		{"DIV2K_valid_LR_mild", "Mild", "unknow/LQ_LR/DIV2K_valid_LR_mild", "unknow/DIV2K_valid_HR_toLR"},
		{"DIV2K_valid_LR_wild", "Wild", "unknow/LQ_LR/DIV2K_valid_LR_wild", "unknow/DIV2K_valid_HR_toLR"},
		{"valid-input-noisy", "Ntire20", "unknow/LQ_LR/valid-input-noisy", "unknow/DIV2K_valid_HR_toLR"},
		{"Toled_val", "Toled", "unknow/Toled_val/LQ", "unknow/Toled_val/HQ"},
	} {
		sets = append(sets, TestSet{Name: u.name, Label: u.label, Group: Unknown, LQDir: u.lq, GTDir: u.gt})
	}
	return sets
}
