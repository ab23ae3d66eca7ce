package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/prompt"
)

// params are a restoration's parameters, from the query string and, for a
// multipart body, its form fields (which win).
type params struct {
	task     degrade.Task // zero: auto
	strength float64      // zero: the model's (mioir.Options.Strength)
	tile     int
	timeout  time.Duration
	json     bool
	name     string // the uploaded file's name, for the answer's file name
}

// paramNames are the parameters set reads, from the query or the form.
var paramNames = []string{"task", "strength", "tile", "timeout", "format"}

// set parses one parameter; unknown names are ignored.
func (h *Handler) set(p *params, name, v string) *Error {
	switch name {
	case "task":
		if v == "" || strings.EqualFold(v, "auto") {
			p.task = 0
			return nil
		}
		t, err := degrade.ParseTask(v)
		if err != nil {
			return badParameter("unknown task %q: want auto or one of s b n j r h d (sr blur noise jpeg rain haze dark)", v)
		}
		p.task = t
	case "strength":
		if v == "" {
			p.strength = 0
			return nil
		}
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || !(s >= 0 && s <= 1) {
			return badParameter("strength %q: want the share of the network's change to keep, in (0, 1], or 0 for the model's own", v)
		}
		p.strength = s
	case "tile":
		n, err := strconv.Atoi(v)
		if err != nil || n != 0 && (n < MinTile || n > MaxTile) {
			return badParameter("tile %q: want 0 (chosen from the memory budget) or a side of %d to %d pixels", v, MinTile, MaxTile)
		}
		p.tile = n
	case "timeout":
		d, err := time.ParseDuration(v)
		if err != nil {
			var s float64
			s, err = strconv.ParseFloat(v, 64)
			d = time.Duration(s * float64(time.Second))
		}
		if err != nil || d <= 0 {
			return badParameter("timeout %q: want a positive duration in seconds (\"30\") or Go's notation (\"1m30s\"), at most %s", v, h.o.MaxTimeout)
		}
		p.timeout = min(d, h.o.MaxTimeout)
	case "format":
		switch strings.ToLower(v) {
		case "json":
			p.json = true
		case "image", "":
			p.json = false
		default:
			return badParameter("format %q: want json (the image in base64 with the task in JSON) or image (the default)", v)
		}
	}
	return nil
}

// query reads the parameters of the query string.
func (h *Handler) query(r *http.Request) (params, *Error) {
	p := params{tile: h.o.Tile, timeout: h.o.Timeout, json: wantsJSON(r.Header.Get("Accept"))}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return p, badParameter("query string: %v", err)
	}
	for _, name := range paramNames {
		if vs, ok := q[name]; ok {
			if e := h.set(&p, name, vs[len(vs)-1]); e != nil {
				return p, e
			}
		}
	}
	return p, nil
}

// wantsJSON tells whether an Accept header asks for JSON rather than an
// image: it names application/json and no image type.
func wantsJSON(accept string) bool {
	json := false
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		if strings.HasPrefix(mt, "image/") {
			return false
		}
		json = json || mt == "application/json"
	}
	return json
}

// restore answers POST /v1/restore and returns the status.
func (h *Handler) restore(w http.ResponseWriter, r *http.Request, start time.Time) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return h.fail(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethod,
			Message: fmt.Sprintf("%s /v1/restore: send the image with POST", r.Method)})
	}
	p, e := h.query(r)
	if e != nil {
		return h.fail(w, e)
	}
	if r.ContentLength > h.o.MaxBodyBytes {
		return h.fail(w, h.bodyTooLarge(r.ContentLength))
	}
	if err := h.pool.admit(); err != nil {
		if errors.Is(err, ErrShuttingDown) {
			return h.fail(w, &Error{Status: http.StatusServiceUnavailable, Code: CodeDraining, Err: err,
				Message: "the server is shutting down and takes no new restorations; retry on another instance"})
		}
		return h.fail(w, &Error{Status: http.StatusTooManyRequests, Code: CodeQueueFull, Err: err,
			Message: fmt.Sprintf("every worker is busy and the queue is full (%d requests admitted); retry after %s s",
				h.pool.capacity, h.retryAfter)})
	}
	// The place is given back before a refusal is sent (or by the worker,
	// once the job is handed over), so that a client holding its answer
	// finds the place free.
	held := true
	refuse := func(e *Error) int {
		if held {
			held = false
			h.pool.release()
		}
		return h.fail(w, e)
	}
	defer func() {
		if held {
			h.pool.release()
		}
	}()

	// The body is read within the request's admission, so that at most
	// Workers+Queue bodies are in memory, and before its deadline.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(start.Add(p.timeout)) // not every ResponseWriter can; the body is bounded anyway
	img, p, e := h.readBody(w, r, p)
	_ = rc.SetReadDeadline(time.Time{})
	if e != nil {
		return refuse(e)
	}
	if p.task == 0 && h.model.Config().Prompt == prompt.Explicit && !h.model.HasClassifier() {
		return refuse(&Error{Status: http.StatusBadRequest, Code: CodeNeedsTask,
			Message: "this explicit-prompt model has no classifier: name the task (s b n j r h d)"})
	}

	ctx, cancel := context.WithDeadline(r.Context(), start.Add(p.timeout))
	defer cancel()
	j := &job{ctx: ctx, done: make(chan struct{}), run: func(ctx context.Context) (*result, error) {
		return h.process(ctx, img, p)
	}}
	if !h.pool.submit(j) {
		return refuse(h.stopped(ctx, p, "while waiting for a worker"))
	}
	held = false // the worker gives the place back
	select {
	case <-j.done:
	case <-ctx.Done():
		select {
		case <-j.done: // finished as the deadline came
		default:
			// The worker stops at its next tile and gives the place back.
			return h.fail(w, h.stopped(ctx, p, "while restoring"))
		}
	}
	if j.err != nil {
		var e *Error
		if !errors.As(j.err, &e) {
			e = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: j.err.Error(), Err: j.err}
		}
		return h.fail(w, e)
	}
	h.answer(w, j.res, p, start)
	return http.StatusOK
}

// stopped is the error of a request whose context ended: its deadline (504)
// or its client, gone (499).
func (h *Handler) stopped(ctx context.Context, p params, where string) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errorf(http.StatusGatewayTimeout, CodeDeadline, ctx.Err(),
			"the restoration did not finish within its timeout of %s (stopped %s); ask for a longer timeout (at most %s) or a smaller tile",
			p.timeout, where, h.o.MaxTimeout)
	}
	return errorf(StatusClientClosed, CodeClientGone, ctx.Err(), "the client went away %s", where)
}

func (h *Handler) bodyTooLarge(n int64) *Error {
	size := "more"
	if n > 0 {
		size = strconv.FormatInt(n, 10) + " bytes"
	}
	return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, nil,
		"the body has %s; this server takes at most %d bytes", size, h.o.MaxBodyBytes)
}

// readBody reads the image: the body itself, or the file part (or the part
// named "image") of a multipart/form-data body, whose other fields task,
// tile, timeout and format replace the query's.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, p params) ([]byte, params, *Error) {
	body := http.MaxBytesReader(w, r.Body, h.o.MaxBodyBytes)
	readErr := func(err error) *Error {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return h.bodyTooLarge(-1)
		}
		return errorf(http.StatusBadRequest, CodeBadRequest, err, "reading the body: %v", err)
	}
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, p, readErr(err)
		}
		if len(b) == 0 {
			return nil, p, errorf(http.StatusBadRequest, CodeBadRequest, nil,
				"empty body: send the image file as the body, or as the field \"image\" of a multipart/form-data form")
		}
		return b, p, nil
	}
	if mp["boundary"] == "" {
		return nil, p, errorf(http.StatusBadRequest, CodeBadRequest, nil, "multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(body, mp["boundary"])
	var img []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, p, readErr(err)
		}
		name := part.FormName()
		switch {
		case img == nil && (name == "image" || part.FileName() != ""):
			if img, err = io.ReadAll(part); err != nil {
				return nil, p, readErr(err)
			}
			p.name = part.FileName()
		case slices.Contains(paramNames, name):
			v, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return nil, p, readErr(err)
			}
			if e := h.set(&p, name, strings.TrimSpace(string(v))); e != nil {
				return nil, p, e
			}
		}
	}
	if len(img) == 0 {
		return nil, p, errorf(http.StatusBadRequest, CodeBadRequest, nil,
			"the multipart form has no image: send the file in the field \"image\"")
	}
	return img, p, nil
}

// result is a restored image, encoded.
type result struct {
	body          []byte
	format        string // png, jpeg or tiff
	width, height int
	info          *mioir.Info
}

// runJob runs a job on a worker, turning a panic into a 500.
func (h *Handler) runJob(j *job) {
	defer func() {
		if r := recover(); r != nil {
			j.res, j.err = nil, errorf(http.StatusInternalServerError, CodeInternal, nil, "internal error: %v", r)
			h.log.Printf("serve: panic in a restoration: %v\n%s", r, debug.Stack())
		}
	}()
	j.res, j.err = j.run(j.ctx)
}

// writable are the formats an answer keeps; others are answered as PNG.
var writable = map[string]bool{"png": true, "jpeg": true, "tiff": true}

// process decodes, restores and encodes one image, on a worker.
func (h *Handler) process(ctx context.Context, img []byte, p params) (*result, error) {
	if ctx.Err() != nil {
		return nil, h.stopped(ctx, p, "before its turn")
	}
	t0 := time.Now()
	im, err := imagefile.Decode(bytes.NewReader(img), &imagefile.Options{MaxPixels: h.o.MaxPixels})
	if err != nil {
		return nil, decodeError(err)
	}
	o := &mioir.Options{Task: p.task, Auto: p.task == 0 && h.model.HasClassifier(), Guard: h.o.Guard,
		Strength: p.strength, Tile: p.tile, Overlap: h.o.Overlap, MaxPixels: h.o.MaxPixels, MemoryBudget: h.o.MemoryBudget,
		Progress: func(done, total int) {
			if done > 0 {
				h.metrics.tile(time.Now())
			}
		}}
	out, info, err := h.model.RestoreImageFile(ctx, im, o)
	if err != nil {
		if ctx.Err() != nil {
			e := h.stopped(ctx, p, "between tiles")
			e.Message += ": " + err.Error()
			return nil, e
		}
		return nil, fmt.Errorf("restoring: %w", err)
	}
	format := out.Format
	if !writable[format] {
		format = "png"
	}
	var buf bytes.Buffer
	if err := imagefile.Encode(&buf, out, &imagefile.Options{Format: format, Quality: h.o.JPEGQuality}); err != nil {
		return nil, fmt.Errorf("encoding the answer: %w", err)
	}
	h.metrics.restored(im.Width*im.Height, time.Since(t0))
	return &result{body: buf.Bytes(), format: format, width: out.Width, height: out.Height, info: info}, nil
}

// decodeError turns imagefile's errors into answers.
func decodeError(err error) *Error {
	var tl *imagefile.TooLargeError
	var ce *imagefile.CorruptError
	switch {
	case errors.Is(err, imagefile.ErrUnknownFormat):
		return errorf(http.StatusUnsupportedMediaType, CodeUnknownFormat, err,
			"the body is not an image in a known format (PNG, JPEG, TIFF, GIF, BMP, WebP)")
	case errors.As(err, &tl):
		return errorf(http.StatusRequestEntityTooLarge, CodeTooManyPixels, err,
			"the image is %dx%d (%d pixels); this server restores at most %d pixels",
			tl.Width, tl.Height, int64(tl.Width)*int64(tl.Height), tl.MaxPixels)
	case errors.As(err, &ce):
		return errorf(http.StatusBadRequest, CodeCorruptImage, err, "corrupt or truncated %s file: %v", ce.Format, ce.Err)
	}
	return errorf(http.StatusBadRequest, CodeCorruptImage, err, "cannot read the image: %v", err)
}

var contentTypes = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff"}
var extensions = map[string]string{"png": ".png", "jpeg": ".jpg", "tiff": ".tif"}

// Answer is the JSON answer of POST /v1/restore?format=json (or with
// Accept: application/json).
type Answer struct {
	// Task is the task whose prompt was used ("rain"), "none" when auto
	// mode left the image unchanged, or empty when no task applies (a
	// plain or adaptive-prompt model without classifier).
	Task string `json:"task"`
	// Auto tells that the classifier chose the task.
	Auto bool `json:"auto"`
	// Probabilities are the classifier's, by task name; absent when it did
	// not run.
	Probabilities map[string]float32 `json:"probabilities,omitempty"`
	// Fallback says why the classifier's choice was refused (mioir.Guard).
	Fallback *Fallback `json:"fallback,omitempty"`
	// Strength is the share of the network's change kept
	// (mioir.Info.Strength): 1 unless asked or predicted by the model.
	Strength float64 `json:"strength"`
	// Tiles is the number of tiles restored (1: the whole image at once).
	Tiles int `json:"tiles"`
	// Width and Height are the output's size in pixels.
	Width  int `json:"width"`
	Height int `json:"height"`
	// ContentType is the image's type (image/png, image/jpeg, image/tiff),
	// FileName a name to save it under.
	ContentType string `json:"content_type"`
	FileName    string `json:"file_name"`
	// Image is the image file, base64 in JSON.
	Image []byte `json:"image"`
}

// Fallback is mioir.Fallback in JSON.
type Fallback struct {
	Chosen string `json:"chosen"`
	Reason string `json:"reason"`
	// Use is the task the guard's measurements chose instead (the
	// answer's task); empty when the image was left unchanged.
	Use string `json:"use,omitempty"`
}

// answer writes a restored image, or its JSON Answer.
func (h *Handler) answer(w http.ResponseWriter, res *result, p params, start time.Time) {
	info := res.info
	hd := w.Header()
	task := taskName(info)
	name := fileName(p.name, res.format)
	if p.json {
		a := Answer{Task: task, Auto: info.Auto, Strength: info.Strength, Tiles: info.Tiles, Width: res.width, Height: res.height,
			ContentType: contentTypes[res.format], FileName: name, Image: res.body}
		if info.Probs != nil {
			a.Probabilities = map[string]float32{}
			for i, v := range info.Probs {
				if t, err := degrade.TaskFromPromptIndex(i); err == nil {
					a.Probabilities[t.Name()] = v
				}
			}
		}
		if f := info.Fallback; f != nil {
			a.Fallback = &Fallback{Chosen: f.Chosen.Name(), Reason: f.Reason}
			if f.Use.Valid() {
				a.Fallback.Use = f.Use.Name()
			}
		}
		writeJSON(w, http.StatusOK, a)
		return
	}
	hd.Set("Content-Type", contentTypes[res.format])
	hd.Set("Content-Length", strconv.Itoa(len(res.body)))
	hd.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", name))
	hd.Set("X-Content-Type-Options", "nosniff")
	if task != "" {
		hd.Set("X-Mioir-Task", task)
	}
	hd.Set("X-Mioir-Auto", strconv.FormatBool(info.Auto))
	if info.Probs != nil {
		hd.Set("X-Mioir-Probabilities", ProbabilitiesHeader(info.Probs))
	}
	if f := info.Fallback; f != nil {
		hd.Set("X-Mioir-Fallback", headerText(f.Chosen.Name()+": "+f.Reason))
	}
	hd.Set("X-Mioir-Strength", strconv.FormatFloat(info.Strength, 'f', 3, 64))
	hd.Set("X-Mioir-Tiles", strconv.Itoa(info.Tiles))
	hd.Set("Server-Timing", fmt.Sprintf("total;dur=%.1f", float64(time.Since(start).Microseconds())/1000))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.body)
}

// taskName is the answer's task: the name, "none" when auto mode left the
// image unchanged, empty when no task applies.
func taskName(info *mioir.Info) string {
	switch {
	case info.Task.Valid():
		return info.Task.Name()
	case info.Fallback != nil:
		return "none"
	}
	return ""
}

// ProbabilitiesHeader formats the classifier's probabilities (indexed by
// prompt index, as mioir.Info.Probs) as the X-Mioir-Probabilities header:
// name=probability pairs in the task order s b n j r h d, e.g.
// "sr=0.0000,blur=0.0001,noise=0.0000,jpeg=0.0000,rain=0.9998,haze=0.0001,dark=0.0000".
func ProbabilitiesHeader(probs []float32) string {
	var parts []string
	for _, t := range degrade.AllTasks() {
		if i := t.PromptIndex(); i < len(probs) {
			parts = append(parts, fmt.Sprintf("%s=%.4f", t.Name(), probs[i]))
		}
	}
	return strings.Join(parts, ",")
}

// headerText keeps printable ASCII, so that a header value is valid.
func headerText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}

// fileName is the answer's file name: the upload's stem (letters, digits,
// '.', '_' and '-' kept) with "-restored" and the format's extension.
func fileName(upload, format string) string {
	stem := upload
	if i := strings.LastIndexAny(stem, `/\`); i >= 0 {
		stem = stem[i+1:]
	}
	if i := strings.LastIndexByte(stem, '.'); i > 0 {
		stem = stem[:i]
	}
	stem = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, stem)
	if stem == "" {
		return "restored" + extensions[format]
	}
	return stem + "-restored" + extensions[format]
}
