// Command peakrss restores one synthetic image with a paper-configuration
// model (random weights) and prints the time and the process's peak resident
// memory, for the inference-memory figures of the README. Run one backbone per
// process so each peak is its own:
//
//	go run ./scripts/peakrss -arch Restormer -size 1024 -tile 512
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"log"
	"syscall"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
)

func main() {
	arch := flag.String("arch", "Restormer", "registered backbone (SRResNet, SwinIR, Restormer, Uformer, PromptIR)")
	kind := flag.String("prompt", "none", "prompt kind: none, ep or ap")
	size := flag.Int("size", 1024, "image side in pixels")
	tile := flag.Int("tile", 0, "tile side (0: whole image)")
	flag.Parse()
	log.SetFlags(0)

	k, err := mioir.ParsePromptKind(*kind)
	if err != nil {
		log.Fatal(err)
	}
	m, err := mioir.New(mioir.Config{Arch: *arch, Prompt: k}, 1)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	img := image.NewNRGBA(image.Rect(0, 0, *size, *size))
	for y := range *size {
		for x := range *size {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x ^ y), uint8(x * 3), uint8(y * 5), 255})
		}
	}
	start := time.Now()
	_, info, err := m.Restore(context.Background(), img, &mioir.Options{Task: degrade.Noise, Tile: *tile})
	if err != nil {
		log.Fatal(err)
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %s %dx%d tile %d (%d tiles, %d retries): %.1f s, peak RSS %.2f GiB\n",
		m.Config().Name(), *kind, *size, *size, info.Tile, info.Tiles, info.Retries,
		time.Since(start).Seconds(), float64(ru.Maxrss)/(1<<20))
}
