// Package external holds only a test, which checks that a program outside
// the gomioir module gets the whole method from the public packages alone.
//
// The program is the module example.com/unet in examples/testdata/unet (its
// own go.mod, which replaces gomioir by this checkout; under testdata, so
// this module's ./... ignores it). It writes a small U-Net backbone (skips
// by concatenation, strided-convolution and max-pool down, transposed
// convolution and bilinear up, reflect padding, a Restormer attention
// block, two modulation points) on nets/torch, nets/layers and nets/blocks,
// registers it with nets.Register and a recipe, trains it with explicit
// prompts along a two-stage sequential curriculum on clean images degraded
// on the fly (mioir/data, mioir/train), saves and loads it (mioir.Save,
// mioir.Load) and restores an image (Model.Restore).
//
// TestExternalUNet builds and runs it offline (go run with GOPROXY=off and
// GOWORK=off) and checks the figures it prints: every iteration of the plan
// trained, finite positive losses that went down, the restored image closer
// to its clean original than the degraded input by at least 1 dB, and the
// loaded model's output equal to the trained model's, bit for bit. It is
// skipped under -short.
package external
