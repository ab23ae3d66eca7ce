// Package prompt implements MiOIR's prompt learning for any backbone of
// package nets: explicit prompts (EP, per-task maps), adaptive prompts (AP,
// the degraded input itself), the prompt extractor F_ext, the FC modulation
// pairs, and the task classifier that picks the EP map at test time.
//
// # Modulation
//
// A backbone lists its modulation points (nets.Modulation). NewModulator
// builds, for them, one Extractor per extractor slot and one (scale, shift)
// Linear(64, C) pair per point, named as in the reference checkpoints
// (F_ext_net.conv1.weight, prompt_scale1.weight, ...). For one forward pass,
// Modulator.Hook(p) computes the 64-d prompt vectors of p and returns the
// nets.Hook that turns each feature f into f*(1+s)+b (the reference writes
// f*s + b + f; one pass fewer over the feature, same values to rounding) with
// s, b broadcast per channel over space (or over tokens):
//
//	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
//		x := s.Use(img)                                  // (1, 3, H, W)
//		return net.Forward(x, mod.Hook(x))               // AP: the prompt is the input
//	})
//
// For EP, the prompt is Maps.Prompt(s, dev, task): the task's 1x128x128 map
// (the reference's data/type7.npy, read by LoadMaps, or NewMaps for models
// trained here), batched as (N, 1, 128, 128).
//
// # Classifier
//
// Classifier is the reference's CondNet classifier (188,551 parameters).
// Classify returns the softmax probabilities of each image and the task the
// reference's EP test code selects: among the classes that reach the maximum,
// the first in the order rain, haze, blur, noise, jpeg, dark, sr (Priority,
// SelectIndex). Column i of the probabilities is the task whose
// degrade.Task.PromptIndex is i. Priority is a function returning a copy,
// so that no caller can change the selection of every other; the package
// exports no variables.
//
// All modules are layers.Modules: they load the authors' .pth files strictly
// with layers.LoadStateDict and free their tensors with Close.
package prompt
