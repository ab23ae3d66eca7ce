package serve_test

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/mioir/serve"
	"github.com/gomioir/gomioir/nets/torch"
)

// exposition is a parsed /metrics answer.
type exposition struct {
	t      testing.TB
	types  map[string]string  // family -> counter, gauge, histogram
	series map[string]float64 // series as written (name{labels}) -> value
	order  []string
}

var (
	seriesRe = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)\})? (\S+)$`)
	typeRe   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$`)
	helpRe   = regexp.MustCompile(`^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$`)
)

// scrape gets /metrics and parses it strictly as Prometheus' text format
// 0.0.4: every sample belongs to a family declared before it with HELP and
// TYPE, labels are well-formed, values are numbers.
func scrape(t testing.TB, url string) *exposition {
	t.Helper()
	r := get(t, url+"/metrics")
	require.Equal(t, 200, r.status)
	require.Equal(t, "text/plain; version=0.0.4; charset=utf-8", r.header.Get("Content-Type"))
	return parseExposition(t, string(r.body))
}

func parseExposition(t testing.TB, text string) *exposition {
	t.Helper()
	e := &exposition{t: t, types: map[string]string{}, series: map[string]float64{}}
	helped := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if m := helpRe.FindStringSubmatch(line); m != nil {
			helped[m[1]] = true
			continue
		}
		if m := typeRe.FindStringSubmatch(line); m != nil {
			require.True(t, helped[m[1]], "HELP before TYPE for %s", m[1])
			require.NotContains(t, e.types, m[1], "one TYPE per family")
			e.types[m[1]] = m[2]
			continue
		}
		m := seriesRe.FindStringSubmatch(line)
		require.NotNil(t, m, "not a sample line: %q", line)
		name := m[1]
		family := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && e.types[base] == "histogram" {
				family = base
			}
		}
		require.Contains(t, e.types, family, "sample %s before its TYPE", name)
		v, err := strconv.ParseFloat(m[5], 64)
		require.NoError(t, err, line)
		key := name + m[2]
		require.NotContains(t, e.series, key, "series written twice")
		e.series[key] = v
		e.order = append(e.order, key)
	}
	return e
}

// value is a series' value; the series must exist.
func (e *exposition) value(series string) float64 {
	e.t.Helper()
	v, ok := e.series[series]
	require.True(e.t, ok, "no series %s", series)
	return v
}

// TestMetrics makes known requests and checks /metrics against them.
func TestMetrics(t *testing.T) {
	h, srv := start(t, nil)
	var tiles, restored float64
	for _, task := range []string{"auto", "n", "j"} {
		r := post(t, nil, srv.URL+"/v1/restore?tile=32&task="+task, "image/png", encodePNG(t, crop(t, 30, 30, 80, 64)))
		require.Equal(t, 200, r.status, string(r.body))
		n, err := strconv.Atoi(r.header.Get("X-Mioir-Tiles"))
		require.NoError(t, err)
		tiles += float64(n)
		restored++
	}
	require.Equal(t, 415, post(t, nil, srv.URL+"/v1/restore", "", []byte("not an image")).status)
	require.Equal(t, 400, post(t, nil, srv.URL+"/v1/restore?task=x", "", []byte("whatever")).status)
	require.Equal(t, 400, post(t, nil, srv.URL+"/v1/restore?task=y", "", []byte("whatever")).status)
	require.Equal(t, 200, get(t, srv.URL+"/v1/models").status)
	require.Equal(t, 200, get(t, srv.URL+"/healthz").status)
	require.Equal(t, 404, get(t, srv.URL+"/nothing").status)

	m := scrape(t, srv.URL)
	require.Equal(t, map[string]float64{
		`mioir_http_requests_total{route="healthz",code="200"}`: 1,
		`mioir_http_requests_total{route="metrics",code="200"}`: 1,
		`mioir_http_requests_total{route="models",code="200"}`:  1,
		`mioir_http_requests_total{route="other",code="404"}`:   1,
		`mioir_http_requests_total{route="restore",code="200"}`: restored,
		`mioir_http_requests_total{route="restore",code="400"}`: 2,
		`mioir_http_requests_total{route="restore",code="415"}`: 1,
	}, m.with("mioir_http_requests_total"), "each answer counted once its client has it, this scrape too")
	require.Equal(t, "counter", m.types["mioir_http_requests_total"])

	// The histogram: cumulative buckets ending in +Inf = count = the images
	// restored, a positive sum.
	require.Equal(t, "histogram", m.types["mioir_restore_duration_seconds"])
	prev := 0.0
	for _, b := range serve.DurationBuckets {
		v := m.value(`mioir_restore_duration_seconds_bucket{le="` + strconv.FormatFloat(b, 'g', -1, 64) + `"}`)
		require.GreaterOrEqual(t, v, prev, "cumulative buckets")
		prev = v
	}
	require.Equal(t, restored, m.value(`mioir_restore_duration_seconds_bucket{le="+Inf"}`))
	require.Equal(t, restored, m.value("mioir_restore_duration_seconds_count"))
	sum := m.value("mioir_restore_duration_seconds_sum")
	require.Greater(t, sum, 0.0)
	require.Less(t, sum, 60.0)
	require.Positive(t, m.value(`mioir_restore_duration_seconds_bucket{le="60"}`), "each took less than a minute")

	require.Equal(t, tiles, m.value("mioir_tiles_total"))
	require.Greater(t, tiles, restored, "tile=32 cuts 80x64 in several tiles")
	require.Equal(t, "counter", m.types["mioir_tiles_total"])
	rate := m.value("mioir_tiles_per_second")
	require.Greater(t, rate, 0.0)
	require.LessOrEqual(t, rate, tiles/0.001)
	require.Equal(t, restored*80*64, m.value("mioir_pixels_total"))
	require.Greater(t, m.value("mioir_worker_busy_seconds_total"), 0.0)
	require.Less(t, m.value("mioir_worker_busy_seconds_total"), sum+1e-9, "busy time is within the latency")
	require.Equal(t, 0.0, m.value("mioir_queue_depth"))
	require.Equal(t, 0.0, m.value("mioir_restores_in_flight"))
	require.Equal(t, 9.0, m.value("mioir_queue_capacity"))
	require.Equal(t, 1.0, m.value("mioir_workers"))
	require.Equal(t, 0.0, m.value("mioir_draining"))
	require.Equal(t, float64(torch.LiveTensors()), m.value("mioir_live_tensors"))
	for _, g := range []string{"mioir_queue_depth", "mioir_restores_in_flight", "mioir_tiles_per_second", "mioir_live_tensors"} {
		require.Equal(t, "gauge", m.types[g])
	}
	require.Equal(t, int64(tiles), h.Stats().Tiles)

	require.Equal(t, 2.0, scrape(t, srv.URL).value(`mioir_http_requests_total{route="metrics",code="200"}`))
}

// with returns the series of one family.
func (e *exposition) with(name string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range e.series {
		if strings.HasPrefix(k, name+"{") || k == name {
			out[k] = v
		}
	}
	return out
}

// TestTileRate: the tiles-per-second gauge counts the last 10 seconds only.
func TestTileRate(t *testing.T) {
	_, srv := start(t, nil)
	r := post(t, nil, srv.URL+"/v1/restore?task=n&tile=32", "image/png", encodePNG(t, crop(t, 0, 0, 96, 96)))
	require.Equal(t, 200, r.status)
	tiles, err := strconv.Atoi(r.header.Get("X-Mioir-Tiles"))
	require.NoError(t, err)
	require.Equal(t, 16, tiles)
	m := scrape(t, srv.URL)
	require.Greater(t, m.value("mioir_tiles_per_second"), 1.6-1e-9, "16 tiles within the last 10 s")
	if testing.Short() {
		return
	}
	time.Sleep(11 * time.Second)
	require.Equal(t, 0.0, scrape(t, srv.URL).value("mioir_tiles_per_second"), "none in the last 10 s")
	require.Equal(t, 16.0, scrape(t, srv.URL).value("mioir_tiles_total"))
}
