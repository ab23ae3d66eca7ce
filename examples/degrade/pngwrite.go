package main

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/atomicfile"
)

// writePNG writes m as an 8-bit RGB PNG. It is a small dedicated encoder:
// the Up filter on every row (Sub on the first) and Huffman-only deflate,
// instead of image/png's per-row trial of all five filters plus LZ77
// matching, which dominated the run time. Measured on 512x512 outputs it
// is 2-3x faster than image/png at BestSpeed and gives files of about the
// size cv2.imwrite's defaults give. Pixel values are those of
// degrade.Image.Bytes (the reference tensor2img rounding); any PNG reader
// decodes the file.
//
// The file is written atomically (internal/atomicfile: a temporary file in
// the same folder, synced, then renamed), so a crash or a failed write
// never leaves a truncated PNG under the output name.
func writePNG(path string, m *degrade.Image) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error { return encodePNG(w, m) })
}

var pngSig = []byte("\x89PNG\r\n\x1a\n")

type chunkWriter struct {
	w   io.Writer
	err error
}

func (c *chunkWriter) chunk(typ string, data []byte) {
	if c.err != nil {
		return
	}
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:8])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, b := range [][]byte{hdr[:], data, tail[:]} {
		if _, err := c.w.Write(b); err != nil {
			c.err = err
			return
		}
	}
}

// idatWriter splits the zlib stream into IDAT chunks.
type idatWriter struct{ c *chunkWriter }

func (w idatWriter) Write(p []byte) (int, error) {
	w.c.chunk("IDAT", p)
	return len(p), w.c.err
}

var zPool = sync.Pool{New: func() any {
	z, _ := zlib.NewWriterLevel(io.Discard, zlib.HuffmanOnly)
	return z
}}

func encodePNG(w io.Writer, m *degrade.Image) error {
	if _, err := w.Write(pngSig); err != nil {
		return err
	}
	cw := &chunkWriter{w: w}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:4], uint32(m.W))
	binary.BigEndian.PutUint32(ihdr[4:8], uint32(m.H))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit truecolour
	cw.chunk("IHDR", ihdr[:])
	pix := m.Bytes()
	stride := 3 * m.W
	bw := bufio.NewWriterSize(idatWriter{cw}, 1<<15)
	z := zPool.Get().(*zlib.Writer)
	defer zPool.Put(z)
	z.Reset(bw)
	row := make([]byte, stride+1)
	for y := 0; y < m.H; y++ {
		cur := pix[y*stride : (y+1)*stride]
		out := row[1 : 1+stride]
		if y == 0 {
			row[0] = 1 // Sub
			copy(out[:3], cur[:3])
			for i := 3; i < stride; i++ {
				out[i] = cur[i] - cur[i-3]
			}
		} else {
			row[0] = 2 // Up
			prev := pix[(y-1)*stride : y*stride][:stride]
			for i := range out {
				out[i] = cur[i] - prev[i]
			}
		}
		if _, err := z.Write(row); err != nil {
			return err
		}
	}
	if err := z.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	cw.chunk("IEND", nil)
	return cw.err
}
