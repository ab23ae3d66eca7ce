package mioir_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"path/filepath"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(4 * x), uint8(4 * y), 128, 255})
		}
	}
	return img
}

// A seeded explicit-prompt SwinIR restores an image for a given task, in
// one pass and in overlapping tiles (counted by Progress; cancelling ctx
// would stop between them), then goes through the native format.
func Example() {
	cfg := mioir.Config{
		Arch:   "SwinIR",
		Net:    nets.SwinIRConfig{EmbedDim: 12, Depths: []int{2}, Heads: []int64{3}, ImgSize: 16},
		Prompt: prompt.Explicit,
	}
	m, err := mioir.New(cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	ctx := context.Background()
	img := gradient(45, 30) // padded to 48x32 (window 8), cropped back
	out, info, err := m.Restore(ctx, img, &mioir.Options{Task: degrade.Noise})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Config().Name(), out.Bounds().Dx(), out.Bounds().Dy(), info.Task, info.Tiles)

	done := 0
	progress := func(d, total int) { done = d }
	_, info, err = m.Restore(ctx, img, &mioir.Options{Task: degrade.Noise, Tile: 16, Overlap: 4, Progress: progress})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("tiles:", info.Tiles, "progress:", done)

	path := filepath.Join(os.TempDir(), "mioir-example.safetensors")
	defer os.Remove(path)
	if err := m.Save(path); err != nil {
		fmt.Println(err)
		return
	}
	l, err := mioir.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	again, _, err := l.Restore(ctx, img, &mioir.Options{Task: degrade.Noise})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("reloaded:", l.Config().Name(), string(again.Pix) == string(out.Pix))
	// Output:
	// SwinIR_EP 45 30 noise 1
	// tiles: 15 progress: 15
	// reloaded: SwinIR_EP true
}

// tinyNet is a user-written backbone built from nets/layers: two
// convolutions with a global skip and one modulation point.
type tinyNet struct {
	Conv1, Conv2 *layers.Conv2d
}

func (n *tinyNet) Visit(v layers.Visitor) {
	v.Module("conv1", n.Conv1)
	v.Module("conv2", n.Conv2)
}

func (n *tinyNet) Modulation() nets.Modulation {
	return nets.Modulation{Extractors: []string{"F_ext_net"}, Points: []nets.ModulationPoint{
		{Name: "mid", Channels: 8, ScaleKey: "prompt_scale_mid", ShiftKey: "prompt_shift_mid"},
	}}
}

func (n *tinyNet) Forward(x *torch.Tensor, hook nets.Hook) *torch.Tensor {
	f := hook.Apply("mid", n.Conv1.Forward(x).ReLU())
	return n.Conv2.Forward(f).Add(x)
}

func (n *tinyNet) Close() { layers.Close(n) }

// tinyConfig configures tinyNet: the nets.Config that registers it.
type tinyConfig struct{}

func (tinyConfig) ArchName() string { return "Tiny" }

func (tinyConfig) New(g *torch.Generator) (nets.Backbone, error) {
	c1, err := layers.NewConv2d(g, 3, 8, 3, &layers.ConvConfig{Padding: 1})
	if err != nil {
		return nil, err
	}
	c2, err := layers.NewConv2d(g, 8, 3, 3, &layers.ConvConfig{Padding: 1})
	if err != nil {
		c1.Close()
		return nil, err
	}
	return &tinyNet{Conv1: c1, Conv2: c2}, nil
}

func (tinyConfig) Pad() nets.PadRule { return nets.PadRule{Multiple: 4} }

// A backbone of one's own is one nets.Register call; it then gets prompts,
// checkpoints, Restore and the Trainer like the built-in ones, without
// internal imports.
func Example_ownBackbone() {
	if err := nets.Register(nets.Arch{Config: tinyConfig{}}); err != nil {
		fmt.Println(err)
		return
	}
	m, err := mioir.New(mioir.Config{Arch: "Tiny", Prompt: prompt.Adaptive}, 7)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	out, _, err := m.Restore(context.Background(), gradient(10, 9), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Config().Name(), m.NumParams(), out.Bounds().Size())
	// Output:
	// Tiny_AP 84811 (10,9)
}

// readCoffee reads the held-out coffee photo the examples degrade.
func readCoffee() (*degrade.Image, error) {
	f, err := os.Open("pretrained/testdata/heldout/coffee.png")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, err
	}
	return degrade.FromImage(img), nil
}

// measureImage measures m's traces as the guard would.
func measureImage(m *degrade.Image) (*mioir.Traces, error) {
	x, err := torch.FromSlice(nil, m.CHW(), 1, 3, int64(m.H), int64(m.W))
	if err != nil {
		return nil, err
	}
	defer x.Close()
	return mioir.MeasureTraces(x)
}

// MeasureTraces gives every measurement auto mode's guard decides on: here
// a photo darkened by a tone curve shows the curve's comb in its histogram.
func ExampleMeasureTraces() {
	clean, err := readCoffee()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, gamma := range []float64{1, 2.2} {
		m, err := degrade.LowLightGamma(clean, gamma)
		if err != nil {
			fmt.Println(err)
			return
		}
		x, err := torch.FromSlice(nil, m.CHW(), 1, 3, int64(m.H), int64(m.W))
		if err != nil {
			fmt.Println(err)
			return
		}
		tr, err := mioir.MeasureTraces(x)
		x.Close()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("gamma %.1f: brightness %.2f, tone-curve comb %.2f\n", gamma, tr.MeanBrightness, tr.ToneCurveComb)
	}
	// Output:
	// gamma 1.0: brightness 0.64, tone-curve comb 0.25
	// gamma 2.2: brightness 0.49, tone-curve comb 0.89
}

// The default trace model reads a degraded photo's traces and names the
// degradation, whatever program made it and whatever the model.
func ExampleTraceModel() {
	clean, err := readCoffee()
	if err != nil {
		fmt.Println(err)
		return
	}
	hazy, err := degrade.AddHaze(clean, nil, 0.9, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	noisy, err := degrade.GaussianNoise(clean, 25, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	tm := mioir.DefaultTraceModel()
	for _, m := range []*degrade.Image{hazy, noisy} {
		tr, err := measureImage(m)
		if err != nil {
			fmt.Println(err)
			return
		}
		t, p, err := tm.Choose(tr)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %.2f\n", t, p)
	}
	// Output:
	// haze 0.89
	// noise 0.99
}
