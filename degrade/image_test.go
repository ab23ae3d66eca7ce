package degrade

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuantize8(t *testing.T) {
	cases := []struct{ in, want float32 }{
		{0, 0},
		{-0.3, 0},
		{1.7, 1},
		{float32(math.NaN()), 0},
		{0.5, 128.0 / 255},                // 127.5 rounds half to even: 128
		{float32(1.5) / 255, 2.0 / 255},   // 1.5 -> 2
		{float32(2.5) / 255, 2.0 / 255},   // 2.5 -> 2 (half to even)
		{float32(100) / 255, 100.0 / 255}, // fixed point
	}
	for _, c := range cases {
		m := &Image{W: 1, H: 1, Pix: []float32{c.in, c.in, c.in}}
		m.Quantize8()
		require.Equal(t, float32(c.want), m.Pix[0], "in %v", c.in)
	}
	// Every 8-bit value is a fixed point of Quantize8. (The rounding itself,
	// ties and the sweep against math.RoundToEven, is tested in
	// internal/imgconv.)
	m := NewImage(256, 1)
	for k := range m.Pix {
		m.Pix[k] = float32(k%256) / 255
	}
	want := m.Clone().Pix
	require.Equal(t, want, m.Quantize8().Pix)
}

func TestImageRoundTrip(t *testing.T) {
	src := image.NewNRGBA(image.Rect(5, 7, 5+13, 7+9))
	for y := 0; y < 9; y++ {
		for x := 0; x < 13; x++ {
			src.SetNRGBA(5+x, 7+y, color.NRGBA{uint8(x * 19), uint8(y * 27), uint8(x*y + 3), 255})
		}
	}
	m := FromImage(src)
	require.Equal(t, 13, m.W)
	require.Equal(t, 9, m.H)
	require.Len(t, m.CHW(), 3*13*9)
	r, g, b := m.At(4, 2)
	require.Equal(t, float32(4*19)/255, r)
	require.Equal(t, float32(2*27)/255, g)
	require.Equal(t, float32(4*2+3)/255, b)
	back := m.ToImage()
	for y := 0; y < 9; y++ {
		for x := 0; x < 13; x++ {
			require.Equal(t, src.NRGBAAt(5+x, 7+y), back.NRGBAAt(x, y))
		}
	}
	// The generic path (RGBA64) gives the same values.
	g64 := image.NewRGBA64(src.Bounds())
	for y := 7; y < 16; y++ {
		for x := 5; x < 18; x++ {
			g64.Set(x, y, src.At(x, y))
		}
	}
	require.Equal(t, m.Pix, FromImage(g64).Pix)
	// CropMod(4) to 12x8.
	c := m.CropMod(4)
	require.Equal(t, 12, c.W)
	require.Equal(t, 8, c.H)
	r2, _, _ := c.At(4, 2)
	require.Equal(t, r, r2)
}

func TestValidate(t *testing.T) {
	require.ErrorIs(t, (*Image)(nil).Validate(), ErrEmptyImage)
	require.ErrorIs(t, NewImage(0, 3).Validate(), ErrEmptyImage)
	require.ErrorIs(t, (&Image{W: 2, H: 2, Pix: make([]float32, 5)}).Validate(), ErrBadImage)
	m := NewImage(2, 2)
	m.Pix[7] = float32(math.NaN())
	require.ErrorIs(t, m.Validate(), ErrNaN)
	_, err := FromCHW(2, 2, make([]float32, 11))
	require.ErrorIs(t, err, ErrBadImage)
	im, err := FromCHW(2, 2, make([]float32, 12))
	require.NoError(t, err)
	require.NoError(t, im.Validate())
}
