package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// Write encodes the tensors of sd, in sd's order, and the metadata (omitted
// when empty) as a safetensors stream to w. The header JSON is padded with
// spaces to a multiple of 8 bytes, so the data section starts 8-aligned.
func Write(w io.Writer, sd *host.StateDict, metadata map[string]string) error {
	hdr, err := encodeHeader(sd, metadata)
	if err != nil {
		return err
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	for _, e := range sd.Entries {
		if _, err := w.Write(e.Tensor.Data); err != nil {
			return fmt.Errorf("safetensors: %w", err)
		}
	}
	return nil
}

// WriteFile writes sd and metadata to path atomically (temporary file in the
// same folder, sync, rename): on any error an existing file is left intact.
func WriteFile(path string, sd *host.StateDict, metadata map[string]string) error {
	if _, err := encodeHeader(sd, metadata); err != nil {
		return err // fail before creating a temporary file
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error { return Write(w, sd, metadata) })
}

// Marshal returns the safetensors encoding of sd and metadata.
func Marshal(sd *host.StateDict, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, sd, metadata); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeHeader(sd *host.StateDict, metadata map[string]string) ([]byte, error) {
	if sd == nil {
		return nil, fmt.Errorf("safetensors: nil state dict")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			b.WriteByte(',')
		}
		first = false
	}
	if len(metadata) > 0 {
		md, err := json.Marshal(metadata) // keys sorted: deterministic output
		if err != nil {
			return nil, fmt.Errorf("safetensors: metadata: %w", err)
		}
		sep()
		b.WriteString(`"` + MetadataKey + `":`)
		b.Write(md)
	}
	seen := make(map[string]bool, sd.Len())
	var off int64
	for _, e := range sd.Entries {
		if e.Name == MetadataKey {
			return nil, fmt.Errorf("safetensors: tensor name %q is reserved", MetadataKey)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("safetensors: duplicate tensor name %q", e.Name)
		}
		seen[e.Name] = true
		if err := e.Tensor.Validate(); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", e.Name, err)
		}
		code, err := DTypeCode(e.Tensor.DType)
		if err != nil {
			return nil, fmt.Errorf("%w (tensor %q)", err, e.Name)
		}
		name, _ := json.Marshal(e.Name)
		sep()
		b.Write(name)
		b.WriteString(`:{"dtype":"` + code + `","shape":[`)
		for i, d := range e.Tensor.Shape {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		end := off + int64(len(e.Tensor.Data))
		fmt.Fprintf(&b, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}
