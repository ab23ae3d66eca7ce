package data

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomioir/gomioir/degrade"
)

// invert returns 1-x on the 8-bit grid (255-v).
func invert(m *degrade.Image) *degrade.Image {
	o := m.Clone()
	for i, v := range o.Pix {
		o.Pix[i] = float32(255-int(v*255+0.5)) / 255
	}
	return o
}

// pairedRoot writes root/GT{suffix} with two images and LQ folders for noise
// (same size, inverted GT) and rain (mod-4 cropped, inverted GT).
func pairedRoot(t *testing.T, suffix string) (root string, gts map[string]*degrade.Image) {
	root = t.TempDir()
	gts = map[string]*degrade.Image{}
	for i, n := range []string{"0001.png", "0002.png"} {
		g := photo(70+i, 67, uint64(i+5))
		gts[n] = g
		writePNG(t, filepath.Join(root, "GT"+suffix, n), g)
		writePNG(t, filepath.Join(root, "noise"+suffix, n), invert(g))
		writePNG(t, filepath.Join(root, "rain"+suffix, n), invert(g.CropMod(4)))
	}
	return root, gts
}

func TestPairedLayout(t *testing.T) {
	root, gts := pairedRoot(t, "")
	src, err := Paired(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Tasks(); !slices.Equal(got, []degrade.Task{degrade.Noise, degrade.Rain}) {
		t.Fatalf("tasks %v, want [noise rain]", got)
	}
	if src.Len(degrade.Rain) != 2 || src.Len(degrade.SR) != 0 {
		t.Fatalf("Len rain %d sr %d", src.Len(degrade.Rain), src.Len(degrade.SR))
	}
	if n := src.Name(degrade.Rain, 1); n != "rain/0002.png" {
		t.Errorf("name %q", n)
	}
	if w, h := src.Size(degrade.Noise, 1); w != 71 || h != 67 {
		t.Errorf("noise size %dx%d, want 71x67", w, h)
	}
	if w, h := src.Size(degrade.Rain, 1); w != 68 || h != 64 {
		t.Errorf("rain size %dx%d, want the LQ's 68x64", w, h)
	}
	r := image.Rect(4, 30, 68, 64)
	lq, gt, err := src.Patch(degrade.Rain, 1, r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gt.Pix, gts["0002.png"].Crop(r).Pix) || !slices.Equal(lq.Pix, invert(gts["0002.png"]).Crop(r).Pix) {
		t.Fatal("rain patch is not the files' pixels")
	}
	// Through a loader: every LQ pixel is 1-GT (the same flips on both).
	l, err := NewLoader(src, LoaderOptions{Batch: 6, Patch: 48, Seed: 1, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seen := map[degrade.Task]bool{}
	for it := 1; it <= 5; it++ {
		b, err := l.Batch(it, []degrade.Task{degrade.Noise, degrade.Rain})
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.LQ {
			if d := b.LQ[i] + b.GT[i] - 1; d > 1e-6 || d < -1e-6 {
				t.Fatalf("iteration %d: LQ %v GT %v at %d, want LQ = 1-GT", it, b.LQ[i], b.GT[i], i)
			}
		}
		for j, tk := range b.Tasks {
			seen[tk] = true
			if !strings.HasPrefix(b.Names[j], tk.Name()+"/") {
				t.Errorf("sample of task %s named %s", tk, b.Names[j])
			}
		}
	}
	if !seen[degrade.Noise] || !seen[degrade.Rain] {
		t.Errorf("tasks seen %v", seen)
	}
	// Restricting tasks; asking for a missing one.
	if s, err := Paired(root, &PairedOptions{Tasks: []degrade.Task{degrade.Rain}}); err != nil || !slices.Equal(s.Tasks(), []degrade.Task{degrade.Rain}) {
		t.Errorf("Tasks: [rain]: %v", err)
	}
	if _, err := Paired(root, &PairedOptions{Tasks: []degrade.Task{degrade.Haze}}); !errors.Is(err, ErrEmpty) {
		t.Errorf("missing haze folder: %v, want ErrEmpty", err)
	}
	// Suffix layout.
	root2, _ := pairedRoot(t, "_sub300")
	if s, err := Paired(root2, &PairedOptions{Suffix: "_sub300"}); err != nil || s.Len(degrade.Noise) != 2 || s.Name(degrade.Noise, 0) != "noise_sub300/0001.png" {
		t.Errorf("suffix layout: %v", err)
	}
}

func TestPairedErrors(t *testing.T) {
	// Empty root, empty LQ folder.
	if _, err := Paired(t.TempDir(), nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("no GT folder: %v, want ErrEmpty", err)
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "GT"), 0o755)
	os.MkdirAll(filepath.Join(root, "blur"), 0o755)
	if _, err := Paired(root, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty LQ folder: %v, want ErrEmpty", err)
	}
	// Missing GT.
	root, _ = pairedRoot(t, "")
	writePNG(t, filepath.Join(root, "noise", "0003.png"), photo(70, 67, 1))
	if _, err := Paired(root, nil); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "noise/0003.png") {
		t.Errorf("LQ without GT: %v, want ErrMismatch naming noise/0003.png", err)
	}
	// Sizes too different.
	root, _ = pairedRoot(t, "")
	writePNG(t, filepath.Join(root, "rain", "0001.png"), photo(60, 60, 1))
	if _, err := Paired(root, nil); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "rain/0001.png (LQ 60x60, GT 70x67)") {
		t.Errorf("60x60 LQ for a 70x67 GT: %v, want ErrMismatch", err)
	}
	// An unreadable LQ is reported and skipped; the rest stays usable.
	root, _ = pairedRoot(t, "")
	if err := os.WriteFile(filepath.Join(root, "noise", "0002.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	var skipped []string
	src, err := Paired(root, &PairedOptions{OnSkip: func(n string, err error) { skipped = append(skipped, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if src.Len(degrade.Noise) != 1 || !slices.Equal(skipped, []string{"noise/0002.png"}) {
		t.Errorf("after a corrupt LQ: %d noise images, skipped %v", src.Len(degrade.Noise), skipped)
	}
	// All LQs of a task unreadable: the task is empty.
	if err := os.WriteFile(filepath.Join(root, "noise", "0001.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Paired(root, &PairedOptions{OnSkip: func(string, error) {}}); !errors.Is(err, ErrEmpty) {
		t.Errorf("no readable noise image: %v, want ErrEmpty", err)
	}
	// Images smaller than the patch.
	root, _ = pairedRoot(t, "")
	src, err = Paired(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewLoader(src, LoaderOptions{Patch: 66}); !errors.Is(err, ErrTooSmall) || !strings.Contains(err.Error(), "rain/0001.png (68x64)") {
		t.Errorf("66 patches: %v, want ErrTooSmall naming rain/0001.png (68x64)", err)
	}
}

func TestMetaGT(t *testing.T) {
	cases := []struct {
		in, gt string
		task   degrade.Task
	}{
		{"rain_sub300", "GT_sub300", degrade.Rain},
		{"sr_sub300", "GT_sub300", degrade.SR},
		{"dark_sub300", "GT_sub300", degrade.LowLight},
		{"LQ_sub_blur_", "GT_sub_GT_", degrade.Blur}, // LQ_sub -> GT_sub first
		{"haze_rain_x", "haze_GT_x", degrade.Rain},   // rain_ is tried before haze_
		{"jpeg", "GT", degrade.JPEG},
	}
	for _, c := range cases {
		gt, tk, err := metaGT(c.in)
		if err != nil || gt != c.gt || tk != c.task {
			t.Errorf("metaGT(%q) = %q %v %v, want %q %v", c.in, gt, tk, err, c.gt, c.task)
		}
	}
	for _, bad := range []string{"snow_sub300", "GT_sub300", "images"} {
		if _, _, err := metaGT(bad); err == nil {
			t.Errorf("metaGT(%q): no error", bad)
		}
	}
}

func TestPairedMeta(t *testing.T) {
	root, gts := pairedRoot(t, "_sub300")
	// The reference writes absolute paths with \r\n endings, folder by folder.
	var sb strings.Builder
	for _, f := range []string{"noise_sub300/0001.png", "noise_sub300/0002.png", "rain_sub300/0001.png", "rain_sub300/0002.png"} {
		sb.WriteString("/home/notebook/data/DF2K/" + f + "\r\n")
	}
	sb.WriteString("\r\n")
	meta := filepath.Join(t.TempDir(), "MiO-meta-DF2K_300_nr.txt")
	if err := os.WriteFile(meta, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Paired(root, &PairedOptions{Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src.Tasks(), []degrade.Task{degrade.Noise, degrade.Rain}) || src.Len(degrade.Rain) != 2 {
		t.Fatalf("meta tasks %v", src.Tasks())
	}
	lq, gt := src.Paths(degrade.Rain, 1)
	if lq != filepath.Join(root, "rain_sub300", "0002.png") || gt != filepath.Join(root, "GT_sub300", "0002.png") {
		t.Errorf("paths %s %s", lq, gt)
	}
	_, g, err := src.Patch(degrade.Rain, 1, image.Rect(0, 0, 68, 64), 0)
	if err != nil || !slices.Equal(g.Pix, gts["0002.png"].Crop(image.Rect(0, 0, 68, 64)).Pix) {
		t.Fatalf("meta GT patch: %v", err)
	}
	// Relative paths resolve against the meta file's folder when root is "".
	meta2 := filepath.Join(root, "meta.txt")
	if err := os.WriteFile(meta2, []byte("noise_sub300/0002.png\nrain_sub300/0001.png\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err = Paired("", &PairedOptions{Meta: meta2, Tasks: []degrade.Task{degrade.Noise}})
	if err != nil || src.Len(degrade.Noise) != 1 || src.Len(degrade.Rain) != 0 {
		t.Fatalf("relative meta: %v", err)
	}
	// A line naming no task is an error with its line number.
	meta3 := filepath.Join(root, "bad.txt")
	os.WriteFile(meta3, []byte("noise_sub300/0002.png\r\nsnow_sub300/0001.png\r\n"), 0o644)
	if _, err := Paired(root, &PairedOptions{Meta: meta3}); err == nil || !strings.Contains(err.Error(), "bad.txt:2") {
		t.Errorf("snow line: %v", err)
	}
}

func TestPairs(t *testing.T) {
	root, gts := pairedRoot(t, "")
	ps, err := Pairs(filepath.Join(root, "GT"), filepath.Join(root, "rain"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Name != "0001.png" || ps[1].Name != "0002.png" {
		t.Fatalf("pairs %v", ps)
	}
	lq, gt, err := ps[1].Load()
	if err != nil {
		t.Fatal(err)
	}
	// GT cropped top-left to the mod-4 LQ size, as BasicSR does.
	if gt.W != 68 || gt.H != 64 || !slices.Equal(gt.Pix, gts["0002.png"].CropMod(4).Pix) || lq.W != 68 {
		t.Fatalf("GT %dx%d", gt.W, gt.H)
	}
	writePNG(t, filepath.Join(root, "rain", "0009.png"), photo(70, 67, 1))
	if _, err := Pairs(filepath.Join(root, "GT"), filepath.Join(root, "rain")); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "0009.png") {
		t.Errorf("extra LQ: %v, want ErrMismatch", err)
	}
	if _, err := Pairs(filepath.Join(root, "GT"), t.TempDir()); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty LQ folder: %v, want ErrEmpty", err)
	}
}

func TestDegradedPairs(t *testing.T) {
	dir := cleanDir(t, 2, 66, 50)
	sets, err := TaskPairs(dir, []degrade.Task{degrade.Rain, degrade.JPEG}, degrade.InDis(), 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range []degrade.Task{degrade.Rain, degrade.JPEG} {
		ps := sets[tk]
		if len(ps) != 2 || ps[0].Task != tk {
			t.Fatalf("%s: %d pairs", tk, len(ps))
		}
		lq, gt, err := ps[1].Load()
		if err != nil {
			t.Fatal(err)
		}
		lq2, _, _ := ps[1].Load()
		full := photo(66, 50, 2)
		want, _, err := degrade.NewSampler(degrade.InDis(), 7).Degrade(full, tk, degrade.Key("0002.png"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(lq.Pix, want.Pix) || !slices.Equal(lq.Pix, lq2.Pix) {
			t.Fatalf("%s: LQ is not the sampler's degradation of the file", tk)
		}
		if gt.W != lq.W || gt.H != lq.H || !slices.Equal(gt.Pix, full.Crop(image.Rect(0, 0, lq.W, lq.H)).Pix) {
			t.Fatalf("%s: GT %dx%d, LQ %dx%d", tk, gt.W, gt.H, lq.W, lq.H)
		}
	}
	if sets[degrade.Rain][0].Task != degrade.Rain {
		t.Error("task not recorded")
	}
}
