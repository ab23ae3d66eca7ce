// Package gomioir is a Go library for multiple-in-one image restoration: one
// network that removes seven degradations (x4 super-resolution, blur, noise,
// JPEG artifacts, rain, haze, low light). It implements "Towards Effective
// Multiple-in-One Image Restoration: A Sequential and Prompt Learning
// Strategy" (Kong, Dong, Zhang, 2024) on libtorch, in Go.
//
// The root package holds only this overview. The work is done by packages
// that Go programs combine into their own pipelines; imports only point down
// the list:
//
//	examples/...   runnable programs (restore, degrade, train, evaluate, torchinfo)
//	mioir          Model (backbone + prompt + classifier), Restore with padding
//	               and tiling, Trainer, Evaluate, checkpoints
//	prompt         explicit prompts (per-task maps), adaptive prompts (the input
//	               image), the prompt extractor, FC modulation, task classifier
//	nets           backbones SRResNet, SwinIR, Restormer, Uformer, PromptIR
//	nets/layers    generic building blocks (modules, state dicts, conv, linear, ...)
//	nets/blocks    backbone-family blocks (Swin, MDTA/GDFN, LeWin, PromptIR), for
//	               users' own backbones too
//	curriculum     mixed and sequential plans, cosine-restart learning rates
//	degrade        the seven degradation operators and their presets (pure Go)
//	metrics        PSNR and SSIM with BasicSR's conventions, result tables
//	               (pure Go)
//	nets/torch the cgo binding over libtorch: tensors, ops, autograd,
//	               optimisers, devices
//	internal/...   file formats (.pth, safetensors, .npy), atomic writes
//
// degrade, metrics and curriculum need no cgo and no libtorch. The rest links
// Debian's libtorch-dev by default (bookworm's 1.13.1 or trixie's 2.6.0), or
// another libtorch 2.x (a CUDA build) chosen with CGO_CXXFLAGS and
// CGO_LDFLAGS; see README.md.
package gomioir
