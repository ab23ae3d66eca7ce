package nets

import (
	"cmp"
	"slices"

	"github.com/gomioir/gomioir/curriculum"
	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/torch"
)

// Recipe is the reference training recipe of a backbone (section 3 of the
// method); its zero fields mean DefaultRecipe's values.
type Recipe struct {
	// Optimizer is Adam, or AdamW when Decoupled, with its weight decay,
	// betas (0.9, 0.99) and the base rate of every cosine cycle, LR (2e-4).
	Optimizer torch.AdamConfig
	// EtaMin is the floor of the cosine schedule (1e-7).
	EtaMin float64
	// Period is the length of a cosine cycle and of a sequential stage (100k).
	Period int
	// Order is the sequential task order (s b n j r h d); a mixed run
	// trains on the same tasks at once.
	Order []degrade.Task
	// MixedCycles is the number of cycles of a mixed run (10), FinalCycles
	// that of the last sequential stage (4).
	MixedCycles, FinalCycles int
}

// DefaultRecipe is what the five backbones share: Adam, betas 0.9 and
// 0.99, no weight decay, learning rate 2e-4 down to 1e-7, cycles of 100k,
// order s b n j r h d, 10 mixed cycles, 4 final cycles.
func DefaultRecipe() Recipe {
	return Recipe{Optimizer: torch.AdamConfig{LR: curriculum.ReferenceBaseLR, Beta1: 0.9, Beta2: 0.99},
		EtaMin: curriculum.ReferenceEtaMin, Period: 100_000, Order: degrade.AllTasks(),
		MixedCycles: curriculum.ReferenceMixedCycles, FinalCycles: curriculum.ReferenceFinalCycles}
}

func (r Recipe) withDefaults() Recipe {
	d := DefaultRecipe()
	r.Optimizer.LR = cmp.Or(r.Optimizer.LR, d.Optimizer.LR)
	r.Optimizer.Beta1 = cmp.Or(r.Optimizer.Beta1, d.Optimizer.Beta1)
	r.Optimizer.Beta2 = cmp.Or(r.Optimizer.Beta2, d.Optimizer.Beta2)
	r.EtaMin = cmp.Or(r.EtaMin, d.EtaMin)
	r.Period = cmp.Or(r.Period, d.Period)
	r.MixedCycles = cmp.Or(r.MixedCycles, d.MixedCycles)
	r.FinalCycles = cmp.Or(r.FinalCycles, d.FinalCycles)
	if r.Order == nil {
		r.Order = d.Order
	}
	r.Order = slices.Clone(r.Order)
	return r
}

// Plan returns the recipe's curriculum, sequential over Order or mixed on
// Order's tasks (listed s b n j r h d), with the learning rate from
// Optimizer.LR down to EtaMin; opts apply after these (curriculum.WithName,
// curriculum.WithLR).
func (r Recipe) Plan(sequential bool, opts ...curriculum.Option) (curriculum.Plan, error) {
	r = r.withDefaults()
	opts = append([]curriculum.Option{curriculum.WithLR(r.Optimizer.LR, r.EtaMin)}, opts...)
	if sequential {
		return curriculum.Sequential(r.Order, r.Period, r.FinalCycles, opts...)
	}
	tasks := slices.Clone(r.Order)
	slices.Sort(tasks)
	return curriculum.Mixed(slices.Compact(tasks), slices.Repeat([]int{r.Period}, r.MixedCycles), opts...)
}
