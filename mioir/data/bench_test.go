package data

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gomioir/gomioir/degrade"
)

// BenchmarkLoader measures batches per second for 4 x 128 x 128 batches from
// Clean with all seven tasks active: from a cached set of 512x384 images, and
// from 2040x1352 photos (DF2K size) decoded for every sample (no cache, the
// worst case for a data set larger than the cache), and from the 300x300
// sub-images of those photos (Subimages), also without cache.
func BenchmarkLoader(b *testing.B) {
	sets := []struct {
		name  string
		n     int
		w, h  int
		cache int64
	}{
		{"cached-512x384", 16, 512, 384, 0},
		{"nocache-2040x1352", 3, 2040, 1352, -1},
		{"nocache-sub300-of-2040x1352", 3, 2040, 1352, -1},
	}
	var big string
	for _, s := range sets {
		var dir string
		switch {
		case s.w < 2040:
			dir = cleanDir(b, s.n, s.w, s.h)
		case big == "":
			big = cleanDir(b, s.n, s.w, s.h)
			dir = big
		default:
			dir = filepath.Join(b.TempDir(), "sub")
			if _, err := Subimages(b.Context(), big, dir, nil); err != nil {
				b.Fatal(err)
			}
		}
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", s.name, workers), func(b *testing.B) {
				src, err := Clean(dir, degrade.Train(), 1, &CleanOptions{CacheBytes: s.cache})
				if err != nil {
					b.Fatal(err)
				}
				l, err := NewLoader(src, LoaderOptions{Batch: 4, Patch: 128, Seed: 1, Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				all := degrade.AllTasks()
				if _, err := l.Batch(0, all); err != nil { // warm the cache
					b.Fatal(err)
				}
				it := 1
				for b.Loop() {
					if _, err := l.Batch(it, all); err != nil {
						b.Fatal(err)
					}
					it++
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
			})
		}
	}
}
