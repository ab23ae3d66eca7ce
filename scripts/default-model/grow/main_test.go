package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/prompt"
)

func tinyEP(t *testing.T, blocks int, seed uint64) *mioir.Model {
	t.Helper()
	m, err := mioir.New(mioir.Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Blocks: blocks}, Prompt: prompt.Explicit}, seed)
	require.NoError(t, err)
	t.Cleanup(m.Close)
	return m
}

// A grown model has the new depth and more parameters and computes exactly
// what the original does; a seeded model of that depth does not, so the
// check that grow relies on can fail.
func TestGrowKeepsTheFunction(t *testing.T) {
	dir := t.TempDir()
	small := tinyEP(t, 2, 3)
	in, out := filepath.Join(dir, "small.safetensors"), filepath.Join(dir, "deep.safetensors")
	require.NoError(t, small.Save(in))
	require.NoError(t, run([]string{"-in", in, "-out", out, "-blocks", "4"}))

	deep, err := mioir.Load(out)
	require.NoError(t, err)
	defer deep.Close()
	require.Equal(t, 4, deep.Config().Net.(nets.SRResNetConfig).Blocks)
	// Two blocks of two 8x8x3x3 convolutions with biases, and two points of
	// scale and shift FCs from the 64-d prompt vector.
	require.Equal(t, small.NumParams()+2*2*(8*8*9+8)+2*2*(8*64+8), deep.NumParams())
	require.NoError(t, sameOutput(small, deep))

	require.ErrorContains(t, sameOutput(small, tinyEP(t, 4, 3)), "not identities")
	require.ErrorContains(t, run([]string{"-in", in, "-out", out, "-blocks", "2"}), "must exceed")
}
