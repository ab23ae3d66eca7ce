package serve

import (
	"context"
	"runtime"
	"sync"
)

// pool is the bounded worker pool with its queue. A request is admitted
// while fewer than capacity (workers + queue) are; it then reads its body
// and waits for one of the workers, which take jobs from an unbuffered
// channel, so that at most capacity bodies and workers decoded images are
// in memory at once.
type pool struct {
	jobs     chan *job
	capacity int
	workers  int

	mu       sync.Mutex
	admitted int // requests holding a place: reading, queued or running
	running  int // jobs in a worker
	draining bool
	idle     chan struct{} // closed once draining with nothing admitted
	quit     chan struct{} // closed to stop the workers
	stopped  chan struct{} // closed once every worker returned
	wg       sync.WaitGroup
}

// job is one restoration handed to a worker. The worker sets res or err,
// gives back the request's place and closes done.
type job struct {
	ctx  context.Context
	run  func(ctx context.Context) (*result, error)
	res  *result
	err  error
	done chan struct{}
}

func newPool(workers, queue int, run func(*job)) *pool {
	p := &pool{
		jobs:     make(chan *job),
		capacity: workers + queue,
		workers:  workers,
		idle:     make(chan struct{}),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	p.wg.Add(workers)
	for range workers {
		go p.work(run)
	}
	go func() {
		p.wg.Wait()
		close(p.stopped)
	}()
	go func() {
		<-p.idle
		close(p.quit)
	}()
	return p
}

// work runs jobs on one OS thread: libtorch keeps an OpenMP team and glibc a
// malloc arena per thread, and a goroutine that moves between threads makes
// new ones (see the README's performance notes). The thread is never
// unlocked, so it ends with the worker, and its OpenMP team with it.
func (p *pool) work(run func(*job)) {
	defer p.wg.Done()
	runtime.LockOSThread()
	for {
		select {
		case j := <-p.jobs:
			p.mu.Lock()
			p.running++
			p.mu.Unlock()
			run(j)
			p.finish()
			close(j.done)
		case <-p.quit:
			return
		}
	}
}

// admit takes a place for a request, or says why there is none.
func (p *pool) admit() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining {
		return ErrShuttingDown
	}
	if p.admitted >= p.capacity {
		return ErrQueueFull
	}
	p.admitted++
	return nil
}

// release gives back an admitted request's place.
func (p *pool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked()
}

func (p *pool) releaseLocked() {
	p.admitted--
	if p.draining && p.admitted == 0 {
		close(p.idle)
	}
}

// finish ends a job in a worker and gives back its place, at once, so that
// the counts never show it queued, and its place is free before its answer
// is sent.
func (p *pool) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	p.releaseLocked()
}

// submit hands j to a worker, which then releases its place; false when
// ctx ended first (the caller still holds the place).
func (p *pool) submit(j *job) bool {
	select {
	case p.jobs <- j:
		return true
	case <-j.ctx.Done():
		return false
	}
}

// drain refuses new requests from now on.
func (p *pool) drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.draining {
		p.draining = true
		if p.admitted == 0 {
			close(p.idle)
		}
	}
}

// state returns the queued and running counts and whether the pool drains.
func (p *pool) state() (queued, running int, draining bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.admitted - p.running, p.running, p.draining
}
