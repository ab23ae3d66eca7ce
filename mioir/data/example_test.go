package data_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir/data"
)

// Example trains from clean images degraded on the fly: a Clean source, a
// loader with prefetching driven by the curriculum's active tasks, and one
// batch.
func Example() {
	dir, err := os.MkdirTemp("", "clean")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for i := range 3 { // three 200x160 "photos"
		m := image.NewNRGBA(image.Rect(0, 0, 200, 160))
		for y := range 160 {
			for x := range 200 {
				m.Set(x, y, color.NRGBA{uint8(x + 20*i), uint8(y), uint8(x ^ y), 255})
			}
		}
		f, _ := os.Create(filepath.Join(dir, fmt.Sprintf("%d.png", i)))
		png.Encode(f, m)
		f.Close()
	}

	src, err := data.Clean(dir, degrade.Train(), 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	stage := func(iter int) []degrade.Task { // e.g. plan.At(iter).Tasks
		return []degrade.Task{degrade.Noise, degrade.Rain, degrade.LowLight}
	}
	l, err := data.NewLoader(src, data.LoaderOptions{Batch: 4, Patch: 128, Seed: 7, Plan: stage})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	for iter := 1; iter <= 2; iter++ {
		b, err := l.Batch(iter, stage(iter))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("iter %d: %dx%dx%dx%d, %d LQ values, tasks %v, prompt rows %v\n",
			b.Iter, b.N, b.C, b.H, b.W, len(b.LQ), b.Tasks, b.PromptIndices())
	}
	// Output:
	// iter 1: 4x3x128x128, 196608 LQ values, tasks [dark rain dark noise], prompt rows [5 3 5 1]
	// iter 2: 4x3x128x128, 196608 LQ values, tasks [noise noise rain rain], prompt rows [1 1 3 3]
}
