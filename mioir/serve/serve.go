package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/nets/torch"
)

// Defaults of Options.
const (
	// DefaultQueue is how many requests may wait for a busy worker.
	DefaultQueue = 8
	// DefaultMaxBodyBytes bounds a request's body: 64 MiB, more than a
	// 24-megapixel photo needs as a JPEG or an 8-bit PNG.
	DefaultMaxBodyBytes = 64 << 20
	// DefaultMaxPixels bounds an image's size: 25 megapixels, a 24-megapixel
	// camera's photo. Decoding, restoring and encoding one take about 40
	// bytes a pixel besides the network's tiles (1 GB at the limit).
	DefaultMaxPixels = 25_000_000
	// DefaultTimeout is a request's deadline when it names none.
	DefaultTimeout = 2 * time.Minute
	// DefaultMaxTimeout caps the deadline a request may ask for.
	DefaultMaxTimeout = 10 * time.Minute
	// DefaultRetryAfter is the Retry-After of 429 and 503 answers.
	DefaultRetryAfter = time.Second
	// MinTile and MaxTile bound the tile parameter (0 leaves the tile to
	// the memory budget).
	MinTile, MaxTile = 32, 8192
)

// Options configure a Handler. A nil *Options means the defaults; so does
// the zero value of each field.
type Options struct {
	// Workers is how many restorations run at once (0: 1). One is right on
	// a CPU: a restoration already uses every core through libtorch's
	// intra-op threads (nets/torch.NumThreads, MIOIR_NUM_THREADS), so more
	// workers only share the same cores and add memory. With more workers,
	// lower the threads to about cores/Workers.
	Workers int
	// Queue is how many admitted requests may wait for a worker on top of
	// those being restored (0: DefaultQueue; negative: none). One more is
	// answered 429 Too Many Requests at once, with Retry-After.
	Queue int
	// MaxBodyBytes bounds a request's body (0: DefaultMaxBodyBytes); a
	// larger one is answered 413.
	MaxBodyBytes int64
	// MaxPixels bounds an image's width x height, checked from its header
	// before anything is decoded (0: DefaultMaxPixels); a larger one is
	// answered 413.
	MaxPixels int
	// Timeout is a request's deadline, from its arrival, when it names
	// none (0: DefaultTimeout); MaxTimeout caps the one it names (0:
	// DefaultMaxTimeout, at least Timeout). Past it, the restoration stops
	// before its next tile and the answer is 504.
	Timeout, MaxTimeout time.Duration
	// Tile, Overlap and MemoryBudget are the mioir.Options of every
	// restoration; a request's tile parameter replaces Tile.
	Tile, Overlap int
	MemoryBudget  int64
	// Guard checks the classifier's choice in auto mode (nil:
	// mioir.DefaultGuard(), as mioir.Options.Guard).
	Guard *mioir.Guard
	// JPEGQuality is the quality of JPEG answers (0: the imagefile
	// default, 95).
	JPEGQuality int
	// RetryAfter is the Retry-After of 429 and 503 answers, rounded up to
	// whole seconds (0: DefaultRetryAfter).
	RetryAfter time.Duration
	// ModelName names the model in GET /v1/models (empty: its
	// configuration's name, e.g. "SRResNet_EP+Classifier").
	ModelName string
	// ErrorLog receives the server's own faults (500 answers, recovered
	// panics); nil: the log package's standard logger.
	ErrorLog *log.Logger
}

// Handler serves a Model over HTTP: POST /v1/restore, GET /v1/models,
// GET /healthz and GET /metrics (the paths are matched exactly; mount it
// with http.StripPrefix under a prefix). It is safe for concurrent use. The
// model stays the caller's: close it after Shutdown.
type Handler struct {
	model      *mioir.Model
	o          Options // with the defaults filled in
	queue      int
	pool       *pool
	metrics    *metrics
	retryAfter string
	log        *log.Logger
}

// New returns a Handler over m with its workers started.
func New(m *mioir.Model, o *Options) (*Handler, error) {
	if m == nil {
		return nil, errors.New("serve: nil model")
	}
	var v Options
	if o != nil {
		v = *o
	}
	if v.Workers < 0 || v.MaxBodyBytes < 0 || v.MaxPixels < 0 || v.Timeout < 0 || v.MaxTimeout < 0 ||
		v.Tile < 0 || v.JPEGQuality < 0 || v.JPEGQuality > 100 || v.RetryAfter < 0 {
		return nil, fmt.Errorf("serve: invalid options %+v", v)
	}
	v.Workers = max(v.Workers, 1)
	queue := v.Queue
	if queue == 0 {
		queue = DefaultQueue
	}
	queue = max(queue, 0)
	if v.MaxBodyBytes == 0 {
		v.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if v.MaxPixels == 0 {
		v.MaxPixels = DefaultMaxPixels
	}
	if v.Timeout == 0 {
		v.Timeout = DefaultTimeout
	}
	if v.MaxTimeout == 0 {
		v.MaxTimeout = DefaultMaxTimeout
	}
	v.MaxTimeout = max(v.MaxTimeout, v.Timeout)
	if v.RetryAfter == 0 {
		v.RetryAfter = DefaultRetryAfter
	}
	if v.ModelName == "" {
		v.ModelName = m.Config().Name()
	}
	h := &Handler{model: m, o: v, queue: queue, metrics: newMetrics(), log: v.ErrorLog,
		retryAfter: strconv.Itoa(int((v.RetryAfter + time.Second - 1) / time.Second))}
	if h.log == nil {
		h.log = log.Default()
	}
	h.pool = newPool(v.Workers, queue, h.runJob)
	return h, nil
}

// Shutdown drains the handler: from now on new restorations are answered
// 503 (and GET /healthz too, so that a load balancer stops sending), while
// those admitted before, queued or running, finish and are answered. It
// returns once they all have and the workers have stopped, or with ctx's
// error when ctx ends first (the restorations then go on; call it again to
// wait). A server's graceful stop is Shutdown, then http.Server.Shutdown:
// the listener stays open meanwhile, so that new requests get a 503 with a
// message rather than a refused connection.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.Drain()
	select {
	case <-h.pool.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Drain starts Shutdown's draining and returns at once: from now on new
// restorations are answered 503, while those admitted go on.
func (h *Handler) Drain() { h.pool.drain() }

// Stats is a snapshot of the handler's state.
type Stats struct {
	// Workers and Capacity (workers + queue) are the pool's bounds.
	Workers, Capacity int
	// Queued requests are admitted and not being restored; Running ones
	// are in a worker.
	Queued, Running int
	// Draining tells that Shutdown was called.
	Draining bool
	// Restored counts the images answered 200, Tiles the tiles restored.
	Restored, Tiles int64
}

// Stats returns the handler's current state.
func (h *Handler) Stats() Stats {
	q, r, d := h.pool.state()
	h.metrics.mu.Lock()
	defer h.metrics.mu.Unlock()
	return Stats{Workers: h.o.Workers, Capacity: h.pool.capacity, Queued: q, Running: r, Draining: d,
		Restored: h.metrics.count, Tiles: h.metrics.tiles}
}

// Routes of the handler, as the metrics label them.
const (
	routeRestore = "restore"
	routeModels  = "models"
	routeHealth  = "healthz"
	routeMetrics = "metrics"
	routeOther   = "other"
)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &counted{ResponseWriter: w, m: h.metrics, route: routeOther, start: start}
	var code int
	switch r.URL.Path {
	case "/v1/restore":
		rw.route = routeRestore
		code = h.restore(rw, r, start)
	case "/v1/models":
		rw.route = routeModels
		code = h.get(rw, r, h.models)
	case "/healthz":
		rw.route = routeHealth
		code = h.get(rw, r, h.health)
	case "/metrics":
		rw.route = routeMetrics
		code = h.get(rw, r, h.writeMetrics)
	default:
		code = h.fail(rw, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: fmt.Sprintf("no such path %q: POST /v1/restore, GET /v1/models, /healthz or /metrics", r.URL.Path)})
	}
	if !rw.counted { // nothing was sent (the client went away)
		rw.count(code)
	}
}

// counted counts an answer in the metrics when its header is written, so
// that a client that has its answer finds it in /metrics, and a restoration's
// latency is the time to its answer's header.
type counted struct {
	http.ResponseWriter
	m       *metrics
	route   string
	start   time.Time
	counted bool
}

func (c *counted) count(code int) {
	c.counted = true
	c.m.request(c.route, code, time.Since(c.start), c.route == routeRestore && code == http.StatusOK)
}

func (c *counted) WriteHeader(code int) {
	if !c.counted {
		c.count(code)
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *counted) Write(b []byte) (int, error) {
	if !c.counted {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (c *counted) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// get answers a GET or HEAD route.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, f func(http.ResponseWriter) int) int {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return h.fail(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethod,
			Message: fmt.Sprintf("%s %s: only GET and HEAD", r.Method, r.URL.Path)})
	}
	return f(w)
}

// fail writes e as JSON and returns its status.
func (h *Handler) fail(w http.ResponseWriter, e *Error) int {
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", h.retryAfter)
	}
	if e.Status >= 500 && e.Status != http.StatusServiceUnavailable && e.Status != http.StatusGatewayTimeout {
		h.log.Printf("serve: %v", e)
	}
	if e.Status == StatusClientClosed {
		return e.Status // nobody to tell
	}
	writeJSON(w, e.Status, e)
	return e.Status
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, status = []byte(`{"status":500,"code":"internal","message":"cannot encode the answer"}`), http.StatusInternalServerError
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// health answers GET /healthz: 200 while serving, 503 once draining.
func (h *Handler) health(w http.ResponseWriter) int {
	q, r, d := h.pool.state()
	status, word := http.StatusOK, "ok"
	if d {
		status, word = http.StatusServiceUnavailable, "shutting down"
		w.Header().Set("Retry-After", h.retryAfter)
	}
	writeJSON(w, status, map[string]any{"status": word, "queued": q, "running": r, "capacity": h.pool.capacity})
	return status
}

// modelInfo is GET /v1/models's description of the model.
type modelInfo struct {
	Name       string `json:"name"`
	Config     string `json:"config"`
	Arch       string `json:"arch"`
	Prompt     string `json:"prompt"`
	Parameters int64  `json:"parameters"`
	Classifier bool   `json:"classifier"`
	Device     string `json:"device"`
}

type taskInfo struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type limits struct {
	Workers           int     `json:"workers"`
	Queue             int     `json:"queue"`
	MaxBodyBytes      int64   `json:"max_body_bytes"`
	MaxPixels         int     `json:"max_pixels"`
	TimeoutSeconds    float64 `json:"timeout_seconds"`
	MaxTimeoutSeconds float64 `json:"max_timeout_seconds"`
	Tile              int     `json:"tile"`
}

type modelsAnswer struct {
	Models   []modelInfo `json:"models"`
	Tasks    []taskInfo  `json:"tasks"`
	Limits   limits      `json:"limits"`
	Libtorch string      `json:"libtorch"`
	Threads  int         `json:"threads"`
}

// models answers GET /v1/models.
func (h *Handler) models(w http.ResponseWriter) int {
	cfg := h.model.Config()
	a := modelsAnswer{
		Models: []modelInfo{{Name: h.o.ModelName, Config: cfg.Name(), Arch: cfg.Arch, Prompt: cfg.Prompt.String(),
			Parameters: h.model.NumParams(), Classifier: h.model.HasClassifier(), Device: h.model.Device().String()}},
		Limits: limits{Workers: h.o.Workers, Queue: h.queue, MaxBodyBytes: h.o.MaxBodyBytes, MaxPixels: h.o.MaxPixels,
			TimeoutSeconds: h.o.Timeout.Seconds(), MaxTimeoutSeconds: h.o.MaxTimeout.Seconds(), Tile: h.o.Tile},
		Libtorch: torch.Version(),
		Threads:  torch.NumThreads(),
	}
	for _, t := range degrade.AllTasks() {
		a.Tasks = append(a.Tasks, taskInfo{Code: string(t.Code()), Name: t.Name()})
	}
	writeJSON(w, http.StatusOK, a)
	return http.StatusOK
}

// writeMetrics answers GET /metrics.
func (h *Handler) writeMetrics(w http.ResponseWriter) int {
	q, r, d := h.pool.state()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	g := gauges{queued: q, running: r, capacity: h.pool.capacity, workers: h.o.Workers, draining: d,
		liveTensors: torch.LiveTensors()}
	_ = h.metrics.write(w, g, time.Now())
	return http.StatusOK
}
