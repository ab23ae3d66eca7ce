package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/gomioir/gomioir/internal/atomicfile"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// Write encodes t as an .npy array (C order, little-endian) to w.
func Write(w io.Writer, t *host.Tensor) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	descr, err := descrOf(t.DType)
	if err != nil {
		return err
	}
	hdr := formatHeader(descr, t.Shape)
	// Version 1.0 has a 2-byte header length; fall back to 2.0 beyond that.
	prefix := 10
	if len(hdr)+1+64 > 0xffff {
		prefix = 12
	}
	total := prefix + len(hdr) + 1
	pad := (64 - total%64) % 64
	hdr = hdr + strings.Repeat(" ", pad) + "\n"
	buf := make([]byte, 0, prefix+len(hdr))
	buf = append(buf, Magic...)
	if prefix == 10 {
		buf = append(buf, 1, 0)
		buf = binary.LittleEndian.AppendUint16(buf, uint16(len(hdr)))
	} else {
		buf = append(buf, 2, 0)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(hdr)))
	}
	buf = append(buf, hdr...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	if _, err := w.Write(t.Data); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

// WriteFile writes t to path atomically (temporary file, sync, rename).
func WriteFile(path string, t *host.Tensor) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error { return Write(w, t) })
}
