package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"
)

// ScreenshotEnv names the environment variable that, set to a path, makes
// TestBrowser save its screenshot there (else in the test's temporary
// folder).
const ScreenshotEnv = "MIOIR_SCREENSHOT"

// chromium finds a Chromium or Chrome binary, or skips the test.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium, chromium-browser or google-chrome on PATH: the browser test needs Debian's chromium package (apt-get install chromium; .ci/run installs it)")
	return ""
}

// TestBrowser drives headless Chromium against the server on loopback, over
// the DevTools protocol: it uploads the bundled sample through the page's
// file input, waits for the result, and checks the page's state: the task
// detected (rain) with its probabilities, both images shown, the slider
// moving the divider by keyboard and by mouse; a screenshot, checked not
// blank; the download link, a blob: URL named after the upload, which the
// browser saves as exactly the server's answer; then a file that is no
// image, whose error the page shows; before that, noise chosen by hand
// (the model predicts a strength) and then 50 % asked, each shown. No
// JavaScript exception may occur.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	s := startServer(t, "-q")

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()

	var mu sync.Mutex
	var exceptions []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		var d *runtime.ExceptionDetails
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d = e.ExceptionDetails
		case runtime.EventExceptionThrown:
			d = e.ExceptionDetails
		}
		if d != nil {
			mu.Lock()
			exceptions = append(exceptions, fmt.Sprintf("%s at %s:%d", d.Text, d.URL, d.LineNumber))
			if d.Exception != nil {
				exceptions = append(exceptions, d.Exception.Description)
			}
			mu.Unlock()
		}
	}))

	sample, err := filepath.Abs(samplePath)
	require.NoError(t, err)
	t0 := time.Now()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(s.url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#drop")),
	))
	version, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	require.NoError(t, err)
	t.Logf("%s; page loaded in %s", version, time.Since(t0).Round(time.Millisecond))
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		require.NoError(t, err, expr)
		return v
	}
	require.Equal(t, "idle", eval(`document.getElementById("app").dataset.state`))
	model, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("model").textContent.startsWith("Model ") && document.getElementById("model").textContent`))
	require.NoError(t, err)
	require.Contains(t, model, "Model default (bundled): SRResNet_EP+Classifier, 869,360 parameters, on cpu")

	// Upload through the file input (DOM.setFileInputFiles); the page
	// restores at once with the task selected, auto.
	require.Equal(t, "auto", eval(`document.getElementById("task").value`))
	t0 = time.Now()
	require.NoError(t, chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{sample})))
	state, err := chromedp.Run(ctx, chromedp.Poll[string](
		`["done", "error"].includes(document.getElementById("app").dataset.state) && document.getElementById("app").dataset.state`,
		chromedp.WithPollingTimeout(time.Minute)))
	require.NoError(t, err)
	require.Equal(t, "done", state, eval(`document.getElementById("status").textContent`))
	t.Logf("restored in the page in %s", time.Since(t0).Round(time.Millisecond))

	// The detected task and its probabilities.
	require.Equal(t, "rain", eval(`document.getElementById("detected").dataset.task`))
	require.Equal(t, "Rain", eval(`document.getElementById("detected").textContent`))
	require.Regexp(t, `^chosen by the classifier \(\d+\.\d %\)$`, eval(`document.getElementById("how").textContent`))
	require.Equal(t, "true", eval(`String(document.getElementById("fallback").hidden)`))
	require.Equal(t, "100 %", eval(`document.getElementById("strength-used").textContent`), "no strength model for rain")
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll("#probs tbody tr")].map(r => [r.dataset.task, r.cells[0].textContent, r.cells[1].textContent, r.className])`))
	require.NoError(t, err)
	require.Len(t, rows, 7)
	var order []string
	for _, r := range rows {
		order = append(order, r[0])
		if r[0] == "rain" {
			require.Equal(t, "Rain", r[1])
			require.Equal(t, "chosen", r[3])
			var p float64
			_, err := fmt.Sscanf(r[2], "%f %%", &p)
			require.NoError(t, err)
			require.Greater(t, p, 90.0)
		} else {
			require.Empty(t, r[3])
		}
	}
	require.Equal(t, "sr blur noise jpeg rain haze dark", strings.Join(order, " "))
	require.Equal(t, "true", eval(`String(document.getElementById("before").complete && document.getElementById("after").complete)`))
	require.Equal(t, "256x256 256x256", eval(`["before", "after"].map(id => { const i = document.getElementById(id); return i.naturalWidth + "x" + i.naturalHeight }).join(" ")`))
	require.Contains(t, eval(`document.getElementById("status").textContent`), "Done.")
	require.Regexp(t, `^Restored in \d+\.\d\d s, 1 tile\(s\), \d+ KiB\.$`, eval(`document.getElementById("timing").textContent`))

	// The slider: present, at 50 %; arrow keys move it, and with it the
	// after image's clip and the divider; a click on the images moves it
	// there.
	clip := `getComputedStyle(document.getElementById("after")).clipPath`
	require.Equal(t, "50", eval(`document.getElementById("slider").value`))
	require.Equal(t, "inset(0px 0px 0px 50%)", eval(clip))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS("#slider")),
		chromedp.KeyEvent(strings.Repeat(kb.ArrowLeft, 10)),
	))
	require.Equal(t, "40", eval(`document.getElementById("slider").value`))
	require.Equal(t, "inset(0px 0px 0px 40%)", eval(clip))
	require.Equal(t, "40 % before, 60 % after", eval(`document.getElementById("slider").getAttribute("aria-valuetext")`))
	box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](
		`(() => { const r = document.getElementById("compare").getBoundingClientRect(); return [r.left, r.top, r.width, r.height] })()`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.MouseClickXY(box[0]+0.75*box[2], box[1]+box[3]/2)))
	require.Equal(t, "75", eval(`document.getElementById("slider").value`))
	require.Equal(t, "inset(0px 0px 0px 75%)", eval(clip))
	divider := eval(`(() => { const c = document.getElementById("compare").getBoundingClientRect(), d = document.querySelector(".divider").getBoundingClientRect(); return ((d.left + d.width / 2 - c.left) / c.width).toFixed(3) })()`)
	require.Equal(t, "0.750", divider, "the divider follows")

	// A screenshot of the whole page, which must not be blank.
	require.NoError(t, chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#slider"))))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err, "the screenshot is a PNG")
	colours, stddev := colourStats(img)
	path := os.Getenv(ScreenshotEnv)
	if path == "" {
		path = filepath.Join(t.TempDir(), "page.png")
	}
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot %s: %dx%d, %d distinct colours, luma standard deviation %.1f", path, img.Bounds().Dx(), img.Bounds().Dy(), colours, stddev)
	require.GreaterOrEqual(t, img.Bounds().Dx(), 1000)
	require.Greater(t, colours, 5000, "the photo is on the page")
	require.Greater(t, stddev, 20.0, "not a blank page")

	// The download link: a blob: URL named after the upload; clicking it
	// downloads exactly the file the server answers for the sample.
	href := eval(`document.getElementById("download").href`)
	require.True(t, strings.HasPrefix(href, "blob:"+s.url+"/"), href)
	require.Equal(t, "degraded-restored.png", eval(`document.getElementById("download").download`))
	require.Equal(t, "Download degraded-restored.png", eval(`document.getElementById("download").textContent`))
	downloads := t.TempDir()
	events := true
	_, err = chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, EventsEnabled: &events})
	require.NoError(t, err)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#download"))))
	for ev, err := range progress {
		require.NoError(t, err)
		require.NotEqual(t, browser.DownloadProgressStateCanceled, ev.State)
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	got, err := os.ReadFile(filepath.Join(downloads, "degraded-restored.png"))
	require.NoError(t, err, "the browser saved the download under its name")
	direct := do(t, "POST", s.url+"/v1/restore?task=auto", "image/png", sampleFile(t))
	require.Equal(t, 200, direct.status)
	require.Equal(t, sha256.Sum256(direct.body), sha256.Sum256(got), "the download is the restored file")

	// The strength: noise chosen by hand, the model predicts a share for
	// this image; 50 % asked, 50 % kept. Each change restores again.
	rerun := func(id, value string) {
		t.Helper()
		require.Equal(t, "ok", eval(fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q; e.dispatchEvent(new Event("change")); return "ok" })()`, id, value)))
		state, err := chromedp.Run(ctx, chromedp.Poll[string](
			`["done", "error"].includes(document.getElementById("app").dataset.state) && document.getElementById("app").dataset.state`,
			chromedp.WithPollingTimeout(time.Minute)))
		require.NoError(t, err)
		require.Equal(t, "done", state, eval(`document.getElementById("status").textContent`))
	}
	rerun("task", "n") // the change event sets the state to working at once
	require.Equal(t, "noise", eval(`document.getElementById("detected").dataset.task`))
	require.Regexp(t, `^\d\d % \(the model's estimate for this image\)$`, eval(`document.getElementById("strength-used").textContent`))
	rerun("strength", "0.5")
	require.Equal(t, "50 %", eval(`document.getElementById("strength-used").textContent`))

	// A file that is no image: the page says what the server said.
	notes := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte("not an image"), 0o644))
	require.NoError(t, chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{notes})))
	state, err = chromedp.Run(ctx, chromedp.Poll[string](
		`["done", "error"].includes(document.getElementById("app").dataset.state) && document.getElementById("app").dataset.state`,
		chromedp.WithPollingTimeout(time.Minute)))
	require.NoError(t, err)
	require.Equal(t, "error", state)
	require.Equal(t, "Could not restore notes.txt: 415 unknown_format: the body is not an image in a known format (PNG, JPEG, TIFF, GIF, BMP, WebP)",
		eval(`document.getElementById("status").textContent`))

	mu.Lock()
	defer mu.Unlock()
	require.Empty(t, exceptions, "JavaScript exceptions")
}

// colourStats counts an image's distinct colours and its luma's standard
// deviation.
func colourStats(img image.Image) (colours int, stddev float64) {
	seen := map[[3]uint32]bool{}
	var sum, sum2 float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum += l
			sum2 += l * l
		}
	}
	n := float64(b.Dx() * b.Dy())
	mean := sum / n
	return len(seen), math.Sqrt(max(sum2/n-mean*mean, 0))
}
