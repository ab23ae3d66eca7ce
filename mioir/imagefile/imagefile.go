package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // formats Read understands; PNG, JPEG and TIFF are imported for writing
	"io"
	"os"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels is the size limit when Options.MaxPixels is 0: 100
// megapixels, above the largest common camera sensors (a phone takes 12 to
// 50), yet small enough that reading stays within about 2.5 GB (8 bytes a
// pixel for a decoded 16-bit RGBA file, 12 for the float RGB, 2 for the
// alpha) on the machines that restore such images.
const DefaultMaxPixels = 100_000_000

// DefaultQuality is the JPEG quality when Options.Quality is 0.
const DefaultQuality = 95

// Options control Read, Decode, Write and Encode. A nil *Options means the
// defaults.
type Options struct {
	// MaxPixels refuses, from the header alone, images with more pixels
	// (0: DefaultMaxPixels).
	MaxPixels int
	// Quality is the JPEG quality, 1 to 100 (0: DefaultQuality).
	Quality int
	// Format is the format written: "png", "jpeg" or "tiff". Empty: the
	// format named by the path's extension (Write), else the image's own
	// Format when it can be written, else PNG.
	Format string
}

// Image is a decoded image file: float pixels for the network, and what is
// needed to write the file back without loss.
type Image struct {
	// Width and Height are the size in pixels, upright (EXIF orientation
	// applied).
	Width, Height int
	// Pix holds float32 RGB in CHW layout (the R plane, then G, then B, each
	// Height rows of Width values), non-premultiplied, in [0,1]: 8-bit
	// samples v as v/255 (as BasicSR reads them), 16-bit ones as v/65535.
	// A grayscale image has three equal planes.
	Pix []float32
	// Alpha holds the non-premultiplied alpha, Width*Height 16-bit samples
	// row by row (an 8-bit alpha a as a*257, so exactly), or nil when the
	// image is opaque. Restoration does not touch it.
	Alpha []uint16
	// Depth is the bits per sample of the source, 8 or 16; PNG and TIFF
	// outputs keep it (JPEG holds 8 bits only).
	Depth int
	// Gray tells that the source was grayscale; outputs are then grayscale,
	// the luma of Pix (Luma).
	Gray bool
	// Format is the source format as image.Decode names it ("png", "jpeg",
	// "tiff", "gif", "bmp", "webp"); empty for FromImage.
	Format string
	// EXIF is the TIFF-structured EXIF block (JPEG's APP1 after its
	// "Exif\x00\x00" header, PNG's eXIf chunk), with its orientation set to
	// 1 since Pix is upright; nil if none. Written as is to JPEG and PNG.
	EXIF []byte
	// ICC is the ICC colour profile, uncompressed (JPEG's APP2 chunks joined,
	// PNG's iCCP inflated); nil if none. Written to JPEG and PNG.
	ICC []byte
}

// ErrUnknownFormat is returned for data that is not an image in a format
// that Read knows.
var ErrUnknownFormat = errors.New("not an image in a known format (PNG, JPEG, TIFF, GIF, BMP, WebP)")

// TooLargeError is returned when the header declares more pixels than
// Options.MaxPixels allows; nothing has been decoded.
type TooLargeError struct {
	Width, Height, MaxPixels int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%dx%d image (%d pixels) is larger than the limit of %d pixels (Options.MaxPixels)",
		e.Width, e.Height, int64(e.Width)*int64(e.Height), e.MaxPixels)
}

// CorruptError is returned when an image's header or data cannot be decoded:
// a truncated file, an invalid size, corrupt compressed data.
type CorruptError struct {
	Format string // the format the data claims to be
	Err    error  // the decoder's error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("corrupt or truncated %s data: %v", e.Format, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Read reads the image file at path (see Decode).
func Read(path string, o *Options) (*Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("imagefile: %w", err)
	}
	im, err := decode(data, o)
	if err != nil {
		return nil, fmt.Errorf("imagefile: %s: %w", path, err)
	}
	return im, nil
}

// Decode reads an image file from r: it checks the size declared in the
// header against Options.MaxPixels, decodes the pixels, keeps the depth,
// grayscale, alpha and metadata, and turns the pixels upright as the EXIF
// orientation (JPEG, PNG) or the TIFF orientation tag says. Errors are
// ErrUnknownFormat, *TooLargeError, *CorruptError or r's own.
func Decode(r io.Reader, o *Options) (*Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("imagefile: %w", err)
	}
	im, err := decode(data, o)
	if err != nil {
		return nil, fmt.Errorf("imagefile: %w", err)
	}
	return im, nil
}

func decode(data []byte, o *Options) (*Image, error) {
	limit := DefaultMaxPixels
	if o != nil && o.MaxPixels > 0 {
		limit = o.MaxPixels
	}
	cfg, format, err := safely(func() (image.Config, string, error) { return image.DecodeConfig(bytes.NewReader(data)) })
	if errors.Is(err, image.ErrFormat) {
		return nil, ErrUnknownFormat
	}
	if err != nil {
		return nil, &CorruptError{Format: format, Err: err}
	}
	if err := checkSize(cfg.Width, cfg.Height, limit, format); err != nil {
		return nil, err
	}
	m, _, err := safely(func() (image.Image, string, error) { return image.Decode(bytes.NewReader(data)) })
	if err != nil {
		return nil, &CorruptError{Format: format, Err: err}
	}
	// The decoded size is what counts from here; a decoder may differ from
	// its header (a GIF frame smaller than its screen).
	b := m.Bounds()
	if err := checkSize(b.Dx(), b.Dy(), limit, format); err != nil {
		return nil, err
	}
	im := FromImage(m)
	im.Format = format
	orientation := 0
	switch format {
	case "png":
		var grayAlpha bool
		im.EXIF, im.ICC, grayAlpha = pngMeta(data)
		// Go decodes gray+alpha PNGs as NRGBA; the header tells.
		im.Gray = im.Gray || grayAlpha
	case "jpeg":
		im.EXIF, im.ICC = jpegMeta(data)
	case "tiff":
		// A TIFF file is itself TIFF-structured: its first IFD may carry
		// the orientation tag, which Go's decoder ignores.
		orientation, _ = exifOrientation(data)
	}
	if im.EXIF != nil {
		var at int
		orientation, at = exifOrientation(im.EXIF)
		setOrientation(im.EXIF, at, 1)
	}
	im.orient(orientation)
	return im, nil
}

func checkSize(w, h, limit int, format string) error {
	if w <= 0 || h <= 0 {
		return &CorruptError{Format: format, Err: fmt.Errorf("empty image (%dx%d)", w, h)}
	}
	if int64(w)*int64(h) > int64(limit) {
		return &TooLargeError{Width: w, Height: h, MaxPixels: limit}
	}
	return nil
}

// safely runs a decoder, turning a panic into an error: the decoders of
// golang.org/x/image have panicked on crafted input in past releases, and a
// bad file must not stop a program that reads many.
func safely[T any](f func() (T, string, error)) (v T, format string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return f()
}
