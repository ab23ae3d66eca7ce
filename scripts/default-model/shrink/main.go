// Command shrink writes each photo as an 8-bit PNG whose longer side is at
// most -max pixels (Catmull-Rom, which averages over the footprint when
// shrinking): halving a phone photo removes most of its own noise and JPEG
// traces, so it serves as a clean ground truth, and training reads smaller
// files. Photos already small enough are copied pixel for pixel.
//
//	go run ./scripts/default-model/shrink -max 1536 -dst DIR a.jpg b.png ...
package main

import (
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/draw"
)

func main() {
	maxSide := flag.Int("max", 1536, "longest side of the output")
	dst := flag.String("dst", "", "output folder")
	flag.Parse()
	if *dst == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: shrink -max N -dst DIR photo...")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dst, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "shrink:", err)
		os.Exit(1)
	}
	for _, p := range flag.Args() {
		if err := shrink(p, *dst, *maxSide); err != nil {
			fmt.Fprintln(os.Stderr, "shrink:", err)
			os.Exit(1)
		}
	}
}

func shrink(path, dst string, maxSide int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if s := max(w, h); s > maxSide {
		w, h = (w*maxSide+s/2)/s, (h*maxSide+s/2)/s
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(out, out.Bounds(), src, b.Min, draw.Src)
	} else {
		draw.CatmullRom.Scale(out, out.Bounds(), src, b, draw.Src, nil)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + ".png"
	tmp := filepath.Join(dst, "."+name)
	o, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := png.Encode(o, out); err != nil {
		o.Close()
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %dx%d -> %dx%d\n", filepath.Base(path), b.Dx(), b.Dy(), w, h)
	return os.Rename(tmp, filepath.Join(dst, name))
}
