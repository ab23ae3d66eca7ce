package serve_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/draw"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/mioir/pretrained"
	"github.com/gomioir/gomioir/mioir/serve"
)

// model is the bundled default model, opened once for the package's tests.
var model *mioir.Model

func TestMain(m *testing.M) {
	var err error
	if model, err = pretrained.Default(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	model.Close()
	os.Exit(code)
}

// start serves a new Handler over the bundled model on loopback; the server
// and the handler stop at the test's end.
func start(t testing.TB, o *serve.Options) (*serve.Handler, *httptest.Server) {
	t.Helper()
	h, err := serve.New(model, o)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, h.Shutdown(ctx))
		srv.Close()
	})
	return h, srv
}

// sample returns the bundled degraded sample (256x256, rain) as an NRGBA
// image, and the file's bytes.
func sample(t testing.TB) (*image.NRGBA, []byte) {
	t.Helper()
	lq, _, err := pretrained.Sample()
	require.NoError(t, err)
	m := image.NewNRGBA(lq.Bounds())
	draw.Draw(m, m.Bounds(), lq, image.Point{}, draw.Src)
	b, err := os.ReadFile("../pretrained/sample/degraded.png")
	require.NoError(t, err)
	return m, b
}

// crop returns a w x h piece of the sample at (x, y).
func crop(t testing.TB, x, y, w, h int) *image.NRGBA {
	t.Helper()
	s, _ := sample(t)
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Bounds(), s, image.Pt(x, y), draw.Src)
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, m))
	return b.Bytes()
}

// encode writes im with imagefile in format.
func encode(t testing.TB, im *imagefile.Image, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, imagefile.Encode(&b, im, &imagefile.Options{Format: format}))
	return b.Bytes()
}

// testEXIF is a big-endian EXIF block with one entry, orientation 1.
func testEXIF() []byte {
	var b bytes.Buffer
	b.WriteString("MM\x00\x2a")
	binary.Write(&b, binary.BigEndian, uint32(8))
	binary.Write(&b, binary.BigEndian, uint16(1))
	binary.Write(&b, binary.BigEndian, []uint16{0x0112, 3})
	binary.Write(&b, binary.BigEndian, uint32(1))
	binary.Write(&b, binary.BigEndian, []uint16{1, 0})
	binary.Write(&b, binary.BigEndian, uint32(0))
	return b.Bytes()
}

// testICC is the header of an RGB ICC profile (128 bytes), which is all
// that the image files keep and check.
func testICC() []byte {
	icc := make([]byte, 128)
	binary.BigEndian.PutUint32(icc, 128)
	copy(icc[12:], "mntrRGB XYZ ")
	copy(icc[36:], "acsp")
	return icc
}

// bombPNG is a valid PNG signature and IHDR declaring w x h pixels, and no
// data.
func bombPNG(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32IEEE(chunk))
	return b.Bytes()
}

// reply is an answer read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// post sends body to url with the given content type.
func post(t testing.TB, c *http.Client, url, contentType string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(t, c, req)
}

func do(t testing.TB, c *http.Client, req *http.Request) reply {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

func get(t testing.TB, url string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	return do(t, nil, req)
}

// multipartBody is a form with the file under field "image" and the fields.
func multipartBody(t testing.TB, filename string, file []byte, fields map[string]string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	fw, err := mw.CreateFormFile("image", filename)
	require.NoError(t, err)
	_, err = fw.Write(file)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), b.Bytes()
}

// parseProbs parses X-Mioir-Probabilities.
func parseProbs(t testing.TB, h string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for kv := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, h)
		f, err := strconv.ParseFloat(v, 64)
		require.NoError(t, err)
		out[k] = f
	}
	return out
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// listen listens on a free loopback port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

// httptestServer serves h on loopback until the test's end and returns its
// URL.
func httptestServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func itoa(n int) string { return strconv.Itoa(n) }
