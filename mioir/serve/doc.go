// Package serve offers image restoration as an HTTP service: a Handler over a
// mioir.Model, ready to mount in any program's server.
//
//	m, err := pretrained.Default()               // or mioir.Open(path, nil)
//	h, err := serve.New(m, nil)                  // nil: the defaults below
//	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: h}
//	go srv.ListenAndServe()
//	...                                          // on SIGTERM:
//	h.Shutdown(ctx)                              // new restorations get 503, admitted ones finish
//	srv.Shutdown(ctx)                            // then the listener closes
//	m.Close()
//
// examples/serve is such a program, with a web page.
//
// # Routes
//
// POST /v1/restore restores one image. The image file is the body (any
// content type), or the file field (or the field named "image") of a
// multipart/form-data form. Parameters come from the query string, and from
// the form's fields, which win:
//
//   - task: auto (the default: the model's classifier picks the task, and
//     mioir.Guard may refuse its choice, in which case the image comes back
//     unchanged) or a task, one of s b n j r h d or their names (sr blur
//     noise jpeg rain haze dark). Anything else is a 400.
//   - strength: the share of the network's change to keep, in (0, 1], or 0
//     (the default; also empty) for the model's own estimate where it has one
//     (mioir.Options.Strength); 1 is the network's output as it is.
//   - tile: the tile side in pixels, MinTile to MaxTile, or 0 (the default)
//     to let the memory budget choose; smaller tiles stop sooner at a
//     deadline.
//   - timeout: the request's deadline, from its arrival, in seconds ("30")
//     or Go's notation ("1m30s"); at most Options.MaxTimeout (larger values
//     are capped), Options.Timeout when absent.
//   - format: json for a JSON answer (also chosen by an Accept header that
//     names application/json and no image type), image for the file.
//
// The answer is the restored image in the input's format: PNG in, PNG out;
// JPEG in, JPEG out; TIFF in, TIFF out (GIF, BMP and WebP, which are not
// written, come back as PNG), at the input's bit depth, grayscale or not,
// with its alpha channel unchanged and its EXIF and ICC profile (package
// mioir/imagefile reads and writes it). Headers say what was done:
//
//	Content-Type: image/png
//	Content-Disposition: inline; filename="photo-restored.png"
//	X-Mioir-Task: rain              (the task used; "none" when auto mode left the image unchanged)
//	X-Mioir-Auto: true              (the classifier chose it)
//	X-Mioir-Probabilities: sr=0.0000,blur=0.0000,noise=0.0000,jpeg=0.0000,rain=0.9998,haze=0.0002,dark=0.0000
//	X-Mioir-Fallback: blur: probability 0.497 < 0.700   (only when the guard did not take the choice)
//	X-Mioir-Strength: 1.000         (the share of the network's change kept)
//	X-Mioir-Tiles: 1
//
// The JSON answer is an Answer: the same facts, and the file in base64
// under "image".
//
// GET /v1/models describes the model (name, architecture, prompt kind,
// parameters, classifier, device), the seven tasks and the limits; GET
// /healthz answers 200 while serving and 503 once draining; GET /metrics
// answers Prometheus' text format (below).
//
// # Errors
//
// Every refusal is an *Error, answered as JSON with its status, a stable code
// and a message, e.g. {"status":415,"code":"unknown_format","message":"the
// body is not an image in a known format (PNG, JPEG, TIFF, GIF, BMP,
// WebP)"}. Bad input is always a 4xx: a bad parameter or an empty body 400,
// a truncated or corrupt file 400, a body over MaxBodyBytes 413, an image
// whose header declares more than MaxPixels 413 (checked before anything is
// decoded, so a small file claiming 30000x30000 pixels costs nothing), data
// that is no image 415. A full queue is 429 and a draining server 503, both
// with Retry-After; a request past its deadline is 504. A panic in a
// restoration is recovered into a 500; libtorch's C++ exceptions never reach
// Go as such (the library turns them into errors).
//
// # Workers, queue and memory
//
// Options.Workers restorations run at once, each on its own goroutine
// locked to an OS thread. The default, one, is right on a CPU: one
// restoration already uses every core through libtorch's intra-op threads
// (nets/torch.NumThreads, set by MIOIR_NUM_THREADS), so a second worker
// would share the same cores and add its memory; with more workers, lower the
// threads to about cores/Workers. On top of them Options.Queue requests (8 by
// default) may wait; the next is answered 429 at once. A request is admitted
// before its body is read, and decoded only by a worker, so the memory is
// bounded: at most Workers+Queue bodies of MaxBodyBytes, and Workers
// decoded images of MaxPixels (about 40 bytes a pixel for the decoded file,
// the float pixels and the output), besides the answers being sent and each
// restoration's tiles, which
// Options.MemoryBudget bounds (mioir.Options.MemoryBudget). With the defaults
// that is 9 x 64 MiB of bodies and one 25-megapixel image.
//
// # Deadlines and shutdown
//
// Each request has a deadline (its timeout parameter, from its arrival,
// queue wait included). When it passes while the request waits, the answer
// is 504 at once; while it is restored, the answer is 504 at once and the
// worker stops before its next tile (mioir.Model.Restore checks its context
// between tiles), so a request with tile=256 frees its worker within one
// tile's time. A client that goes away cancels its request the same way
// (counted as 499 in the metrics).
//
// Shutdown drains: new restorations are answered 503 (with Retry-After) and
// /healthz 503, those admitted before finish and are answered, then the
// workers stop and Shutdown returns (Drain starts the same and returns at
// once). Call it before http.Server.Shutdown, so
// that the listener stays open while draining and late requests are told
// 503 rather than refused a connection. The model is the caller's: close it
// after Shutdown.
//
// # Metrics
//
// GET /metrics is written by hand in Prometheus' text exposition format
// (0.0.4), with no dependency:
//
//   - mioir_http_requests_total{route,code}: answers by route (restore,
//     models, healthz, metrics, other) and status code, counted as their
//     header is sent (a scrape counts itself); 499 counts clients that went
//     away;
//   - mioir_restore_duration_seconds: a histogram (DurationBuckets) of the
//     time from arrival to the answer's header of the restorations answered
//     200 (the image follows at once: it is encoded before);
//   - mioir_queue_depth, mioir_queue_capacity, mioir_restores_in_flight,
//     mioir_workers: the pool's state;
//   - mioir_tiles_total and mioir_tiles_per_second (over the last 10
//     seconds; rate(mioir_tiles_total[1m]) in Prometheus does the same over
//     any window); mioir_pixels_total, mioir_worker_busy_seconds_total;
//   - mioir_live_tensors: libtorch tensors alive in the process, flat when
//     nothing leaks; mioir_draining: 1 once Shutdown was called.
package serve
