package metrics

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by the measuring functions is an
// *Error that wraps one of these, so callers test the cause with errors.Is
// and read the details with errors.As.
var (
	// ErrEmpty: a nil image, or one with zero width or height.
	ErrEmpty = errors.New("metrics: empty image")
	// ErrSizeMismatch: the two images do not have the same width and height.
	ErrSizeMismatch = errors.New("metrics: image sizes differ")
	// ErrCrop: the crop border is negative or removes the whole image.
	ErrCrop = errors.New("metrics: invalid crop border")
	// ErrTooSmall: after cropping, the image is smaller than the 11x11 SSIM
	// window, so the valid region of the SSIM map is empty.
	ErrTooSmall = errors.New("metrics: image smaller than the SSIM window")
	// ErrNaN: a float image holds a NaN value.
	ErrNaN = errors.New("metrics: image holds NaN")
	// ErrLength: a float slice whose length is not 3*W*H, or an RGB8 whose
	// Pix is not.
	ErrLength = errors.New("metrics: pixel slice has the wrong length")
)

// Error describes a failed measurement: the operation (for example "PSNR"
// or "FromCHW"), the sentinel cause, and a human-readable detail.
type Error struct {
	Op     string // the function that failed
	Err    error  // one of the Err* sentinels
	Detail string // sizes, positions, values
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Op, e.Err, e.Detail)
}

// Unwrap returns the sentinel cause, for errors.Is.
func (e *Error) Unwrap() error { return e.Err }

func newError(op string, err error, format string, args ...any) *Error {
	return &Error{Op: op, Err: err, Detail: fmt.Sprintf(format, args...)}
}

// Sentinel errors of Table.
var (
	// ErrUnknownSet: a test-set name that is not a column of the table.
	ErrUnknownSet = errors.New("metrics: unknown test set")
	// ErrBadSet: a test-set list with an empty or repeated name, or an
	// invalid group.
	ErrBadSet = errors.New("metrics: invalid test set")
	// ErrBadScore: a NaN or negative-infinite PSNR, a NaN SSIM, a negative
	// image count, or an empty model name.
	ErrBadScore = errors.New("metrics: invalid score")
)
