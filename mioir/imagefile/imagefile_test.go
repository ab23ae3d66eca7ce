package imagefile

import (
	"bytes"
	"compress/zlib"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/imgconv"
)

// Test16BitRoundTrip: 16-bit PNGs and TIFFs (RGB, RGBA, gray), read and
// written without restoration, come back with every 16-bit sample equal.
func Test16BitRoundTrip(t *testing.T) {
	for _, f := range []struct {
		format, ext string
		encode      func(testing.TB, image.Image) []byte
		w, h        int
	}{
		{"png", "png", encodePNG, 37, 23},
		{"tiff", "tiff", encodeTIFF, 29, 31},
	} {
		for _, c := range []struct {
			name  string
			img   image.Image
			gray  bool
			alpha bool
		}{
			{"RGB", rgba64(f.w, f.h, true), false, false},
			{"RGBA", rgba64(f.w, f.h, false), false, true},
			{"Gray", gray16(f.w, f.h), true, false},
		} {
			t.Run(f.format+"/"+c.name, func(t *testing.T) {
				in := writeFile(t, "in."+f.ext, f.encode(t, c.img))
				im, err := Read(in, nil)
				require.NoError(t, err)
				require.Equal(t, 16, im.Depth)
				require.Equal(t, c.gray, im.Gray)
				require.Equal(t, c.alpha, im.Alpha != nil)
				require.Equal(t, f.format, im.Format)
				require.Equal(t, [2]int{f.w, f.h}, [2]int{im.Width, im.Height})
				// The float is the sample over 65535, not over 255.
				v := color.NRGBA64Model.Convert(c.img.At(0, 0)).(color.NRGBA64)
				require.Equal(t, imgconv.FromWord(v.R), im.Pix[0])

				out := filepath.Join(t.TempDir(), "out."+f.ext)
				require.NoError(t, Write(out, im, nil))
				got, format := decodeFile(t, out)
				require.Equal(t, f.format, format)
				requireSame16(t, c.img, got)
				if c.gray {
					require.IsType(t, &image.Gray16{}, got)
				}
			})
		}
	}
}

// Test8BitRoundTrip: 8-bit RGB, RGBA and paletted PNGs come back with the
// same 8-bit samples and alpha, and the floats are BasicSR's v/255.
func Test8BitRoundTrip(t *testing.T) {
	r := image.Rect(0, 0, 19, 13)
	rgba := image.NewNRGBA(r)
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{200, 100, 50, 128}, color.NRGBA{0, 0, 0, 0}})
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(rnd.IntN(256))
	}
	for i := range pal.Pix {
		pal.Pix[i] = uint8(rnd.IntN(3))
	}
	opaque := image.NewNRGBA(r)
	copy(opaque.Pix, rgba.Pix)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 255
	}
	for _, c := range []struct {
		name  string
		img   image.Image
		alpha bool
	}{{"RGB", opaque, false}, {"RGBA", rgba, true}, {"Paletted", pal, true}} {
		t.Run(c.name, func(t *testing.T) {
			im, err := Read(writeFile(t, "in.png", encodePNG(t, c.img)), nil)
			require.NoError(t, err)
			require.Equal(t, 8, im.Depth)
			require.False(t, im.Gray)
			require.Equal(t, c.alpha, im.Alpha != nil)
			want, _, _ := imgconv.CHW(c.img)
			require.Equal(t, want, im.Pix)
			out := filepath.Join(t.TempDir(), "out.png")
			require.NoError(t, Write(out, im, nil))
			got, _ := decodeFile(t, out)
			for y := range 13 {
				for x := range 19 {
					require.Equal(t, color.NRGBAModel.Convert(c.img.At(x, y)), color.NRGBAModel.Convert(got.At(x, y)))
				}
			}
		})
	}
}

// rawPNG writes a PNG of colour type ct at 8 bits a sample from raw rows
// (filter 0), for the colour types Go's encoder does not write.
func rawPNG(w, h int, ct byte, rows [][]byte) []byte {
	ihdr := []byte{0, 0, 0, byte(w), 0, 0, 0, byte(h), 8, ct, 0, 0, 0}
	var raw bytes.Buffer
	for _, r := range rows {
		raw.WriteByte(0)
		raw.Write(r)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	f := []byte("\x89PNG\r\n\x1a\n")
	f = append(f, pngChunk("IHDR", ihdr)...)
	f = append(f, pngChunk("IDAT", z.Bytes())...)
	return append(f, pngChunk("IEND", nil)...)
}

// TestGrayStaysGray: gray PNG and JPEG inputs are written gray; a gray+alpha
// PNG keeps its gray values and alpha; restored RGB is written as its luma.
func TestGrayStaysGray(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 24, 16))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	im, err := Read(writeFile(t, "g.png", encodePNG(t, g)), nil)
	require.NoError(t, err)
	require.True(t, im.Gray)
	require.Equal(t, 8, im.Depth)
	out := filepath.Join(t.TempDir(), "g.png")
	require.NoError(t, Write(out, im, nil))
	got, _ := decodeFile(t, out)
	require.IsType(t, &image.Gray{}, got)
	require.Equal(t, g.Pix, got.(*image.Gray).Pix)

	// Restored pixels are RGB: the written gray is their BT.601 luma.
	n := im.Width * im.Height
	im.Pix[0], im.Pix[n], im.Pix[2*n] = 1, 0.5, 0
	require.NoError(t, Write(out, im, nil))
	got, _ = decodeFile(t, out)
	require.Equal(t, imgconv.Byte(0.299+0.587*0.5), got.(*image.Gray).Pix[0])

	// JPEG: a one-component file in, one out.
	jim, err := Read(writeFile(t, "g.jpg", encodeJPEG(t, g, 90)), nil)
	require.NoError(t, err)
	require.True(t, jim.Gray)
	var b bytes.Buffer
	require.NoError(t, Encode(&b, jim, nil))
	cfg, err := jpeg.DecodeConfig(&b)
	require.NoError(t, err)
	require.Equal(t, color.GrayModel, cfg.ColorModel)

	// Gray+alpha (PNG colour type 4), which Go decodes as NRGBA.
	rows := [][]byte{{10, 255, 20, 128, 30, 0}, {40, 1, 50, 2, 60, 3}}
	ga, err := Read(writeFile(t, "ga.png", rawPNG(3, 2, 4, rows)), nil)
	require.NoError(t, err)
	require.True(t, ga.Gray)
	require.Equal(t, []uint16{255 * 257, 128 * 257, 0, 1 * 257, 2 * 257, 3 * 257}, ga.Alpha)
	require.NoError(t, Write(out, ga, nil))
	got, _ = decodeFile(t, out)
	for y, row := range rows {
		for x := range 3 {
			require.Equal(t, color.NRGBA{row[2*x], row[2*x], row[2*x], row[2*x+1]}, got.(*image.NRGBA).NRGBAAt(x, y))
		}
	}
}

// upright is a 6x4 image whose 24 pixels all differ, in 8x8 blocks when
// scaled by 8 (JPEG codes each block apart, so its colours survive).
func upright(scale int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 6*scale, 4*scale))
	for y := range 4 * scale {
		for x := range 6 * scale {
			bx, by := x/scale, y/scale
			m.SetNRGBA(x, y, color.NRGBA{uint8(40 * bx), uint8(60 * by), uint8(255 - 10*(bx+6*by)), 255})
		}
	}
	return m
}

// stored returns the image a camera stores for the upright image u with
// orientation o, from the EXIF specification's table of where the stored
// 0th row and 0th column lie when displayed.
func stored(u *image.NRGBA, o int) *image.NRGBA {
	row0 := map[int]string{1: "top", 2: "top", 3: "bottom", 4: "bottom", 5: "left", 6: "right", 7: "right", 8: "left"}[o]
	col0 := map[int]string{1: "left", 2: "right", 3: "right", 4: "left", 5: "top", 6: "top", 7: "bottom", 8: "bottom"}[o]
	W, H := u.Bounds().Dx(), u.Bounds().Dy()
	sw, sh := W, H
	if row0 == "left" || row0 == "right" {
		sw, sh = H, W
	}
	s := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	for y := range sh {
		for x := range sw {
			var dx, dy int // where stored (x, y) is displayed
			switch row0 {
			case "top":
				dy = y
			case "bottom":
				dy = H - 1 - y
			case "left":
				dx = y
			case "right":
				dx = W - 1 - y
			}
			switch col0 {
			case "left":
				dx = x
			case "right":
				dx = W - 1 - x
			case "top":
				dy = x
			case "bottom":
				dy = H - 1 - x
			}
			s.SetNRGBA(x, y, u.NRGBAAt(dx, dy))
		}
	}
	return s
}

// TestOrientation: a JPEG stored with each EXIF orientation 1..8, in both
// byte orders, reads upright (each 8x8 block within JPEG's error of its
// colour), and the EXIF written says 1; a PNG with eXIf reads upright
// exactly; a TIFF's own orientation tag is applied too.
func TestOrientation(t *testing.T) {
	u8 := upright(8)
	u1 := upright(1)
	for o := 1; o <= 8; o++ {
		for _, order := range []string{"II", "MM"} {
			exif := exifBlock(order, o)
			file := withJPEGSegments(encodeJPEG(t, stored(u8, o), 100), jpegSegment(0xe1, append([]byte("Exif\x00\x00"), exif...)))
			im, err := Decode(bytes.NewReader(file), nil)
			require.NoError(t, err)
			require.Equal(t, [2]int{48, 32}, [2]int{im.Width, im.Height}, "orientation %d %s", o, order)
			m := im.image(8, false).(*image.NRGBA)
			for by := range 4 {
				for bx := range 6 {
					want, got := u8.NRGBAAt(8*bx+4, 8*by+4), m.NRGBAAt(8*bx+4, 8*by+4)
					for _, d := range []int{int(want.R) - int(got.R), int(want.G) - int(got.G), int(want.B) - int(got.B)} {
						require.LessOrEqual(t, max(d, -d), 6, "orientation %d %s block %d,%d: %v, want %v", o, order, bx, by, got, want)
					}
				}
			}
			wantEXIF := exifBlock(order, 1)
			require.Equal(t, wantEXIF, im.EXIF)
			var b bytes.Buffer
			require.NoError(t, Encode(&b, im, nil))
			require.Equal(t, append([]byte("Exif\x00\x00"), wantEXIF...), jpegSegmentsOf(t, b.Bytes())[0xe1][0])

			p := withPNGChunks(encodePNG(t, stored(u1, o)), pngChunk("eXIf", exif))
			im, err = Decode(bytes.NewReader(p), nil)
			require.NoError(t, err)
			want, _, _ := imgconv.CHW(u1)
			require.Equal(t, want, im.Pix, "PNG orientation %d %s", o, order)
		}
	}

	// A TIFF whose IFD says orientation 6 (Go's TIFF encoder writes none).
	tf := withTIFFOrientation(encodeTIFF(t, stored(u1, 6)), 6)
	im, err := Decode(bytes.NewReader(tf), nil)
	require.NoError(t, err)
	want, _, _ := imgconv.CHW(u1)
	require.Equal(t, want, im.Pix)
}

// TestMetadataKept: EXIF and an ICC profile split over two APP2 segments
// (given out of order) are read from a JPEG and written unchanged into JPEG
// and PNG outputs; a PNG's eXIf and iCCP likewise; the outputs decode.
func TestMetadataKept(t *testing.T) {
	exif := exifBlock("MM", 1)
	icc := make([]byte, 100_000) // over one APP2 segment
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range icc {
		icc[i] = byte(rnd.IntN(256))
	}
	src := upright(4)
	segs := append([][]byte{jpegSegment(0xe1, append([]byte("Exif\x00\x00"), exif...))}, iccSegments(icc, 60_000, 1, 0)...)
	jpg := withJPEGSegments(encodeJPEG(t, src, 90), segs...)
	pngFile := withPNGChunks(encodePNG(t, src), iccpChunk(icc), pngChunk("eXIf", exif))

	for name, file := range map[string][]byte{"jpeg": jpg, "png": pngFile} {
		im, err := Decode(bytes.NewReader(file), nil)
		require.NoError(t, err, name)
		require.Equal(t, exif, im.EXIF, name)
		require.Equal(t, icc, im.ICC, name)
		dir := t.TempDir()

		jout := filepath.Join(dir, "out.jpg")
		require.NoError(t, Write(jout, im, nil))
		out := readBytes(t, jout)
		segs := jpegSegmentsOf(t, out)
		require.Equal(t, append([]byte("Exif\x00\x00"), exif...), segs[0xe1][0], name)
		var joined []byte
		for i, s := range segs[0xe2] {
			require.Equal(t, "ICC_PROFILE\x00", string(s[:12]))
			require.Equal(t, []byte{byte(i + 1), byte(len(segs[0xe2]))}, s[12:14])
			joined = append(joined, s[14:]...)
		}
		require.Equal(t, icc, joined, name)
		_, err = jpeg.Decode(bytes.NewReader(out))
		require.NoError(t, err)

		pout := filepath.Join(dir, "out.png")
		require.NoError(t, Write(pout, im, nil))
		out = readBytes(t, pout)
		chunks := pngChunksOf(t, out)
		require.Equal(t, [][]byte{exif}, chunks["eXIf"], name)
		require.Len(t, chunks["iCCP"], 1)
		require.Equal(t, icc, inflate(t, chunks["iCCP"][0]), name)
		_, _, err = image.Decode(bytes.NewReader(out)) // checks every chunk's CRC
		require.NoError(t, err)
	}
}

// TestICCColourSpace: a profile is written only where its header's colour
// space is the pixels': RGB on RGB, gray on gray, never CMYK.
func TestICCColourSpace(t *testing.T) {
	profile := func(cs string) []byte {
		p := make([]byte, 128)
		copy(p[16:], cs)
		return p
	}
	rgb := FromImage(upright(1))
	gray := FromImage(image.NewGray(image.Rect(0, 0, 4, 4)))
	grayAlpha := *gray
	grayAlpha.Alpha = make([]uint16, 16)
	for _, c := range []struct {
		name   string
		im     *Image
		cs     string
		format string
		kept   bool
	}{
		{"RGB on RGB", rgb, "RGB ", "png", true},
		{"gray on RGB", rgb, "GRAY", "png", false},
		{"CMYK on RGB", rgb, "CMYK", "jpeg", false},
		{"gray on gray", gray, "GRAY", "png", true},
		{"RGB on gray", gray, "RGB ", "jpeg", false},
		{"gray on gray+alpha PNG (RGBA)", &grayAlpha, "GRAY", "png", false},
		{"gray on gray+alpha JPEG (gray)", &grayAlpha, "GRAY", "jpeg", true},
	} {
		im := *c.im
		im.ICC = profile(c.cs)
		var b bytes.Buffer
		require.NoError(t, Encode(&b, &im, &Options{Format: c.format}), c.name)
		back, err := Decode(&b, nil)
		require.NoError(t, err, c.name)
		require.Equal(t, c.kept, back.ICC != nil, c.name)
	}
}

// TestBombRefused: a 0.9 MB PNG whose header declares 30000x30000 pixels
// (3.6 GB decoded) is refused from its header, within milliseconds and
// without allocating more than the file; so is a JPEG declaring 60000x60000,
// and a small image above a small MaxPixels.
func TestBombRefused(t *testing.T) {
	// IHDR of 30000x30000 RGB, then 0.9 MB of data that never ends the image.
	ihdr := []byte{0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0}
	body := make([]byte, 900_000)
	rnd := rand.New(rand.NewPCG(5, 6))
	for i := range body {
		body[i] = byte(rnd.IntN(256))
	}
	bomb := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	bomb = append(bomb, pngChunk("IDAT", body)...)
	path := writeFile(t, "bomb.png", bomb)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Read(path, nil)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, TooLargeError{Width: 30000, Height: 30000, MaxPixels: DefaultMaxPixels}, *tl)
	require.ErrorContains(t, err, "30000x30000 image (900000000 pixels) is larger than the limit of 100000000 pixels")
	t.Logf("refused in %v, %d bytes allocated for a %d-byte file", elapsed, after.TotalAlloc-before.TotalAlloc, len(bomb))
	require.Less(t, elapsed, 200*time.Millisecond)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(2*len(bomb)+1<<20))

	// A JPEG whose SOF0 says 60000x60000.
	jpg := encodeJPEG(t, upright(1), 90)
	i := bytes.Index(jpg, []byte{0xff, 0xc0})
	require.Positive(t, i)
	copy(jpg[i+5:], []byte{0xea, 0x60, 0xea, 0x60})
	_, err = Decode(bytes.NewReader(jpg), nil)
	require.ErrorAs(t, err, &tl)
	require.Equal(t, 60000, tl.Width)

	_, err = Decode(bytes.NewReader(encodePNG(t, upright(8))), &Options{MaxPixels: 1000})
	require.ErrorAs(t, err, &tl)
	require.Equal(t, TooLargeError{Width: 48, Height: 32, MaxPixels: 1000}, *tl)
}

// TestBadInputs: data of no image format, empty data, truncated PNG, JPEG
// and TIFF files at every cut, and a missing file give errors of the
// documented kinds, never a panic.
func TestBadInputs(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("just some text, not an image"), []byte("\x89PN")} {
		_, err := Decode(bytes.NewReader(data), nil)
		require.ErrorIs(t, err, ErrUnknownFormat, "%q", data)
	}
	src := upright(4)
	files := map[string][]byte{
		"png":  encodePNG(t, rgba64(24, 16, false)),
		"jpeg": withJPEGSegments(encodeJPEG(t, src, 90), jpegSegment(0xe1, append([]byte("Exif\x00\x00"), exifBlock("II", 6)...))),
		"tiff": encodeTIFF(t, src),
	}
	for format, file := range files {
		cuts := 0
		end := len(file) - 2
		if format == "tiff" {
			end = len(file) - 16 // Go's TIFF ends with resolution values, which decoders do not need
		}
		for n := 8; n < end; n += max(1, len(file)/97) {
			_, err := Decode(bytes.NewReader(file[:n]), nil)
			require.Error(t, err, "%s cut at %d of %d", format, n, len(file))
			var ce *CorruptError
			if errors.As(err, &ce) {
				require.Equal(t, format, ce.Format)
				cuts++
			}
		}
		require.Positive(t, cuts, format)
	}
	// The header alone: the size is known, the pixels are not.
	_, err := Decode(bytes.NewReader(files["png"][:33]), nil)
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	require.ErrorContains(t, err, "corrupt or truncated png data")

	_, err = Read(filepath.Join(t.TempDir(), "missing.png"), nil)
	require.ErrorIs(t, err, fs.ErrNotExist)
	p := writeFile(t, "broken.png", files["png"][:200])
	_, err = Read(p, nil)
	require.ErrorContains(t, err, p+": corrupt or truncated png data")
}

// FuzzDecode: no input panics, and a decoded image is consistent.
func FuzzDecode(f *testing.F) {
	f.Add(encodePNG(f, rgba64(5, 4, false)))
	f.Add(withPNGChunks(encodePNG(f, upright(1)), iccpChunk([]byte("profile")), pngChunk("eXIf", exifBlock("MM", 8))))
	f.Add(withJPEGSegments(encodeJPEG(f, upright(1), 80), jpegSegment(0xe1, append([]byte("Exif\x00\x00"), exifBlock("II", 5)...))))
	f.Add(encodeTIFF(f, gray16(3, 7)))
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := Decode(bytes.NewReader(data), &Options{MaxPixels: 1 << 16})
		if err != nil {
			return
		}
		require.NoError(t, im.check())
		require.NoError(t, Encode(&bytes.Buffer{}, im, &Options{Format: "png"}))
	})
}

// TestWriteFormats: the format comes from Options.Format, else the
// extension, else the source; formats that cannot be written and
// inconsistent images are refused, leaving an existing file as it was.
func TestWriteFormats(t *testing.T) {
	im, err := Decode(bytes.NewReader(encodeJPEG(t, upright(2), 90)), nil)
	require.NoError(t, err)
	dir := t.TempDir()
	sniff := func(p string) string {
		_, format, err := image.DecodeConfig(bytes.NewReader(readBytes(t, p)))
		require.NoError(t, err)
		return format
	}
	for _, c := range []struct {
		name, format string
		o            *Options
	}{
		{"a.png", "png", nil}, {"a.JPG", "jpeg", nil}, {"a.tif", "tiff", nil},
		{"noext", "jpeg", nil}, {"a.out", "jpeg", nil}, {"b.jpg", "png", &Options{Format: "png"}},
	} {
		p := filepath.Join(dir, c.name)
		require.NoError(t, Write(p, im, c.o), c.name)
		require.Equal(t, c.format, sniff(p), c.name)
	}
	gif := *im
	gif.Format = "gif"
	p := filepath.Join(dir, "from-gif")
	require.NoError(t, Write(p, &gif, nil))
	require.Equal(t, "png", sniff(p))

	require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
	require.ErrorContains(t, Write(filepath.Join(dir, "a.bmp"), im, nil), "cannot write bmp images")
	bad := *im
	bad.Pix = bad.Pix[:10]
	require.ErrorContains(t, Write(p, &bad, nil), "10 values in Pix")
	bad = *im
	bad.Depth = 12
	require.ErrorContains(t, Write(p, &bad, nil), "depth 12")
	require.Equal(t, "old", string(readBytes(t, p)))
	require.ErrorContains(t, Encode(&bytes.Buffer{}, im, &Options{Format: "webp"}), "cannot write webp")
	big := *im
	big.EXIF = make([]byte, 70_000)
	require.ErrorContains(t, Encode(&bytes.Buffer{}, &big, nil), "does not fit a JPEG APP1 segment")
}

// TestWithPixels: new pixels are clamped, metadata copied, and the alpha
// channel repeated over each block of an integer upscale.
func TestWithPixels(t *testing.T) {
	im := &Image{Width: 2, Height: 1, Pix: make([]float32, 6), Alpha: []uint16{7, 65535}, Depth: 16,
		Gray: true, Format: "png", EXIF: []byte{1}, ICC: []byte{2}}
	pix := make([]float32, 3*4*2)
	pix[0], pix[1] = -0.5, 1.5
	out, err := im.WithPixels(pix, 4, 2)
	require.NoError(t, err)
	require.Equal(t, []float32{0, 1}, out.Pix[:2])
	require.Equal(t, []uint16{7, 7, 65535, 65535, 7, 7, 65535, 65535}, out.Alpha)
	require.Equal(t, [2]int{4, 2}, [2]int{out.Width, out.Height})
	require.True(t, out.Gray)
	require.Equal(t, 16, out.Depth)
	require.Equal(t, []byte{1}, out.EXIF)
	out.EXIF[0] = 9
	require.Equal(t, []byte{1}, im.EXIF, "metadata copied")

	_, err = im.WithPixels(make([]float32, 3*3*1), 3, 1)
	require.ErrorContains(t, err, "cannot follow")
	_, err = im.WithPixels(make([]float32, 5), 2, 1)
	require.ErrorContains(t, err, "5 values")
}
