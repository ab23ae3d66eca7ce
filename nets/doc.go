// Package nets holds gomioir's restoration backbones, SRResNet, SwinIR,
// Restormer, Uformer and PromptIR, and the contract between a backbone and
// prompt learning.
//
// A backbone is a layers.Module (its tensors carry the reference's
// state_dict names, so the authors' checkpoints load strictly) with a forward
// pass and a list of modulation points:
//
//	type Backbone interface {
//		layers.Module
//		Forward(x *torch.Tensor, hook Hook) *torch.Tensor
//		Modulation() Modulation
//		Close()
//	}
//
// nets knows nothing about prompts. At each modulation point the forward
// pass calls hook(point, feature) and continues with the returned feature;
// a nil Hook gives the plain network. Modulation describes the points (name,
// channel count, layout, which prompt extractor feeds it, and the
// state_dict prefixes of the reference's FC pair), so that package prompt can
// build the extractors and FC pairs for any backbone, including one written
// by a user on nets/layers and nets/blocks.
//
// SRResNet's zero config is the paper's (64 features, 16 blocks, upscale 1);
// SRResNetConfig.Prompted selects the naming and initialisation of the
// reference's SRResNet_EP / SRResNet_AP classes (body1..body16 instead of
// body.0..body.15), the computation being the same. SwinIR, Restormer and
// Uformer have the same keys with or without prompts: their EP and AP
// variants are the backbone plus package prompt's Modulator. PromptIR has no
// modulation points, as in the reference.
//
// Each backbone reports the test-time padding of the reference through
// PadMultiple (SwinIR: the window, 8; Restormer and PromptIR: 64; Uformer:
// 128, then a square), which mioir's Restore applies; Forward itself pads only
// as far as the network needs to run.
//
// Forward passes put every intermediate in the scope of their input: run them
// on a tensor that belongs to a torch.Scope, ideally a torch.Inference one
// for restoration.
package nets
