// Command serve serves image restoration over HTTP, with a web page.
//
//	go run ./examples/serve [-addr 127.0.0.1:8080] [-model PATH] [-workers N] [-queue N]
//		[-max-body MiB] [-max-pixels N] [-timeout D] [-max-timeout D] [-tile N] [-memory MiB]
//		[-device cpu|cuda] [-shutdown-timeout D] [-q]
//
// Without -model the library's bundled default model is used (package
// mioir/pretrained). PATH is a model file that mioir.Open reads without
// import options: a native model (mioir.Model.Save), which carries its
// prompt maps and classifier, or an authors' plain or adaptive-prompt .pth;
// an explicit-prompt .pth needs its maps and classifier, which this example
// does not take (examples/restore does).
//
// Open http://127.0.0.1:8080/ in a browser: drop an image (or choose one),
// pick the task or let the classifier choose, and the strength (the share of
// the network's change kept: the model's choice, full or less), see the task
// it detected with its probabilities and the strength used, compare before
// and after with a slider, and download
// the result. The page is plain HTML, CSS and JavaScript embedded in the
// program (web/); it calls the same API as any client:
//
//	curl --data-binary @photo.jpg 'http://127.0.0.1:8080/v1/restore?task=auto' -D - -o restored.jpg
//	curl -F image=@photo.png -F task=n 'http://127.0.0.1:8080/v1/restore?format=json'
//	curl http://127.0.0.1:8080/v1/models
//	curl http://127.0.0.1:8080/metrics
//
// The routes, parameters, headers and errors are those of package
// mioir/serve. -workers restorations run at once (default 1: one already
// uses every core), -queue more may wait (default 8), and the next request is
// answered 429 with Retry-After. -max-body (MiB) and -max-pixels bound a
// request's body and image size, -timeout is a request's default deadline
// and -max-timeout the longest it may ask for. Each request is logged on
// stderr (-q: not).
//
// SIGTERM or an interrupt (Ctrl-C) stops gracefully: new restorations are
// answered 503 while those admitted finish (at most -shutdown-timeout), then
// the listener closes and the program exits.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gomioir/gomioir/examples/internal/cli"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/pretrained"
	"github.com/gomioir/gomioir/mioir/serve"
	"github.com/gomioir/gomioir/nets/torch"
)

//go:embed web
var web embed.FS

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

type flags struct {
	addr, model, device  string
	workers, queue, tile int
	maxPixels            int
	maxBody, memory      int64
	timeout, maxTimeout  time.Duration
	shutdownTimeout      time.Duration
	quiet                bool
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&f.model, "model", "", "model file for mioir.Open (default: the bundled default model)")
	fs.StringVar(&f.device, "device", "cpu", "cpu, cuda or cuda:N")
	fs.IntVar(&f.workers, "workers", 1, "restorations at once (one already uses every core through libtorch's threads)")
	fs.IntVar(&f.queue, "queue", serve.DefaultQueue, "requests that may wait for a worker; more are answered 429 (0: none)")
	fs.Int64Var(&f.maxBody, "max-body", serve.DefaultMaxBodyBytes>>20, "largest request body, in MiB")
	fs.IntVar(&f.maxPixels, "max-pixels", serve.DefaultMaxPixels, "largest image, in pixels (checked from the header before decoding)")
	fs.DurationVar(&f.timeout, "timeout", serve.DefaultTimeout, "a request's deadline when it names none")
	fs.DurationVar(&f.maxTimeout, "max-timeout", serve.DefaultMaxTimeout, "the longest deadline a request may ask for")
	fs.IntVar(&f.tile, "tile", 0, "tile side in pixels when a request names none (0: chosen from -memory)")
	fs.Int64Var(&f.memory, "memory", 0, "memory budget of a restoration on the CPU, in MiB (0: mioir.DefaultMemoryBudget())")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 2*time.Minute, "on SIGTERM, how long admitted restorations may take to finish")
	fs.BoolVar(&f.quiet, "q", false, "no request log")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case f.workers < 1:
		return nil, errors.New("-workers must be at least 1")
	case f.queue < 0:
		return nil, errors.New("-queue must not be negative")
	case f.maxBody < 1:
		return nil, errors.New("-max-body must be at least 1 MiB")
	case f.maxPixels < 1:
		return nil, errors.New("-max-pixels must be positive")
	case f.timeout <= 0 || f.maxTimeout < f.timeout:
		return nil, errors.New("-timeout must be positive and at most -max-timeout")
	case f.tile != 0 && (f.tile < serve.MinTile || f.tile > serve.MaxTile):
		return nil, fmt.Errorf("-tile must be 0 or %d to %d", serve.MinTile, serve.MaxTile)
	case f.shutdownTimeout <= 0:
		return nil, errors.New("-shutdown-timeout must be positive")
	}
	return f, nil
}

// run serves until ctx ends, then drains and stops. ready, if set, is
// called with the address listened on once the server accepts connections.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) error {
	f, err := parse(args, stderr)
	if err != nil {
		return err
	}
	dev, err := cli.Device(f.device)
	if err != nil {
		return err
	}
	name, label := f.model, f.model
	if name == "" {
		name, label = pretrained.DefaultName, "default (bundled)"
	}
	m, err := mioir.Open(name, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	if dev != torch.CPU {
		if err := m.To(dev); err != nil {
			return err
		}
	}
	queue := f.queue
	if queue == 0 {
		queue = -1 // serve.Options: negative is none, 0 the default
	}
	h, err := serve.New(m, &serve.Options{
		Workers: f.workers, Queue: queue, MaxBodyBytes: f.maxBody << 20, MaxPixels: f.maxPixels,
		Timeout: f.timeout, MaxTimeout: f.maxTimeout, Tile: f.tile, MemoryBudget: f.memory << 20,
		ModelName: label, ErrorLog: log.New(stderr, "serve: ", log.LstdFlags),
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", h)
	mux.Handle("/healthz", h)
	mux.Handle("/metrics", h)
	mux.Handle("/", page())

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		h.Shutdown(context.Background())
		return err
	}
	var handler http.Handler = mux
	if !f.quiet {
		handler = logRequests(mux, stderr)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: log.New(stderr, "serve: http: ", log.LstdFlags)}
	fmt.Fprintf(stdout, "serving model %s (%s, %d parameters) on %s: http://%s/ (workers %d, queue %d, libtorch %s, %d threads)\n",
		label, m.Config().Name(), m.NumParams(), dev, ln.Addr(), f.workers, f.queue, torch.Version(), torch.NumThreads())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-served:
		h.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}

	// Graceful stop: the handler drains first, with the listener still
	// open, so that new requests are told 503 instead of refused; then the
	// server closes the listener and its idle connections.
	start := time.Now()
	h.Drain()
	st := h.Stats()
	fmt.Fprintf(stdout, "stopping: new restorations get 503; waiting for %d admitted (at most %s)\n",
		st.Queued+st.Running, f.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	derr := h.Shutdown(sctx)
	serr := srv.Shutdown(sctx)
	if err := errors.Join(derr, serr); err != nil {
		srv.Close()
		return fmt.Errorf("stopping: %w", err)
	}
	st = h.Stats()
	fmt.Fprintf(stdout, "stopped after %s: %d images restored, %d tiles\n", time.Since(start).Round(time.Millisecond), st.Restored, st.Tiles)
	return nil
}

// page serves the embedded web page and its files (GET and HEAD only).
func page() http.Handler {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "only GET and HEAD here; the API is POST /v1/restore", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// logRequests logs one line per request: method, path, status, the task of
// a restoration, bytes answered and the time taken.
func logRequests(next http.Handler, w io.Writer) http.Handler {
	l := log.New(w, "", log.LstdFlags)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: rw, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		task := rec.Header().Get("X-Mioir-Task")
		if task != "" {
			task = " task " + task
		}
		l.Printf("%s %s %d%s %d bytes %s", r.Method, r.URL.RequestURI(), rec.status, task, rec.n, time.Since(start).Round(time.Millisecond))
	})
}

// recorder keeps the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	n      int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
