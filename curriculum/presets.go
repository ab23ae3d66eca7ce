package curriculum

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomioir/gomioir/degrade"
)

// The reference's schedule constants (method.md section 3).
const (
	// ReferenceBaseLR is the reference's learning rate (Adam/AdamW, all models).
	ReferenceBaseLR = 2e-4
	// ReferenceEtaMin is the reference's cosine floor for every model but
	// Uformer (UformerEtaMin).
	ReferenceEtaMin = 1e-7
	// UformerEtaMin is the cosine floor of the Uformer models.
	UformerEtaMin = 1e-6
	// ReferenceFinalCycles is the number of cosine cycles of the last
	// sequential stage.
	ReferenceFinalCycles = 4
	// ReferenceMixedCycles is the number of cosine cycles of a mixed run:
	// as many as the six one-cycle stages plus the four-cycle final stage
	// of a sequential run over seven tasks, so that both see the same
	// budget and learning-rate shape.
	ReferenceMixedCycles = 10
	// PeriodSRResNet is the reference's cycle (and stage) length for
	// SRResNet; PeriodDefault is that of the other backbones.
	PeriodSRResNet = 250_000
	PeriodDefault  = 100_000
)

// OrderSBNJRHD returns the reference's first sequential order, s b n j r h d
// (SR, blur, noise, JPEG, rain, haze, dark), used for SRResNet and SwinIR.
func OrderSBNJRHD() []degrade.Task {
	return []degrade.Task{degrade.SR, degrade.Blur, degrade.Noise, degrade.JPEG, degrade.Rain, degrade.Haze, degrade.LowLight}
}

// OrderRJBSNHD returns the reference's second sequential order, r j b s n h d
// (rain, JPEG, blur, SR, noise, haze, dark), used for Restormer, Uformer and
// PromptIR.
func OrderRJBSNHD() []degrade.Task {
	return []degrade.Task{degrade.Rain, degrade.JPEG, degrade.Blur, degrade.SR, degrade.Noise, degrade.Haze, degrade.LowLight}
}

// ReferenceSequential returns the reference's sequential budget over order:
// one stage of period iterations per task before the last, and a last
// stage of ReferenceFinalCycles cycles of period (10 cycles in all for
// seven tasks).
func ReferenceSequential(order []degrade.Task, period int, opts ...Option) (Plan, error) {
	return Sequential(order, period, ReferenceFinalCycles, opts...)
}

// ReferenceMixed returns the reference's mixed budget on tasks:
// ReferenceMixedCycles cosine cycles of period iterations in one stage.
func ReferenceMixed(tasks []degrade.Task, period int, opts ...Option) (Plan, error) {
	if period <= 0 {
		return Plan{}, fmt.Errorf("%w: period %d, want > 0", ErrInvalid, period)
	}
	return Mixed(tasks, slices.Repeat([]int{period}, ReferenceMixedCycles), opts...)
}

type presetInfo struct {
	name   string // canonical name
	mixed  bool
	order  func() []degrade.Task
	period int
	cycles int // mixed only
	etaMin float64
}

var presets = []presetInfo{
	{"SRResNet-M", true, degrade.AllTasks, PeriodSRResNet, ReferenceMixedCycles, ReferenceEtaMin},
	{"SRResNet-S", false, OrderSBNJRHD, PeriodSRResNet, 0, ReferenceEtaMin},
	{"SwinIR-M", true, degrade.AllTasks, PeriodDefault, ReferenceMixedCycles, ReferenceEtaMin},
	{"SwinIR-S", false, OrderSBNJRHD, PeriodDefault, 0, ReferenceEtaMin},
	{"Restormer-M", true, degrade.AllTasks, PeriodDefault, ReferenceMixedCycles, ReferenceEtaMin},
	{"Restormer-S", false, OrderRJBSNHD, PeriodDefault, 0, ReferenceEtaMin},
	{"Uformer-M", true, degrade.AllTasks, PeriodDefault, ReferenceMixedCycles, UformerEtaMin},
	{"Uformer-S", false, OrderRJBSNHD, PeriodDefault, 0, UformerEtaMin},
	{"PromptIR-M", true, degrade.AllTasks, PeriodDefault, ReferenceMixedCycles, ReferenceEtaMin},
	{"PromptIR-S", false, OrderRJBSNHD, PeriodDefault, 0, ReferenceEtaMin},
	// The task classifier: all seven tasks, 4 cycles of 250k.
	{"Classifier", true, degrade.AllTasks, PeriodSRResNet, 4, ReferenceEtaMin},
}

// PresetNames returns the names Preset accepts, in a fixed order.
func PresetNames() []string {
	out := make([]string, len(presets))
	for i, p := range presets {
		out[i] = p.name
	}
	return out
}

// Preset returns the plan the reference trains a model with, by the
// paper's model name: "<backbone>-M" (mixed) or "<backbone>-S" (sequential)
// for the backbones SRResNet, SwinIR, Restormer, Uformer and PromptIR, and
// "Classifier" for the task classifier (mixed, 4 cycles of 250k). Names are
// case-insensitive and "_" may stand for "-". The prompt variants (EP, AP)
// train with the schedule of their base model.
//
// Budgets: SRResNet 10 x 250k iterations, the others 10 x 100k; sequential
// order s b n j r h d for SRResNet and SwinIR, r j b s n h d for the rest;
// learning rate 2e-4 down to 1e-7 (Uformer 1e-6). The mixed presets list the
// tasks in the order s b n j r h d; the reference samples them from one
// shuffled file, so their order is immaterial.
func Preset(name string, opts ...Option) (Plan, error) {
	key := strings.ReplaceAll(strings.TrimSpace(name), "_", "-")
	for _, pr := range presets {
		if !strings.EqualFold(key, pr.name) {
			continue
		}
		all := append([]Option{WithName(pr.name), WithLR(ReferenceBaseLR, pr.etaMin)}, opts...)
		if pr.mixed {
			return Mixed(pr.order(), slices.Repeat([]int{pr.period}, pr.cycles), all...)
		}
		return ReferenceSequential(pr.order(), pr.period, all...)
	}
	return Plan{}, fmt.Errorf("curriculum: unknown preset %q (want one of %s)", name, strings.Join(PresetNames(), ", "))
}
