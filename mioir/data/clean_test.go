package data

import (
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/gomioir/gomioir/degrade"
)

// TestCleanMatchesWholeImage checks each task's patch against the degrade
// operator applied to the whole image and cropped (dark, blur, JPEG, SR:
// bit-exact; haze: within one 8-bit step), or to the patch itself (noise),
// and that the GT is the clean crop.
func TestCleanMatchesWholeImage(t *testing.T) {
	const w, h = 240, 176 // multiples of 16 and of 4
	dir := t.TempDir()
	full := photo(w, h, 3)
	writePNG(t, filepath.Join(dir, "a.png"), full)
	for _, jc := range []bool{false, true} {
		p := degrade.Train()
		p.JPEGCodec = jc
		src, err := Clean(dir, p, 11, nil)
		if err != nil {
			t.Fatal(err)
		}
		rects := []image.Rectangle{
			image.Rect(0, 0, 64, 64),                   // top-left corner
			image.Rect(w-64, h-64, w, h),               // bottom-right corner
			image.Rect(37, 53, 37+64, 53+64),           // interior, unaligned
			image.Rect(101, 6, 101+64, 6+64),           // near the top
			image.Rect(w-64, 45, w, 45+64),             // right edge
			image.Rect(3, h-64-1, 3+64, h-1),           // near the bottom
			image.Rect(150, 100, 150+64, 100+64),       // interior
			image.Rect(1, 1, 1+128, 1+128),             // large
			image.Rect(w-128-7, 9, w-7, 9+128),         // large, right
			image.Rect(w-128, h-128, w, h),             // large, corner
			image.Rect(w/2-32, h/2-32, w/2+32, h/2+32), // centre
		}
		for _, tk := range degrade.AllTasks() {
			if jc && tk != degrade.JPEG {
				continue
			}
			worst := 0.0
			for k, r := range rects {
				key := uint64(1000 + k)
				lq, gt, err := src.Patch(tk, 0, r, key)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(gt.Pix, cropOf(full, r).Pix) {
					t.Fatalf("%s %v: GT is not the clean crop", tk, r)
				}
				prm, err := src.Params(tk, 0, key)
				if err != nil {
					t.Fatal(err)
				}
				var want *degrade.Image
				switch tk {
				case degrade.Noise:
					want, err = degrade.GaussianNoise(cropOf(full, r), prm.NoiseSigma, prm.Seed)
				case degrade.Rain:
					// per-window: streaks only brighten, and some pixels change
					n := 0
					for i, v := range lq.Pix {
						if v < gt.Pix[i] {
							t.Fatalf("rain darkened a pixel")
						}
						if v > gt.Pix[i] {
							n++
						}
					}
					if n == 0 {
						t.Errorf("rain %v: no pixel changed", r)
					}
					continue
				default:
					var whole *degrade.Image
					whole, err = degrade.Apply(full, prm, nil)
					if err == nil {
						want = cropOf(whole, r)
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				d := maxAbsDiff(lq.Pix, want.Pix)
				worst = max(worst, d)
				switch {
				case tk == degrade.Haze && d > 1.0/255+1e-6:
					t.Errorf("haze %v: max diff %g from the whole-image haze (want <= 1/255)", r, d)
				case tk != degrade.Haze && d != 0:
					t.Errorf("%s (codec %v) %v %+v: max diff %g from the whole-image operator, want 0", tk, jc, r, prm, d)
				}
			}
			if tk == degrade.Haze {
				t.Logf("haze: worst difference from whole-image haze %.4f (x255 = %.2f)", worst, worst*255)
			}
		}
	}
}

func TestCleanParamsAndSize(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "b.png"), photo(130, 131, 1))
	writePNG(t, filepath.Join(dir, "a.png"), photo(150, 142, 2))
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Clean(dir, degrade.Train(), 1, &CleanOptions{Tasks: []degrade.Task{degrade.Haze, degrade.SR}})
	if err != nil {
		t.Fatal(err)
	}
	if got := src.Tasks(); !slices.Equal(got, []degrade.Task{degrade.SR, degrade.Haze}) {
		t.Fatalf("tasks %v", got)
	}
	if src.Len(degrade.Noise) != 0 || src.Len(degrade.SR) != 2 || src.Name(degrade.SR, 0) != "a.png" {
		t.Fatalf("Len/Name: %d %d %q", src.Len(degrade.Noise), src.Len(degrade.SR), src.Name(degrade.SR, 0))
	}
	if w, h := src.Size(degrade.Haze, 1); w != 128 || h != 128 {
		t.Errorf("haze size of 130x131 = %dx%d, want 128x128 (mod-4)", w, h)
	}
	if w, h := src.Size(degrade.SR, 1); w != 130 || h != 131 {
		t.Errorf("SR size %dx%d, want 130x131", w, h)
	}
	p1, _ := src.Params(degrade.Haze, 0, 1)
	p2, _ := src.Params(degrade.Haze, 0, 2)
	if p1 == p2 {
		t.Error("per-sample params: keys 1 and 2 drew the same haze")
	}
	fixed, err := Clean(dir, degrade.Train(), 1, &CleanOptions{FixedParams: true})
	if err != nil {
		t.Fatal(err)
	}
	q1, _ := fixed.Params(degrade.Haze, 0, 1)
	q2, _ := fixed.Params(degrade.Haze, 0, 2)
	q3, _ := fixed.Params(degrade.Haze, 1, 1)
	if q1 != q2 || q1 == q3 {
		t.Errorf("FixedParams: %+v %+v %+v (want the same per image, different across images)", q1, q2, q3)
	}
	if _, err := Clean(t.TempDir(), degrade.Train(), 1, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty folder: %v, want ErrEmpty", err)
	}
	if l, err := NewLoader(src, LoaderOptions{}); err != nil {
		t.Errorf("128 patches fit the 128x128 haze areas: %v", err)
	} else {
		l.Close()
	}
	if _, err := NewLoader(src, LoaderOptions{Patch: 129}); !errors.Is(err, ErrTooSmall) {
		t.Errorf("129 patches from 128x128 haze areas: %v, want ErrTooSmall", err)
	}
}

// TestCleanBadFile: a file with a valid header but corrupt data is reported
// once and skipped at sampling time, deterministically for any worker count.
func TestCleanBadFile(t *testing.T) {
	dir := cleanDir(t, 3, 96, 96)
	bad := filepath.Join(dir, "0002.png")
	b, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, b[:len(b)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reported []string
	skip := func(name string, err error) {
		mu.Lock()
		reported = append(reported, name)
		mu.Unlock()
	}
	var batches [2][]*Batch
	for k, workers := range []int{1, 4} {
		src, err := Clean(dir, degrade.Train(), 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		l, err := NewLoader(src, LoaderOptions{Batch: 4, Patch: 32, Seed: 4, Workers: workers, OnSkip: skip})
		if err != nil {
			t.Fatal(err)
		}
		for it := 1; it <= 8; it++ {
			bt, err := l.Batch(it, []degrade.Task{degrade.LowLight, degrade.Noise})
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(bt.Names, "0002.png") {
				t.Fatalf("the corrupt file was used")
			}
			batches[k] = append(batches[k], bt)
		}
		l.Close()
	}
	for i := range batches[0] {
		if err := batchesEqual(batches[0][i], batches[1][i]); err != nil {
			t.Fatalf("iteration %d with a bad file, 1 vs 4 workers: %v", i+1, err)
		}
	}
	if len(reported) != 2 || reported[0] != "0002.png" || reported[1] != "0002.png" {
		t.Fatalf("reported %v, want 0002.png once per loader", reported)
	}
}

// TestCleanUserDepth: with a full-resolution depth map from CleanOptions.Depth
// the haze patch is the whole-image haze with that map, cropped.
func TestCleanUserDepth(t *testing.T) {
	const w, h = 202, 150 // haze area 200x148
	dir := t.TempDir()
	full := photo(w, h, 8)
	writePNG(t, filepath.Join(dir, "x.png"), full)
	dm := &degrade.DepthMap{W: 200, H: 148, D: make([]float64, 200*148)}
	for y := range 148 {
		for x := range 200 {
			dm.D[y*200+x] = 1 + float64(x)/50 + float64(y*y)/3000
		}
	}
	calls := 0
	src, err := Clean(dir, degrade.Train(), 3, &CleanOptions{Tasks: []degrade.Task{degrade.Haze},
		Depth: func(name string, w, h int) (*degrade.DepthMap, error) {
			calls++
			if name != "x.png" || w != 200 || h != 148 {
				t.Errorf("Depth(%q, %d, %d)", name, w, h)
			}
			return dm, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	worst, differ := 0.0, 0
	for k, r := range []image.Rectangle{image.Rect(0, 0, 64, 64), image.Rect(136, 84, 200, 148), image.Rect(51, 33, 115, 97)} {
		lq, _, err := src.Patch(degrade.Haze, 0, r, uint64(k))
		if err != nil {
			t.Fatal(err)
		}
		prm, _ := src.Params(degrade.Haze, 0, uint64(k))
		whole, err := degrade.AddHaze(full, dm, prm.Airlight, prm.Beta)
		if err != nil {
			t.Fatal(err)
		}
		want := whole.Crop(r)
		worst = max(worst, maxAbsDiff(lq.Pix, want.Pix))
		for i := range lq.Pix {
			if lq.Pix[i] != want.Pix[i] {
				differ++
			}
		}
	}
	if worst > 1.0/255+1e-6 || differ > 20 {
		t.Errorf("haze with a full-resolution depth: max diff %g, %d values differ", worst, differ)
	}
	if calls != 1 {
		t.Errorf("Depth called %d times, want once per decoded image", calls)
	}
	t.Logf("user depth: %d of %d values differ from whole-image haze (float rounding), max %g", differ, 3*3*64*64, worst)
}

// exposureSources writes one 96x80 photo to a temporary folder and returns
// the folder and two training sources over it for tasks, without and with e.
func exposureSources(t *testing.T, tasks []degrade.Task, e *Exposure) (dir string, plain, dark *CleanSource) {
	t.Helper()
	dir = t.TempDir()
	writePNG(t, filepath.Join(dir, "a.png"), photo(96, 80, 3))
	plain, err := Clean(dir, degrade.Train(), 1, &CleanOptions{Tasks: tasks})
	if err != nil {
		t.Fatal(err)
	}
	if dark, err = Clean(dir, degrade.Train(), 1, &CleanOptions{Tasks: tasks, Exposure: e}); err != nil {
		t.Fatal(err)
	}
	return dir, plain, dark
}

// TestCleanExposure: with Exposure, a share P of the samples has GT and LQ
// made from the darkened clean patch x^u (u in [1, MaxGamma], 8-bit), the
// rest are the plain source's; bad settings are refused.
func TestCleanExposure(t *testing.T) {
	tasks := []degrade.Task{degrade.LowLight, degrade.Blur}
	e := &Exposure{P: 0.5, MaxGamma: 2}
	dir, plain, dark := exposureSources(t, tasks, e)
	r := image.Rect(10, 12, 42, 40)
	darkened := 0
	const n = 400
	for key := range uint64(n) {
		u := e.gamma(degrade.Blur, key)
		if u != e.gamma(degrade.LowLight, key) {
			t.Fatalf("key %d: without Tasks every task's exponent is the key's", key)
		}
		if u < 1 || u > 2 {
			t.Fatalf("key %d: exponent %v outside [1, 2]", key, u)
		}
		for _, task := range tasks {
			lq0, gt0, err := plain.Patch(task, 0, r, key)
			if err != nil {
				t.Fatal(err)
			}
			lq, gt, err := dark.Patch(task, 0, r, key)
			if err != nil {
				t.Fatal(err)
			}
			want := darken(gt0, u)
			if d := maxAbsDiff(gt.Pix, want.Pix); d != 0 {
				t.Fatalf("key %d %v: GT differs from the darkened clean patch by %g", key, task, d)
			}
			if u == 1 {
				if d := maxAbsDiff(lq.Pix, lq0.Pix); d != 0 {
					t.Fatalf("key %d %v: undarkened sample's LQ differs by %g", key, task, d)
				}
			}
			if task == degrade.LowLight {
				// Dark's operator is pointwise: LQ is the darkened GT
				// darkened again by the sample's own gamma.
				p, _ := dark.Params(task, 0, key)
				lqWant, err := degrade.Apply(gt, p, nil)
				if err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(lq.Pix, lqWant.Pix); d != 0 {
					t.Fatalf("key %d: dark LQ is not the darkened GT degraded (%g)", key, d)
				}
			}
		}
		if u != 1 {
			darkened++
		}
	}
	if f := float64(darkened) / n; f < 0.42 || f > 0.58 {
		t.Errorf("%.2f of the samples darkened, want about 0.5", f)
	}
	for _, bad := range []*Exposure{{P: 0, MaxGamma: 2}, {P: 1.5, MaxGamma: 2}, {P: 0.5, MaxGamma: 1}, {P: math.NaN(), MaxGamma: 2}, {P: 0.5, MaxGamma: math.Inf(1)}, {P: 0.5, MaxGamma: 2, Tasks: []degrade.Task{99}}} {
		if _, err := Clean(dir, degrade.Train(), 1, &CleanOptions{Exposure: bad}); err == nil {
			t.Errorf("Clean accepted exposure %+v", *bad)
		}
	}
}

// TestCleanExposureTasks: Exposure.Tasks darkens only those tasks' samples;
// the others are the plain source's, pixel for pixel.
func TestCleanExposureTasks(t *testing.T) {
	tasks := []degrade.Task{degrade.LowLight, degrade.Noise}
	e := &Exposure{P: 1, MaxGamma: 3, Tasks: []degrade.Task{degrade.LowLight}}
	_, plain, dark := exposureSources(t, tasks, e)
	r := image.Rect(8, 8, 40, 40)
	for key := range uint64(20) {
		if u := e.gamma(degrade.Noise, key); u != 1 {
			t.Fatalf("key %d: noise sample darkened by %v", key, u)
		}
		u := e.gamma(degrade.LowLight, key)
		if u <= 1 || u > 3 {
			t.Fatalf("key %d: low-light exponent %v, want in (1, 3] at P = 1", key, u)
		}
		lq0, gt0, err := plain.Patch(degrade.Noise, 0, r, key)
		if err != nil {
			t.Fatal(err)
		}
		lq, gt, err := dark.Patch(degrade.Noise, 0, r, key)
		if err != nil {
			t.Fatal(err)
		}
		if d := max(maxAbsDiff(lq.Pix, lq0.Pix), maxAbsDiff(gt.Pix, gt0.Pix)); d != 0 {
			t.Fatalf("key %d: noise sample changed by %g", key, d)
		}
		_, gt0, err = plain.Patch(degrade.LowLight, 0, r, key)
		if err != nil {
			t.Fatal(err)
		}
		_, gt, err = dark.Patch(degrade.LowLight, 0, r, key)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(gt.Pix, darken(gt0, u).Pix); d != 0 {
			t.Fatalf("key %d: low-light GT differs from the darkened clean patch by %g", key, d)
		}
	}
}
