package curriculum

import (
	"fmt"
	"slices"

	"github.com/gomioir/gomioir/degrade"
)

// The reference's schedule constants that every backbone shares (method.md
// section 3). What differs between backbones (period, order, eta_min,
// optimiser) is each backbone's recipe in package nets (nets.Recipe).
const (
	// ReferenceBaseLR is the reference's learning rate at the start of
	// every cosine cycle.
	ReferenceBaseLR = 2e-4
	// ReferenceEtaMin is the reference's usual cosine floor.
	ReferenceEtaMin = 1e-7
	// ReferenceFinalCycles is the number of cosine cycles of the last
	// sequential stage.
	ReferenceFinalCycles = 4
	// ReferenceMixedCycles is the number of cosine cycles of a mixed run:
	// as many as the six one-cycle stages plus the four-cycle final stage
	// of a sequential run over seven tasks, so that both see the same
	// budget and learning-rate shape.
	ReferenceMixedCycles = 10
)

// OrderSBNJRHD returns the reference's first sequential order, s b n j r h d
// (SR, blur, noise, JPEG, rain, haze, dark).
func OrderSBNJRHD() []degrade.Task {
	return []degrade.Task{degrade.SR, degrade.Blur, degrade.Noise, degrade.JPEG, degrade.Rain, degrade.Haze, degrade.LowLight}
}

// OrderRJBSNHD returns the reference's second sequential order, r j b s n h d
// (rain, JPEG, blur, SR, noise, haze, dark).
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

// ClassifierPlan returns the plan the reference trains the task classifier
// with: all seven tasks mixed, 4 cosine cycles of 250k iterations, learning
// rate 2e-4 down to 1e-7, named "Classifier"; opts apply after these.
func ClassifierPlan(opts ...Option) (Plan, error) {
	return Mixed(degrade.AllTasks(), slices.Repeat([]int{250_000}, 4), append([]Option{WithName("Classifier")}, opts...)...)
}
