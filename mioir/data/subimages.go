package data

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/gomioir/gomioir/internal/imgconv"
)

// SubOptions configure Subimages. Zero fields take the reference's values
// (gen_sub.py: crop 300, step 150, threshold 48).
type SubOptions struct {
	Size, Step, Thresh int
	// Workers is the number of files processed at once (default GOMAXPROCS).
	Workers int
	// OnSkip receives the files that cannot be read or are smaller than Size.
	OnSkip SkipFunc
}

// subStarts is gen_sub.py's crop layout along one axis: arange(0, n-size+1,
// step), plus n-size when the remainder after the last crop exceeds thresh.
func subStarts(n, size, step, thresh int) []int {
	var s []int
	for v := 0; v <= n-size; v += step {
		s = append(s, v)
	}
	if len(s) > 0 && n-(s[len(s)-1]+size) > thresh {
		s = append(s, n-size)
	}
	return s
}

// Subimages cuts every image of srcDir into overlapping Size x Size crops
// written to dstDir as 8-bit PNGs named {stem}_s{idx:03d}.png (idx from 1,
// row-major), the reference's sub-image layout (method spec 2.2), and returns
// the number written.
//
// Decoding dominates the cost of a training sample: a 2K PNG takes 0.3-0.5 s
// to decode in Go, a 300x300 one about 1/40 of that, so Clean (and Paired)
// should read sub-images unless the whole data set fits the decoded-image
// cache; see BenchmarkLoader. The reference trains on such sub-images too.
//
// Cutting a data set such as DIV2K takes minutes. When ctx ends, the files
// being cut are finished, the others are left out, and Subimages returns
// the number written with an error wrapping ctx.Err(); a later run rewrites
// the same names, so an interrupted one can simply be repeated.
func Subimages(ctx context.Context, srcDir, dstDir string, o *SubOptions) (int, error) {
	var opt SubOptions
	if o != nil {
		opt = *o
	}
	if opt.Size == 0 {
		opt.Size = 300
	}
	if opt.Step == 0 {
		opt.Step = 150
	}
	if opt.Thresh == 0 {
		opt.Thresh = 48
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Size < 1 || opt.Step < 1 {
		return 0, fmt.Errorf("data: Subimages: size %d and step %d must be positive", opt.Size, opt.Step)
	}
	names, err := listImages(srcDir)
	if err != nil {
		return 0, err
	}
	if len(names) == 0 {
		return 0, fmt.Errorf("%w: no images in %s", ErrEmpty, srcDir)
	}
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return 0, fmt.Errorf("data: %w", err)
	}
	var (
		mu       sync.Mutex
		written  int
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan string)
	for range opt.Workers {
		wg.Go(func() {
			enc := png.Encoder{CompressionLevel: png.BestSpeed}
			for n := range work {
				p, err := decodePlanes(filepath.Join(srcDir, n))
				if err != nil {
					mu.Lock()
					opt.OnSkip.report(n, err)
					mu.Unlock()
					continue
				}
				ys := subStarts(p.h, opt.Size, opt.Step, opt.Thresh)
				xs := subStarts(p.w, opt.Size, opt.Step, opt.Thresh)
				if len(ys) == 0 || len(xs) == 0 {
					mu.Lock()
					opt.OnSkip.report(n, fmt.Errorf("%w: %dx%d < %d", ErrTooSmall, p.w, p.h, opt.Size))
					mu.Unlock()
					continue
				}
				stem := strings.TrimSuffix(n, filepath.Ext(n))
				idx := 0
				for _, y := range ys {
					for _, x := range xs {
						idx++
						m := p.crop(image.Rect(x, y, x+opt.Size, y+opt.Size))
						out := filepath.Join(dstDir, fmt.Sprintf("%s_s%03d.png", stem, idx))
						err := writePNGFile(out, &enc, imgconv.NRGBA(m.Pix, m.W, m.H))
						mu.Lock()
						if err != nil && firstErr == nil {
							firstErr = err
						}
						if err == nil {
							written++
						}
						mu.Unlock()
					}
				}
			}
		})
	}
	for _, n := range names {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- n:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("data: Subimages: stopped after %d sub-images: %w", written, err)
	}
	return written, firstErr
}

func writePNGFile(path string, enc *png.Encoder, m image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := enc.Encode(f, m); err != nil {
		f.Close()
		return fmt.Errorf("data: %s: %w", path, err)
	}
	return f.Close()
}
