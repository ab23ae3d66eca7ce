package serve

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DurationBuckets are the upper bounds, in seconds, of the latency
// histogram's buckets (mioir_restore_duration_seconds).
var DurationBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// rateWindow is the span over which mioir_tiles_per_second counts tiles.
const rateWindow = 10 * time.Second

// metrics counts what /metrics reports. Counters only grow; the gauges are
// read from the pool when written.
type metrics struct {
	mu       sync.Mutex
	requests map[reqKey]int64 // answers by route and status
	hist     []int64          // per bucket (not cumulative), then +Inf
	sum      float64          // seconds
	count    int64
	tiles    int64
	pixels   int64
	busy     float64         // seconds of restoration in workers
	perSec   [10]secondCount // tiles finished in each of the last seconds
	start    time.Time
}

type reqKey struct {
	route string
	code  int
}

type secondCount struct {
	sec int64 // unix second
	n   int64
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]int64{}, hist: make([]int64, len(DurationBuckets)+1), start: time.Now()}
}

// request counts an answer, and for a restored image its latency.
func (m *metrics) request(route string, code int, d time.Duration, restored bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{route, code}]++
	if !restored {
		return
	}
	s := d.Seconds()
	i, _ := slices.BinarySearch(DurationBuckets, s) // first bound >= s
	m.hist[i]++
	m.sum += s
	m.count++
}

// tile counts one finished tile.
func (m *metrics) tile(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tiles++
	sec := now.Unix()
	c := &m.perSec[sec%int64(len(m.perSec))]
	if c.sec != sec {
		*c = secondCount{sec: sec}
	}
	c.n++
}

// restored counts a restored image's pixels and the worker time it took.
func (m *metrics) restored(pixels int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pixels += int64(pixels)
	m.busy += d.Seconds()
}

// tileRate is the tiles finished per second over the last rateWindow (over
// the time since start while that is shorter).
func (m *metrics) tileRate(now time.Time) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	sec := now.Unix()
	var n int64
	for _, c := range m.perSec {
		if c.sec > sec-int64(len(m.perSec)) && c.sec <= sec {
			n += c.n
		}
	}
	span := min(now.Sub(m.start), rateWindow).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(n) / span
}

// gauges are the values of the moment that /metrics reports.
type gauges struct {
	queued, running, capacity, workers int
	draining                           bool
	liveTensors                        int64
}

// write writes the metrics in Prometheus' text exposition format (version
// 0.0.4).
func (m *metrics) write(w io.Writer, g gauges, now time.Time) error {
	rate := m.tileRate(now)
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if a.route != b.route {
			if a.route < b.route {
				return -1
			}
			return 1
		}
		return a.code - b.code
	})
	reqs := make([]int64, len(keys))
	for i, k := range keys {
		reqs[i] = m.requests[k]
	}
	hist := slices.Clone(m.hist)
	sum, count, tiles, pixels, busy := m.sum, m.count, m.tiles, m.pixels, m.busy
	m.mu.Unlock()

	p := &promWriter{w: w}
	p.family("mioir_http_requests_total", "counter", "HTTP requests answered, by route and status code (499: the client went away first).")
	for i, k := range keys {
		p.line(fmt.Sprintf(`mioir_http_requests_total{route=%q,code="%d"}`, k.route, k.code), float64(reqs[i]))
	}
	p.family("mioir_restore_duration_seconds", "histogram", "Time from arrival to the answer's header of the restorations answered 200, queue wait included.")
	var cum int64
	for i, b := range DurationBuckets {
		cum += hist[i]
		p.line(fmt.Sprintf(`mioir_restore_duration_seconds_bucket{le="%s"}`, formatFloat(b)), float64(cum))
	}
	cum += hist[len(DurationBuckets)]
	p.line(`mioir_restore_duration_seconds_bucket{le="+Inf"}`, float64(cum))
	p.line("mioir_restore_duration_seconds_sum", sum)
	p.line("mioir_restore_duration_seconds_count", float64(count))
	p.family("mioir_queue_depth", "gauge", "Requests admitted and not being restored (reading their body or waiting for a worker).")
	p.line("mioir_queue_depth", float64(g.queued))
	p.family("mioir_queue_capacity", "gauge", "Requests admitted at most at once (workers + queue); one more is answered 429.")
	p.line("mioir_queue_capacity", float64(g.capacity))
	p.family("mioir_restores_in_flight", "gauge", "Requests being decoded, restored or encoded by a worker.")
	p.line("mioir_restores_in_flight", float64(g.running))
	p.family("mioir_workers", "gauge", "Worker goroutines (concurrent restorations).")
	p.line("mioir_workers", float64(g.workers))
	p.family("mioir_tiles_total", "counter", "Tiles restored (an image restored in one pass is one tile).")
	p.line("mioir_tiles_total", float64(tiles))
	p.family("mioir_tiles_per_second", "gauge", "Tiles restored per second over the last 10 seconds.")
	p.line("mioir_tiles_per_second", rate)
	p.family("mioir_pixels_total", "counter", "Input pixels of the images restored.")
	p.line("mioir_pixels_total", float64(pixels))
	p.family("mioir_worker_busy_seconds_total", "counter", "Time the workers spent decoding, restoring and encoding.")
	p.line("mioir_worker_busy_seconds_total", busy)
	p.family("mioir_live_tensors", "gauge", "libtorch tensors alive in the process (nets/torch.LiveTensors).")
	p.line("mioir_live_tensors", float64(g.liveTensors))
	p.family("mioir_draining", "gauge", "1 once Shutdown was called: new restorations are answered 503.")
	d := 0.0
	if g.draining {
		d = 1
	}
	p.line("mioir_draining", d)
	return p.err
}

// promWriter writes lines and keeps the first error.
type promWriter struct {
	w   io.Writer
	err error
}

func (p *promWriter) family(name, typ, help string) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
}

func (p *promWriter) line(series string, v float64) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, "%s %s\n", series, formatFloat(v))
	}
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
