// Package pretrained ships a small default MiOIR model with the library, so
// that a program can restore images without downloading or training
// anything:
//
//	m, err := pretrained.Default()
//	if err != nil { ... }
//	defer m.Close()
//	out, info, err := m.Restore(ctx, img, &mioir.Options{Auto: true})
//	// info.Task is the degradation the classifier detected.
//
// The model is SRResNet-EP (48 features, 6 residual blocks, explicit prompts
// with the library's own seeded task maps) plus the reference's task
// classifier: 0.58M parameters in all, 2.8 MB embedded in binaries that
// import this package. It was trained with this library's trainer on eleven
// freely licensed photos (see NOTICE.md for the photos and their licences):
// the paper's sequential curriculum s b n j r h d (7,000 iterations, batch 8
// of 64x64 patches), then seven mixed fine-tunings (22,050 iterations): the
// later ones draw SR, blur, JPEG and low light more often and darken clean
// patches (data.Exposure), the last four only the low-light ones, so that
// the network stops guessing a photo's brightness from its texture; the
// classifier with cross-entropy, 13,200 iterations, the last 4,200 with
// darkened patches too. scripts/default-model/train.sh is the recipe (about
// 4 hours on two CPU cores).
//
// What it does on three photos it never saw in training (coffee, rocket, Go's
// video-001), each degraded with the In-Dis preset 20 times (seeds 1-20),
// PSNR gain over the degraded input with the task given: noise +7.9 dB, haze
// +7.6, rain +3.6, low light +3.1, blur +1.0, JPEG +0.4, SR +0.2; every task
// gains on every photo on average. Low light depends on the drawn gamma (it
// improves at 15 of the 20 seeds): at seed 1 alone it is -0.25 dB, as the
// rocket twilight photo, darkened only by gamma 1.13, is brightened too much
// (-11.2 dB) while coffee and video-001 gain 7.2 and 3.2 dB; a 6-block
// network sees 29 pixels around each one and cannot tell a dark scene from a
// darkened one. On the 128x128 centre crops in testdata it improves all seven
// tasks (low light +8.0 dB). Its classifier picks the right task for 77 % of
// the degraded whole photos and 15 of the 21 crops.
// The held-out photos also guided the choice of these fine-tunings, so the
// figures are somewhat optimistic. It is a demonstration of the pipeline; for
// the paper's quality, import the authors' checkpoints with mioir.Import.
//
// Sample returns a bundled degraded image (a held-out photo with rain) and
// its clean original; examples/restore -sample uses them.
package pretrained
