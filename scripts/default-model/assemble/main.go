// Command assemble builds the files of package mioir/pretrained from a
// training run: the model (EMA weights, explicit-prompt maps and the task
// classifier in one native file), the bundled sample (a crop of a held-out
// photo and its degraded version) and the held-out crops the package's tests
// measure. scripts/default-model/train.sh runs it; see that script.
//
//	go run ./scripts/default-model/assemble -model net_g_ema_latest.safetensors
//		-classifier classifier.safetensors -heldout DIR -dst mioir/pretrained
package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/mioir"
	_ "image/jpeg"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "assemble:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("assemble", flag.ContinueOnError)
	model := fs.String("model", "", "trained model (native, EP)")
	classifier := fs.String("classifier", "", "trained classifier (native)")
	heldout := fs.String("heldout", "", "folder of held-out clean photos")
	dst := fs.String("dst", "mioir/pretrained", "package folder to write")
	sample := fs.String("sample", "coffee.png", "held-out photo the sample is cut from")
	sampleSide := fs.Int("sample-side", 256, "side of the sample crop")
	cropSide := fs.Int("crop", 128, "side of the held-out test crops")
	seed := fs.Uint64("seed", 1, "seed of the sample's degradation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" || *classifier == "" || *heldout == "" {
		return errors.New("-model, -classifier and -heldout are required")
	}
	m, err := mioir.Load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	c, err := mioir.LoadClassifier(*classifier)
	if err != nil {
		return err
	}
	if err := m.SetClassifier(c); err != nil {
		c.Close()
		return err
	}
	out := filepath.Join(*dst, "default.safetensors")
	if err := m.Save(out); err != nil {
		return err
	}
	fmt.Println("wrote", out, m.Config().Name(), m.NumParams(), "parameters")

	entries, err := os.ReadDir(*heldout)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !slices.Contains([]string{".png", ".jpg", ".jpeg"}, strings.ToLower(filepath.Ext(name))) {
			continue
		}
		img, err := decodeImage(filepath.Join(*heldout, name))
		if err != nil {
			return err
		}
		crop := centreCrop(img, *cropSide)
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		if err := writePNG(filepath.Join(*dst, "testdata", "heldout", stem+".png"), crop); err != nil {
			return err
		}
		if name != *sample {
			continue
		}
		clean := centreCrop(img, *sampleSide)
		lq, p, err := degrade.NewSampler(degrade.InDis(), *seed).Degrade(degrade.FromImage(clean), degrade.Rain, degrade.Key(name), nil)
		if err != nil {
			return err
		}
		if err := writePNG(filepath.Join(*dst, "sample", "clean.png"), clean); err != nil {
			return err
		}
		if err := writePNG(filepath.Join(*dst, "sample", "degraded.png"), imgconv.NRGBA(lq.Pix, lq.W, lq.H)); err != nil {
			return err
		}
		fmt.Printf("sample from %s: rain %+v\n", name, *p.Rain)
	}
	return nil
}

// centreCrop returns the centre side x side square of img (smaller sides
// are kept), with both sides a multiple of 4 (the x4 SR task needs it).
func centreCrop(img image.Image, side int) *image.NRGBA {
	b := img.Bounds()
	w, h := min(side, b.Dx())/4*4, min(side, b.Dy())/4*4
	x0, y0 := b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			out.Set(x, y, img.At(x0+x, y0+y))
		}
	}
	return out
}

func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// decodeImage opens and decodes the image file at path (PNG or JPEG).
func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: decode: %w", path, err)
	}
	return img, nil
}
