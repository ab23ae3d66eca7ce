package main

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/gomioir/gomioir/degrade"
)

// writePNG writes m as an 8-bit RGB PNG. It is a small dedicated encoder:
// every row uses the Paeth filter (the usual best single choice for photos)
// and zlib at BestSpeed, instead of image/png's per-row trial of all five
// filters, which dominated the run time. Pixel values are those of
// degrade.Image.Bytes (the reference tensor2img rounding); any PNG reader
// decodes the file.
func writePNG(path string, m *degrade.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = encodePNG(bw, m)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
	z, _ := zlib.NewWriterLevel(io.Discard, zlib.BestSpeed)
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
	row[0] = 4 // Paeth
	for y := 0; y < m.H; y++ {
		cur := pix[y*stride : (y+1)*stride]
		var prev []byte
		if y > 0 {
			prev = pix[(y-1)*stride : y*stride]
		}
		out := row[1:]
		for i := 0; i < stride; i++ {
			var a, b, c int
			if i >= 3 {
				a = int(cur[i-3])
			}
			if prev != nil {
				b = int(prev[i])
				if i >= 3 {
					c = int(prev[i-3])
				}
			}
			out[i] = cur[i] - byte(paeth(a, b, c))
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

// paeth is the PNG Paeth predictor.
func paeth(a, b, c int) int {
	p := a + b - c
	pa, pb, pc := p-a, p-b, p-c
	if pa < 0 {
		pa = -pa
	}
	if pb < 0 {
		pb = -pb
	}
	if pc < 0 {
		pc = -pc
	}
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}
