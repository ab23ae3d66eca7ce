package data

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"testing"
)

func TestSubStarts(t *testing.T) {
	cases := []struct {
		n    int
		want []int
	}{
		{460, []int{0, 150}},           // remainder 10 <= 48
		{700, []int{0, 150, 300, 400}}, // remainder 100 > 48: add 700-300
		{300, []int{0}},
		{299, nil},
		{500, []int{0, 150, 200}}, // remainder 50 > 48
		{498, []int{0, 150}},      // remainder 48: not added
	}
	for _, c := range cases {
		if got := subStarts(c.n, 300, 150, 48); !slices.Equal(got, c.want) {
			t.Errorf("subStarts(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestSubimages(t *testing.T) {
	src := t.TempDir()
	full := photo(700, 460, 1)
	writePNG(t, filepath.Join(src, "0001.png"), full)
	writePNG(t, filepath.Join(src, "tiny.png"), photo(100, 100, 2))
	dst := filepath.Join(t.TempDir(), "GT_sub300")
	var skipped []string
	n, err := Subimages(t.Context(), src, dst, &SubOptions{OnSkip: func(n string, err error) { skipped = append(skipped, n) }})
	if err != nil {
		t.Fatal(err)
	}
	names, _ := listImages(dst)
	if n != 8 || len(names) != 8 || names[0] != "0001_s001.png" || names[7] != "0001_s008.png" {
		t.Fatalf("wrote %d: %v", n, names)
	}
	if !slices.Equal(skipped, []string{"tiny.png"}) {
		t.Errorf("skipped %v", skipped)
	}
	// rows [0 150] x columns [0 150 300 400], row-major
	pos := [][2]int{{0, 0}, {150, 0}, {300, 0}, {400, 0}, {0, 150}, {150, 150}, {300, 150}, {400, 150}}
	for i, p := range pos {
		m, err := readImage(filepath.Join(dst, fmt.Sprintf("0001_s%03d.png", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(m.Pix, full.Crop(image.Rect(p[0], p[1], p[0]+300, p[1]+300)).Pix) {
			t.Fatalf("sub-image %d is not the crop at %v", i+1, p)
		}
	}

	// A cancelled context stops before the next file.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n, err = Subimages(ctx, src, filepath.Join(t.TempDir(), "none"), nil)
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: wrote %d, error %v", n, err)
	}
}
