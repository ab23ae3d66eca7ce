// Package layers holds the generic building blocks of gomioir's backbones,
// written so that users can build their own networks from them: the Module
// and Visitor protocol, state dicts, initialisation, Conv2d,
// ConvTranspose2d, Linear, LayerNorm, Sequential and activations, BasicSR's
// residual block, and Step. The backbone-family blocks built from them (Swin
// window attention, Restormer's MDTA and GDFN, Uformer's LeWin block,
// PromptIR's prompt generation) are in nets/blocks.
//
// # Modules and names
//
// A Module reports its tensors to a Visitor, in PyTorch's state_dict order
// and with PyTorch's dotted names:
//
//	type Block struct {
//		Conv1, Conv2 *layers.Conv2d
//	}
//
//	func (b *Block) Visit(v layers.Visitor) {
//		v.Module("conv1", b.Conv1) // conv1.weight, conv1.bias
//		v.Module("conv2", b.Conv2)
//	}
//
// That single method is all a module writes. The package's functions work on
// any Module: Params (the ordered list of names and tensors, buffers marked),
// Parameters (the trainable tensors for an optimiser), NumParams, StateDict
// (export), LoadStateDict (strict import), Close, SetRequiresGrad, To
// (device moves) and CopyParams. Parameters are registered with Visitor.Param,
// persistent buffers (SwinIR's relative_position_index) with Visitor.Buffer.
// Sequential names its layers by index and gives parameter-free layers (Func:
// activations, padding) an index too, as nn.Sequential does. Group names
// children explicitly, and Modules puts separately built parts (a backbone
// and its prompt modules) side by side in one state dict. A child that is a
// nil pointer must have a Visit that accepts a nil receiver (the layers of
// this package do), so optional parts can simply be left nil.
//
// # Initialisation
//
// Constructors take a seeded *torch.Generator and initialise as PyTorch's
// modules do by default (Conv2d and Linear: weight then bias, uniform in
// +-1/sqrt(fan_in), which is kaiming_uniform_ with a = sqrt(5); LayerNorm:
// ones and zeros). The same seed always gives the same parameters. A nil
// generator skips the draws and leaves zeros, for parameters that are about to
// be loaded. KaimingNormal, TruncNormal, UniformInit and ScaledKaimingInit
// re-initialise tensors the way the reference networks do after construction.
// New parameters do not require a gradient: inference needs none, and
// training code calls SetRequiresGrad(m, true).
//
// # Loading checkpoints
//
// LoadStateDict is strict: every tensor of the module must find its key,
// every key must be used and every shape must match, or a *LoadError lists
// the missing, unexpected and mismatched keys and nothing is copied. Naming
// differences between a module and a reference checkpoint are handled by an
// explicit LoadOptions.Rename supplied by the network, never by loosening the
// check.
//
// # Conventions
//
// Bias. A layer has a bias exactly when the reference layer has one by
// default, and the word that changes it names the departure, so that a zero
// value (or false) is always the reference's default: NoBias for an
// exported option field and noBias for a parameter where PyTorch's default
// has a bias (ConvConfig.NoBias, NewLinear, NewLayerNorm; NoQKVBias and
// noQKVBias for Swin and Uformer attention in nets/blocks), Bias and bias
// where the reference has none (Restormer's convolutions in nets/blocks).
//
// Options. An option struct whose fields are all optional (ConvConfig,
// LoadOptions) is passed by pointer, nil meaning every default. A block
// configuration that carries required sizes (nets/blocks.SwinBlockConfig
// and its kind) is passed by value.
//
// The package has no exported variables.
//
// # Forward passes and memory
//
// Forward methods build their result from libtorch operations; every
// intermediate goes to the scope of the input (see nets/torch), so call
// them on an input that belongs to a torch.Scope (torch.Run) and keep only
// the result. Parameters belong to their module and are freed by Close.
package layers
