// Package eval measures restoration models as the reference MiOIR test
// procedure does: Evaluate restores the images of test sets with a Model (and
// optionally a baseline) and fills a metrics.Table (PSNR, optionally SSIM,
// crop 4 on RGB; per-set means, group averages, gains), with every per-image
// result in the Report.
//
// Test sets come from folders (TestSetsFromDir: the reference's CL_test
// layout or <set>/GT + <set>/LQ), from clean photos degraded on the fly with
// the paper's In-Dis and Out-Dis presets (CleanTestSets, CleanTestSetsDraws),
// or from per-task pairs (TaskSets, what the trainer validates on). Classify
// scores a task classifier on sets with a task (the accuracy per set).
//
// Every measurement of the module that compares a restored image with its
// ground truth goes through this package, the training validation of
// mioir/train included, so a validation PSNR and an evaluation PSNR are the
// same number for the same model and images. Package eval does not know
// training: mioir/train imports it, never the reverse.
package eval
