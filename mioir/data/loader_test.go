package data

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/imgconv"
)

// TestAugmentOrder checks augment against the three BasicSR steps applied
// literally to an array: cv2.flip(img, 1), cv2.flip(img, 0), img.transpose.
func TestAugmentOrder(t *testing.T) {
	const s = 5
	src := make([]float32, 3*s*s)
	for i := range src {
		src[i] = float32(i)
	}
	for mask := range 8 {
		h, v, tr := mask&1 != 0, mask&2 != 0, mask&4 != 0
		// literal reference: a[c][y][x]
		a := make([][][]float32, 3)
		for c := range 3 {
			a[c] = make([][]float32, s)
			for y := range s {
				a[c][y] = slices.Clone(src[c*s*s+y*s : c*s*s+(y+1)*s])
			}
		}
		for c := range 3 {
			if h {
				for y := range s {
					slices.Reverse(a[c][y])
				}
			}
			if v {
				slices.Reverse(a[c])
			}
			if tr {
				b := make([][]float32, s)
				for y := range s {
					b[y] = make([]float32, s)
					for x := range s {
						b[y][x] = a[c][x][y]
					}
				}
				a[c] = b
			}
		}
		got := make([]float32, 3*s*s)
		augment(got, src, s, h, v, tr)
		for c := range 3 {
			for y := range s {
				for x := range s {
					if g, w := got[c*s*s+y*s+x], a[c][y][x]; g != w {
						t.Fatalf("h=%v v=%v t=%v: (%d,%d,%d) = %v, want %v", h, v, tr, c, y, x, g, w)
					}
				}
			}
		}
	}
}

// decodeSample recovers the crop origin and flips of a ramp sample from its
// GT values, checking that every pixel follows one dihedral map of one crop
// and that the LQ went through the same map (LQ = GT + 0.5 pixel for pixel).
func decodeSample(t *testing.T, b *Batch, j int) (x0, y0 int, h, v, tr bool) {
	t.Helper()
	s := b.H
	lq, gt := b.Sample(j)
	ax, ay, _ := rampDecode(gt[0])
	bx, by, _ := rampDecode(gt[1]) // output (0,1)
	cx, cy, _ := rampDecode(gt[s]) // output (1,0)
	tr = bx == ax && by != ay      // moving along output x moves source y
	if tr {
		v = by < ay
		h = cx < ax
	} else {
		h = bx < ax
		v = cy < ay
	}
	x0, y0 = ax, ay
	if h {
		x0 = ax - (s - 1)
	}
	if v {
		y0 = ay - (s - 1)
	}
	for c := range 3 {
		for y := range s {
			for x := range s {
				sy, sx := y, x
				if tr {
					sy, sx = x, y
				}
				if v {
					sy = s - 1 - sy
				}
				if h {
					sx = s - 1 - sx
				}
				want := rampValue(x0+sx, y0+sy, c)
				i := c*s*s + y*s + x
				if gt[i] != want || lq[i] != want+0.5 {
					t.Fatalf("sample %d (%d,%d,%d): GT %v LQ %v, want %v / %v (crop %d,%d h=%v v=%v t=%v)",
						j, c, y, x, gt[i], lq[i], want, want+0.5, x0, y0, h, v, tr)
				}
			}
		}
	}
	return x0, y0, h, v, tr
}

func TestLoaderFlipsAndProportions(t *testing.T) {
	src := &rampSource{tasks: []degrade.Task{degrade.SR, degrade.Rain, degrade.Haze, degrade.Noise}, n: 3, w: 200, h: 150}
	l, err := NewLoader(src, LoaderOptions{Batch: 4, Patch: 16, Seed: 1, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	active := []degrade.Task{degrade.Rain, degrade.SR, degrade.Haze}
	counts := map[degrade.Task]int{}
	var flips [8]int
	var xs, ys [2]int
	const iters = 1500
	for it := 1; it <= iters; it++ {
		b, err := l.Batch(it, active)
		if err != nil {
			t.Fatal(err)
		}
		for j := range b.N {
			counts[b.Tasks[j]]++
			x0, y0, h, v, tr := decodeSample(t, b, j)
			if x0 < 0 || y0 < 0 || x0+16 > 200 || y0+16 > 150 {
				t.Fatalf("crop %d,%d outside the image", x0, y0)
			}
			xs[min(1, x0/92)]++
			ys[min(1, y0/67)]++
			m := 0
			if h {
				m |= 1
			}
			if v {
				m |= 2
			}
			if tr {
				m |= 4
			}
			flips[m]++
		}
	}
	n := float64(iters * 4)
	for _, tk := range active {
		if f := float64(counts[tk]) / n; f < 1.0/3-0.03 || f > 1.0/3+0.03 {
			t.Errorf("task %s drawn %.3f of the time, want 1/3", tk, f)
		}
	}
	if counts[degrade.Noise] != 0 {
		t.Errorf("inactive task noise drawn %d times", counts[degrade.Noise])
	}
	for m, c := range flips {
		if f := float64(c) / n; f < 0.125-0.025 || f > 0.125+0.025 {
			t.Errorf("flip combination %03b drawn %.3f of the time, want 1/8", m, f)
		}
	}
	// crop origins are uniform over 0..184 and 0..134: about half each side
	for k, c := range [][2]int{xs, ys} {
		if f := float64(c[0]) / n; f < 0.45 || f > 0.55 {
			t.Errorf("axis %d: %.3f of the crops in the first half", k, f)
		}
	}
	t.Logf("task counts %v, flip combinations %v", counts, flips)
}

func batchesEqual(a, b *Batch) error {
	if a.N != b.N || a.H != b.H || !slices.Equal(a.Tasks, b.Tasks) || !slices.Equal(a.Names, b.Names) {
		return fmt.Errorf("tasks/names differ: %v %v / %v %v", a.Tasks, a.Names, b.Tasks, b.Names)
	}
	if !slices.Equal(a.LQ, b.LQ) || !slices.Equal(a.GT, b.GT) {
		return fmt.Errorf("pixels differ (LQ max diff %g, GT %g)", maxAbsDiff(a.LQ, b.LQ), maxAbsDiff(a.GT, b.GT))
	}
	return nil
}

// cleanDir writes n photo-like PNGs of w x h into a temp dir.
func cleanDir(t testing.TB, n, w, h int) string {
	dir := t.TempDir()
	for i := range n {
		writePNG(t, filepath.Join(dir, fmt.Sprintf("%04d.png", i+1)), photo(w, h, uint64(i+1)))
	}
	return dir
}

func TestLoaderDeterminism(t *testing.T) {
	dir := cleanDir(t, 3, 176, 144)
	src, err := Clean(dir, degrade.Train(), 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := degrade.AllTasks()
	stage := func(it int) []degrade.Task { return all[:min(7, 1+(it-1)/2)] } // a sequential-like plan
	one, err := NewLoader(src, LoaderOptions{Batch: 4, Patch: 64, Seed: 9, Workers: 1, Prefetch: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	four, err := NewLoader(src, LoaderOptions{Batch: 4, Patch: 64, Seed: 9, Workers: 4, Prefetch: 3, Plan: stage})
	if err != nil {
		t.Fatal(err)
	}
	defer four.Close()
	ref := map[int]*Batch{}
	for it := 1; it <= 12; it++ {
		a, err := one.Batch(it, stage(it))
		if err != nil {
			t.Fatal(err)
		}
		b, err := four.Batch(it, stage(it))
		if err != nil {
			t.Fatal(err)
		}
		if err := batchesEqual(a, b); err != nil {
			t.Fatalf("iteration %d, 1 vs 4 workers: %v", it, err)
		}
		ref[it] = a
	}
	// A fresh loader "resumed" at iteration 7, with a fresh source too.
	src2, err := Clean(dir, degrade.Train(), 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewLoader(src2, LoaderOptions{Batch: 4, Patch: 64, Seed: 9, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	for it := 7; it <= 12; it++ {
		// task order does not matter, the set does
		ts := slices.Clone(stage(it))
		slices.Reverse(ts)
		b, err := res.Batch(it, ts)
		if err != nil {
			t.Fatal(err)
		}
		if err := batchesEqual(ref[it], b); err != nil {
			t.Fatalf("resumed iteration %d: %v", it, err)
		}
	}
	// Another seed gives other data.
	other, err := NewLoader(src, LoaderOptions{Batch: 4, Patch: 64, Seed: 10, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	b, err := other.Batch(12, stage(12))
	if err != nil {
		t.Fatal(err)
	}
	if batchesEqual(ref[12], b) == nil {
		t.Fatal("seeds 9 and 10 gave the same batch")
	}
	// LQ differs from GT (degraded) and values are on the 8-bit grid in [0,1].
	a := ref[12]
	if slices.Equal(a.LQ, a.GT) {
		t.Fatal("LQ equals GT")
	}
	for _, v := range a.LQ {
		if v < 0 || v > 1 || imgconv.Quantize(v) != v {
			t.Fatalf("LQ value %v off the 8-bit grid", v)
		}
	}
}

func TestLoaderErrors(t *testing.T) {
	src := &rampSource{tasks: []degrade.Task{degrade.SR}, n: 2, w: 64, h: 64}
	if _, err := NewLoader(src, LoaderOptions{Patch: 128}); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("64x64 images with 128 patches: %v, want ErrTooSmall", err)
	}
	l, err := NewLoader(src, LoaderOptions{Patch: 32, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Batch(1, []degrade.Task{degrade.Rain}); !errors.Is(err, ErrEmpty) {
		t.Errorf("task missing from the source: %v, want ErrEmpty", err)
	}
	if _, err := l.Batch(1, nil); err == nil {
		t.Error("no active task: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.BatchContext(ctx, 2, []degrade.Task{degrade.SR}); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	l.Close()
	l.Close()
	if _, err := l.Batch(3, []degrade.Task{degrade.SR}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func TestLoaderLQOnlyLabels(t *testing.T) {
	src := &rampSource{tasks: degrade.AllTasks(), n: 2, w: 300, h: 300}
	o := ClassifierOptions(3)
	o.Workers = 2
	l, err := NewLoader(src, o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b, err := l.Batch(1, degrade.AllTasks())
	if err != nil {
		t.Fatal(err)
	}
	if b.GT != nil || b.N != 16 || b.H != 256 || len(b.LQ) != 16*3*256*256 {
		t.Fatalf("classifier batch: N %d H %d GT nil %v", b.N, b.H, b.GT == nil)
	}
	for j, p := range b.PromptIndices() {
		if want := b.Tasks[j].PromptIndex(); p != want || p < 0 || p > 6 {
			t.Fatalf("label %d = %d, want %d", j, p, want)
		}
	}
}

// TestLoaderProportional: with Proportional, tasks are drawn in proportion
// to their image counts (here 1:3).
func TestLoaderProportional(t *testing.T) {
	src := &unevenSource{rampSource{tasks: []degrade.Task{degrade.SR, degrade.Rain}, n: 1, w: 20, h: 20}}
	l, err := NewLoader(src, LoaderOptions{Batch: 8, Patch: 8, Workers: 2, Proportional: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	counts := map[degrade.Task]int{}
	for it := 1; it <= 500; it++ {
		b, err := l.Batch(it, []degrade.Task{degrade.SR, degrade.Rain})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range b.Tasks {
			counts[tk]++
		}
	}
	if f := float64(counts[degrade.Rain]) / 4000; f < 0.72 || f > 0.78 {
		t.Errorf("rain (3 of 4 images) drawn %.3f of the time, want 0.75", f)
	}
}

// TestLoaderTaskWeights: with TaskWeights, tasks are drawn in proportion to
// their weights among the active ones (absent tasks weigh 1), reproducibly;
// bad weights are refused.
func TestLoaderTaskWeights(t *testing.T) {
	src := &rampSource{tasks: []degrade.Task{degrade.SR, degrade.Blur, degrade.Rain}, n: 1, w: 20, h: 20}
	w := map[degrade.Task]float64{degrade.Blur: 3, degrade.Haze: 100}
	run := func() (map[degrade.Task]int, []degrade.Task) {
		l, err := NewLoader(src, LoaderOptions{Batch: 8, Patch: 8, Workers: 2, TaskWeights: w})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		counts := map[degrade.Task]int{}
		var seq []degrade.Task
		for it := 1; it <= 500; it++ {
			b, err := l.Batch(it, []degrade.Task{degrade.SR, degrade.Blur, degrade.Rain})
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range b.Tasks {
				counts[tk]++
			}
			seq = append(seq, b.Tasks...)
		}
		return counts, seq
	}
	counts, seq := run()
	for tk, want := range map[degrade.Task]float64{degrade.SR: 0.2, degrade.Blur: 0.6, degrade.Rain: 0.2} {
		if f := float64(counts[tk]) / 4000; math.Abs(f-want) > 0.03 {
			t.Errorf("%v drawn %.3f of the time, want %.2f", tk, f, want)
		}
	}
	if _, again := run(); !slices.Equal(seq, again) {
		t.Error("the weighted draws differ between two runs with the same seed")
	}
	for _, bad := range []LoaderOptions{
		{TaskWeights: map[degrade.Task]float64{degrade.Blur: 0}},
		{TaskWeights: map[degrade.Task]float64{degrade.Blur: math.NaN()}},
		{TaskWeights: map[degrade.Task]float64{degrade.Blur: math.Inf(1)}},
		{TaskWeights: map[degrade.Task]float64{0: 1}},
		{TaskWeights: map[degrade.Task]float64{degrade.Blur: 2}, Proportional: true},
	} {
		if l, err := NewLoader(src, bad); err == nil {
			l.Close()
			t.Errorf("NewLoader accepted %+v", bad)
		}
	}
}

// unevenSource has 1 SR image and 3 rain images.
type unevenSource struct{ rampSource }

func (s *unevenSource) Len(t degrade.Task) int {
	switch t {
	case degrade.SR:
		return 1
	case degrade.Rain:
		return 3
	}
	return 0
}

// Two loaders with Offset 0 and 2 and batch 2 draw exactly the two halves of
// the batch of 4 that one loader draws: data-parallel shards.
func TestLoaderShards(t *testing.T) {
	dir := cleanDir(t, 3, 176, 144)
	src, err := Clean(dir, degrade.Train(), 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := LoaderOptions{Batch: 4, Patch: 64, Seed: 3, Workers: 2}
	whole, err := NewLoader(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	var shards [2]*Loader
	for r := range shards {
		o := opts
		o.Batch, o.Offset = 2, 2*r
		if shards[r], err = NewLoader(src, o); err != nil {
			t.Fatal(err)
		}
		defer shards[r].Close()
	}
	tasks := degrade.AllTasks()
	for it := 1; it <= 5; it++ {
		w, err := whole.Batch(it, tasks)
		if err != nil {
			t.Fatal(err)
		}
		n := w.C * w.H * w.W
		for r, l := range shards {
			b, err := l.Batch(it, tasks)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(b.LQ, w.LQ[2*r*n:(2*r+2)*n]) || !slices.Equal(b.GT, w.GT[2*r*n:(2*r+2)*n]) ||
				!slices.Equal(b.Tasks, w.Tasks[2*r:2*r+2]) || !slices.Equal(b.Names, w.Names[2*r:2*r+2]) {
				t.Fatalf("iteration %d: shard %d is not samples %d..%d of the whole batch", it, r, 2*r, 2*r+1)
			}
		}
		if slices.Equal(w.LQ[:2*n], w.LQ[2*n:]) {
			t.Fatalf("iteration %d: the two halves are equal", it)
		}
	}
	if _, err := NewLoader(src, LoaderOptions{Offset: -1}); err == nil {
		t.Fatal("a negative offset was accepted")
	}
}
