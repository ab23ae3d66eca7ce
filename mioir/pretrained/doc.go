// Package pretrained ships a small default MiOIR model with the library, so
// that a program can restore images without downloading or training
// anything:
//
//	m, err := pretrained.Default()
//	if err != nil { ... }
//	defer m.Close()
//	out, info, err := m.Restore(img, &mioir.Options{Auto: true})
//	// info.Task is the degradation the classifier detected.
//
// The model is SRResNet-EP (48 features, 6 residual blocks, explicit prompts
// with the library's own seeded task maps) plus the reference's task
// classifier: 0.58M parameters in all, 2.8 MB embedded in binaries that
// import this package. It was trained with this library's trainer on eleven
// freely licensed photos (see NOTICE.md for the photos and their licences):
// the paper's sequential curriculum s b n j r h d (7,000 iterations, batch 8
// of 64x64 patches), then a mixed fine-tuning of 2,100 iterations on 80x80
// patches at lr 1e-4; the classifier with cross-entropy, 9,000 iterations.
// scripts/default-model/train.sh is the recipe (about 1.5 hours on two CPU
// cores).
//
// What it does on three photos it never saw (coffee, rocket, Go's
// video-001), In-Dis degradations, seed 1, PSNR gain over the degraded input
// with the task given: noise +7.9 dB, haze +7.4, rain +2.0, SR +0.04; blur
// -0.13, JPEG -0.57 and low light -5.0 dB (it brightens a naturally dark
// night photo that was barely darkened). Its classifier picks the right task
// for 13 of the 21 held-out crops in testdata; it takes naturally dark photos
// for low light and mixes up SR, blur and JPEG. So it is a demonstration of
// the pipeline, good at noise, haze and rain; for the paper's quality,
// import the authors' checkpoints with mioir.Import.
//
// Sample returns a bundled degraded image (a held-out photo with rain) and
// its clean original; examples/restore -sample uses them.
package pretrained
