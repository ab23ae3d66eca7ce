package data

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gomioir/gomioir/degrade"
)

// Batch is one training batch: N samples of C x H x W pixels (C = 3, RGB,
// values in [0,1]) in NCHW layout, the layout of the tensors the trainer
// builds from it.
type Batch struct {
	Iter       int // the iteration it was drawn for
	N, C, H, W int
	LQ, GT     []float32 // N*C*H*W each; GT is nil with LoaderOptions.LQOnly
	Tasks      []degrade.Task
	Names      []string // source image of each sample (Source.Name)
}

// PromptIndices returns each sample's explicit-prompt row and classifier label
// (degrade.Task.PromptIndex: blur 0, noise 1, jpeg 2, rain 3, haze 4, dark 5,
// sr 6). The EP maps themselves belong to the model; the AP prompt is LQ.
func (b *Batch) PromptIndices() []int {
	out := make([]int, len(b.Tasks))
	for i, t := range b.Tasks {
		out[i] = t.PromptIndex()
	}
	return out
}

// Sample returns sample i's LQ (and GT, nil with LQOnly) as CHW slices
// aliasing the batch.
func (b *Batch) Sample(i int) (lq, gt []float32) {
	n := b.C * b.H * b.W
	lq = b.LQ[i*n : (i+1)*n]
	if b.GT != nil {
		gt = b.GT[i*n : (i+1)*n]
	}
	return lq, gt
}

// LoaderOptions configure a Loader.
type LoaderOptions struct {
	// Batch is the number of samples per batch (default 4).
	Batch int
	// Patch is the side of the square crops (default 128; the classifier
	// uses 256).
	Patch int
	// Offset is the first slot of an iteration's global batch this loader
	// draws: its batch holds slots Offset..Offset+Batch-1. Rank r of a
	// data-parallel run sets it to r*Batch, so that the ranks' batches are
	// disjoint shards of one global batch of Batch*World samples, the
	// very samples a single process with that batch would draw (default 0).
	Offset int
	// Seed makes the data: batch k is a function of (Seed, k, tasks, source).
	Seed uint64
	// Workers is the number of goroutines preparing samples (default
	// DefaultWorkers()). Results never depend on it.
	Workers int
	// Prefetch is the number of batches prepared ahead of the one asked for
	// (default 2; negative: none).
	Prefetch int
	// Plan gives the active tasks of upcoming iterations, for prefetching
	// (for example func(i int) []degrade.Task { return plan.At(i).Tasks }
	// guarded by plan.TotalIters). nil: the next iterations are assumed to
	// use the tasks of the last call. A nil or empty result stops the
	// look-ahead there. A wrong guess only costs time.
	Plan func(iter int) []degrade.Task
	// LQOnly leaves Batch.GT nil (classifier training).
	LQOnly bool
	// Proportional draws each sample's task in proportion to the task's
	// image count (Source.Len), as the reference does by drawing from the
	// union of the stage's folders. The default draws tasks uniformly.
	Proportional bool
	// TaskWeights draws each sample's task in proportion to these weights
	// among the active tasks (a task not in the map weighs 1), to spend
	// more of a short budget on the slow learners. Weights must be finite
	// and positive. It cannot be combined with Proportional.
	TaskWeights map[degrade.Task]float64
	// OnSkip receives the images skipped at sampling time because they could
	// not be read or degraded (once per image). Default: the standard log.
	OnSkip SkipFunc
}

// DefaultWorkers is the default LoaderOptions.Workers: GOMAXPROCS/4, at
// least 1 and at most 4. The loader shares the cores with libtorch's
// threads (architecture rule 10) and one worker already prepares a 4 x 128
// batch from Clean sub-images in a few per cent of a training step, while a
// second busy worker on two cores doubled an SRResNet-EP step (see the
// package documentation for the measurements).
func DefaultWorkers() int { return min(4, max(1, runtime.GOMAXPROCS(0)/4)) }

// maxAttempts bounds the redraws of a sample whose image is unusable.
const maxAttempts = 64

// Loader prepares batches from a Source with worker goroutines, ahead of the
// iteration that asks for them. Batch k depends only on the seed, k, the set
// of active tasks and the source, never on the number of workers, the
// prefetching or timing: a run resumed at iteration k sees the same data.
//
// Sampling, per sample (slot j of iteration k, from a PCG stream seeded by
// (Seed, k, j)): a task uniformly among the active ones, an image uniformly
// among the task's images, the crop's top-left uniformly in the image's
// area, then three coin flips applied to LQ and GT alike in BasicSR's
// order: horizontal flip, vertical flip, transpose; then the key the source
// degrades with. The reference samples an image uniformly from the union
// of the stage's task folders, i.e. a task in proportion to its image
// count; its counts are equal up to a few rain/haze sub-images, so uniform
// task sampling is the same distribution without depending on counts
// (LoaderOptions.Proportional reproduces the reference's rule).
//
// An image whose patch cannot be produced (unreadable or corrupt file) is
// reported once (per name) through OnSkip and never drawn again; the sample is redrawn
// from the same stream, so the outcome does not depend on which worker met
// the file first.
type Loader struct {
	src      Source
	opt      LoaderOptions
	skip     sync.Map // badKey -> error
	reported sync.Map // name -> true, for OnSkip

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []job
	pending map[int]*pending
	closed  bool
	wg      sync.WaitGroup
	quit    chan struct{}
}

type badKey struct {
	t degrade.Task
	i int
}

type job struct {
	p    *pending
	slot int
}

// pending is a batch being prepared.
type pending struct {
	b      *Batch
	active []degrade.Task
	errs   []error
	left   atomic.Int32
	stale  atomic.Bool
	done   chan struct{}
}

// NewLoader checks the source against the options (every image of the
// source's tasks at least Patch x Patch, else an ErrTooSmall error naming them)
// and starts the workers. Close stops them.
func NewLoader(src Source, o LoaderOptions) (*Loader, error) {
	if src == nil {
		return nil, fmt.Errorf("data: NewLoader: nil source")
	}
	if o.Batch == 0 {
		o.Batch = 4
	}
	if o.Patch == 0 {
		o.Patch = 128
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers()
	}
	if o.Prefetch == 0 {
		o.Prefetch = 2
	}
	if o.Batch < 0 || o.Patch < 0 || o.Workers < 0 || o.Offset < 0 {
		return nil, fmt.Errorf("data: NewLoader: negative batch %d, patch %d, workers %d or offset %d", o.Batch, o.Patch, o.Workers, o.Offset)
	}
	if o.TaskWeights != nil && o.Proportional {
		return nil, fmt.Errorf("data: NewLoader: TaskWeights and Proportional both set")
	}
	if err := CheckTaskWeights(o.TaskWeights); err != nil {
		return nil, fmt.Errorf("data: NewLoader: %w", err)
	}
	ts := src.Tasks()
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: the source has no task", ErrEmpty)
	}
	var small []string
	for _, t := range ts {
		for i := range src.Len(t) {
			if w, h := src.Size(t, i); w < o.Patch || h < o.Patch {
				small = append(small, fmt.Sprintf("%s (%dx%d)", src.Name(t, i), w, h))
			}
		}
	}
	if len(small) > 0 {
		return nil, fmt.Errorf("%w: %d x %d patches do not fit %s", ErrTooSmall, o.Patch, o.Patch, listNames(small))
	}
	l := &Loader{src: src, opt: o, pending: map[int]*pending{}, quit: make(chan struct{})}
	l.cond = sync.NewCond(&l.mu)
	for range o.Workers {
		l.wg.Add(1)
		go l.work()
	}
	return l, nil
}

// Options returns the options in use (defaults filled in).
func (l *Loader) Options() LoaderOptions { return l.opt }

// Close stops the workers and fails the batches still waited for with
// ErrClosed. It is idempotent.
func (l *Loader) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.quit)
	l.queue = nil
	l.cond.Broadcast()
	l.mu.Unlock()
	l.wg.Wait()
	return nil
}

// normTasks validates tasks against the source and returns them in the order
// of degrade.AllTasks, without repeats: the set, not the order, matters.
func (l *Loader) normTasks(tasks []degrade.Task) ([]degrade.Task, error) {
	if len(tasks) == 0 {
		return nil, fmt.Errorf("data: no active task")
	}
	for _, t := range tasks {
		if !t.Valid() {
			return nil, fmt.Errorf("data: invalid task %d", int(t))
		}
		if l.src.Len(t) == 0 {
			return nil, fmt.Errorf("%w: the source has no images of task %s", ErrEmpty, t)
		}
	}
	return tasksIn(func(t degrade.Task) bool { return slices.Contains(tasks, t) }), nil
}

// Batch returns the batch of iteration iter for the active tasks (see
// BatchContext).
func (l *Loader) Batch(iter int, tasks []degrade.Task) (*Batch, error) {
	return l.BatchContext(context.Background(), iter, tasks)
}

// BatchContext returns the batch of iteration iter for the active tasks,
// from the prefetched ones when ready, and starts preparing the next
// Prefetch iterations. The batch is freshly allocated and owned by the
// caller. It returns ctx's error if ctx ends first and ErrClosed after Close.
func (l *Loader) BatchContext(ctx context.Context, iter int, tasks []degrade.Task) (*Batch, error) {
	ts, err := l.normTasks(tasks)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	p := l.pending[iter]
	if p == nil || !slices.Equal(p.active, ts) {
		if p != nil {
			p.stale.Store(true) // prepared for other tasks
		}
		p = l.startLocked(iter, ts, true)
	}
	delete(l.pending, iter)
	for k, q := range l.pending {
		if k < iter || k > iter+max(0, l.opt.Prefetch) {
			q.stale.Store(true)
			delete(l.pending, k)
		}
	}
	for k := 1; k <= l.opt.Prefetch; k++ {
		next := ts
		if l.opt.Plan != nil {
			if next, err = l.normTasks(l.opt.Plan(iter + k)); err != nil {
				break
			}
		}
		if q := l.pending[iter+k]; q == nil || !slices.Equal(q.active, next) {
			if q != nil {
				q.stale.Store(true)
			}
			l.pending[iter+k] = l.startLocked(iter+k, next, false)
		}
	}
	l.mu.Unlock()

	select {
	case <-p.done:
	case <-ctx.Done():
		p.stale.Store(true)
		return nil, ctx.Err()
	case <-l.quit:
		return nil, ErrClosed
	}
	for _, e := range p.errs {
		if e != nil {
			return nil, e
		}
	}
	return p.b, nil
}

// startLocked creates the pending batch for iter and queues its samples
// (first in the queue when urgent). l.mu is held.
func (l *Loader) startLocked(iter int, ts []degrade.Task, urgent bool) *pending {
	n, c, s := l.opt.Batch, 3, l.opt.Patch
	b := &Batch{Iter: iter, N: n, C: c, H: s, W: s,
		LQ: make([]float32, n*c*s*s), Tasks: make([]degrade.Task, n), Names: make([]string, n)}
	if !l.opt.LQOnly {
		b.GT = make([]float32, n*c*s*s)
	}
	p := &pending{b: b, active: ts, errs: make([]error, n), done: make(chan struct{})}
	p.left.Store(int32(n))
	if n == 0 {
		close(p.done)
		return p
	}
	jobs := make([]job, n)
	for j := range jobs {
		jobs[j] = job{p: p, slot: j}
	}
	if urgent {
		l.queue = append(jobs, l.queue...)
	} else {
		l.queue = append(l.queue, jobs...)
	}
	l.cond.Broadcast()
	return p
}

func (l *Loader) work() {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closed {
			l.cond.Wait()
		}
		if l.closed {
			l.mu.Unlock()
			return
		}
		j := l.queue[0]
		l.queue = l.queue[1:]
		l.mu.Unlock()
		if !j.p.stale.Load() {
			j.p.errs[j.slot] = l.sample(j.p, j.slot)
		}
		if j.p.left.Add(-1) == 0 {
			close(j.p.done)
		}
	}
}

// bounded maps a uniform 64-bit draw to [0, n) (n < 2^32), consuming the
// same draw whatever n is.
func bounded(u uint64, n int) int { return int((u >> 32) * uint64(n) >> 32) }

// drawTask draws the sample's task among the active ones (one draw from r).
func (l *Loader) drawTask(r *rand.Rand, active []degrade.Task) degrade.Task {
	if l.opt.TaskWeights != nil {
		total := 0.0
		for _, t := range active {
			total += l.weight(t)
		}
		u := r.Float64() * total
		for _, t := range active {
			if u < l.weight(t) {
				return t
			}
			u -= l.weight(t)
		}
		return active[len(active)-1]
	}
	if !l.opt.Proportional {
		return active[r.IntN(len(active))]
	}
	total := 0
	for _, t := range active {
		total += l.src.Len(t)
	}
	u := r.IntN(total)
	for _, t := range active {
		if u < l.src.Len(t) {
			return t
		}
		u -= l.src.Len(t)
	}
	return active[len(active)-1]
}

// CheckTaskWeights reports a LoaderOptions.TaskWeights entry that is not a
// valid task with a finite positive weight.
func CheckTaskWeights(w map[degrade.Task]float64) error {
	for t, x := range w {
		if !t.Valid() || !(x > 0) || math.IsInf(x, 1) {
			return fmt.Errorf("task weight %v for %v: weights must be finite and positive", x, t)
		}
	}
	return nil
}

// weight is t's TaskWeights entry, 1 when absent.
func (l *Loader) weight(t degrade.Task) float64 {
	if w, ok := l.opt.TaskWeights[t]; ok {
		return w
	}
	return 1
}

// sample draws slot j of p's batch and writes it.
func (l *Loader) sample(p *pending, j int) error {
	b := p.b
	r := l.rng(b.Iter, l.opt.Offset+j)
	t := l.drawTask(r, p.active)
	n, s := l.src.Len(t), l.opt.Patch
	for range maxAttempts {
		// Every attempt consumes the same draws, usable image or not.
		i := r.IntN(n)
		ux, uy, flips, key := r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()
		bk := badKey{t, i}
		if _, bad := l.skip.Load(bk); bad {
			continue
		}
		w, h := l.src.Size(t, i)
		x, y := bounded(ux, w-s+1), bounded(uy, h-s+1)
		lq, gt, err := l.src.Patch(t, i, image.Rect(x, y, x+s, y+s), key)
		if err == nil && (lq == nil || lq.W != s || lq.H != s || len(lq.Pix) != 3*s*s ||
			(!l.opt.LQOnly && (gt == nil || gt.W != s || gt.H != s || len(gt.Pix) != 3*s*s))) {
			err = fmt.Errorf("data: source returned a patch of the wrong size")
		}
		if err != nil {
			l.skip.Store(bk, err)
			name := l.src.Name(t, i)
			if _, loaded := l.reported.LoadOrStore(name, true); !loaded {
				l.opt.OnSkip.report(name, err)
			}
			continue
		}
		hf, vf, tr := flips&1 != 0, flips&2 != 0, flips&4 != 0
		lqOut, gtOut := b.Sample(j)
		augment(lqOut, lq.Pix, s, hf, vf, tr)
		if gtOut != nil {
			augment(gtOut, gt.Pix, s, hf, vf, tr)
		}
		b.Tasks[j] = t
		b.Names[j] = l.src.Name(t, i)
		return nil
	}
	return fmt.Errorf("%w: iteration %d sample %d: no usable %s image in %d draws", ErrEmpty, b.Iter, j, t, maxAttempts)
}

// augment writes the s x s CHW patch src to dst flipped as BasicSR's augment
// does, in its order: horizontal flip (columns reversed), vertical flip (rows
// reversed), then transpose (rows and columns swapped). Output (y, x) reads
// the source through the inverse steps in reverse order.
func augment(dst, src []float32, s int, hflip, vflip, transpose bool) {
	n := s * s
	for c := range 3 {
		sp, dp := src[c*n:(c+1)*n], dst[c*n:(c+1)*n]
		for y := range s {
			row := dp[y*s : (y+1)*s]
			for x := range row {
				sy, sx := y, x
				if transpose {
					sy, sx = x, y
				}
				if vflip {
					sy = s - 1 - sy
				}
				if hflip {
					sx = s - 1 - sx
				}
				row[x] = sp[sy*s+sx]
			}
		}
	}
}

// rng returns the stream of slot j of iteration iter.
func (l *Loader) rng(iter, j int) *rand.Rand {
	return rand.New(rand.NewPCG(mix64(l.opt.Seed^0x6d696f6972), mix64(uint64(iter)*0x9e3779b97f4a7c15+uint64(j)+1)))
}

// ClassifierOptions returns the reference classifier's loader settings
// (train_classifier.yml): batch 16, 256 x 256 LQ-only crops; labels are
// Batch.PromptIndices.
func ClassifierOptions(seed uint64) LoaderOptions {
	return LoaderOptions{Batch: 16, Patch: 256, Seed: seed, LQOnly: true}
}
