package metrics

import (
	"encoding/binary"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
)

// readNpy is a minimal reader for the two little-endian, C-order .npy
// fixtures used here ('<f4' and '|u1'): it returns the descr, the shape
// and the raw data bytes.
func readNpy(t *testing.T, path string) (string, []int, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "\x93NUMPY", string(raw[:6]))
	require.Equal(t, byte(1), raw[6], "npy version")
	hlen := int(binary.LittleEndian.Uint16(raw[8:10]))
	hdr := string(raw[10 : 10+hlen])
	require.Contains(t, hdr, "'fortran_order': False")
	descr := regexp.MustCompile(`'descr': '([^']+)'`).FindStringSubmatch(hdr)
	require.NotNil(t, descr, hdr)
	shapeM := regexp.MustCompile(`'shape': \(([^)]*)\)`).FindStringSubmatch(hdr)
	require.NotNil(t, shapeM, hdr)
	var shape []int
	for _, s := range strings.Split(shapeM[1], ",") {
		if s = strings.TrimSpace(s); s != "" {
			v, err := strconv.Atoi(s)
			require.NoError(t, err)
			shape = append(shape, v)
		}
	}
	return descr[1], shape, raw[10+hlen:]
}

// TestTensor2ImgFixture checks FromCHW/FromFloat/Round8 against the
// reference tensor2img on the rounding fixture: exact ties, neighbours of
// ties, out-of-range values and infinities.
func TestTensor2ImgFixture(t *testing.T) {
	descr, shape, data := readNpy(t, fixtures.Path(t, "metrics", "tensor2img_in.npy"))
	require.Equal(t, "<f4", descr)
	require.Equal(t, []int{1, 3, 4, 256}, shape)
	in := make([]float32, len(data)/4)
	for i := range in {
		in[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	descr, shape, want := readNpy(t, fixtures.Path(t, "metrics", "tensor2img_out.npy"))
	require.Equal(t, "|u1", descr)
	require.Equal(t, []int{4, 256, 3}, shape) // HWC, BGR

	const w, h = 256, 4
	got, err := FromCHW(w, h, in)
	require.NoError(t, err)
	img, err := degrade.FromCHW(w, h, in)
	require.NoError(t, err)
	got2, err := FromFloat(img)
	require.NoError(t, err)
	require.Equal(t, got.Pix, got2.Pix)
	mismatches := 0
	for y := range h {
		for x := range w {
			for c := range 3 { // c: RGB plane; the fixture is BGR
				g := got.Plane(c)[y*w+x]
				e := want[(y*w+x)*3+(2-c)]
				if g != e {
					mismatches++
					t.Errorf("channel %d (%d,%d): input %v -> %d, want %d", c, x, y, in[c*w*h+y*w+x], g, e)
				}
			}
		}
	}
	require.Zero(t, mismatches)
}

func TestRound8(t *testing.T) {
	cases := []struct {
		in   float32
		want uint8
	}{
		{0, 0}, {-0.3, 0}, {float32(math.Inf(-1)), 0}, {float32(math.Copysign(0, -1)), 0},
		{1, 255}, {1.7, 255}, {float32(math.Inf(1)), 255},
		{0.5, 128},                  // 127.5 -> 128 (even)
		{float32(1.5) / 255, 2},     // 1.5 -> 2
		{float32(2.5) / 255, 2},     // 2.5 -> 2 (half to even)
		{float32(100) / 255, 100},   // fixed point
		{float32(254.5) / 255, 254}, // 254.5 -> 254
	}
	for _, c := range cases {
		require.Equal(t, c.want, Round8(c.in), "Round8(%v)", c.in)
	}
	for k := range 256 {
		require.Equal(t, uint8(k), Round8(float32(k)/255))
	}
}
