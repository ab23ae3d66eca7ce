package pretrained

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/png"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
)

// weights is the default model in the native format (mioir.Read reads it).
//
//go:embed default.safetensors
var weights []byte

// DefaultName is the default model's name for mioir.Open, which knows it
// once this package is linked in.
const DefaultName = mioir.BundledPrefix + "default"

func init() {
	if err := mioir.RegisterBundled("default", func() ([]byte, error) { return weights, nil }); err != nil {
		panic(err)
	}
}

// Default returns a fresh copy of the default model: SRResNet-EP with 48
// features and 12 blocks, its explicit-prompt maps and a task classifier, so
// that Restore with Options.Auto picks the task by itself (the package
// documentation says what it does well and badly). The caller owns the
// model and closes it.
func Default() (*mioir.Model, error) {
	m, err := mioir.Read(bytes.NewReader(weights))
	if err != nil {
		return nil, fmt.Errorf("pretrained: %w", err)
	}
	return m, nil
}

var (
	//go:embed sample/degraded.png
	sampleDegraded []byte
	//go:embed sample/clean.png
	sampleClean []byte
)

// SampleTask is the degradation of the bundled sample image.
const SampleTask = degrade.Rain

// SampleName describes the bundled sample.
const SampleName = "coffee.png (scikit-image, CC0) centre crop, rain from the In-Dis preset"

// Sample returns the bundled degraded sample image and its clean original (a
// crop of a photo the default model never saw in training), for trying the
// model and measuring its PSNR gain.
func Sample() (degraded, clean image.Image, err error) {
	if degraded, err = png.Decode(bytes.NewReader(sampleDegraded)); err != nil {
		return nil, nil, fmt.Errorf("pretrained: sample: %w", err)
	}
	if clean, err = png.Decode(bytes.NewReader(sampleClean)); err != nil {
		return nil, nil, fmt.Errorf("pretrained: sample: %w", err)
	}
	return degraded, clean, nil
}
