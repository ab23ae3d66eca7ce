// Package mioir is the entry point of gomioir: a restoration Model (a
// backbone, an optional prompt, an optional task classifier), its
// checkpoints, and Restore, which turns a degraded image into a restored one
// as the reference MiOIR test procedure does.
//
// # Models
//
// A Config names a registered backbone ("SRResNet", "SwinIR", "Restormer",
// "Uformer", "PromptIR"), gives its own configuration struct
// (nets.SRResNetConfig, nets.SwinIRConfig, ...; the zero value is the
// paper's), a prompt kind (prompt.None, prompt.Explicit for EP,
// prompt.Adaptive for AP) and whether a task classifier is attached:
//
//	m, err := mioir.New(mioir.Config{Arch: "SwinIR", Prompt: prompt.Adaptive}, seed)
//
// The authors' released .pth checkpoints import strictly (every key used,
// every shape equal; errors name the offending keys), with the architecture
// inferred from the keys and shapes (InferConfig shows what was inferred):
//
//	m, err := mioir.Import("SwinIR_M_EP.pth", &mioir.ImportOptions{
//		Maps:       "type7.npy",      // the reference's explicit prompts
//		Classifier: "Classifier.pth", // picks the task automatically
//	})
//
// "params" is loaded; "params_ema" only when ImportOptions.EMA asks for it.
// Save writes the native format, a safetensors file whose metadata holds the
// Config, so Load(path) needs no other argument; explicit-prompt maps and
// the classifier are stored in it.
//
// Open is the one door for all of them: it tells a native model from an
// authors' checkpoint by content, and opens a model compiled into the
// program by name (BundledPrefix; pretrained.DefaultName once package
// mioir/pretrained is imported, which registers it as image/png registers
// its format):
//
//	m, err := mioir.Open(path, nil) // native, .pth, or "bundled:default"
//
// # Restoring
//
// Restore takes an image.Image and returns the restored *image.NRGBA (8-bit,
// BasicSR's rounding) and an Info. The task of an EP model comes from
// Options.Task, or from the classifier run on the full unpadded image
// (Info.Task, Info.Probs, Info.Auto); AP models use the input itself as the
// prompt; plain models ignore the task. Inputs are padded as the reference
// does for the backbone (nets.Config.Pad: SRResNet none, SwinIR reflect to a
// multiple of the window, Restormer and PromptIR to 64, Uformer to 128 then
// symmetrically to a square) and the output is cropped back. The model's
// device is set with Model.To (e.g. torch.CUDA(0)); inputs are moved to it. Options.Tile
// restores in overlapping tiles blended with linear ramps, so memory stays
// bounded; the prompt vectors come from the whole image, so tiles are
// modulated as the whole image is. On errors.Is(err, torch.ErrOutOfMemory) Restore
// starts again with tiles of half the size, down to Options.MinTile. Restore
// takes a context and stops between tiles once it is done;
// Options.Progress counts the tiles (a backoff restarts the count with the
// new total). Every tensor lives in an inference scope and is freed before
// Restore returns, cancelled or not.
// A Model is safe for concurrent use: parameters are only read during
// inference.
//
// With Options.Auto the classifier's choice goes through a Guard
// (Options.Guard; nil is DefaultGuard). It measures physical traces of a
// degradation that do not depend on the program that made it (the noise
// level, the JPEG grid, an x4 upscale's period and how well the image fits
// one, a tone curve's comb in the histogram, the dark channel, rain
// streaks; and how much a blur still changes the image, which only refuses
// blur). A TraceModel, a small logistic regression over the others, fitted
// on the bundled model's training photos, chooses first where it is sure;
// otherwise a clear trace chooses the task outright, and the classifier's
// risky choices must pass checks of their own. Info.Fallback says what the
// guard changed and why. MeasureTraces returns every one of those
// measurements, FitTraceModel fits a trace model to one's own, for a
// policy of one's own, and Guard.Decide replays a guard's decision from
// recorded measurements alone, without the model or the image.
//
// Options.Strength keeps a share of the network's change: input +
// Strength*(output - input). A model may carry a StrengthModel per task
// (Model.SetStrength; Save stores it), which predicts that share for each
// image from global statistics of the input and the output; Restore applies
// it unless Options.Strength is set (1: the network's output as it is).
// The bundled model has one for noise, where a blind denoiser trained on a
// few photos smooths texture it never saw together with the noise.
//
// Forward runs the network alone on a float tensor (no padding, no tiling,
// no 8-bit conversion); the parity tests compare it with the reference.
//
// # Tensors and backbones
//
// Tensors, scopes, devices and generators are package nets/torch's, the
// public tensor API. The backbones, and what is known about each (its
// configuration type, test-time padding, checkpoint-key inference and
// reference training recipe), are registered in package nets: this package
// reads them from there, so a backbone of one's own, written on nets/layers
// and registered with nets.Register, is used like the built-in ones (see
// the ownBackbone example). Only the prompt kind is inferred here, for every
// backbone, from its prompt extractors (F_ext_net*.conv1.weight: 1 input
// channel for EP, 3 for AP).
//
// # Zero and negative settings
//
// The zero value of every setting is the reference's (or the library's)
// default, so a zero or nil configuration reproduces the paper; a setting
// that can also be switched off takes a negative number for "off", as
// net.Dialer.KeepAlive does, rather than a second field that could
// contradict the first. The fields' docs say which ones.
package mioir
