package imagefile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// The containers of EXIF and ICC data in JPEG and PNG files. Go's decoders
// skip them and its encoders write none, so they are read from the file's
// bytes and inserted into the encoders' output here.

const (
	pngSignature = "\x89PNG\r\n\x1a\n"
	exifHeader   = "Exif\x00\x00"     // starts a JPEG APP1 segment holding EXIF
	iccHeader    = "ICC_PROFILE\x00"  // starts a JPEG APP2 segment holding part of an ICC profile
	iccKeyword   = "ICC profile\x00"  // the name written in PNG's iCCP chunk, and its terminator
	maxSegment   = 0xffff - 2         // a JPEG segment's payload
	iccChunk     = maxSegment - 14    // ICC bytes per APP2 segment (after the header, index and count)
	maxICC       = 255 * iccChunk     // at most 255 APP2 segments: larger profiles fit no JPEG
	maxJPEGEXIF  = maxSegment - 6     // EXIF bytes in one APP1 segment
	pngHeaderLen = 8 + 4 + 4 + 13 + 4 // the signature and the IHDR chunk, which Go's encoder writes first
)

// jpegMeta returns the EXIF block of the first EXIF APP1 segment and the ICC
// profile joined from the APP2 segments, read up to the start of the scan;
// a profile whose parts are not numbered 1..n once each is dropped, as
// readers do, since it could not be used.
func jpegMeta(data []byte) (exif, icc []byte) {
	if len(data) < 2 || data[0] != 0xff || data[1] != 0xd8 {
		return nil, nil
	}
	var parts []iccPart
	for i := 2; i+4 <= len(data) && data[i] == 0xff; {
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd8: // no length
			i += 2
			continue
		case marker == 0xda || marker == 0xd9: // start of scan, end of image
			return exif, joinICC(parts)
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			break
		}
		seg := data[i+4 : i+2+n]
		switch {
		case marker == 0xe1 && exif == nil && bytes.HasPrefix(seg, []byte(exifHeader)):
			exif = slices.Clone(seg[len(exifHeader):])
		case marker == 0xe2 && len(seg) >= len(iccHeader)+2 && bytes.HasPrefix(seg, []byte(iccHeader)):
			p := seg[len(iccHeader):]
			parts = append(parts, iccPart{p[0], p[1], p[2:]})
		}
		i += 2 + n
	}
	return exif, joinICC(parts) // a truncated file: what was read
}

// iccPart is an APP2 segment's share of an ICC profile.
type iccPart struct {
	seq, count byte // 1-based index, number of parts
	data       []byte
}

// joinICC joins the parts of an ICC profile split over APP2 segments, or
// returns nil when they are not numbered 1..count once each.
func joinICC(parts []iccPart) []byte {
	if len(parts) == 0 {
		return nil
	}
	slices.SortFunc(parts, func(a, b iccPart) int { return int(a.seq) - int(b.seq) })
	var icc []byte
	for i, p := range parts {
		if int(p.seq) != i+1 || int(p.count) != len(parts) {
			return nil
		}
		icc = append(icc, p.data...)
	}
	return icc
}

// jpegSegments returns the APP1 (EXIF) and APP2 (ICC) segments for exif and
// icc, to follow the start-of-image marker.
func jpegSegments(exif, icc []byte) ([]byte, error) {
	if len(exif) > maxJPEGEXIF {
		return nil, fmt.Errorf("EXIF of %d bytes does not fit a JPEG APP1 segment (%d bytes at most)", len(exif), maxJPEGEXIF)
	}
	if len(icc) > maxICC {
		return nil, fmt.Errorf("ICC profile of %d bytes does not fit 255 JPEG APP2 segments (%d bytes at most)", len(icc), maxICC)
	}
	var b []byte
	segment := func(marker byte, parts ...[]byte) {
		n := 2
		for _, p := range parts {
			n += len(p)
		}
		b = append(b, 0xff, marker, byte(n>>8), byte(n))
		for _, p := range parts {
			b = append(b, p...)
		}
	}
	if exif != nil {
		segment(0xe1, []byte(exifHeader), exif)
	}
	count := (len(icc) + iccChunk - 1) / iccChunk
	for i := range count {
		part := icc[i*iccChunk : min(len(icc), (i+1)*iccChunk)]
		segment(0xe2, []byte(iccHeader), []byte{byte(i + 1), byte(count)}, part)
	}
	return b, nil
}

// pngMeta returns the eXIf chunk, the inflated iCCP profile, and whether the
// header's colour type is grayscale (with or without alpha). An iCCP chunk
// that does not inflate, or inflates beyond maxICC, is dropped: a broken
// profile cannot be used, and the limit keeps a compressed bomb out.
func pngMeta(data []byte) (exif, icc []byte, gray bool) {
	if !bytes.HasPrefix(data, []byte(pngSignature)) {
		return nil, nil, false
	}
	for i := len(pngSignature); i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n < 0 || n > len(data)-i-12 {
			break
		}
		body := data[i+8 : i+8+n]
		switch string(data[i+4 : i+8]) {
		case "IHDR":
			if n >= 10 {
				ct := body[9]
				gray = ct == 0 || ct == 4
			}
		case "eXIf":
			// Some writers keep JPEG's "Exif\0\0" header; the block starts after it.
			exif = slices.Clone(bytes.TrimPrefix(body, []byte(exifHeader)))
		case "iCCP":
			icc = inflateICC(body)
		case "IEND":
			return exif, icc, gray
		}
		i += 12 + n
	}
	return exif, icc, gray
}

// inflateICC decodes an iCCP chunk's body: a name, a zero byte, the
// compression method (0, zlib), the compressed profile.
func inflateICC(body []byte) []byte {
	k := bytes.IndexByte(body, 0)
	if k < 1 || k+2 > len(body) || body[k+1] != 0 {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(body[k+2:]))
	if err != nil {
		return nil
	}
	icc, err := io.ReadAll(io.LimitReader(zr, maxICC+1))
	if err != nil || len(icc) > maxICC {
		return nil
	}
	return icc
}

// pngChunks returns the iCCP and eXIf chunks for icc and exif, to follow the
// IHDR chunk (the PNG specification puts both before the image data, iCCP
// also before the palette).
func pngChunks(exif, icc []byte) ([]byte, error) {
	var b []byte
	chunk := func(typ string, body []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
		start := len(b)
		b = append(b, typ...)
		b = append(b, body...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	if icc != nil {
		var z bytes.Buffer
		z.WriteString(iccKeyword)
		z.WriteByte(0) // compression method: zlib
		zw := zlib.NewWriter(&z)
		if _, err := zw.Write(icc); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		chunk("iCCP", z.Bytes())
	}
	if exif != nil {
		chunk("eXIf", exif)
	}
	return b, nil
}

// splice is a writer that passes the first len(head) bytes of a stream
// through check, then writes extra, then the rest of the stream unchanged:
// it puts metadata after a header of known length as an encoder writes it.
type splice struct {
	w     io.Writer
	head  []byte // the header so far; cap is its length
	check func(head []byte) error
	extra []byte
	done  bool
}

func newSplice(w io.Writer, headLen int, check func([]byte) error, extra []byte) *splice {
	return &splice{w: w, head: make([]byte, 0, headLen), check: check, extra: extra}
}

func (s *splice) Write(p []byte) (int, error) {
	n := 0
	if !s.done {
		k := min(cap(s.head)-len(s.head), len(p))
		s.head = append(s.head, p[:k]...)
		p, n = p[k:], k
		if len(s.head) < cap(s.head) {
			return n, nil
		}
		if err := s.check(s.head); err != nil {
			return n, err
		}
		if _, err := s.w.Write(s.head); err != nil {
			return n, err
		}
		if _, err := s.w.Write(s.extra); err != nil {
			return n, err
		}
		s.done = true
	}
	m, err := s.w.Write(p)
	return n + m, err
}

// close reports a stream that ended inside the header.
func (s *splice) close() error {
	if !s.done {
		return errors.New("the encoder wrote no complete header")
	}
	return nil
}

// exifOrientation returns the orientation tag (0x0112) of the first IFD of a
// TIFF-structured block, in either byte order, and the offset of its value;
// (0, -1) when there is none or the block is malformed.
func exifOrientation(b []byte) (orientation, at int) {
	if len(b) < 8 {
		return 0, -1
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0, -1
	}
	if bo.Uint16(b[2:]) != 42 {
		return 0, -1
	}
	ifd := int64(bo.Uint32(b[4:]))
	if ifd < 8 || ifd+2 > int64(len(b)) {
		return 0, -1
	}
	n := int(bo.Uint16(b[ifd:]))
	for i := range n {
		e := int(ifd) + 2 + 12*i
		if e+12 > len(b) {
			break
		}
		// An entry: tag, type (3: SHORT), count, value (a SHORT sits in the
		// first two bytes of the value field).
		if bo.Uint16(b[e:]) == 0x0112 && bo.Uint16(b[e+2:]) == 3 && bo.Uint32(b[e+4:]) == 1 {
			return int(bo.Uint16(b[e+8:])), e + 8
		}
	}
	return 0, -1
}

// setOrientation writes v as the orientation value at offset at, found by
// exifOrientation (nothing when at < 0).
func setOrientation(b []byte, at, v int) {
	if at < 0 {
		return
	}
	if string(b[:2]) == "II" {
		binary.LittleEndian.PutUint16(b[at:], uint16(v))
	} else {
		binary.BigEndian.PutUint16(b[at:], uint16(v))
	}
}
