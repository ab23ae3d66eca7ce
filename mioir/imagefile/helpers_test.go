package imagefile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/tiff"
)

// The tests make their files with Go's encoders, then add metadata with the
// helpers below, written from the file format specifications apart from the
// package's own code, so that a mistake is not made twice the same way.

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, m))
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, m, &jpeg.Options{Quality: quality}))
	return b.Bytes()
}

func encodeTIFF(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, tiff.Encode(&b, m, &tiff.Options{Compression: tiff.Deflate}))
	return b.Bytes()
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func readBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// pngChunk is one PNG chunk: length, type, data, CRC of type and data.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// withPNGChunks inserts chunks after the IHDR chunk (signature 8 bytes, IHDR
// 25).
func withPNGChunks(file []byte, chunks ...[]byte) []byte {
	out := append([]byte(nil), file[:33]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, file[33:]...)
}

// iccpChunk is a PNG iCCP chunk: name, 0, method 0, zlib data.
func iccpChunk(icc []byte) []byte {
	var z bytes.Buffer
	z.WriteString("test profile\x00\x00")
	zw := zlib.NewWriter(&z)
	zw.Write(icc)
	zw.Close()
	return pngChunk("iCCP", z.Bytes())
}

// pngChunksOf returns the data of each chunk type of a PNG file, in order.
func pngChunksOf(t testing.TB, file []byte) map[string][][]byte {
	t.Helper()
	require.Equal(t, "\x89PNG\r\n\x1a\n", string(file[:8]))
	out := map[string][][]byte{}
	for i := 8; i < len(file); {
		n := int(binary.BigEndian.Uint32(file[i:]))
		typ := string(file[i+4 : i+8])
		out[typ] = append(out[typ], file[i+8:i+8+n])
		i += 12 + n
	}
	return out
}

func inflate(t testing.TB, iccp []byte) []byte {
	t.Helper()
	k := bytes.IndexByte(iccp, 0)
	require.Positive(t, k)
	require.Equal(t, byte(0), iccp[k+1], "compression method")
	zr, err := zlib.NewReader(bytes.NewReader(iccp[k+2:]))
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return b
}

// jpegSegment is a marker segment: FF, marker, 2-byte length (itself
// included), payload.
func jpegSegment(marker byte, payload []byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xff, marker, byte(n >> 8), byte(n)}, payload...)
}

// withJPEGSegments inserts segments after the SOI marker.
func withJPEGSegments(file []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), file[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, file[2:]...)
}

// iccSegments splits icc into APP2 ICC_PROFILE segments of at most size
// bytes each, in the order given by order (indices into the parts).
func iccSegments(icc []byte, size int, order ...int) [][]byte {
	var parts [][]byte
	for len(icc) > 0 {
		k := min(size, len(icc))
		parts = append(parts, icc[:k])
		icc = icc[k:]
	}
	if order == nil {
		for i := range parts {
			order = append(order, i)
		}
	}
	var segs [][]byte
	for _, i := range order {
		p := append([]byte("ICC_PROFILE\x00"), byte(i+1), byte(len(parts)))
		segs = append(segs, jpegSegment(0xe2, append(p, parts[i]...)))
	}
	return segs
}

// jpegSegmentsOf returns the payloads of the segments before the scan, by
// marker.
func jpegSegmentsOf(t testing.TB, file []byte) map[byte][][]byte {
	t.Helper()
	require.Equal(t, []byte{0xff, 0xd8}, file[:2])
	out := map[byte][][]byte{}
	for i := 2; file[i+1] != 0xda; {
		require.Equal(t, byte(0xff), file[i])
		n := int(file[i+2])<<8 | int(file[i+3])
		out[file[i+1]] = append(out[file[i+1]], file[i+4:i+2+n])
		i += 2 + n
	}
	return out
}

// exifBlock is a small TIFF-structured EXIF block in the byte order of bo
// ("II" or "MM") with, in its first IFD, ImageDescription (an ASCII value
// stored after the IFD) and Orientation o (none when o is 0).
func exifBlock(order string, o int) []byte {
	var bo interface {
		AppendUint16([]byte, uint16) []byte
		AppendUint32([]byte, uint32) []byte
	} = binary.LittleEndian
	if order == "MM" {
		bo = binary.BigEndian
	}
	desc := "a test picture\x00"
	n := 1
	if o != 0 {
		n = 2
	}
	b := []byte(order)
	b = bo.AppendUint16(b, 42)
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, uint16(n))
	descAt := 8 + 2 + 12*n + 4
	// ImageDescription (0x010e), ASCII (2), count, offset.
	b = bo.AppendUint16(b, 0x010e)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint32(b, uint32(len(desc)))
	b = bo.AppendUint32(b, uint32(descAt))
	if o != 0 {
		// Orientation (0x0112), SHORT (3), count 1, value left-justified.
		b = bo.AppendUint16(b, 0x0112)
		b = bo.AppendUint16(b, 3)
		b = bo.AppendUint32(b, 1)
		b = bo.AppendUint16(b, uint16(o))
		b = bo.AppendUint16(b, 0)
	}
	b = bo.AppendUint32(b, 0) // no next IFD
	return append(b, desc...)
}

// noise fills 16-bit samples from a fixed generator, every bit used.
type noise uint64

func (n *noise) next() uint16 {
	*n = *n*6364136223846793005 + 1442695040888963407
	return uint16(*n >> 41)
}

func rgba64(w, h int, opaque bool) *image.NRGBA64 {
	m := image.NewNRGBA64(image.Rect(0, 0, w, h))
	n := noise(1)
	for y := range h {
		for x := range w {
			a := uint16(0xffff)
			if !opaque {
				a = n.next()
			}
			m.SetNRGBA64(x, y, color.NRGBA64{n.next(), n.next(), n.next(), a})
		}
	}
	return m
}

func gray16(w, h int) *image.Gray16 {
	m := image.NewGray16(image.Rect(0, 0, w, h))
	n := noise(2)
	for y := range h {
		for x := range w {
			m.SetGray16(x, y, color.Gray16{n.next()})
		}
	}
	return m
}

// requireSame16 checks that got has the non-premultiplied 16-bit samples
// of want at every pixel.
func requireSame16(t testing.TB, want, got image.Image) {
	t.Helper()
	require.Equal(t, want.Bounds().Size(), got.Bounds().Size())
	b, g := want.Bounds(), got.Bounds()
	for y := range b.Dy() {
		for x := range b.Dx() {
			cw := color.NRGBA64Model.Convert(want.At(b.Min.X+x, b.Min.Y+y))
			cg := color.NRGBA64Model.Convert(got.At(g.Min.X+x, g.Min.Y+y))
			if cw != cg {
				require.Equal(t, cw, cg, "pixel %d,%d", x, y)
			}
		}
	}
}

func decodeFile(t testing.TB, path string) (image.Image, string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, format, err := image.Decode(f)
	require.NoError(t, err)
	return m, format
}

// withTIFFOrientation adds an Orientation entry to the first IFD of a
// little-endian TIFF file: a copy of the IFD with the entry in its sorted
// place is appended, and the header points to it (the values the old
// entries point to stay where they are).
func withTIFFOrientation(file []byte, o int) []byte {
	le := binary.LittleEndian
	ifd := int(le.Uint32(file[4:]))
	n := int(le.Uint16(file[ifd:]))
	var entries [][]byte
	for i := range n {
		entries = append(entries, file[ifd+2+12*i:ifd+14+12*i])
	}
	e := le.AppendUint16(nil, 0x0112)
	e = le.AppendUint16(e, 3)
	e = le.AppendUint32(e, 1)
	e = le.AppendUint32(e, uint32(o))
	entries = append(entries, e)
	slices.SortFunc(entries, func(a, b []byte) int { return int(le.Uint16(a)) - int(le.Uint16(b)) })
	out := append([]byte(nil), file...)
	if len(out)%2 == 1 {
		out = append(out, 0) // an IFD starts on a word boundary
	}
	le.PutUint32(out[4:], uint32(len(out)))
	out = le.AppendUint16(out, uint16(len(entries)))
	for _, e := range entries {
		out = append(out, e...)
	}
	return le.AppendUint32(out, 0)
}
