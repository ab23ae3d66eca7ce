// Package curriculum describes how MiOIR trains one network on several
// restoration tasks: which tasks are active at every iteration, when the
// optimiser and learning-rate schedule start afresh, and the learning rate
// itself. It is pure Go and knows nothing about networks or tensors; the
// trainer asks a Plan what to do at iteration t.
//
// # Mixed and sequential learning
//
// A mixed plan (the paper's -M models) trains on every task from the first
// iteration. A sequential plan (-S) follows an order of tasks: stage k
// trains on the union of the first k tasks, starting from the weights of
// stage k-1 with a fresh optimiser and schedule. The reference's two orders
// are OrderSBNJRHD and OrderRJBSNHD.
//
// Both reference budgets have ten cosine cycles of P iterations: mixed as
// one stage of ten cycles, sequential as six stages of one cycle and a
// final stage of four (ReferenceMixed, ReferenceSequential). Mixed,
// Sequential and New build others. This package knows no backbone: the
// period, order and learning-rate floor of each reference model come from
// its backbone's recipe in package nets (nets.Recipe.Plan);
// ClassifierPlan is the task classifier's.
//
// # The learning rate
//
// Every stage runs its own copy of the reference's CosineAnnealingRestartLR
// (BasicSR), CosineRestartLR: inside a cycle of period P starting at
// scheduler position r,
//
//	lr(e) = eta_min + w * 0.5 * (base - eta_min) * (1 + cos(pi * ((e - r) / P)))
//
// where e = last_epoch = (iteration within the stage) - 1, because the
// reference steps the scheduler before every iteration but the first. The
// first cycle therefore covers positions 0..P and ends exactly on eta_min;
// later cycles cover r+1..r+P, so they restart one step below the base rate.
// A stage of one cycle, which ends at position P-1, never reaches eta_min.
// The -S and -M rates of one budget are therefore not the same sequence
// shifted: at iteration P+1 a mixed run sits on eta_min and restarts at
// P+2, while a sequential run starts stage 2 at P+1 on the full base rate.
//
// The expression is evaluated in the reference's order, in float64, with
// no fused multiply-add, and with a correctly rounded cosine. Go's math.Cos
// is not correctly rounded (25,932 of the 100,001 cosines of a 100k cycle
// differ), which (1 + cos) turns into rates a few ulp off. With the correctly
// rounded cosine every rate of the reference budgets (all 1M and 2.5M
// iterations) equals, bit for bit, a PyTorch scheduler driven like the
// reference training loop with a correctly rounded cosine
// (scripts/fixtures_curriculum.py). The reference's own cosine is CPython's
// math.cos, i.e. the C library's: glibc 2.36 is off by one ulp for about
// 0.13 % of the cosines of a 100k cycle (129 of 100,001; 333 of 250,001
// for 250k), so the reference's machine may differ from these rates by a
// few units in the last place (below 1e-19) at those positions.
//
// torch's own CosineAnnealingWarmRestarts is a different schedule: it
// restarts at position P (one iteration earlier) and rounds differently.
//
// # Iterations, stages, cycles
//
// Iterations are counted from 1 to TotalIters over the whole plan, as the
// reference's current_iter within one run; stages and cycles are 0-based
// indexes. At returns a Step with the stage, the iteration within it, the
// active tasks, the learning rate and three flags: Restart (first
// iteration of a stage: recreate the optimiser and the schedule),
// CycleStart (first iteration of a cosine cycle) and StageEnd (last
// iteration of a stage: the reference saves the stage's weights there).
// A checkpoint needs only the plan (it marshals to JSON) and the last
// finished iteration to resume at exactly the same point.
//
// How batches are drawn from the active tasks is the data loader's
// business: the reference draws samples from the union of the active
// tasks' sub-images, so each of k roughly equal tasks gets about 1/k of
// the batches.
package curriculum
