package mioir

import (
	"context"
	"errors"
	"fmt"

	"github.com/gomioir/gomioir/mioir/imagefile"
	"github.com/gomioir/gomioir/nets/torch"
)

// RestoreImageFile restores an image read with package imagefile at its full
// precision: the float pixels go to RestoreTensor as they are (a 16-bit
// file is not rounded to 8 bits first), and the result keeps the file's
// depth, grayscale, alpha channel and metadata (imagefile.Image.WithPixels),
// ready for imagefile.Write. An 8-bit file gives the pixels Restore gives
// for its decoded image.
func (m *Model) RestoreImageFile(ctx context.Context, im *imagefile.Image, o *Options) (*imagefile.Image, *Info, error) {
	if im == nil {
		return nil, nil, errors.New("mioir: restore: nil image")
	}
	if len(im.Pix) != 3*im.Width*im.Height {
		return nil, nil, fmt.Errorf("mioir: restore: %d values for a %dx%d RGB image", len(im.Pix), im.Width, im.Height)
	}
	if err := checkSize(im.Width, im.Height, o); err != nil {
		return nil, nil, err
	}
	x, err := torch.FromSlice(nil, im.Pix, 1, 3, int64(im.Height), int64(im.Width))
	if err != nil {
		return nil, nil, fmt.Errorf("mioir: restore: %w", err)
	}
	defer x.Close()
	y, info, err := m.RestoreTensor(ctx, x, o)
	if err != nil {
		return nil, info, err
	}
	defer y.Close()
	chw, w, h, err := torch.ToCHW(y)
	if err != nil {
		return nil, info, fmt.Errorf("mioir: restore: %w", err)
	}
	out, err := im.WithPixels(chw, w, h)
	if err != nil {
		return nil, info, fmt.Errorf("mioir: restore: %w", err)
	}
	return out, info, nil
}
