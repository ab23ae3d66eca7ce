// Package data is the training and validation data pipeline of gomioir, in
// pure Go (no cgo): it turns folders of images into batches of float32 NCHW
// patches for the trainer, as the reference's MiO datasets and BasicSR
// loaders do (method spec section 2), reproducibly.
//
// # Sources
//
// A Source lists, per task, the images that patches are cut from. Two are
// provided:
//
//   - Paired reads precomputed data: the reference folder layout (root/GT
//     and one LQ folder per task named sr, blur, noise, jpeg, rain, haze,
//     dark, with identical file names; optionally with a suffix such as
//     _sub300) or the reference's meta files (MiO-meta-DF2K_300_*.txt, one
//     LQ path per line, GT path by the reference's folder rule).
//   - Clean degrades clean images on the fly with a degrade.Preset and a
//     seed, so no LQ data (120 GB for the reference) has to be stored.
//     Decoded images are cached in memory up to a byte bound; each patch is
//     degraded from a small window around it, which reproduces the
//     whole-image degradation exactly for dark, blur, JPEG and (images whose
//     sides are multiples of 4) SR, and in distribution for noise, rain and
//     haze; Clean's documentation lists what each operator sees.
//
// # Loader
//
// A Loader draws batches from a Source with worker goroutines that prepare
// the next iterations ahead of the training step. Batch k is a pure function
// of (seed, k, active task set, source): the number of workers, the
// prefetching and timing do not change it, so a run resumed at iteration k
// sees exactly the data of an uninterrupted one. Each sample picks a task
// uniformly among the active ones, an image, a random Patch x Patch crop
// (128 by default) and BasicSR's three coin flips (horizontal flip, vertical
// flip, transpose, in that order, the same for LQ and GT). Batch.Tasks gives
// each sample's task; Batch.PromptIndices its explicit-prompt row and
// classifier label. The EP maps belong to the model (they are stored in its
// checkpoint); the AP prompt is the LQ patch itself.
//
// For the classifier, LoaderOptions.LQOnly with Patch 256 gives LQ-only
// batches whose labels are PromptIndices (ClassifierOptions).
//
// Images unreadable at sampling time are reported once (LoaderOptions.OnSkip)
// and redrawn deterministically; empty folders, missing or mismatched pairs
// and images smaller than the patch are errors (ErrEmpty, ErrMismatch,
// ErrTooSmall).
//
// # Validation
//
// Pairs pairs a GT and an LQ folder by file name, cropping the GT top-left to
// the LQ size like BasicSR's PairedImageDataset; DegradedPairs and TaskPairs
// build fixed per-task validation sets from a clean folder with a preset and
// a seed.
//
// # CPU budget and throughput
//
// The loader shares the cores with libtorch's threads (architecture rule
// 10). Measured on the 2-core development machine (shared, load average
// about 15, so absolute times are inflated; ratios are what matter):
//
//   - BenchmarkLoader, 4 x 128 x 128 from Clean with all seven tasks, one
//     worker: 68-140 batches/s from cached 512x384 images (7-15 ms a
//     batch); 26-44 batches/s from 300x300 sub-images read from disk with no
//     cache (23-38 ms); 0.85-1 batches/s from 2040x1352 PNGs read with no cache
//     (1-1.2 s: Go's PNG decoder takes 0.3-0.5 s per 2K photo). Train on
//     sub-images (Subimages, the reference's gen_sub.py layout) unless the
//     whole data set fits the cache.
//   - An SRResNet-EP forward and backward at 4 x 128 x 128 took 22.8 s alone,
//     24.8 s (+9 %) with one loader worker kept busy all the time (it made
//     18.8 batches/s meanwhile, hundreds of times what the step consumes)
//     and 49 s with two busy workers. In training the worker idles once the
//     Prefetch batches are ready, so its cost is a few per cent of one core.
//
// Hence DefaultWorkers: one worker per four cores, at least one. A second
// worker on two cores only slows both the loader and the step.
//
// # Zero and negative settings
//
// The zero value of every setting is the reference's (or the library's)
// default, so a zero or nil configuration reproduces the paper; a setting
// that can also be switched off takes a negative number for "off", as
// net.Dialer.KeepAlive does, rather than a second field that could
// contradict the first. The fields' docs say which ones.
package data
