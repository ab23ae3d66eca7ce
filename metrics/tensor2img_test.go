package metrics

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/internal/npy"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// TestTensor2ImgFixture checks the float conversion (fromCHW, which
// MeasureFloat uses) against the
// reference tensor2img on the rounding fixture: exact ties, neighbours of
// ties, out-of-range values and infinities.
func TestTensor2ImgFixture(t *testing.T) {
	tin, err := npy.ReadFile(fixtures.Path(t, "metrics", "tensor2img_in.npy"))
	require.NoError(t, err)
	require.Equal(t, host.Float32, tin.DType)
	require.Equal(t, []int{1, 3, 4, 256}, tin.Shape)
	in, err := tin.Float32s()
	require.NoError(t, err)
	tout, err := npy.ReadFile(fixtures.Path(t, "metrics", "tensor2img_out.npy"))
	require.NoError(t, err)
	require.Equal(t, host.Uint8, tout.DType)
	require.Equal(t, []int{4, 256, 3}, tout.Shape) // HWC, BGR
	want, err := tout.Uint8s()
	require.NoError(t, err)

	const w, h = 256, 4
	got, err := fromCHW("test", w, h, in)
	require.NoError(t, err)
	// MeasureFloat of the same image against its own rounding (as an
	// exact k/255 float image) is +Inf: it rounds the same way.
	img, err := degrade.FromCHW(w, h, in)
	require.NoError(t, err)
	ref := degrade.NewImage(w, h)
	for i, v := range got.Pix {
		ref.Pix[i] = float32(v) / 255
	}
	res, err := MeasureFloat(img, ref, &Options{PSNROnly: true})
	require.NoError(t, err)
	require.True(t, math.IsInf(res.PSNR, 1))
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

// TestRound8 checks that Round8 is the shared tensor2img rounding
// (internal/imgconv.Byte, whose ties, clamping and sweep against
// math.RoundToEven are tested there) and spot-checks its public behaviour.
func TestRound8(t *testing.T) {
	require.Equal(t, uint8(2), Round8(float32(2.5)/255)) // half to even
	require.Equal(t, uint8(128), Round8(0.5))            // 127.5 -> 128
	require.Equal(t, uint8(255), Round8(float32(math.Inf(1))))
	for k := range 256 {
		require.Equal(t, uint8(k), Round8(float32(k)/255))
		tie := (float32(k) + 0.5) / 255
		for _, x := range []float32{tie, math.Nextafter32(tie, 0), math.Nextafter32(tie, 2), -tie, 1 + tie} {
			require.Equal(t, imgconv.Byte(x), Round8(x), "Round8(%v)", x)
		}
	}
}
