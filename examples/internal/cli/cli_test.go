package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsPTH(t *testing.T) {
	dir := t.TempDir()
	zip := filepath.Join(dir, "model.bin")
	require.NoError(t, os.WriteFile(zip, []byte("PK\x03\x04rest"), 0o644))
	require.True(t, IsPTH(zip))
	st := filepath.Join(dir, "model.pth")
	require.NoError(t, os.WriteFile(st, []byte("{\"__metadata__\"}"), 0o644))
	require.False(t, IsPTH(st), "content decides when the file can be read")
	require.True(t, IsPTH(filepath.Join(dir, "missing.PT")), "the extension decides otherwise")
	require.False(t, IsPTH(filepath.Join(dir, "missing.safetensors")))
}

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
