package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// Magic is the 6-byte prefix of every .npy file.
const Magic = "\x93NUMPY"

// MaxHeaderLen bounds the header size accepted by Read (NumPy's own limit is
// 10000 bytes by default); larger headers are treated as corrupt.
const MaxHeaderLen = 1 << 20

// eagerAlloc is the largest data size allocated in one go before any data has
// been read; larger arrays are read in chunks so that a corrupt header cannot
// trigger a huge allocation.
const eagerAlloc = 64 << 20

// Read decodes one .npy array from r. It reads exactly the header and the
// array's bytes, so several arrays can be read from one stream.
func Read(r io.Reader) (*host.Tensor, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	dt, bigEndian, err := parseDescr(h.descr)
	if err != nil {
		return nil, err
	}
	if h.fortranOrder {
		return nil, fmt.Errorf("npy: Fortran-order arrays are not supported (save with np.ascontiguousarray)")
	}
	n, err := host.ByteSize(dt, h.shape)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	data, err := readData(r, n)
	if err != nil {
		return nil, err
	}
	if bigEndian {
		swapBytes(data, dt.Size())
	}
	return &host.Tensor{DType: dt, Shape: h.shape, Data: data}, nil
}

// ReadFile reads the .npy file at path.
func ReadFile(path string) (*host.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	t, err := Read(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return t, nil
}

func readHeader(r io.Reader) (header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return header{}, fmt.Errorf("npy: reading magic: %w", noEOF(err))
	}
	if string(pre[:6]) != Magic {
		return header{}, errors.New("npy: not an .npy file (bad magic)")
	}
	major, minor := pre[6], pre[7]
	var hlen int
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return header{}, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return header{}, fmt.Errorf("npy: reading header length: %w", noEOF(err))
		}
		l := binary.LittleEndian.Uint32(b[:])
		if l > MaxHeaderLen {
			return header{}, fmt.Errorf("npy: header length %d exceeds %d bytes", l, MaxHeaderLen)
		}
		hlen = int(l)
	default:
		return header{}, fmt.Errorf("npy: unsupported format version %d.%d", major, minor)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return header{}, fmt.Errorf("npy: reading %d-byte header: %w", hlen, noEOF(err))
	}
	if major < 3 {
		for _, c := range buf {
			if c >= 0x80 {
				return header{}, errors.New("npy: header is not ASCII")
			}
		}
	} else if !utf8.Valid(buf) {
		return header{}, errors.New("npy: header is not UTF-8")
	}
	return parseHeader(string(bytes.TrimRight(buf, " \n\x00")))
}

func readData(r io.Reader, n int) ([]byte, error) {
	if n <= eagerAlloc {
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("npy: reading %d data bytes: %w", n, noEOF(err))
		}
		return data, nil
	}
	var buf bytes.Buffer
	got, err := io.CopyN(&buf, r, int64(n))
	if err != nil {
		return nil, fmt.Errorf("npy: data truncated: got %d of %d bytes: %w", got, n, noEOF(err))
	}
	return buf.Bytes(), nil
}

// noEOF turns a bare EOF into ErrUnexpectedEOF: inside a file, running out of
// bytes always means truncation.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func swapBytes(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		for j, k := i, i+size-1; j < k; j, k = j+1, k-1 {
			b[j], b[k] = b[k], b[j]
		}
	}
}
