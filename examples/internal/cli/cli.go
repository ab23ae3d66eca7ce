// Package cli holds the pieces that the example commands share: telling a
// terminal, a progress line that updates in place on one, parsing a device
// and decoding an image.
package cli

import (
	"fmt"
	"image"
	"io"
	"os"

	"github.com/gomioir/gomioir/nets/torch"
)

// IsTerminal tells whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Line prints progress messages to W: one line each, or, on a terminal, one
// line updated in place.
type Line struct {
	W        io.Writer
	Terminal bool
	shown    bool
}

// Show prints msg.
func (l *Line) Show(msg string) {
	if l.Terminal {
		fmt.Fprintf(l.W, "\r\033[K%s", msg)
		l.shown = true
		return
	}
	fmt.Fprintln(l.W, msg)
}

// Clear ends an updating line before other output.
func (l *Line) Clear() {
	if l.shown {
		fmt.Fprint(l.W, "\r\033[K")
		l.shown = false
	}
}

// Device parses a -device value and checks that the device can be used.
func Device(s string) (torch.Device, error) {
	dev, err := torch.ParseDevice(s)
	if err != nil {
		return dev, err
	}
	return dev, dev.Check()
}

// DecodeImage opens and decodes the image file at path (in any format whose
// decoder the program registered); a decoding error says "decode: ...".
func DecodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return img, nil
}
