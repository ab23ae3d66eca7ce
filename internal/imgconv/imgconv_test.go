package imgconv

import (
	"image"
	"image/color"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// refByte is tensor2img's rounding written the obvious way. (Byte against
// BasicSR's own tensor2img output, on the reference fixture, is checked
// through metrics.Round8 and the float conversion in metrics' TestTensor2ImgFixture.)
func refByte(x float32) uint8 {
	if x != x {
		return 0
	}
	v := float64(x * 255) // the product is rounded in float32, as torch does
	return uint8(math.RoundToEven(math.Min(math.Max(v, 0), 255)))
}

func TestByteTies(t *testing.T) {
	cases := []struct {
		in   float32
		want uint8
	}{
		{0, 0}, {-0.3, 0}, {float32(math.Inf(-1)), 0}, {float32(math.Copysign(0, -1)), 0},
		{float32(math.NaN()), 0},
		{1, 255}, {1.7, 255}, {float32(math.Inf(1)), 255},
		{0.5, 128},                  // 127.5 -> 128 (even)
		{float32(1.5) / 255, 2},     // 1.5 -> 2
		{float32(2.5) / 255, 2},     // 2.5 -> 2 (half to even)
		{float32(100) / 255, 100},   // fixed point
		{float32(254.5) / 255, 254}, // 254.5 -> 254
		{math.Nextafter32(1, 0), 255},
		{math.SmallestNonzeroFloat32, 0},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Byte(c.in), "Byte(%v)", c.in)
	}
	// Every 8-bit value is a fixed point of Byte, FromByte and Quantize.
	for k := range 256 {
		x := float32(k) / 255
		require.Equal(t, x, FromByte(uint8(k)))
		require.Equal(t, uint8(k), Byte(x))
		require.Equal(t, x, Quantize(x))
	}
}

// TestByteSweep compares Byte and Quantize with the reference rounding on a
// dense sweep of [0,1) and on a strided walk over the float32 bit patterns
// from 0 to past 1 (both signs).
// TestWord: Word inverts FromWord for every 16-bit value, clamps, and
// rounds ties to even as Byte does.
func TestWord(t *testing.T) {
	for v := range 1 << 16 {
		if got := Word(FromWord(uint16(v))); got != uint16(v) {
			t.Fatalf("Word(FromWord(%d)) = %d", v, got)
		}
	}
	require.Equal(t, uint16(0), Word(float32(math.NaN())))
	require.Equal(t, uint16(0), Word(-1))
	require.Equal(t, uint16(65535), Word(2))
	require.Equal(t, uint16(2), Word(float32(2.5)/65535))
	require.Equal(t, uint16(4), Word(float32(3.5)/65535))
}

func TestByteSweep(t *testing.T) {
	check := func(x float32) {
		want := refByte(x)
		if got := Byte(x); got != want {
			t.Fatalf("Byte(%v) = %d, want %d", x, got, want)
		}
		// Quantize is the round half to even of x*255, divided by 255.
		if got, w := Quantize(x), float32(want)/255; got != w {
			t.Fatalf("Quantize(%v) = %v, want %v", x, got, w)
		}
	}
	for i := 0; i < 1<<20; i++ {
		check(float32(i) / (1 << 20))
		// v + 1/2 for every v on a 2^-12 grid of [0,255): ties and their
		// neighbours.
		v := float32(i) / (1 << 12)
		check(v / 255)
		check(math.Nextafter32(v/255, 0))
		check(math.Nextafter32(v/255, 2))
	}
	for b := uint32(0); b <= 0x3f800100; b += 101 {
		check(math.Float32frombits(b))
		check(-math.Float32frombits(b))
	}
}

// refRGB8 reads pixel (x, y) the documented way, one At call at a time.
func refRGB8(src image.Image, x, y int) (r, g, b uint8) {
	switch c := src.At(x, y).(type) {
	case color.NRGBA:
		return c.R, c.G, c.B
	case color.RGBA:
		n := color.NRGBAModel.Convert(c).(color.NRGBA)
		return n.R, n.G, n.B
	case color.Gray:
		return c.Y, c.Y, c.Y
	case color.YCbCr:
		return color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
	default:
		n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
		return round16(n.R), round16(n.G), round16(n.B)
	}
}

// opaqueType hides the concrete type of an image, forcing the generic path.
type opaqueType struct{ image.Image }

func testImages() map[string]image.Image {
	r := image.Rect(3, 5, 3+37, 5+29)
	n := image.NewNRGBA(r)
	nOpaque := image.NewNRGBA(r)
	rgba := image.NewRGBA(r)
	opaque := image.NewRGBA(r)
	g := image.NewGray(r)
	g16 := image.NewGray16(r)
	c64 := image.NewRGBA64(r)
	for i := range n.Pix {
		n.Pix[i] = uint8(i*37 + i/5)
		nOpaque.Pix[i] = n.Pix[i] | uint8(255*(i%4/3))
		opaque.Pix[i] = uint8(i*11 + 3)
		if i%4 == 3 {
			opaque.Pix[i] = 255
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			a := uint8(x * y * 7)
			if x%3 == 0 {
				a = 255
			}
			// valid premultiplied colours (each channel <= alpha)
			rgba.SetRGBA(x, y, color.RGBA{uint8(int(a) * x / 40), uint8(int(a) * y / 34), a / 2, a})
			g16.SetGray16(x, y, color.Gray16{Y: uint16(x*2011 + y*977)})
			c64.SetRGBA64(x, y, color.RGBA64{uint16(x * 1700), uint16(y * 1900), uint16(x*y*31 + 127), 0xffff})
		}
	}
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 13)
	}
	imgs := map[string]image.Image{
		"NRGBA": n, "NRGBAOpaque": nOpaque, "RGBA": rgba, "RGBAOpaque": opaque, "Gray": g, "Gray16": g16, "RGBA64": c64,
		"SubNRGBA":       n.SubImage(image.Rect(10, 9, 30, 21)),
		"SubNRGBAOpaque": nOpaque.SubImage(image.Rect(10, 9, 30, 21)),
		"SubGray":        g.SubImage(image.Rect(4, 6, 39, 7)),
	}
	ratios := map[string]image.YCbCrSubsampleRatio{
		"444": image.YCbCrSubsampleRatio444, "422": image.YCbCrSubsampleRatio422,
		"420": image.YCbCrSubsampleRatio420, "440": image.YCbCrSubsampleRatio440,
		"411": image.YCbCrSubsampleRatio411, "410": image.YCbCrSubsampleRatio410,
	}
	for name, ratio := range ratios {
		yc := image.NewYCbCr(r, ratio)
		for i := range yc.Y {
			yc.Y[i] = uint8(i*29 + 16)
		}
		for i := range yc.Cb {
			yc.Cb[i], yc.Cr[i] = uint8(i*53+7), uint8(255-i*17)
		}
		imgs["YCbCr"+name] = yc
		imgs["SubYCbCr"+name] = yc.SubImage(image.Rect(6, 8, 33, 31))
	}
	return imgs
}

// TestFastPathsMatchReference checks every fast path (and the generic path)
// against a per-pixel reference, CHW against RGB8Planes, and, for the
// images whose 8-bit samples survive the generic path's 16-bit
// premultiplied round trip (opaque NRGBA and RGBA, Gray), the fast path
// against the generic path.
func TestFastPathsMatchReference(t *testing.T) {
	for name, img := range testImages() {
		b := img.Bounds()
		w, h := b.Dx(), b.Dy()
		pix, pw, ph := RGB8Planes(img)
		chw, cw, chh := CHW(img)
		require.Equal(t, [2]int{w, h}, [2]int{pw, ph}, name)
		require.Equal(t, [2]int{w, h}, [2]int{cw, chh}, name)
		require.Len(t, pix, 3*w*h, name)
		require.Len(t, chw, 3*w*h, name)
		n := w * h
		for y := range h {
			for x := range w {
				r, g, bl := refRGB8(img, b.Min.X+x, b.Min.Y+y)
				i := y*w + x
				require.Equal(t, []uint8{r, g, bl}, []uint8{pix[i], pix[n+i], pix[2*n+i]}, "%s (%d,%d)", name, x, y)
			}
		}
		for i, v := range pix {
			require.Equal(t, FromByte(v), chw[i], name)
		}
		switch name {
		case "NRGBAOpaque", "RGBAOpaque", "Gray", "SubNRGBAOpaque", "SubGray":
			gp, _, _ := RGB8Planes(opaqueType{img})
			require.Equal(t, pix, gp, "%s: fast path vs generic path", name)
			gc, _, _ := CHW(opaqueType{img})
			require.Equal(t, chw, gc, "%s: fast path vs generic path", name)
		}
	}
}

func TestAlphaDropped(t *testing.T) {
	n := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	n.SetNRGBA(0, 0, color.NRGBA{200, 100, 50, 0})
	pix, _, _ := RGB8Planes(n)
	require.Equal(t, []uint8{200, 100, 50}, pix)
	r := image.NewRGBA(image.Rect(0, 0, 1, 1))
	r.SetRGBA(0, 0, color.RGBA{100, 50, 25, 128})
	pix, _, _ = RGB8Planes(r)
	require.Equal(t, []uint8{199, 99, 49}, pix) // un-premultiplied
	g16 := image.NewGray16(image.Rect(0, 0, 1, 1))
	g16.SetGray16(0, 0, color.Gray16{Y: 0x8080 + 0x7f})
	pix, _, _ = RGB8Planes(g16)
	require.Equal(t, []uint8{0x80, 0x80, 0x80}, pix) // nearest 8-bit value
}

func TestEmpty(t *testing.T) {
	chw, w, h := CHW(nil)
	require.Nil(t, chw)
	require.Zero(t, w)
	require.Zero(t, h)
	pix, w, h := RGB8Planes(image.NewGray(image.Rect(2, 2, 9, 2)))
	require.Nil(t, pix)
	require.Equal(t, 7, w)
	require.Zero(t, h)
	require.Equal(t, image.Rect(0, 0, 0, 0), NRGBA(nil, 0, 0).Bounds())
	require.Empty(t, Bytes(nil, 0, 0))
}

func TestNRGBAAndBytes(t *testing.T) {
	src := testImages()["SubNRGBAOpaque"].(*image.NRGBA)
	chw, w, h := CHW(src)
	// Round trip: an opaque 8-bit image comes back unchanged.
	back := NRGBA(chw, w, h)
	for y := range h {
		for x := range w {
			require.Equal(t, src.NRGBAAt(src.Rect.Min.X+x, src.Rect.Min.Y+y), back.NRGBAAt(x, y))
		}
	}
	// Off-grid, out-of-range and NaN values follow Byte in both outputs.
	n := w * h
	for i := range chw {
		chw[i] = float32(i%1000)/777 - 0.1
	}
	chw[5] = float32(math.NaN())
	chw[n+7] = float32(math.Inf(1))
	img, rgb := NRGBA(chw, w, h), Bytes(chw, w, h)
	require.Len(t, rgb, 3*n)
	for y := range h {
		for x := range w {
			i := y*w + x
			want := []uint8{Byte(chw[i]), Byte(chw[n+i]), Byte(chw[2*n+i])}
			require.Equal(t, want, rgb[3*i:3*i+3])
			require.Equal(t, color.NRGBA{want[0], want[1], want[2], 255}, img.NRGBAAt(x, y))
		}
	}
}

func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	img := testImages()["YCbCr420"]
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	want, w, h := CHW(img)
	wantBytes := Bytes(want, w, h)
	for _, p := range []int{2, 3, 7} {
		runtime.GOMAXPROCS(p)
		got, _, _ := CHW(img)
		require.Equal(t, want, got, "GOMAXPROCS %d", p)
		require.Equal(t, wantBytes, Bytes(got, w, h), "GOMAXPROCS %d", p)
	}
}
