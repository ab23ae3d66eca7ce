package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// MetadataKey is the reserved header member holding the string metadata.
const MetadataKey = "__metadata__"

// MaxHeaderSize bounds the JSON header (the reference implementation uses the
// same 100 MB limit); larger values are treated as corrupt.
const MaxHeaderSize = 100 << 20

// TensorInfo describes one tensor of a header: its dtype, shape and the
// [begin, end) byte range in the data section.
type TensorInfo struct {
	Name  string
	DType host.DType
	Shape []int
	Begin int64
	End   int64
}

// Header is a parsed safetensors header: tensors in header order and the
// metadata strings (nil when absent).
type Header struct {
	Tensors  []TensorInfo
	Metadata map[string]string
}

type jsonInfo struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// parseHeader decodes the JSON header, keeping member order.
func parseHeader(raw []byte) (*Header, error) {
	trimmed := bytes.TrimRight(raw, " ")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("safetensors: header is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("safetensors: header is not a JSON object")
	}
	h := &Header{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("safetensors: bad header JSON: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("safetensors: bad header JSON: non-string key")
		}
		if seen[name] {
			return nil, fmt.Errorf("safetensors: duplicate header entry %q", name)
		}
		seen[name] = true
		if name == MetadataKey {
			var md map[string]string
			if err := dec.Decode(&md); err != nil {
				return nil, fmt.Errorf("safetensors: %s must map strings to strings: %v", MetadataKey, oneLine(err))
			}
			h.Metadata = md
			continue
		}
		var ji jsonInfo
		var rawInfo json.RawMessage
		if err := dec.Decode(&rawInfo); err != nil {
			return nil, fmt.Errorf("safetensors: bad header JSON at %q: %v", name, oneLine(err))
		}
		strict := json.NewDecoder(bytes.NewReader(rawInfo))
		strict.DisallowUnknownFields()
		if err := strict.Decode(&ji); err != nil {
			return nil, fmt.Errorf("safetensors: bad entry %q: %v", name, oneLine(err))
		}
		info, err := ji.check(name)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, info)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("safetensors: bad header JSON: %v", oneLine(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("safetensors: trailing data after header JSON")
	}
	return h, nil
}

func (ji *jsonInfo) check(name string) (TensorInfo, error) {
	d, err := ParseDTypeCode(ji.DType)
	if err != nil {
		return TensorInfo{}, fmt.Errorf("%w in entry %q", err, name)
	}
	if ji.Shape == nil {
		return TensorInfo{}, fmt.Errorf("safetensors: entry %q has no shape", name)
	}
	if len(ji.DataOffsets) != 2 {
		return TensorInfo{}, fmt.Errorf("safetensors: entry %q: data_offsets must be [begin, end]", name)
	}
	shape := make([]int, len(ji.Shape))
	for i, s := range ji.Shape {
		if s < 0 || s > 1<<48 {
			return TensorInfo{}, fmt.Errorf("safetensors: entry %q: bad dimension %d in shape %v", name, s, ji.Shape)
		}
		shape[i] = int(s)
	}
	size, err := host.ByteSize(d, shape)
	if err != nil {
		return TensorInfo{}, fmt.Errorf("safetensors: entry %q: %v", name, err)
	}
	b, e := ji.DataOffsets[0], ji.DataOffsets[1]
	if b < 0 || e < b {
		return TensorInfo{}, fmt.Errorf("safetensors: entry %q: bad data_offsets [%d, %d]", name, b, e)
	}
	if e-b != int64(size) {
		return TensorInfo{}, fmt.Errorf("safetensors: entry %q: %s%v needs %d bytes, data_offsets [%d, %d] give %d", name, d, shape, size, b, e, e-b)
	}
	return TensorInfo{Name: name, DType: d, Shape: shape, Begin: b, End: e}, nil
}

// checkLayout verifies that the tensors tile the data section of the given
// length exactly: no overlap, no hole, nothing out of range.
func (h *Header) checkLayout(dataLen int64) error {
	order := make([]int, len(h.Tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ta, tb := h.Tensors[a], h.Tensors[b]
		if ta.Begin != tb.Begin {
			return int(min(max(ta.Begin-tb.Begin, -1), 1))
		}
		return int(min(max(ta.End-tb.End, -1), 1))
	})
	var pos int64
	prev := ""
	for _, i := range order {
		t := h.Tensors[i]
		if t.End > dataLen {
			return fmt.Errorf("safetensors: entry %q: data_offsets [%d, %d] beyond the %d-byte data section", t.Name, t.Begin, t.End, dataLen)
		}
		if t.Begin < pos {
			return fmt.Errorf("safetensors: entries %q and %q overlap", prev, t.Name)
		}
		if t.Begin > pos {
			return fmt.Errorf("safetensors: hole in data section at bytes [%d, %d) before %q", pos, t.Begin, t.Name)
		}
		pos, prev = t.End, t.Name
	}
	if pos != dataLen {
		return fmt.Errorf("safetensors: %d unindexed bytes at the end of the data section", dataLen-pos)
	}
	return nil
}

// oneLine keeps error messages on one line.
func oneLine(err error) string {
	return string(bytes.ReplaceAll([]byte(err.Error()), []byte("\n"), []byte(" ")))
}
