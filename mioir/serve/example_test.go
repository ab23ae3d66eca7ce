package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/mioir/pretrained"
	"github.com/gomioir/gomioir/mioir/serve"
)

// A Handler serves the bundled model. A client posts the degraded sample
// (a photo with rain) and gets the restored PNG with the task that the
// classifier detected; a wrong task letter gets a 400 with a message; and
// /metrics counts both.
func Example() {
	m, err := pretrained.Default()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	h, err := serve.New(m, nil) // one worker, a queue of 8, the default limits
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(context.Background()) // drains before the server closes

	file, err := os.ReadFile("../pretrained/sample/degraded.png")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.Post(srv.URL+"/v1/restore?task=auto", "image/png", bytes.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := imagefile.Decode(resp.Body, nil)
	resp.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), "task:", resp.Header.Get("X-Mioir-Task"))
	fmt.Println("restored:", out.Format, out.Width, "x", out.Height, out.Depth, "bits")
	fmt.Println("probabilities:", strings.Contains(resp.Header.Get("X-Mioir-Probabilities"), "rain=0.9"),
		strings.Count(resp.Header.Get("X-Mioir-Probabilities"), "=") == 7)

	resp, err = http.Post(srv.URL+"/v1/restore?task=x", "image/png", bytes.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	var e serve.Error
	err = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, e.Code+":", e.Message)

	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `mioir_http_requests_total{route="restore"`) || strings.HasPrefix(sc.Text(), "mioir_tiles_total ") {
			fmt.Println(sc.Text())
		}
	}
	// Output:
	// 200 OK image/png task: rain
	// restored: png 256 x 256 8 bits
	// probabilities: true true
	// 400 Bad Request bad_parameter: unknown task "x": want auto or one of s b n j r h d (sr blur noise jpeg rain haze dark)
	// mioir_http_requests_total{route="restore",code="200"} 1
	// mioir_http_requests_total{route="restore",code="400"} 1
	// mioir_tiles_total 1
}
