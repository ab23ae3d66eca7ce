package mioir

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/imgconv"
	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

func pngFile(t *testing.T, m image.Image) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, m))
	p := filepath.Join(t.TempDir(), "in.png")
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	return p
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := png.Decode(f)
	require.NoError(t, err)
	return m
}

// TestRestoreImageFile: a 16-bit RGBA PNG is restored from its 16-bit
// floats (the result is RestoreTensor's, clamped) and written 16-bit with
// its alpha bit for bit; an 8-bit file gives exactly Restore's pixels; a
// gray file stays gray.
func TestRestoreImageFile(t *testing.T) {
	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: 2}, Prompt: prompt.Adaptive}, 1)
	require.NoError(t, err)
	defer m.Close()
	live := torch.LiveTensors()
	ctx := context.Background()

	src := image.NewNRGBA64(image.Rect(0, 0, 21, 17))
	for y := range 17 {
		for x := range 21 {
			src.SetNRGBA64(x, y, color.NRGBA64{uint16(x * 3001), uint16(y * 3833), uint16(x*y*211 + 7), uint16(x*y*977 + 3)})
		}
	}
	im, err := imagefile.Read(pngFile(t, src), nil)
	require.NoError(t, err)
	im.ICC = []byte("profile")
	out, info, err := m.RestoreImageFile(ctx, im, nil)
	require.NoError(t, err)
	require.Equal(t, 1, info.Tiles)
	require.Equal(t, 16, out.Depth)
	require.Equal(t, im.Alpha, out.Alpha)
	require.Equal(t, []byte("profile"), out.ICC)

	x, err := torch.FromSlice(nil, im.Pix, 1, 3, 17, 21)
	require.NoError(t, err)
	want, _ := restoreSlice(t, m, x, nil)
	x.Close()
	for i := range want {
		want[i] = min(max(want[i], 0), 1)
	}
	require.Equal(t, want, out.Pix)

	dst := filepath.Join(t.TempDir(), "out.png")
	require.NoError(t, imagefile.Write(dst, out, nil))
	got, ok := decodePNG(t, dst).(*image.NRGBA64)
	require.True(t, ok, "16-bit RGBA out")
	off8 := 0 // samples off the 8-bit grid: the result was not rounded to 8 bits
	for y := range 17 {
		for x := range 21 {
			c := got.NRGBA64At(x, y)
			require.Equal(t, src.NRGBA64At(x, y).A, c.A, "alpha at %d,%d", x, y)
			require.Equal(t, imgconv.Word(out.Pix[y*21+x]), c.R)
			if c.R%257 != 0 {
				off8++
			}
		}
	}
	require.Greater(t, off8, 300)

	// 8 bits: the same pixels as Restore on the decoded image.
	src8 := image.NewNRGBA(image.Rect(0, 0, 19, 11))
	for i := range src8.Pix {
		src8.Pix[i] = uint8(i * 37)
		if i%4 == 3 {
			src8.Pix[i] = 255
		}
	}
	im, err = imagefile.Read(pngFile(t, src8), nil)
	require.NoError(t, err)
	out, _, err = m.RestoreImageFile(ctx, im, nil)
	require.NoError(t, err)
	res, _, err := m.Restore(ctx, src8, nil)
	require.NoError(t, err)
	img8, err := out.Image()
	require.NoError(t, err)
	require.Equal(t, res.Pix, img8.(*image.NRGBA).Pix)

	// Gray in, gray out.
	g := image.NewGray16(image.Rect(0, 0, 13, 9))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 11)
	}
	im, err = imagefile.Read(pngFile(t, g), nil)
	require.NoError(t, err)
	out, _, err = m.RestoreImageFile(ctx, im, nil)
	require.NoError(t, err)
	require.True(t, out.Gray)
	require.NoError(t, imagefile.Write(dst, out, nil))
	require.IsType(t, &image.Gray16{}, decodePNG(t, dst))

	_, _, err = m.RestoreImageFile(ctx, nil, nil)
	require.ErrorContains(t, err, "nil image")
	_, _, err = m.RestoreImageFile(ctx, &imagefile.Image{Width: 2, Height: 2, Pix: make([]float32, 3)}, nil)
	require.ErrorContains(t, err, "3 values for a 2x2 RGB image")
	require.Equal(t, live, torch.LiveTensors(), "no tensor left behind")
}
