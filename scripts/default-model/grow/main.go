// Command grow deepens a trained SRResNet model without changing what it
// computes: it appends residual blocks whose second convolution and prompt
// FC pairs are zero, so each new block and its modulation point are exact
// identities until fine-tuning moves them. The first convolution of each new
// block keeps its seeded BasicSR initialisation (Kaiming x0.1), so the
// gradients of the zero tensors are not zero.
//
// Deepening lets a fine-tuning start from everything the smaller network
// learned while the receptive field grows (4 pixels per block), which wide
// rain streaks need; training the deeper network from scratch would restart
// the curriculum. grow checks the claim: the deeper model's output must equal
// the original's, bit for bit, on a random image for every task prompt.
//
//	go run ./scripts/default-model/grow -in model.safetensors -blocks 12 -out deeper.safetensors
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "grow:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("grow", flag.ContinueOnError)
	in := fs.String("in", "", "trained SRResNet model (native)")
	out := fs.String("out", "", "deeper model to write")
	blocks := fs.Int("blocks", 0, "residual blocks of the deeper model")
	seed := fs.Uint64("seed", 1, "seed of the new blocks' first convolutions")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return errors.New("-in and -out are required")
	}
	old, err := mioir.Load(*in)
	if err != nil {
		return err
	}
	defer old.Close()
	cfg := old.Config()
	sc, ok := cfg.Net.(nets.SRResNetConfig)
	if !ok {
		return fmt.Errorf("%s holds a %s; grow deepens SRResNet models only", *in, cfg.Name())
	}
	if *blocks <= sc.Blocks {
		return fmt.Errorf("-blocks %d must exceed the model's %d blocks", *blocks, sc.Blocks)
	}
	oldBlocks := sc.Blocks
	sc.Blocks = *blocks
	cfg.Net = sc
	m, err := mioir.New(cfg, *seed)
	if err != nil {
		return err
	}
	defer m.Close()
	copied, zeroed, err := copyAndZero(old, m, oldBlocks)
	if err != nil {
		return err
	}
	if err := sameOutput(old, m); err != nil {
		return err
	}
	if err := m.Save(*out); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d -> %d blocks, %d tensors copied, %d zeroed, %d parameters\n",
		*out, oldBlocks, *blocks, copied, zeroed, m.NumParams())
	return nil
}

// identityParts matches the tensors whose zeros make a new block, and its
// modulation point, the identity: the block's second convolution and the
// scale and shift FCs after it.
var identityParts = regexp.MustCompile(`^(?:body\.(\d+)\.conv2\.|prompt_(?:scale|shift)(\d+)\.)`)

// copyAndZero copies every tensor of old (backbone, prompt modules, maps,
// classifier) into m by name, zeroes identityParts of the blocks past
// oldBlocks and refuses any other tensor that old lacks.
func copyAndZero(old, m *mioir.Model, oldBlocks int) (copied, zeroed int, err error) {
	src := map[string]*torch.Tensor{}
	old.Visit(layers.NewVisitor(func(p layers.Param) { src[p.Name] = *p.Ref }))
	var ps []layers.Param
	m.Visit(layers.NewVisitor(func(p layers.Param) { ps = append(ps, p) }))
	for _, p := range ps {
		if t, ok := src[p.Name]; ok {
			if err := (*p.Ref).CopyFrom(t); err != nil {
				return copied, zeroed, fmt.Errorf("%s: %w", p.Name, err)
			}
			copied++
			continue
		}
		g := identityParts.FindStringSubmatch(p.Name)
		if g == nil {
			if newConv1.MatchString(p.Name) {
				continue
			}
			return copied, zeroed, fmt.Errorf("%s is not in the model and is not part of a new block", p.Name)
		}
		block, _ := strconv.Atoi(g[1] + g[2])
		if g[1] != "" {
			block++ // body.N counts from 0, modulation points from 1
		}
		if block <= oldBlocks {
			return copied, zeroed, fmt.Errorf("%s of an existing block is not in the model", p.Name)
		}
		z := torch.ZerosLike(*p.Ref)
		err := (*p.Ref).CopyFrom(z)
		z.Close()
		if err != nil {
			return copied, zeroed, fmt.Errorf("%s: %w", p.Name, err)
		}
		zeroed++
	}
	if copied != len(src) {
		return copied, zeroed, fmt.Errorf("copied %d of the model's %d tensors", copied, len(src))
	}
	return copied, zeroed, nil
}

var newConv1 = regexp.MustCompile(`^body\.\d+\.conv1\.`)

// sameOutput runs both models on one random 64x64 image with every task's
// prompt and requires identical outputs.
func sameOutput(a, b *mioir.Model) error {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	pix := make([]float32, 3*64*64)
	for i := range pix {
		pix[i] = rng.Float32()
	}
	x, err := torch.FromSlice(s, pix, 1, 3, 64, 64)
	if err != nil {
		return err
	}
	run := func(m *mioir.Model, task degrade.Task) ([]float32, error) {
		p, err := m.TaskPrompt(s, task)
		if err != nil {
			return nil, err
		}
		y, err := m.Forward(x, p)
		if err != nil {
			return nil, err
		}
		h, err := torch.ToHost(y)
		if err != nil {
			return nil, err
		}
		return h.Float32s()
	}
	for _, task := range degrade.AllTasks() {
		ya, err := run(a, task)
		if err != nil {
			return err
		}
		yb, err := run(b, task)
		if err != nil {
			return err
		}
		if !slices.Equal(ya, yb) {
			return fmt.Errorf("task %s: the deeper model's output differs; its new blocks are not identities", task.Name())
		}
	}
	return nil
}
