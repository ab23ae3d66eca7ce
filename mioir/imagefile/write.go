package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"strings"

	"golang.org/x/image/tiff"

	"github.com/gomioir/gomioir/internal/atomicfile"
)

// extFormats names the format of each image extension; those absent from
// writable cannot be written.
var extFormats = map[string]string{
	".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff",
	".gif": "gif", ".bmp": "bmp", ".webp": "webp",
}

var writable = map[string]bool{"png": true, "jpeg": true, "tiff": true}

// Write writes im to path atomically (a temporary file in the same folder,
// renamed over path once complete), in the format of Options.Format, else
// of path's extension, else im.Format when it can be written, else PNG (a
// GIF, BMP or WebP source without an extension becomes a PNG). See Encode
// for what each format keeps.
func Write(path string, im *Image, o *Options) error {
	format := ""
	if o != nil {
		format = o.Format
	}
	if format == "" {
		format = extFormats[strings.ToLower(filepath.Ext(path))]
	}
	format, err := resolve(format, im)
	if err != nil {
		return fmt.Errorf("imagefile: %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error {
		if err := encode(w, im, format, o); err != nil {
			return fmt.Errorf("imagefile: %w", err)
		}
		return nil
	})
}

// Encode writes im to w in the format of Options.Format, else im.Format when
// it can be written, else PNG:
//   - PNG: 8 or 16 bits as im.Depth, grayscale when im.Gray, the alpha
//     channel, the ICC profile (iCCP) and EXIF (eXIf);
//   - JPEG: 8 bits, grayscale when im.Gray, Options.Quality, EXIF (APP1)
//     and ICC profile (APP2); no alpha, which JPEG cannot hold;
//   - TIFF: 8 or 16 bits, grayscale, alpha, deflate-compressed; no
//     metadata (Go's TIFF encoder writes no extra tags).
//
// An ICC profile whose header names a colour space other than the pixels'
// (RGB, or gray) is left out, since readers reject it: a CMYK JPEG's profile,
// or a gray profile on a gray+alpha image, which is written as RGBA.
func Encode(w io.Writer, im *Image, o *Options) error {
	format := ""
	if o != nil {
		format = o.Format
	}
	format, err := resolve(format, im)
	if err == nil {
		err = encode(w, im, format, o)
	}
	if err != nil {
		return fmt.Errorf("imagefile: %w", err)
	}
	return nil
}

// resolve picks the format to write: the one asked for, else im's own if
// writable, else PNG.
func resolve(format string, im *Image) (string, error) {
	if format == "" {
		if im != nil && writable[im.Format] {
			return im.Format, nil
		}
		return "png", nil
	}
	if format == "jpg" {
		format = "jpeg"
	}
	if !writable[format] {
		return "", fmt.Errorf("cannot write %s images (png, jpeg, tiff)", format)
	}
	return format, nil
}

func encode(w io.Writer, im *Image, format string, o *Options) error {
	if err := im.check(); err != nil {
		return err
	}
	// JPEG drops the alpha channel, so a gray image is written gray; PNG
	// and TIFF write gray+alpha as RGBA.
	icc := iccFor(im.ICC, im.Gray && (format == "jpeg" || im.Alpha == nil))
	switch format {
	case "png":
		extra, err := pngChunks(im.EXIF, icc)
		if err != nil {
			return err
		}
		s := newSplice(w, pngHeaderLen, func(h []byte) error {
			if !bytes.HasPrefix(h, []byte(pngSignature)) || string(h[12:16]) != "IHDR" {
				return errors.New("png encoder: the file does not start with its header")
			}
			return nil
		}, extra)
		if err := png.Encode(s, im.image(im.Depth, true)); err != nil {
			return err
		}
		return s.close()
	case "jpeg":
		extra, err := jpegSegments(im.EXIF, icc)
		if err != nil {
			return err
		}
		q := DefaultQuality
		if o != nil && o.Quality != 0 {
			q = o.Quality
		}
		s := newSplice(w, 2, func(h []byte) error {
			if h[0] != 0xff || h[1] != 0xd8 {
				return errors.New("jpeg encoder: the file does not start with its start-of-image marker")
			}
			return nil
		}, extra)
		m := im.image(8, false)
		if n, ok := m.(*image.NRGBA); ok {
			// Opaque, so the same bytes as RGBA, which the encoder
			// converts without going through At for every pixel.
			m = &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
		}
		if err := jpeg.Encode(s, m, &jpeg.Options{Quality: q}); err != nil {
			return err
		}
		return s.close()
	case "tiff":
		return tiff.Encode(w, im.image(im.Depth, true), &tiff.Options{Compression: tiff.Deflate})
	}
	return fmt.Errorf("cannot write %s images", format)
}

// iccColourSpaces are the data colour spaces an ICC profile's header names
// (bytes 16 to 19).
var iccColourSpaces = map[string]bool{
	"XYZ ": true, "Lab ": true, "Luv ": true, "YCbr": true, "Yxy ": true, "RGB ": true, "GRAY": true,
	"HSV ": true, "HLS ": true, "CMYK": true, "CMY ": true,
}

// iccFor returns icc for pixels written gray or RGB, or nil when its header
// names another colour space: the CMYK profile of a CMYK JPEG, whose pixels
// were converted to RGB, or the gray profile of a gray+alpha image written as
// RGBA. Readers reject a profile that does not describe the pixels.
func iccFor(icc []byte, gray bool) []byte {
	if len(icc) < 20 || !iccColourSpaces[string(icc[16:20])] {
		return icc // no header to judge by: kept as it was
	}
	want := "RGB "
	if gray {
		want = "GRAY"
	}
	if string(icc[16:20]) != want {
		return nil
	}
	return icc
}
