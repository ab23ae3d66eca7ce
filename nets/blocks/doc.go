// Package blocks holds the backbone-family building blocks of gomioir's
// networks, built from the generic layers of nets/layers: Swin Transformer
// window attention and blocks (SwinIR's RSTB parts), Restormer's MDTA, GDFN
// and transformer block, Uformer's LeWin block and its projections,
// PromptIR's prompt generation block, and the shifted-window geometry they
// share (WindowPartition, WindowReverse, MaskCache).
//
// Every block is a layers.Module with PyTorch's state_dict names, so the
// functions of nets/layers (Params, StateDict, LoadStateDict, Close, To,
// SetRequiresGrad) work on it, and it follows the conventions stated in the
// nets/layers package documentation: initialisation from a seeded
// *torch.Generator (nil: zeros, for loading), the bias words (NoBias and
// NoQKVBias where the reference has a bias by default, Bias where it has
// none), and forward passes whose intermediates go to the input's scope.
//
// Block configurations (SwinBlockConfig, LeWinBlockConfig,
// TransformerBlockConfig, PromptGenConfig) describe a block's required
// sizes and are passed by value; their zero fields take the reference's
// defaults.
package blocks

import "fmt"

func initErr(block string, err error) error {
	return fmt.Errorf("blocks: new %s: %w", block, err)
}
