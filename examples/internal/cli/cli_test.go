package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLine(t *testing.T) {
	var b bytes.Buffer
	l := Line{W: &b}
	l.Show("a")
	l.Clear()
	l.Show("b")
	require.Equal(t, "a\nb\n", b.String())

	b.Reset()
	l = Line{W: &b, Terminal: true}
	l.Clear()
	l.Show("a")
	l.Show("b")
	l.Clear()
	l.Clear()
	require.Equal(t, "\r\033[Ka\r\033[Kb\r\033[K", b.String())
}

func TestDecodeImage(t *testing.T) {
	dir := t.TempDir()
	_, err := DecodeImage(filepath.Join(dir, "missing.png"))
	require.ErrorIs(t, err, os.ErrNotExist)
	bad := filepath.Join(dir, "bad.png")
	require.NoError(t, os.WriteFile(bad, []byte("not an image"), 0o644))
	_, err = DecodeImage(bad)
	require.ErrorContains(t, err, "decode: ")
}
