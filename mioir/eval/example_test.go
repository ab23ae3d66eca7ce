package eval_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/metrics"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/eval"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/prompt"
)

// ExampleEvaluate measures a small AP model on clean images degraded on the
// fly (the In-Dis and Out-Dis noise and JPEG sets, seed 1) and prints the
// paper-style table; gains are over the degraded input.
func ExampleEvaluate() {
	dir, err := os.MkdirTemp("", "eval")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	img := image.NewNRGBA(image.Rect(0, 0, 48, 48))
	for y := range 48 {
		for x := range 48 {
			img.SetNRGBA(x, y, color.NRGBA{uint8(5 * x), uint8(5 * y), uint8(128 + x - y), 255})
		}
	}
	f, err := os.Create(filepath.Join(dir, "ramp.png"))
	if err != nil {
		panic(err)
	}
	png.Encode(f, img)
	f.Close()

	sets, err := eval.CleanTestSets(dir, 1, []degrade.Task{degrade.Noise, degrade.JPEG})
	if err != nil {
		panic(err)
	}
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 1}, Prompt: prompt.Adaptive}, 1)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	rep, err := eval.Evaluate(context.Background(), m, sets, nil)
	if err != nil {
		panic(err)
	}
	for _, s := range rep.Table.Sets() {
		fmt.Println(s.Group, s.Name, len(rep.ImagesOf(rep.Model, s.Name)))
	}
	fmt.Println(rep.Table.Models(), "gains over", rep.Table.Baseline)
	_, ok := rep.Table.Gain(rep.Model, metrics.OutDis)
	fmt.Println("Out-Dis gain defined:", ok)
	// Printing rep.Table.Markdown() gives the table itself.

	// Output:
	// In-Dis noise 1
	// In-Dis jpeg 1
	// Out-Dis noise_outbig 1
	// Out-Dis jpeg_outbig 1
	// [Degraded input SRResNet_AP] gains over Degraded input
	// Out-Dis gain defined: true
}
