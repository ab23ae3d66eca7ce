package serve_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/mioir/serve"
)

// BenchmarkRequest measures the request hot path: a 64x64 PNG through
// Handler.ServeHTTP (parameters, admission, body, the worker's decode,
// restore and encode, the answer) against the library's RestoreImageFile
// alone on the same image; the difference is the serving's cost. "refused"
// is a request answered 400 from its parameters, the handler alone.
//
//	go test -run '^$' -bench . ./mioir/serve
func BenchmarkRequest(b *testing.B) {
	file := encodePNG(b, crop(b, 40, 40, 64, 64))
	h, err := serve.New(model, nil)
	require.NoError(b, err)
	defer h.Shutdown(context.Background())
	serveOnce := func(url string) int {
		req := httptest.NewRequest(http.MethodPost, url, bytes.NewReader(file))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	b.Run("handler", func(b *testing.B) {
		for b.Loop() {
			if code := serveOnce("/v1/restore?task=n"); code != http.StatusOK {
				b.Fatal(code)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("library", func(b *testing.B) {
		o := &mioir.Options{Task: degrade.Noise}
		for b.Loop() {
			im, err := imagefile.Decode(bytes.NewReader(file), nil)
			if err != nil {
				b.Fatal(err)
			}
			out, _, err := model.RestoreImageFile(context.Background(), im, o)
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			if err := imagefile.Encode(&buf, out, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("refused", func(b *testing.B) {
		for b.Loop() {
			if code := serveOnce("/v1/restore?task=x"); code != http.StatusBadRequest {
				b.Fatal(code)
			}
		}
	})
}
