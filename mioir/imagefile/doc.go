// Package imagefile reads and writes image files without losing what the
// file holds beyond 8-bit RGB: the network restores float32 RGB in [0,1],
// but a photo may be 16-bit, grayscale, carry an alpha channel, an ICC
// colour profile and EXIF data, and be stored sideways with an EXIF
// orientation. Read keeps all of it in an *Image; Write puts it back.
//
//	im, err := imagefile.Read("in.png", nil)            // nil: DefaultMaxPixels
//	out, info, err := model.RestoreImageFile(ctx, im, opts) // mioir: float in, float out
//	err = imagefile.Write("out.png", out, nil)          // 16-bit in, 16-bit out
//
// What is kept, and how:
//
//   - Pixels: Image.Pix is float32 RGB in CHW layout, the data of the
//     1x3xHxW tensor the network takes. 8-bit samples are v/255, the
//     convention of BasicSR and of mioir.Model.Restore; 16-bit samples are
//     v/65535, so that a 16-bit file is restored at its full precision
//     rather than rounded to 8 bits first.
//   - Depth: PNG and TIFF are written at the source's depth, 8 bits with
//     BasicSR's rounding (clamp, x*255, half to even), 16 bits with the same
//     rule at 65535; reading and writing a 16-bit file gives back every
//     sample exactly.
//   - Grayscale: a gray source is restored as RGB with three equal planes
//     (the network is RGB) and written gray again, as the BT.601 luma of the
//     result (Luma).
//   - Alpha: kept apart in 16 bits and written back unchanged; the network
//     never sees it (mioir.Model.Restore drops it, as cv2.imread does).
//   - Orientation: the EXIF orientation of JPEG and PNG files (and the
//     orientation tag of TIFF files) is applied on reading, so Pix is
//     upright, and the EXIF kept says orientation 1.
//   - Metadata: EXIF (JPEG APP1, PNG eXIf) and the ICC profile (JPEG APP2,
//     possibly in several parts; PNG iCCP, compressed) are copied byte for
//     byte into JPEG and PNG outputs, in either direction; a profile for
//     another colour space than the pixels written (a CMYK JPEG's) is left
//     out, as readers would reject it.
//
// Untrusted files: the size declared in the header is checked against
// Options.MaxPixels before anything is decoded, so a small file that claims
// 30000x30000 pixels is refused with a *TooLargeError in well under a
// millisecond instead of allocating gigabytes. Truncated or corrupt files
// give a *CorruptError, data of no known format ErrUnknownFormat; no input
// makes Read panic.
//
// Not kept: XMP and other metadata segments, PNG text and colour chunks
// other than iCCP (gAMA, cHRM, sRGB), metadata of TIFF files, 12-bit JPEG,
// animation (the first GIF frame is read), and gray+alpha as a PNG colour
// type (written as RGBA with equal channels, since Go's PNG encoder has no
// gray+alpha mode).
package imagefile
