// Package cli holds the pieces that the example commands share: telling a
// terminal, a progress line that updates in place on one, and opening a
// model file of either format.
package cli

import (
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/nets/torch"
)

// IsTerminal tells whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// IsPTH tells a PyTorch zip checkpoint from a safetensors file by content
// (zip magic), falling back to the extension.
func IsPTH(path string) bool {
	fh, err := os.Open(path)
	if err == nil {
		defer fh.Close()
		var magic [4]byte
		if _, err := io.ReadFull(fh, magic[:]); err == nil {
			return string(magic[:]) == "PK\x03\x04"
		}
	}
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".pth" || ext == ".pt"
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

// LoadNative loads a native model file and, where given, its explicit-prompt
// maps and a classifier to import; on error nothing stays open.
func LoadNative(path, maps, classifier string) (*mioir.Model, error) {
	m, err := mioir.Load(path)
	if err != nil {
		return nil, err
	}
	if maps != "" {
		err = m.LoadMaps(maps)
	}
	if err == nil && classifier != "" {
		err = m.ImportClassifier(classifier)
	}
	if err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
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
