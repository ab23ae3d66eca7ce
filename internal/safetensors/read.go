package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// File is the content of a safetensors file: the tensors in header order and
// the "__metadata__" strings (nil when the file has none).
type File struct {
	Tensors  *host.StateDict
	Metadata map[string]string
}

// Read parses a whole safetensors file held in data. The returned tensors'
// Data slices point into data (no copy); each is capped at its own range, so
// appending to one never overwrites another.
func Read(data []byte) (*File, error) {
	h, n, err := splitHeader(data)
	if err != nil {
		return nil, err
	}
	body := data[8+n:]
	if err := h.checkLayout(int64(len(body))); err != nil {
		return nil, err
	}
	sd := host.NewStateDict()
	for _, ti := range h.Tensors {
		t := &host.Tensor{DType: ti.DType, Shape: ti.Shape, Data: body[ti.Begin:ti.End:ti.End]}
		if err := sd.Add(ti.Name, t); err != nil {
			return nil, fmt.Errorf("safetensors: %w", err)
		}
	}
	return &File{Tensors: sd, Metadata: h.Metadata}, nil
}

// ReadFile reads and parses the safetensors file at path.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return f, nil
}

// ReadHeader reads only the header of a safetensors stream: tensor names,
// dtypes, shapes, offsets and metadata, without the data. It does not check
// the offsets against the data section, whose length it does not know.
func ReadHeader(r io.Reader) (*Header, error) {
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", noEOF(err))
	}
	n, err := headerLen(binary.LittleEndian.Uint64(lenBuf[:]), -1)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("safetensors: reading %d-byte header: %w", n, noEOF(err))
	}
	if !utf8.Valid(raw) {
		return nil, errors.New("safetensors: header is not UTF-8")
	}
	return parseHeader(raw)
}

// ReadHeaderFile reads only the header of the file at path (see ReadHeader);
// use it to look at the metadata of a large checkpoint cheaply.
func ReadHeaderFile(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	h, err := ReadHeader(f)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return h, nil
}

func splitHeader(data []byte) (*Header, int, error) {
	if len(data) < 8 {
		return nil, 0, fmt.Errorf("safetensors: file too short (%d bytes)", len(data))
	}
	n, err := headerLen(binary.LittleEndian.Uint64(data), int64(len(data)-8))
	if err != nil {
		return nil, 0, err
	}
	raw := data[8 : 8+n]
	if !utf8.Valid(raw) {
		return nil, 0, errors.New("safetensors: header is not UTF-8")
	}
	h, err := parseHeader(raw)
	if err != nil {
		return nil, 0, err
	}
	return h, n, nil
}

// headerLen checks the header length n against the limit and, when avail is
// not negative, against the bytes available after the length prefix.
func headerLen(n uint64, avail int64) (int, error) {
	if n > MaxHeaderSize {
		return 0, fmt.Errorf("safetensors: header length %d exceeds %d bytes (not a safetensors file?)", n, MaxHeaderSize)
	}
	if avail >= 0 && int64(n) > avail {
		return 0, fmt.Errorf("safetensors: header length %d exceeds the %d bytes after it (truncated file?)", n, avail)
	}
	if n < 2 {
		return 0, fmt.Errorf("safetensors: header length %d too small", n)
	}
	return int(n), nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
