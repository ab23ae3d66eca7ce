package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/mioir/pretrained"
	"github.com/gomioir/gomioir/mioir/serve"
)

// childEnv, when set (to the arguments as JSON), makes the test binary run
// the command itself, so that a test can start it as a process and send it
// real signals.
const childEnv = "MIOIR_SERVE_CHILD_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childEnv); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, args, os.Stdout, os.Stderr, nil)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer that run may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is the command run in the test's process.
type server struct {
	url            string
	stdout, stderr *syncBuffer
	stop           func() error // cancels run's context and returns its error
}

// startServer runs the command on a free loopback port until stop or the
// test's end.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), s.stdout, s.stderr, func(addr string) { ready <- addr })
	}()
	select {
	case addr := <-ready:
		s.url = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("run: %v\n%s", err, s.stderr)
	case <-time.After(time.Minute):
		cancel()
		t.Fatal("the server did not start within a minute")
	}
	var once sync.Once
	var err error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { require.NoError(t, s.stop()) })
	return s
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, contentType string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

// brief is the start of an answer's body, for a failure message (not a
// whole image).
func brief(b []byte) string {
	return fmt.Sprintf("%q", b[:min(len(b), 200)])
}

const samplePath = "../../mioir/pretrained/sample/degraded.png"

func sampleFile(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(samplePath)
	require.NoError(t, err)
	return b
}

// TestPageAndAPI: the page and its files are served with a content security
// policy, the API beside them; the requests are logged.
func TestPageAndAPI(t *testing.T) {
	s := startServer(t)
	require.Regexp(t, `^serving model default \(bundled\) \(SRResNet_EP\+Classifier, 869360 parameters\) on cpu: http://127\.0\.0\.1:\d+/ \(workers 1, queue 8, libtorch \S+, \d+ threads\)\n$`, s.stdout.String())

	r := do(t, "GET", s.url+"/", "", nil)
	require.Equal(t, 200, r.status)
	require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
	require.Contains(t, r.header.Get("Content-Security-Policy"), "default-src 'self'")
	for _, id := range []string{`id="file"`, `id="drop"`, `id="task"`, `id="slider"`, `id="download"`, `id="probs"`, `<label for="task">`, `<option value="d">Low light</option>`} {
		require.Contains(t, string(r.body), id)
	}
	for path, ct := range map[string]string{"/app.js": "text/javascript; charset=utf-8", "/style.css": "text/css; charset=utf-8"} {
		r := do(t, "GET", s.url+path, "", nil)
		require.Equal(t, 200, r.status, path)
		require.Equal(t, ct, r.header.Get("Content-Type"), path)
		require.NotEmpty(t, r.body)
	}
	require.Equal(t, 404, do(t, "GET", s.url+"/missing.js", "", nil).status)
	r = do(t, "POST", s.url+"/", "", nil)
	require.Equal(t, 405, r.status)
	require.Equal(t, "GET, HEAD", r.header.Get("Allow"))

	r = do(t, "GET", s.url+"/v1/models", "", nil)
	require.Equal(t, 200, r.status)
	var models struct {
		Models []struct{ Name, Config string }
	}
	require.NoError(t, json.Unmarshal(r.body, &models))
	require.Equal(t, "default (bundled)", models.Models[0].Name)
	require.Equal(t, 200, do(t, "GET", s.url+"/healthz", "", nil).status)

	r = do(t, "POST", s.url+"/v1/restore?task=auto", "image/png", sampleFile(t))
	require.Equal(t, 200, r.status, brief(r.body))
	require.Equal(t, "rain", r.header.Get("X-Mioir-Task"))
	out, err := png.Decode(bytes.NewReader(r.body))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 256, 256), out.Bounds())
	r = do(t, "POST", s.url+"/v1/restore?task=x", "image/png", sampleFile(t))
	require.Equal(t, 400, r.status)
	require.Contains(t, string(r.body), `unknown task \"x\"`)

	r = do(t, "GET", s.url+"/metrics", "", nil)
	require.Contains(t, string(r.body), `mioir_http_requests_total{route="restore",code="200"} 1`+"\n")
	require.Regexp(t, `POST /v1/restore\?task=auto 200 task rain \d+ bytes \d`, s.stderr.String())
	require.Contains(t, s.stderr.String(), "POST /v1/restore?task=x 400")

	require.NoError(t, s.stop())
	require.Regexp(t, `stopped after \S+: 1 images restored, 1 tiles\n$`, s.stdout.String())
}

// TestFlags refuses what cannot be served.
func TestFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"-workers", "0"}, "-workers must be at least 1"},
		{[]string{"-queue", "-1"}, "-queue must not be negative"},
		{[]string{"-max-body", "0"}, "-max-body must be at least 1 MiB"},
		{[]string{"-timeout", "2m", "-max-timeout", "1m"}, "-timeout must be positive and at most -max-timeout"},
		{[]string{"-tile", "7"}, "-tile must be 0 or 32 to 8192"},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
		{[]string{"-model", "/nonexistent/model.safetensors"}, "/nonexistent/model.safetensors"},
		{[]string{"-addr", "256.0.0.1:0"}, "256.0.0.1"},
	} {
		err := run(context.Background(), c.args, io.Discard, io.Discard, nil)
		require.ErrorContains(t, err, c.err, "%q", c.args)
	}
}

// slowImage is a 512x512 PNG (the sample four times) that takes about three
// seconds with tile=64 on two cores.
func slowImage(t *testing.T) []byte {
	t.Helper()
	lq, _, err := pretrained.Sample()
	require.NoError(t, err)
	big := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for _, p := range []image.Point{{0, 0}, {256, 0}, {0, 256}, {256, 256}} {
		draw.Draw(big, lq.Bounds().Add(p), lq, image.Point{}, draw.Src)
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, big))
	return b.Bytes()
}

// TestSIGTERM starts the command as a process, sends it SIGTERM during a
// restoration, and checks the graceful stop: a new request is answered 503
// with a message while the one in flight finishes with its image, then the
// process exits 0.
func TestSIGTERM(t *testing.T) {
	// The drain bound is far above the restoration's time (15 s on 2 cores
	// with libtorch 2.6 alone, over 60 s beside other work): the test checks
	// that the restoration finishes, not how fast.
	args, err := json.Marshal([]string{"-addr", "127.0.0.1:0", "-shutdown-timeout", "10m"})
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(args))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var url string
	select {
	case line := <-lines:
		m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(line)
		require.NotNil(t, m, line)
		url = "http://" + m[1]
	case <-time.After(time.Minute):
		t.Fatalf("no address within a minute; stderr: %s", stderr.String())
	}

	type result struct {
		r   reply
		err error
	}
	inflight := make(chan result, 1)
	slow := slowImage(t)
	go func() {
		resp, err := http.Post(url+"/v1/restore?task=n&tile=64", "image/png", bytes.NewReader(slow))
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{reply{resp.StatusCode, resp.Header, b}, err}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(string(do(t, "GET", url+"/metrics", "", nil).body), "\nmioir_restores_in_flight 1\n") {
		require.True(t, time.Now().Before(deadline), "the restoration did not start")
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("restoration in flight at %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case line := <-lines:
		require.Equal(t, "stopping: new restorations get 503; waiting for 1 admitted (at most 10m0s)", line)
	case <-time.After(10 * time.Second):
		t.Fatal("no stopping line after SIGTERM")
	}

	r := do(t, "POST", url+"/v1/restore", "image/png", sampleFile(t))
	require.Equal(t, http.StatusServiceUnavailable, r.status, brief(r.body))
	var e serve.Error
	require.NoError(t, json.Unmarshal(r.body, &e))
	require.Equal(t, serve.CodeDraining, e.Code)
	require.Contains(t, e.Message, "shutting down")
	require.Equal(t, http.StatusServiceUnavailable, do(t, "GET", url+"/healthz", "", nil).status)

	t.Logf("SIGTERM sent, a new request answered 503 at %s", time.Since(start).Round(time.Millisecond))
	res := <-inflight
	t.Logf("the restoration in flight answered at %s", time.Since(start).Round(time.Millisecond))
	require.NoError(t, res.err)
	require.Equal(t, 200, res.r.status, brief(res.r.body))
	require.Equal(t, "noise", res.r.header.Get("X-Mioir-Task"))
	out, err := png.Decode(bytes.NewReader(res.r.body))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 512, 512), out.Bounds())

	select {
	case err := <-exited:
		require.NoError(t, err, "exit status; stderr: %s", stderr.String())
		t.Logf("exited at %s", time.Since(start).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not exit after the restoration")
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	require.Len(t, rest, 1)
	require.Regexp(t, `^stopped after \S+: 1 images restored, 121 tiles$`, rest[0])
	require.Contains(t, stderr.String(), "POST /v1/restore 503")
	require.Contains(t, stderr.String(), "POST /v1/restore?task=n&tile=64 200 task noise")
}
