package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/mioir/serve"
	"github.com/gomioir/gomioir/nets/torch"
)

// LoadSecondsEnv names the environment variable that sets the load test's
// main phase, in seconds (default 60, or 10 with -short).
const LoadSecondsEnv = "MIOIR_LOAD_SECONDS"

func loadDuration(t *testing.T) time.Duration {
	d := 60 * time.Second
	if testing.Short() {
		d = 10 * time.Second
	}
	if v := os.Getenv(LoadSecondsEnv); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		require.NoError(t, err, LoadSecondsEnv)
		d = time.Duration(s * float64(time.Second))
	}
	return d
}

// input is one request of the load: a valid image, or a bad one with the
// status and code it must get.
type input struct {
	name, query string
	body        []byte
	status      int // 200 for a valid image
	code        string
}

// loadInputs are small valid images (64 to 128 pixels, a few tens of
// milliseconds each on two cores) in several formats and tasks, and the bad
// inputs of the issue: truncated, not an image, too large, a bomb header,
// a wrong task letter.
func loadInputs(t *testing.T, maxBody int) (valid, bad []input) {
	png96 := encodePNG(t, crop(t, 10, 20, 96, 96))
	rich := imagefile.FromImage(crop(t, 60, 100, 80, 72))
	rich.Depth, rich.EXIF, rich.ICC = 16, testEXIF(), testICC()
	rich.Alpha = make([]uint16, rich.Width*rich.Height)
	for i := range rich.Alpha {
		rich.Alpha[i] = uint16(65535 - i)
	}
	gray := imagefile.FromImage(crop(t, 128, 64, 112, 64))
	gray.Gray = true
	jpg := encode(t, imagefile.FromImage(crop(t, 30, 130, 128, 96)), "jpeg")
	valid = []input{
		{name: "png 96 auto", query: "task=auto", body: png96},
		{name: "png 64 noise", query: "task=n", body: encodePNG(t, crop(t, 150, 150, 64, 64))},
		{name: "jpeg 128x96 jpeg", query: "task=j", body: jpg},
		{name: "png16 alpha 80x72 rain", query: "task=r", body: encode(t, rich, "png")},
		{name: "gray 112x64 dark", query: "task=d", body: encode(t, gray, "png")},
		{name: "tiff 64 haze", query: "task=haze", body: encode(t, imagefile.FromImage(crop(t, 0, 190, 64, 64)), "tiff")},
		{name: "png 128 auto tiled", query: "task=auto&tile=64", body: encodePNG(t, crop(t, 64, 64, 128, 128))},
	}
	for i := range valid {
		valid[i].status = http.StatusOK
	}
	junk := make([]byte, maxBody+maxBody/2)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	bad = []input{
		{name: "truncated png", query: "task=auto", body: png96[:len(png96)*2/3], status: 400, code: serve.CodeCorruptImage},
		{name: "truncated jpeg", query: "task=j", body: jpg[:len(jpg)/2], status: 400, code: serve.CodeCorruptImage},
		{name: "not an image", query: "task=auto", body: []byte("GIF? no: plain text, not an image at all"), status: 415, code: serve.CodeUnknownFormat},
		{name: "too large", query: "task=n", body: junk, status: 413, code: serve.CodeBodyTooLarge},
		{name: "bomb header", query: "task=n", body: bombPNG(30000, 30000), status: 413, code: serve.CodeTooManyPixels},
		{name: "task x", query: "task=x", body: png96, status: 400, code: serve.CodeBadParameter},
	}
	return valid, bad
}

// outcome is one request's result.
type outcome struct {
	in      *input
	status  int
	code    string // of an error answer
	message string
	latency time.Duration
	err     error
}

// hit sends one request and reads its answer.
func hit(c *http.Client, url string, in *input) outcome {
	t0 := time.Now()
	o := outcome{in: in}
	resp, err := c.Post(url+"/v1/restore?"+in.query, "application/octet-stream", bytes.NewReader(in.body))
	if err != nil {
		o.err = err
		return o
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	o.latency, o.status, o.err = time.Since(t0), resp.StatusCode, err
	if o.status != http.StatusOK {
		var e serve.Error
		if err := json.Unmarshal(b, &e); err != nil {
			o.err = fmt.Errorf("error answer %d is not JSON: %q", o.status, b)
		}
		o.code, o.message = e.Code, e.Message
		if o.status == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			o.err = fmt.Errorf("429 without Retry-After")
		}
	}
	return o
}

// backoff is how long an overload client waits after a 429 before it tries
// again: shorter than Retry-After (1 s), to keep the pressure on, but not a
// busy loop that would take the CPU from the restorations.
const backoff = 100 * time.Millisecond

// drive runs clients that send requests for d; client i sends next(i, n)
// as its n-th request, and waits backoff after a 429.
func drive(url string, clients int, d time.Duration, next func(client, n int) *input) []outcome {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 2 * time.Minute}
	defer c.CloseIdleConnections()
	stop := time.Now().Add(d)
	var mu sync.Mutex
	var all []outcome
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			var mine []outcome
			for n := 0; time.Now().Before(stop); n++ {
				o := hit(c, url, next(i, n))
				mine = append(mine, o)
				if o.status == http.StatusTooManyRequests {
					time.Sleep(backoff)
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all
}

// rssBytes is the process's resident set size (VmRSS).
func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// latencies returns the 200 answers' latencies, sorted.
func latencies(outs []outcome) []time.Duration {
	var l []time.Duration
	for _, o := range outs {
		if o.err == nil && o.status == http.StatusOK {
			l = append(l, o.latency)
		}
	}
	slices.Sort(l)
	return l
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// serveLoopback serves h on a loopback port; stop shuts the server down.
func serveLoopback(t *testing.T, h http.Handler) (url string, stop func()) {
	ln := listen(t)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), func() {
		require.NoError(t, srv.Shutdown(context.Background()))
		<-done
	}
}

const mb = 1 << 20

// TestLoad runs the service under load on loopback, bounded in time: one
// client alone for a baseline, then 16 clients for LoadSecondsEnv seconds
// (60 by default) sending a mix of valid images and bad ones, then 16
// clients against a queue of 2 (overload). No answer may be a 5xx, every
// bad input must get its 4xx with a message, every valid one its image
// while the queue holds all clients; the resident memory must stay within
// 10 % of its level after a warm-up, and afterwards no goroutine, no tensor
// may be left. It logs p50/p99 latency, throughput against one client, and
// the 429s of the overload.
func TestLoad(t *testing.T) {
	d := loadDuration(t)
	short := max(d/6, 3*time.Second)
	const clients = 16
	const maxBody = 1 * mb
	valid, bad := loadInputs(t, maxBody)
	goroutines, tensors, gcFreed := runtime.NumGoroutine(), torch.LiveTensors(), torch.GCFreedTensors()

	h, err := serve.New(model, &serve.Options{Queue: clients, MaxBodyBytes: maxBody, MaxPixels: 1_000_000})
	require.NoError(t, err)
	url, stop := serveLoopback(t, h)

	// One client alone: the baseline throughput.
	one := drive(url, 1, short, func(_, n int) *input { return &valid[n%len(valid)] })
	checkOutcomes(t, one, false)
	oneRate := float64(len(latencies(one))) / short.Seconds()

	// 16 clients, one request in four a bad one. A warm-up first, then the
	// measured phase with the resident memory sampled every second.
	mixed := func(client, n int) *input {
		k := client*7 + n
		if k%4 == 3 {
			return &bad[(k/4)%len(bad)]
		}
		return &valid[k%len(valid)]
	}
	warm := drive(url, clients, short, mixed)
	checkOutcomes(t, warm, false)
	runtime.GC()
	rss0 := rssBytes(t)
	var rssMax int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Second) {
			rssMax = max(rssMax, rssBytes(t))
		}
	}()
	t0 := time.Now()
	load := drive(url, clients, d, mixed)
	elapsed := time.Since(t0)
	<-sampled
	rss1 := rssBytes(t)
	checkOutcomes(t, load, false)
	okLoad := latencies(load)
	loadRate := float64(len(okLoad)) / elapsed.Seconds()
	kinds := map[string]int{}
	for _, o := range load {
		kinds[fmt.Sprintf("%d %s", o.status, o.code)]++
	}
	m := scrape(t, url)
	require.Equal(t, 0.0, m.value("mioir_queue_depth"))
	require.Equal(t, 0.0, m.value("mioir_restores_in_flight"))
	for series := range m.with("mioir_http_requests_total") {
		require.NotContains(t, series, `code="5`, "no 5xx")
	}
	require.Equal(t, float64(len(latencies(one))+len(latencies(warm))+len(okLoad)),
		m.value(`mioir_http_requests_total{route="restore",code="200"}`))
	tiles := m.value("mioir_tiles_total")
	stop()
	require.NoError(t, h.Shutdown(context.Background()))

	// Overload: a queue of 2 behind the worker, 16 clients of valid images.
	h2, err := serve.New(model, &serve.Options{Queue: 2, MaxBodyBytes: maxBody})
	require.NoError(t, err)
	url2, stop2 := serveLoopback(t, h2)
	over := drive(url2, clients, short, func(client, n int) *input { return &valid[(client+n)%len(valid)] })
	checkOutcomes(t, over, true)
	rejected := 0
	for _, o := range over {
		if o.status == http.StatusTooManyRequests {
			rejected++
		}
	}
	okOver := latencies(over)
	require.Positive(t, rejected, "a queue of 2 with 16 clients must refuse some")
	require.Positive(t, len(okOver), "and restore others")
	require.Equal(t, float64(rejected), scrape(t, url2).value(`mioir_http_requests_total{route="restore",code="429"}`))
	stop2()
	require.NoError(t, h2.Shutdown(context.Background()))

	// Nothing left behind.
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutines back to their number before the servers")
	require.Equal(t, tensors, torch.LiveTensors(), "no tensor left alive")
	require.Equal(t, gcFreed, torch.GCFreedTensors(), "every tensor freed deterministically, none by the garbage collector")

	okOne := latencies(one)
	t.Logf("machine: %d CPUs, libtorch %s with %d intra-op threads, 1 worker", runtime.NumCPU(), torch.Version(), torch.NumThreads())
	t.Logf("1 client, %s, valid images: %d restored, %.1f images/s, latency p50 %s p99 %s",
		short, len(okOne), oneRate, ms(percentile(okOne, 0.5)), ms(percentile(okOne, 0.99)))
	t.Logf("%d clients, %s, mixed (1 in 4 bad): %d requests, %d restored, %.1f images/s (%.2fx one client), latency p50 %s p99 %s; %.0f tiles",
		clients, elapsed.Round(time.Millisecond), len(load), len(okLoad), loadRate, loadRate/oneRate,
		ms(percentile(okLoad, 0.5)), ms(percentile(okLoad, 0.99)), tiles)
	t.Logf("answers: %v", kinds)
	t.Logf("RSS after warm-up %.1f MiB, max during the load %.1f MiB (%+.1f %%), at the end %.1f MiB",
		float64(rss0)/mb, float64(rssMax)/mb, 100*(float64(rssMax)/float64(rss0)-1), float64(rss1)/mb)
	t.Logf("overload, %d clients on a queue of 2 (retrying %s after a 429), %s: %d requests, %d restored (%.1f images/s), %d answered 429 (%.0f %%), latency of the restored p50 %s p99 %s",
		clients, backoff, short, len(over), len(okOver), float64(len(okOver))/short.Seconds(), rejected, 100*float64(rejected)/float64(len(over)),
		ms(percentile(okOver, 0.5)), ms(percentile(okOver, 0.99)))
	t.Logf("afterwards: %d goroutines (%d before), %d live tensors (%d before)", runtime.NumGoroutine(), goroutines, torch.LiveTensors(), tensors)
	require.LessOrEqual(t, float64(rssMax), 1.10*float64(rss0), "resident memory flat after the warm-up (within 10 %)")
}

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }

// checkOutcomes: no transport error, no 5xx, each bad input its status and
// code with a message, each valid input 200 (or 429 when overload allows).
func checkOutcomes(t *testing.T, outs []outcome, overload bool) {
	t.Helper()
	require.NotEmpty(t, outs)
	for _, o := range outs {
		require.NoError(t, o.err, o.in.name)
		require.Less(t, o.status, 500, "%s: %d %s %s", o.in.name, o.status, o.code, o.message)
		if overload && o.status == http.StatusTooManyRequests {
			require.Equal(t, serve.CodeQueueFull, o.code)
			require.NotEmpty(t, o.message)
			continue
		}
		require.Equal(t, o.in.status, o.status, "%s: %s %s", o.in.name, o.code, o.message)
		if o.in.status != http.StatusOK {
			require.Equal(t, o.in.code, o.code, o.in.name)
			require.NotEmpty(t, o.message, o.in.name)
		}
	}
}
