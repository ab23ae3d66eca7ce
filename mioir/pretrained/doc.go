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
// The model is SRResNet-EP (48 features, 12 residual blocks, explicit prompts
// with the library's own seeded task maps) plus the reference's task
// classifier: 0.87M parameters in all, 3.9 MB embedded in binaries that
// import this package. It was trained with this library's trainer: on
// eleven freely licensed photos, the paper's sequential curriculum s b n j r
// h d (7,000 iterations, batch 8 of 64x64 patches) of a 6-block network,
// then seven mixed fine-tunings (22,050 iterations) that draw SR, blur, JPEG
// and low light more often and darken clean patches (data.Exposure), the
// last four only the low-light ones, so that the network stops guessing a
// photo's brightness from its texture; then, on 35 photos (those eleven and
// 24 of Debian's wallpaper photos, see NOTICE.md), a mixed fine-tuning of
// 3,000 iterations; finally the network was grown to 12 blocks whose new
// blocks start as identities (scripts/default-model/grow), which widens what
// each output pixel sees from 31 to 55 pixels, and fine-tuned for 3,600
// iterations on 96x96 patches drawing rain most often. The classifier was
// trained with cross-entropy, 13,200 iterations, the last 4,200 with
// darkened patches too. scripts/default-model/train.sh is the recipe (about
// 6 hours on two CPU cores).
//
// What it does on three photos it never saw in training (coffee, rocket, Go's
// video-001), each degraded with the In-Dis preset 20 times (seeds 1-20),
// PSNR gain over the degraded input with the task given: haze +8.2 dB, noise
// +8.3, rain +6.0, low light +3.8, blur +1.0, JPEG +0.4, SR +0.1. Low light
// depends on the scene: the network cannot always tell a dark scene (the
// rocket twilight photo) from a darkened one. On the 128x128 centre crops in
// testdata it improves all seven tasks (low light +10.6 dB, rain +7.5), and
// over 10 draws every task improves every crop. Its classifier picks the
// right task for 77 % of the degraded whole photos and 15 of the 21 crops.
// The held-out photos also guided the choice of these fine-tunings, so the
// figures are somewhat optimistic. It is a demonstration of the pipeline; for
// the paper's quality, import the authors' checkpoints with mioir.Import.
//
// Noise is restored at a strength the model predicts per image (it carries a
// mioir.StrengthModel for noise, fitted on 15 validation photos outside its
// training and outside scripts/autoeval's test sets): the network, blind to
// the noise level, smooths fine texture it never saw along with low noise.
// On the three photos above it gains 0.12 dB more than the network's own
// output (27.10 against 26.98 dB) and gives back 0.05 dB at the Out-Dis
// levels (sigma 50-70); mioir.Options.Strength 1 restores at full strength.
//
// Sample returns a bundled degraded image (a held-out photo with rain) and
// its clean original; examples/restore -sample uses them.
package pretrained
