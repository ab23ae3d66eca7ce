package degrade

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// MATLAB-style antialiased x4 downscaling reproduces a linear ramp at the
// output sample centres 4j+1.5 (cubic kernels reproduce linear functions
// and the weights are normalised), away from the symmetric borders, and
// leaves a constant image constant.
func TestDownscaleMatlabRamp(t *testing.T) {
	w, h := 128, 32
	m := NewImage(w, h)
	for c := 0; c < 3; c++ {
		p := m.Plane(c)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p[y*w+x] = 0.5*float32(x)/float32(w) + 0.1*float32(c)
			}
		}
	}
	lr, err := DownscaleMatlab(m, 4)
	require.NoError(t, err)
	require.Equal(t, [2]int{32, 8}, [2]int{lr.W, lr.H})
	maxDiff := 0.0
	for c := 0; c < 3; c++ {
		for y := 0; y < lr.H; y++ {
			for j := 3; j < lr.W-3; j++ {
				want := 0.5*(4*float64(j)+1.5)/float64(w) + 0.1*float64(c)
				d := math.Abs(float64(lr.Plane(c)[y*lr.W+j]) - want)
				maxDiff = max(maxDiff, d)
			}
		}
	}
	t.Logf("MATLAB x4 ramp: max |diff| %.5f (8-bit quantised output)", maxDiff)
	require.LessOrEqual(t, maxDiff, 0.5/255+1e-6)

	flat := NewImage(37, 21)
	for i := range flat.Pix {
		flat.Pix[i] = 100.0 / 255
	}
	for _, d := range []Downscaler{DownTorch, DownMatlab} {
		out, err := SuperRes(flat, 4, d)
		require.NoError(t, err)
		require.Equal(t, [2]int{37, 21}, [2]int{out.W, out.H})
		for _, v := range out.Pix {
			require.Equal(t, float32(100.0/255), v, d.String())
		}
	}
}

// ScaleBicubic x0.25 samples source coordinate 4i+1.5, exactly halfway
// between pixels 4i+1 and 4i+2; on a linear ramp that is the ramp's value.
func TestScaleBicubicRamp(t *testing.T) {
	w := 64
	m := NewImage(w, 4)
	for c := 0; c < 3; c++ {
		for y := 0; y < 4; y++ {
			for x := 0; x < w; x++ {
				m.Plane(c)[y*w+x] = float32(x) / 64
			}
		}
	}
	lr, err := ScaleBicubic(m, 0.25)
	require.NoError(t, err)
	require.Equal(t, 16, lr.W)
	for i := 1; i < 15; i++ {
		require.InDelta(t, (4*float64(i)+1.5)/64, float64(lr.Pix[i]), 1e-6)
	}
	up, err := ResizeBicubic(lr, 64, 4)
	require.NoError(t, err)
	require.Equal(t, 64, up.W)
}

// The real-codec JPEG mode degrades monotonically with quality and differs
// from the DiffJPEG model.
func TestJPEGCodecQuality(t *testing.T) {
	gt := loadPNG(t, "astronaut_gt.png")
	psnr := func(a, b *Image) float64 {
		var s float64
		ab, bb := a.Bytes(), b.Bytes()
		for i := range ab {
			d := float64(ab[i]) - float64(bb[i])
			s += d * d
		}
		return 10 * math.Log10(255*255/(s/float64(len(ab))))
	}
	prev := 0.0
	for _, q := range []int{10, 30, 50, 70, 95} {
		c, err := JPEGCodec(gt, q)
		require.NoError(t, err)
		d, err := JPEGDiff(gt, q)
		require.NoError(t, err)
		pc, pd := psnr(c, gt), psnr(d, gt)
		t.Logf("q=%d: PSNR codec %.2f dB, DiffJPEG %.2f dB", q, pc, pd)
		require.Greater(t, pc, prev)
		require.Greater(t, pc, 22.0)
		require.NotEqual(t, c.Pix, d.Pix)
		prev = pc
	}
}
