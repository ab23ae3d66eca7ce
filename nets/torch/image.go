package torch

import (
	"image"
	"math"

	"github.com/gomioir/gomioir/internal/imgconv"
)

// maxImagePixels bounds the images FromImage accepts (about 1 GiB of
// float32 RGB), so a corrupt or hostile size gives an error, not an attempt.
const maxImagePixels = 1 << 26

// FromImage converts img to a 1x3xHxW float32 tensor on dev with values in
// [0,1]: the 8-bit non-premultiplied R, G, B samples divided by 255, as
// cv2.imread(...)/255 and BasicSR's img2tensor give them.
func FromImage(s *Scope, img image.Image, dev Device) (*Tensor, error) {
	if img == nil {
		return nil, argError("from_image", "nil image")
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, argError("from_image", "empty image (%dx%d)", b.Dx(), b.Dy())
	}
	if int64(b.Dx())*int64(b.Dy()) > maxImagePixels {
		return nil, argError("from_image", "image of %dx%d pixels is larger than %d pixels", b.Dx(), b.Dy(), maxImagePixels)
	}
	chw, w, h := imgconv.CHW(img)
	return FromSliceOn(s, dev, chw, 1, 3, int64(h), int64(w))
}

// ToCHW copies a 1x3xHxW or 3xHxW float tensor out as float32 CHW values.
func ToCHW(t *Tensor) (chw []float32, w, h int, err error) {
	info, err := t.Info()
	if err != nil {
		return nil, 0, 0, err
	}
	shape := info.Shape
	if len(shape) == 4 && shape[0] == 1 {
		shape = shape[1:]
	}
	if len(shape) != 3 || shape[0] != 3 {
		return nil, 0, 0, argError("to_image", "want a 1x3xHxW or 3xHxW tensor, got %v", info.Shape)
	}
	if !info.DType.IsFloat() {
		return nil, 0, 0, argError("to_image", "want a float tensor, got %v", info.DType)
	}
	src := t
	if info.DType != Float32 {
		src = t.ToDType(Float32)
		defer src.Close()
	}
	chw, err = ToSlice[float32](src)
	return chw, int(shape[2]), int(shape[1]), err
}

// ToImage converts a 1x3xHxW or 3xHxW float tensor to an 8-bit image with
// BasicSR's tensor2img rounding: clamp to [0,1], then round(x*255) in
// float32 with halves to even (numpy's and torch's round). A NaN is an error,
// not a black pixel.
func ToImage(t *Tensor) (*image.NRGBA, error) {
	chw, w, h, err := ToCHW(t)
	if err != nil {
		return nil, err
	}
	for i, v := range chw {
		if math.IsNaN(float64(v)) {
			c, p := i/(w*h), i%(w*h)
			return nil, argError("to_image", "NaN in channel %d at (x=%d, y=%d)", c, p%w, p/w)
		}
	}
	return imgconv.NRGBA(chw, w, h), nil
}
