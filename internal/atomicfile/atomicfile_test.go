package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model.safetensors")
	require.NoError(t, WriteBytes(p, []byte("first")))
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "first", string(got))
	st, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0), st.Mode().Perm()&^Perm, "no permission beyond %o", Perm)

	require.NoError(t, os.Chmod(p, 0o600))
	require.NoError(t, WriteFile(p, func(w io.Writer) error {
		_, err := io.WriteString(w, "second, longer content")
		return err
	}))
	got, err = os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "second, longer content", string(got))
	st, err = os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "mode of the replaced file is kept")
	require.Equal(t, []string{"model.safetensors"}, listDir(t, dir), "no temporary file left")
}

func TestFailingWriterLeavesOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ckpt.pth")
	require.NoError(t, os.WriteFile(p, []byte("old content"), 0o644))
	boom := errors.New("disk on fire")
	err := WriteFile(p, func(w io.Writer) error {
		// Write more than the buffer so that part of it reaches the temp file.
		if _, err := w.Write(make([]byte, 3<<20)); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "atomicfile: writing")
	got, rerr := os.ReadFile(p)
	require.NoError(t, rerr)
	require.Equal(t, "old content", string(got))
	require.Equal(t, []string{"ckpt.pth"}, listDir(t, dir), "temporary file removed")
}

func TestFailingWriterCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "new.npy")
	err := WriteFile(p, func(w io.Writer) error { return errors.New("nope") })
	require.ErrorContains(t, err, "nope")
	require.Empty(t, listDir(t, dir))
}

func TestMissingFolderAndNonRegular(t *testing.T) {
	dir := t.TempDir()
	err := WriteBytes(filepath.Join(dir, "no", "such", "x"), []byte("x"))
	require.ErrorContains(t, err, "atomicfile:")
	err = WriteBytes(dir, []byte("x"))
	require.ErrorContains(t, err, "is not a regular file")
}

func TestRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, WriteBytes("rel.bin", []byte{1, 2, 3}))
	got, err := os.ReadFile(filepath.Join(dir, "rel.bin"))
	require.NoError(t, err)
	require.Equal(t, []byte{1, 2, 3}, got)
}
