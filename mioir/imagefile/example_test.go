package imagefile_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"github.com/gomioir/gomioir/mioir/imagefile"
)

// A 16-bit PNG with alpha goes through a stand-in for restoration (the
// pixels inverted) and comes out 16-bit, with its alpha unchanged.
// mioir.Model.RestoreImageFile restores in the same way.
func Example() {
	dir, _ := os.MkdirTemp("", "imagefile")
	defer os.RemoveAll(dir)
	src := image.NewNRGBA64(image.Rect(0, 0, 3, 2))
	src.SetNRGBA64(0, 0, color.NRGBA64{R: 1000, G: 20000, B: 65535, A: 12345})
	var b bytes.Buffer
	png.Encode(&b, src)
	in := filepath.Join(dir, "in.png")
	os.WriteFile(in, b.Bytes(), 0o644)

	im, err := imagefile.Read(in, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(im.Format, im.Width, im.Height, "depth", im.Depth, "gray", im.Gray, "alpha", im.Alpha[0])

	pix := make([]float32, len(im.Pix))
	for i, v := range im.Pix {
		pix[i] = 1 - v
	}
	res, err := im.WithPixels(pix, im.Width, im.Height)
	if err != nil {
		fmt.Println(err)
		return
	}
	out := filepath.Join(dir, "out.png")
	if err := imagefile.Write(out, res, nil); err != nil {
		fmt.Println(err)
		return
	}

	f, _ := os.Open(out)
	defer f.Close()
	m, _ := png.Decode(f)
	fmt.Printf("%T %v\n", m, m.(*image.NRGBA64).NRGBA64At(0, 0))

	_, err = imagefile.Decode(bytes.NewReader([]byte("GIF89a\x30\x75\x30\x75\x00\x00\x00")), nil)
	fmt.Println(err)
	// Output:
	// png 3 2 depth 16 gray false alpha 12345
	// *image.NRGBA64 {64535 45535 0 12345}
	// imagefile: 30000x30000 image (900000000 pixels) is larger than the limit of 100000000 pixels (Options.MaxPixels)
}
