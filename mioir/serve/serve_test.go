package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/mioir/serve"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// restored is what the library gives for file: the expected answer.
func restored(t testing.TB, file []byte, o *mioir.Options) (*imagefile.Image, *mioir.Info) {
	t.Helper()
	in, err := imagefile.Decode(bytes.NewReader(file), nil)
	require.NoError(t, err)
	out, info, err := model.RestoreImageFile(context.Background(), in, o)
	require.NoError(t, err)
	return out, info
}

// TestSamplePNG restores the bundled sample through the handler in auto
// mode: the answer is the PNG that Model.RestoreImageFile and
// imagefile.Encode give, with the classifier's task (rain) and
// probabilities in the headers.
func TestSamplePNG(t *testing.T) {
	_, srv := start(t, nil)
	_, file := sample(t)
	r := post(t, nil, srv.URL+"/v1/restore", "image/png", file)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "image/png", r.header.Get("Content-Type"))
	require.Equal(t, `inline; filename="restored.png"`, r.header.Get("Content-Disposition"))
	require.Equal(t, "rain", r.header.Get("X-Mioir-Task"))
	require.Equal(t, "true", r.header.Get("X-Mioir-Auto"))
	require.Equal(t, "1", r.header.Get("X-Mioir-Tiles"))
	require.Equal(t, "1.000", r.header.Get("X-Mioir-Strength"), "the default model has no strength model for rain")
	require.Empty(t, r.header.Get("X-Mioir-Fallback"))
	probs := parseProbs(t, r.header.Get("X-Mioir-Probabilities"))
	require.Len(t, probs, degrade.NumTasks)
	require.Greater(t, probs["rain"], 0.9)
	sum := 0.0
	for _, p := range probs {
		sum += p
	}
	require.InDelta(t, 1, sum, 1e-3)

	want, info := restored(t, file, &mioir.Options{Auto: true})
	require.Equal(t, degrade.Rain, info.Task)
	require.Equal(t, serve.ProbabilitiesHeader(info.Probs), r.header.Get("X-Mioir-Probabilities"))
	require.Equal(t, encode(t, want, "png"), r.body, "the answer is the file the library writes")
}

// TestFormats: each answer is in the input's format, depth, grayscale, alpha
// and metadata, and is the file that the library writes for it.
func TestFormats(t *testing.T) {
	_, srv := start(t, nil)
	src := imagefile.FromImage(crop(t, 40, 60, 72, 48))
	// 16 bits with alpha, EXIF and an ICC profile.
	rich := *src
	rich.Depth = 16
	rich.EXIF, rich.ICC = testEXIF(), testICC()
	rich.Alpha = make([]uint16, rich.Width*rich.Height)
	for i := range rich.Alpha {
		rich.Alpha[i] = uint16(i * 97)
	}
	gray := *src
	gray.Gray = true
	var gifFile bytes.Buffer
	require.NoError(t, gif.Encode(&gifFile, crop(t, 0, 0, 40, 40), nil))

	for _, c := range []struct {
		name, format, want, contentType string
		file                            []byte
		depth                           int
		gray, alpha, meta               bool
	}{
		{"png16-alpha-exif-icc", "png", "png", "image/png", encode(t, &rich, "png"), 16, false, true, true},
		{"png-gray", "png", "png", "image/png", encode(t, &gray, "png"), 8, true, false, false},
		{"jpeg-exif-icc", "jpeg", "jpeg", "image/jpeg", encode(t, &rich, "jpeg"), 8, false, false, true},
		{"tiff16-alpha", "tiff", "tiff", "image/tiff", encode(t, &rich, "tiff"), 16, false, true, false},
		{"gif", "gif", "png", "image/png", gifFile.Bytes(), 8, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := post(t, nil, srv.URL+"/v1/restore?task=n", "", c.file)
			require.Equal(t, 200, r.status, string(r.body))
			require.Equal(t, c.contentType, r.header.Get("Content-Type"))
			require.Equal(t, "noise", r.header.Get("X-Mioir-Task"))
			require.Equal(t, "false", r.header.Get("X-Mioir-Auto"))
			require.Empty(t, r.header.Get("X-Mioir-Probabilities"), "the classifier did not run")
			got, err := imagefile.Decode(bytes.NewReader(r.body), nil)
			require.NoError(t, err)
			in, err := imagefile.Decode(bytes.NewReader(c.file), nil)
			require.NoError(t, err)
			require.Equal(t, c.want, got.Format)
			require.Equal(t, c.depth, got.Depth)
			require.Equal(t, c.gray, got.Gray)
			require.Equal(t, [2]int{in.Width, in.Height}, [2]int{got.Width, got.Height})
			if c.alpha {
				require.Equal(t, in.Alpha, got.Alpha, "alpha passes through unchanged")
			} else {
				require.Nil(t, got.Alpha)
			}
			if c.meta {
				require.Equal(t, testEXIF(), got.EXIF)
				require.Equal(t, testICC(), got.ICC)
			}
			want, info := restored(t, c.file, &mioir.Options{Task: degrade.Noise})
			require.Equal(t, degrade.Noise, info.Task)
			require.Equal(t, encode(t, want, c.want), r.body)
		})
	}
}

// TestStrength: the strength parameter reaches mioir.Options.Strength, and
// the answer says which share was kept: the one asked, or the default
// model's prediction for noise.
func TestStrength(t *testing.T) {
	_, srv := start(t, nil)
	file := encodePNG(t, crop(t, 100, 30, 64, 64))
	for _, q := range []string{"task=n&strength=0.5", "task=n"} {
		strength := 0.0
		if q == "task=n&strength=0.5" {
			strength = 0.5
		}
		want, info := restored(t, file, &mioir.Options{Task: degrade.Noise, Strength: strength})
		if strength == 0.5 {
			require.Equal(t, 0.5, info.Strength)
		} else {
			require.Less(t, info.Strength, 1.0, "the default model predicts a share for noise")
		}
		r := post(t, nil, srv.URL+"/v1/restore?"+q, "image/png", file)
		require.Equal(t, 200, r.status, string(r.body))
		require.Equal(t, strconv.FormatFloat(info.Strength, 'f', 3, 64), r.header.Get("X-Mioir-Strength"), q)
		require.Equal(t, encode(t, want, "png"), r.body, q)
		r = post(t, nil, srv.URL+"/v1/restore?format=json&"+q, "image/png", file)
		require.Equal(t, 200, r.status, string(r.body))
		var a serve.Answer
		require.NoError(t, json.Unmarshal(r.body, &a))
		require.Equal(t, info.Strength, a.Strength, q)
	}
}

// TestJSON: format=json, or Accept: application/json, answers the task,
// probabilities and the image (base64) in one JSON object; a multipart
// upload names the answer's file after the upload.
func TestJSON(t *testing.T) {
	_, srv := start(t, nil)
	file := encodePNG(t, crop(t, 100, 30, 64, 64))
	img := post(t, nil, srv.URL+"/v1/restore", "image/png", file)
	require.Equal(t, 200, img.status, string(img.body))

	var answers []serve.Answer
	r := post(t, nil, srv.URL+"/v1/restore?format=json", "image/png", file)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
	var a serve.Answer
	require.NoError(t, json.Unmarshal(r.body, &a))
	answers = append(answers, a)

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/restore", bytes.NewReader(file))
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	r = do(t, nil, req)
	require.Equal(t, 200, r.status, string(r.body))
	a = serve.Answer{}
	require.NoError(t, json.Unmarshal(r.body, &a))
	answers = append(answers, a)

	ct, body := multipartBody(t, "my photo.png", file, map[string]string{"format": "json"})
	r = post(t, nil, srv.URL+"/v1/restore", ct, body)
	require.Equal(t, 200, r.status, string(r.body))
	a = serve.Answer{}
	require.NoError(t, json.Unmarshal(r.body, &a))
	require.Equal(t, "my_photo-restored.png", a.FileName)
	a.FileName = "restored.png"
	answers = append(answers, a)

	for _, a := range answers {
		require.Equal(t, img.header.Get("X-Mioir-Task"), a.Task)
		require.True(t, a.Auto)
		require.Len(t, a.Probabilities, degrade.NumTasks)
		require.Equal(t, serve.ProbabilitiesHeader(probsOf(a.Probabilities)), img.header.Get("X-Mioir-Probabilities"))
		require.Equal(t, 1, a.Tiles)
		require.Equal(t, [2]int{64, 64}, [2]int{a.Width, a.Height})
		require.Equal(t, "image/png", a.ContentType)
		require.Equal(t, "restored.png", a.FileName)
		require.Equal(t, img.body, a.Image, "the same image as the image answer")
	}
}

// probsOf turns the JSON probabilities back into Info.Probs's order.
func probsOf(m map[string]float32) []float32 {
	p := make([]float32, degrade.NumTasks)
	for _, t := range degrade.AllTasks() {
		p[t.PromptIndex()] = m[t.Name()]
	}
	return p
}

// TestMultipart: the image in a form, with the task, tile and file name in
// its fields.
func TestMultipart(t *testing.T) {
	_, srv := start(t, nil)
	file := encodePNG(t, crop(t, 0, 0, 80, 80))
	ct, body := multipartBody(t, "rainy.png", file, map[string]string{"task": "dark", "tile": "48", "timeout": "30"})
	r := post(t, nil, srv.URL+"/v1/restore?task=n", ct, body) // the form's task wins
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "dark", r.header.Get("X-Mioir-Task"))
	require.Equal(t, `inline; filename="rainy-restored.png"`, r.header.Get("Content-Disposition"))
	want, info := restored(t, file, &mioir.Options{Task: degrade.LowLight, Tile: 48})
	require.Greater(t, info.Tiles, 1)
	require.Equal(t, itoa(info.Tiles), r.header.Get("X-Mioir-Tiles"))
	require.Equal(t, encode(t, want, "png"), r.body)
}

// TestFallback: auto mode on a diagonal saw-tooth ramp, which the
// classifier takes for blur but with a probability of only 0.26 and the
// trace model for nothing it is sure of, answers the image unchanged, task
// "none", and says why; on a
// black square, which it takes for blur, the guard's brightness measurement
// chooses low light instead, and the JSON answer names it.
func TestFallback(t *testing.T) {
	_, srv := start(t, nil)
	ramp := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			v := uint8(30 + 2*((x+y)%64))
			ramp.SetNRGBA(x, y, color.NRGBA{v, 30, v, 255})
		}
	}
	file := encodePNG(t, ramp)
	r := post(t, nil, srv.URL+"/v1/restore?task=auto", "image/png", file)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "none", r.header.Get("X-Mioir-Task"))
	require.Equal(t, "true", r.header.Get("X-Mioir-Auto"))
	require.Regexp(t, `^blur: probability 0\.2\d\d < 0\.700$`, r.header.Get("X-Mioir-Fallback"))
	require.Equal(t, "0", r.header.Get("X-Mioir-Tiles"))
	require.Equal(t, file, r.body, "the image comes back unchanged")

	black := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	draw.Draw(black, black.Bounds(), image.NewUniform(color.Black), image.Point{}, draw.Src)
	r = post(t, nil, srv.URL+"/v1/restore?task=auto&format=json", "image/png", encodePNG(t, black))
	require.Equal(t, 200, r.status, string(r.body))
	var a serve.Answer
	require.NoError(t, json.Unmarshal(r.body, &a))
	require.Equal(t, "dark", a.Task)
	require.Equal(t, &serve.Fallback{Chosen: "blur", Reason: "mean brightness 0.000 <= 0.100", Use: "dark"}, a.Fallback)
	require.Equal(t, 1, a.Tiles)
}

// slowImage is a 512x512 PNG that takes 441 tiles with tile=32, 121 with
// tile=64 (about three seconds on two cores).
func slowImage(t testing.TB) []byte {
	t.Helper()
	s, _ := sample(t)
	big := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for _, p := range []image.Point{{0, 0}, {256, 0}, {0, 256}, {256, 256}} {
		draw.Draw(big, s.Bounds().Add(p), s, image.Point{}, draw.Src)
	}
	return encodePNG(t, big)
}

// waitFor polls cond every 5 ms for at most d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// async posts in the background; the reply arrives on the channel.
func async(t testing.TB, url string, body []byte) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		resp, err := http.Post(url, "image/png", bytes.NewReader(body))
		if err != nil {
			ch <- reply{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- reply{resp.StatusCode, resp.Header, b}
	}()
	return ch
}

// errorOf decodes an error answer and checks that it is one.
func errorOf(t testing.TB, r reply) serve.Error {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"), string(r.body))
	var e serve.Error
	require.NoError(t, json.Unmarshal(r.body, &e), string(r.body))
	require.Equal(t, r.status, e.Status)
	require.NotEmpty(t, e.Code)
	require.NotEmpty(t, e.Message)
	return e
}

// TestQueueFull: with one worker and a queue of one, a third request is
// answered 429 at once with Retry-After, while the two admitted finish.
func TestQueueFull(t *testing.T) {
	h, srv := start(t, &serve.Options{Queue: 1, RetryAfter: 2 * time.Second})
	first := async(t, srv.URL+"/v1/restore?task=n&tile=64", slowImage(t))
	waitFor(t, 10*time.Second, "first restoration running", func() bool { return h.Stats().Running == 1 })
	second := async(t, srv.URL+"/v1/restore?task=j", encodePNG(t, crop(t, 64, 0, 96, 96)))
	waitFor(t, 10*time.Second, "second request queued", func() bool { return h.Stats().Queued == 1 })
	require.Equal(t, serve.Stats{Workers: 1, Capacity: 2, Queued: 1, Running: 1}, h.Stats())
	m := scrape(t, srv.URL)
	require.Equal(t, 1.0, m.value("mioir_queue_depth"))
	require.Equal(t, 1.0, m.value("mioir_restores_in_flight"))

	t0 := time.Now()
	r := post(t, nil, srv.URL+"/v1/restore?task=n", "image/png", encodePNG(t, crop(t, 0, 0, 64, 64)))
	require.Less(t, time.Since(t0), time.Second, "refused at once")
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Equal(t, "2", r.header.Get("Retry-After"))
	e := errorOf(t, r)
	require.Equal(t, serve.CodeQueueFull, e.Code)
	require.Contains(t, e.Message, "queue is full")

	a, b := <-first, <-second
	require.Equal(t, 200, a.status, string(a.body))
	require.Equal(t, "121", a.header.Get("X-Mioir-Tiles"))
	require.Equal(t, 200, b.status, string(b.body))
	require.Equal(t, "jpeg", b.header.Get("X-Mioir-Task"))
	require.Equal(t, serve.Stats{Workers: 1, Capacity: 2, Restored: 2, Tiles: 121 + 1}, h.Stats())
	require.Equal(t, 1.0, scrape(t, srv.URL).value(`mioir_http_requests_total{route="restore",code="429"}`))
}

// TestDeadline: a request's timeout stops its restoration between tiles:
// the answer is 504 at the deadline, and the worker is free a tile later,
// long before the image would have been done.
func TestDeadline(t *testing.T) {
	h, srv := start(t, nil)
	slow := slowImage(t)
	// The number of tiles of the whole restoration, from Progress's first
	// call (then cancelled).
	in, err := imagefile.Decode(bytes.NewReader(slow), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	total := 0
	_, _, err = model.RestoreImageFile(ctx, in, &mioir.Options{Task: degrade.Noise, Tile: 32, Progress: func(done, n int) {
		total = n
		cancel()
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 441, total)

	t0 := time.Now()
	r := post(t, nil, srv.URL+"/v1/restore?task=n&tile=32&timeout=0.4", "image/png", slow)
	answered := time.Since(t0)
	require.Equal(t, http.StatusGatewayTimeout, r.status)
	e := errorOf(t, r)
	require.Equal(t, serve.CodeDeadline, e.Code)
	require.Contains(t, e.Message, "timeout of 400ms")
	require.InDelta(t, 0.4, answered.Seconds(), 0.3, "answered at the deadline")
	waitFor(t, 2*time.Second, "worker free", func() bool { return h.Stats().Running == 0 })
	tiles := h.Stats().Tiles
	require.Positive(t, tiles)
	require.Less(t, tiles, int64(total)/2, "stopped between tiles, far from the end")
	t.Logf("stopped after %d of %d tiles; answered in %s", tiles, total, answered.Round(time.Millisecond))
	m := scrape(t, srv.URL)
	require.Equal(t, 1.0, m.value(`mioir_http_requests_total{route="restore",code="504"}`))
	require.Equal(t, float64(tiles), m.value("mioir_tiles_total"))
}

// TestShutdown: once Shutdown is called, new restorations get 503 and
// /healthz 503, while the one in flight finishes with its image; Shutdown
// then returns and the workers are gone.
func TestShutdown(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	h, err := serve.New(model, nil)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", h)
	srv := &http.Server{Handler: mux}
	ln := listen(t)
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String()

	require.Equal(t, 200, get(t, url+"/healthz").status)
	inflight := async(t, url+"/v1/restore?task=n&tile=64", slowImage(t))
	waitFor(t, 10*time.Second, "restoration running", func() bool { return h.Stats().Running == 1 })
	drained := make(chan error, 1)
	go func() { drained <- h.Shutdown(context.Background()) }()
	waitFor(t, time.Second, "draining", func() bool { return h.Stats().Draining })

	r := post(t, nil, url+"/v1/restore", "image/png", encodePNG(t, crop(t, 0, 0, 64, 64)))
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, "1", r.header.Get("Retry-After"))
	require.Equal(t, serve.CodeDraining, errorOf(t, r).Code)
	require.Equal(t, http.StatusServiceUnavailable, get(t, url+"/healthz").status)
	select {
	case err := <-drained:
		t.Fatalf("Shutdown returned %v with a restoration in flight", err)
	default:
	}

	a := <-inflight
	require.Equal(t, 200, a.status, string(a.body))
	require.Equal(t, "121", a.header.Get("X-Mioir-Tiles"))
	select {
	case err := <-drained:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return once the restoration finished")
	}
	require.NoError(t, h.Shutdown(context.Background()), "a second Shutdown returns at once")
	require.NoError(t, srv.Shutdown(context.Background()))
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, 5*time.Second, "goroutines back", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// TestDrain: Drain refuses new restorations at once and does not wait.
func TestDrain(t *testing.T) {
	h, srv := start(t, nil)
	h.Drain()
	require.True(t, h.Stats().Draining)
	r := post(t, nil, srv.URL+"/v1/restore?task=n", "image/png", encodePNG(t, crop(t, 0, 0, 64, 64)))
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, serve.CodeDraining, errorOf(t, r).Code)
	require.Equal(t, 1.0, scrape(t, srv.URL).value("mioir_draining"))
	require.NoError(t, h.Shutdown(context.Background()))
}

// TestShutdownDeadline: Shutdown with a context that ends first returns its
// error, and the restoration still finishes.
func TestShutdownDeadline(t *testing.T) {
	h, srv := start(t, nil)
	inflight := async(t, srv.URL+"/v1/restore?task=n&tile=64", slowImage(t))
	waitFor(t, 10*time.Second, "restoration running", func() bool { return h.Stats().Running == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, h.Shutdown(ctx), context.DeadlineExceeded)
	require.Equal(t, 200, (<-inflight).status)
	require.NoError(t, h.Shutdown(context.Background()))
}

// TestBadInput: every bad request gets a 4xx with a JSON message, nothing
// is left running and no tensor is left alive, and the server goes on.
func TestBadInput(t *testing.T) {
	h, srv := start(t, &serve.Options{MaxBodyBytes: 1 << 20})
	_, file := sample(t)
	tensors := torch.LiveTensors()
	big := bytes.Repeat([]byte("x"), 2<<20)
	emptyForm, emptyBody := multipartBody(t, "", nil, map[string]string{"task": "n"})
	for _, c := range []struct {
		name, method, path, contentType string
		body                            io.Reader
		status                          int
		code, message                   string
	}{
		{"truncated", "POST", "/v1/restore", "image/png", bytes.NewReader(file[:len(file)/2]), 400, serve.CodeCorruptImage, "corrupt or truncated png file"},
		{"not an image", "POST", "/v1/restore", "image/png", strings.NewReader("hello, world"), 415, serve.CodeUnknownFormat, "not an image"},
		{"too large, Content-Length", "POST", "/v1/restore", "image/png", bytes.NewReader(big), 413, serve.CodeBodyTooLarge, "at most 1048576 bytes"},
		{"too large, chunked", "POST", "/v1/restore", "image/png", io.MultiReader(bytes.NewReader(big)), 413, serve.CodeBodyTooLarge, "at most 1048576 bytes"},
		{"bomb header", "POST", "/v1/restore", "image/png", bytes.NewReader(bombPNG(30000, 30000)), 413, serve.CodeTooManyPixels, "30000x30000 (900000000 pixels)"},
		{"task letter", "POST", "/v1/restore?task=x", "image/png", bytes.NewReader(file), 400, serve.CodeBadParameter, `unknown task "x"`},
		{"tile", "POST", "/v1/restore?tile=5", "image/png", bytes.NewReader(file), 400, serve.CodeBadParameter, `tile "5"`},
		{"timeout", "POST", "/v1/restore?timeout=-1", "image/png", bytes.NewReader(file), 400, serve.CodeBadParameter, `timeout "-1"`},
		{"format", "POST", "/v1/restore?format=xml", "image/png", bytes.NewReader(file), 400, serve.CodeBadParameter, `format "xml"`},
		{"strength", "POST", "/v1/restore?strength=1.5", "image/png", bytes.NewReader(file), 400, serve.CodeBadParameter, `strength "1.5"`},
		{"empty", "POST", "/v1/restore", "image/png", nil, 400, serve.CodeBadRequest, "empty body"},
		{"form without image", "POST", "/v1/restore", emptyForm, bytes.NewReader(emptyBody), 400, serve.CodeBadRequest, "no image"},
		{"form with bad task", "POST", "/v1/restore", emptyForm, bytes.NewReader(bytes.Replace(emptyBody, []byte("\r\nn\r\n"), []byte("\r\nq\r\n"), 1)), 400, serve.CodeBadParameter, `unknown task "q"`},
		{"GET restore", "GET", "/v1/restore", "", nil, 405, serve.CodeMethod, "POST"},
		{"POST metrics", "POST", "/metrics", "", nil, 405, serve.CodeMethod, "GET"},
		{"no such path", "GET", "/v2/restore", "", nil, 404, serve.CodeNotFound, `"/v2/restore"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, c.body)
			require.NoError(t, err)
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			r := do(t, nil, req)
			require.Equal(t, c.status, r.status, string(r.body))
			e := errorOf(t, r)
			require.Equal(t, c.code, e.Code)
			require.Contains(t, e.Message, c.message)
			if c.status == 405 {
				require.NotEmpty(t, r.header.Get("Allow"))
			}
		})
	}
	require.Equal(t, serve.Stats{Workers: 1, Capacity: 9}, h.Stats(), "nothing queued, running or restored")
	require.Equal(t, tensors, torch.LiveTensors(), "no tensor left alive")
	r := post(t, nil, srv.URL+"/v1/restore?task=j", "image/png", encodePNG(t, crop(t, 0, 0, 64, 64)))
	require.Equal(t, 200, r.status, "the server goes on")
}

// TestNeedsTask: an explicit-prompt model without classifier needs a task.
func TestNeedsTask(t *testing.T) {
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 1}, Prompt: prompt.Explicit}, 1)
	require.NoError(t, err)
	defer m.Close()
	h, err := serve.New(m, nil)
	require.NoError(t, err)
	defer h.Shutdown(context.Background())
	srv := httptestServer(t, h)
	file := encodePNG(t, crop(t, 0, 0, 32, 32))
	r := post(t, nil, srv+"/v1/restore", "image/png", file)
	require.Equal(t, 400, r.status)
	require.Equal(t, serve.CodeNeedsTask, errorOf(t, r).Code)
	r = post(t, nil, srv+"/v1/restore?task=haze", "image/png", file)
	require.Equal(t, 200, r.status, string(r.body))
	require.Equal(t, "haze", r.header.Get("X-Mioir-Task"))
	require.Equal(t, "false", r.header.Get("X-Mioir-Auto"))
	ct, body := multipartBody(t, "a.png", file, map[string]string{"task": "b"})
	r = post(t, nil, srv+"/v1/restore", ct, body)
	require.Equal(t, 200, r.status, "the form's task: %s", r.body)
	require.Equal(t, "blur", r.header.Get("X-Mioir-Task"))
}

// TestModelsAndHealth: GET /v1/models describes the model, the tasks and the
// limits; GET /healthz is 200.
func TestModelsAndHealth(t *testing.T) {
	_, srv := start(t, &serve.Options{ModelName: "default", Workers: 2, Queue: 3, MaxPixels: 1000})
	r := get(t, srv.URL+"/v1/models")
	require.Equal(t, 200, r.status)
	var a struct {
		Models []struct {
			Name, Config, Arch, Prompt, Device string
			Parameters                         int64
			Classifier                         bool
		}
		Tasks  []struct{ Code, Name string }
		Limits struct {
			Workers           int     `json:"workers"`
			Queue             int     `json:"queue"`
			MaxBodyBytes      int64   `json:"max_body_bytes"`
			MaxPixels         int     `json:"max_pixels"`
			TimeoutSeconds    float64 `json:"timeout_seconds"`
			MaxTimeoutSeconds float64 `json:"max_timeout_seconds"`
		}
		Libtorch string
		Threads  int
	}
	require.NoError(t, json.Unmarshal(r.body, &a))
	require.Len(t, a.Models, 1)
	require.Equal(t, "default", a.Models[0].Name)
	require.Equal(t, "SRResNet_EP+Classifier", a.Models[0].Config)
	require.Equal(t, "SRResNet", a.Models[0].Arch)
	require.Equal(t, "ep", a.Models[0].Prompt)
	require.Equal(t, "cpu", a.Models[0].Device)
	require.Equal(t, model.NumParams(), a.Models[0].Parameters)
	require.True(t, a.Models[0].Classifier)
	var codes []string
	for _, tk := range a.Tasks {
		codes = append(codes, tk.Code)
	}
	require.Equal(t, "s b n j r h d", strings.Join(codes, " "))
	require.Equal(t, "dark", a.Tasks[6].Name)
	require.Equal(t, 2, a.Limits.Workers)
	require.Equal(t, 3, a.Limits.Queue)
	require.Equal(t, int64(serve.DefaultMaxBodyBytes), a.Limits.MaxBodyBytes)
	require.Equal(t, 1000, a.Limits.MaxPixels)
	require.Equal(t, serve.DefaultTimeout.Seconds(), a.Limits.TimeoutSeconds)
	require.Equal(t, serve.DefaultMaxTimeout.Seconds(), a.Limits.MaxTimeoutSeconds)
	require.Equal(t, torch.Version(), a.Libtorch)
	require.Equal(t, torch.NumThreads(), a.Threads)

	r = get(t, srv.URL+"/healthz")
	require.Equal(t, 200, r.status)
	require.JSONEq(t, `{"status":"ok","queued":0,"running":0,"capacity":5}`, string(r.body))
}

// TestNew refuses what it cannot serve.
func TestNew(t *testing.T) {
	_, err := serve.New(nil, nil)
	require.ErrorContains(t, err, "nil model")
	_, err = serve.New(model, &serve.Options{Workers: -1})
	require.ErrorContains(t, err, "invalid options")
	_, err = serve.New(model, &serve.Options{JPEGQuality: 101})
	require.ErrorContains(t, err, "invalid options")
}

// TestConcurrentMixed: several clients at once, each answer the one the
// library gives for its own image.
func TestConcurrentMixed(t *testing.T) {
	_, srv := start(t, &serve.Options{Workers: 2, Queue: 8})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			file := encodePNG(t, crop(t, 20*i, 10*i, 48+8*i, 64))
			task := degrade.AllTasks()[i]
			r := post(t, nil, srv.URL+"/v1/restore?task="+string(task.Code()), "image/png", file)
			require.Equal(t, 200, r.status, string(r.body))
			require.Equal(t, task.Name(), r.header.Get("X-Mioir-Task"))
			want, _ := restored(t, file, &mioir.Options{Task: task})
			require.Equal(t, encode(t, want, "png"), r.body)
		})
	}
	wg.Wait()
}
