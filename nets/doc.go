// Package nets holds the restoration backbones SRResNet, SwinIR, Restormer,
// Uformer and PromptIR, the contract between a backbone and prompt learning,
// and the registry of what the library knows about each backbone.
//
// A Backbone is a layers.Module (its tensors carry the reference's
// state_dict names, so the authors' checkpoints load strictly) with a
// forward pass, which puts its intermediates in the scope of its input, and
// modulation points. nets knows nothing about prompts: at each point the
// forward pass calls hook(point, feature) and continues with the returned
// feature (a nil Hook gives the plain network); Modulation describes the
// points (channels, layout, prompt extractor, the reference's FC keys) so
// that package prompt can modulate any backbone, a user's too. PromptIR has
// none; SRResNetConfig.Prompted selects the SRResNet_EP/AP key names.
//
// # One value per backbone
//
// Each backbone file registers an Arch in its init function: its
// configuration type (Config: ArchName, New, Pad), the inference of its
// configuration from a reference checkpoint's keys (Infer) and its reference
// training Recipe (Adam or AdamW, weight decay, schedule floor, period,
// sequential order, cycles). mioir's New, Load, Import and Trainer and the
// example programs read everything from the registry (Lookup, Archs, Infer),
// so a sixth backbone is one new file that calls Register, plus blocks in
// nets/blocks if it needs new ones: see Example (SixthBackbone). Register
// takes the configuration's zero value rather than a constructor, so that
// the name, the type JSON decodes into and the build function cannot
// disagree; a configuration of another type than the registered one is
// refused. Pad is the reference's test-time padding, which mioir's Restore
// applies (SwinIR the window, Restormer and PromptIR 64, Uformer 128 then a
// square); Forward itself pads only as far as the network needs.
//
// # Configuration fields
//
// Every field's zero value is the paper's setting, so a zero configuration
// is the paper configuration and JSON files list only departures from it.
// Booleans are named after the departure: NoBias, NoQKVBias where the
// reference has the part, Bias where it has not.
//
// Subpackage keys, the view of a checkpoint's names and shapes that Infer
// functions read, is generic and lives apart from the backbones.
package nets
