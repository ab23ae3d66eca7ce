package torch

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/npy"
)

// tensor2img of the reference fixture (including values that land exactly on
// x.5 after *255, and ±inf) is reproduced bit for bit.
func TestToImageMatchesBasicSRRounding(t *testing.T) {
	in, err := npy.ReadFile(fixtures.Path(t, "metrics", "tensor2img_in.npy"))
	require.NoError(t, err)
	want, err := npy.ReadFile(fixtures.Path(t, "metrics", "tensor2img_out.npy"))
	require.NoError(t, err)
	s := NewScope(Inference)
	defer s.Close()
	x, err := FromHost(s, in, CPU)
	require.NoError(t, err)
	img, err := ToImage(x)
	require.NoError(t, err)
	wantBGR, err := want.Uint8s()
	require.NoError(t, err)
	h, w := want.Shape[0], want.Shape[1]
	require.Equal(t, image.Rect(0, 0, w, h), img.Bounds())
	ties := 0
	vals, _ := in.Float32s()
	for y := range h {
		for xx := range w {
			c := img.NRGBAAt(xx, y)
			o := 3 * (y*w + xx)
			require.Equal(t, [3]uint8{wantBGR[o+2], wantBGR[o+1], wantBGR[o]}, [3]uint8{c.R, c.G, c.B}, "pixel (%d,%d)", xx, y)
			require.Equal(t, uint8(255), c.A)
		}
	}
	for _, v := range vals {
		if p := v * 255; p == float32(math.Floor(float64(p)))+0.5 {
			ties++
		}
	}
	require.Greater(t, ties, 250, "the fixture exercises exact .5 ties")
	t.Logf("%d pixels equal, %d exact .5 ties among the inputs", h*w, ties)
}

func TestHalfwayValuesRoundToEven(t *testing.T) {
	s := NewScope(Inference)
	defer s.Close()
	// k/255 for a few k, and values whose float32 product with 255 is k+0.5.
	var vals []float32
	var want []uint8
	for _, k := range []int{0, 1, 2, 3, 100, 101, 253, 254} {
		// Search a few ulps around (k+0.5)/255 for an exact tie.
		x := float32((float64(k) + 0.5) / 255)
		for range 4 {
			x = math.Nextafter32(x, 0)
		}
		for range 9 {
			x = math.Nextafter32(x, 1)
			if x*255 == float32(k)+0.5 {
				vals = append(vals, x)
				want = append(want, uint8(k+k%2)) // the even neighbour
				break
			}
		}
	}
	require.GreaterOrEqual(t, len(vals), 6, "found exact ties")
	n := len(vals)
	chw := make([]float32, 3*n)
	copy(chw, vals)
	x, err := FromSlice(s, chw, 3, 1, int64(n))
	require.NoError(t, err)
	img, err := ToImage(x)
	require.NoError(t, err)
	for i := range vals {
		require.Equal(t, want[i], img.NRGBAAt(i, 0).R, "value %.9g*255 = %.9g", vals[i], vals[i]*255)
	}
}

func TestImageRoundTrip(t *testing.T) {
	src := image.NewNRGBA(image.Rect(10, 20, 17, 25)) // non-zero origin, odd size
	for y := 20; y < 25; y++ {
		for x := 10; x < 17; x++ {
			src.SetNRGBA(x, y, color.NRGBA{uint8(x * 13), uint8(y * 7), uint8(x * y), 255})
		}
	}
	s := NewScope(Inference)
	defer s.Close()
	x, err := FromImage(s, src, CPU)
	require.NoError(t, err)
	require.Equal(t, []int64{1, 3, 5, 7}, x.Shape())
	v, err := ToSlice[float32](x)
	require.NoError(t, err)
	require.Equal(t, float32(10*13)/255, v[0], "R of the top-left pixel")
	require.Equal(t, float32(20*7)/255, v[35], "G plane starts after 5x7 R values")
	back, err := ToImage(x)
	require.NoError(t, err)
	for y := range 5 {
		for xx := range 7 {
			require.Equal(t, src.NRGBAAt(xx+10, y+20), back.NRGBAAt(xx, y))
		}
	}
	three, err := ToImage(x.Squeeze(0).ToDType(Float64))
	require.NoError(t, err)
	require.Equal(t, back.Pix, three.Pix, "3xHxW float64 gives the same image")
}

func TestImageConversionErrors(t *testing.T) {
	s := NewScope(Inference)
	defer s.Close()
	_, err := FromImage(s, image.NewNRGBA(image.Rect(0, 0, 0, 5)), CPU)
	require.ErrorContains(t, err, "empty image")
	_, err = FromImage(s, nil, CPU)
	require.ErrorContains(t, err, "nil image")
	_, err = FromImage(s, image.NewGray(image.Rect(0, 0, 1<<14, 1<<13)), CPU)
	require.ErrorContains(t, err, "larger than")
	nan, err := FromSlice(s, []float32{0, 1, float32(math.NaN()), 0.5, 0.5, 0.5}, 1, 3, 1, 2)
	require.NoError(t, err)
	_, err = ToImage(nan)
	require.ErrorContains(t, err, "NaN in channel 1 at (x=0, y=0)")
	four, err := Zeros(s, []int64{1, 4, 2, 2}, nil)
	require.NoError(t, err)
	_, err = ToImage(four)
	require.ErrorContains(t, err, "1x3xHxW")
	ints, err := Zeros(s, []int64{3, 2, 2}, &Options{DType: Int64})
	require.NoError(t, err)
	_, err = ToImage(ints)
	require.ErrorContains(t, err, "float tensor")
}
