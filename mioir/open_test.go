package mioir

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// sameWeights requires a and b to hold the same tensors, bit for bit.
func sameWeights(t *testing.T, a, b layers.Module) {
	t.Helper()
	sa, err := layers.StateDict(a)
	require.NoError(t, err)
	sb, err := layers.StateDict(b)
	require.NoError(t, err)
	require.Equal(t, sa.Keys(), sb.Keys())
	for _, k := range sa.Keys() {
		x, _ := sa.Get(k)
		y, _ := sb.Get(k)
		require.Equal(t, x, y, k)
	}
}

// TestOpen: one entry point tells native models, checkpoints and bundled
// models apart by content, not by name, and gives what Load, Import and
// Read give.
func TestOpen(t *testing.T) {
	live := torch.LiveTensors()
	dir := t.TempDir()
	maps := fixtures.Path(t, "models", "type7.npy")

	// A native model saved under a misleading extension.
	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 4, Prompted: true}, Prompt: prompt.Explicit}, 3)
	require.NoError(t, err)
	native := filepath.Join(dir, "model.pth")
	require.NoError(t, m.Save(native))
	o, err := Open(native, &ImportOptions{Maps: maps})
	require.NoError(t, err)
	require.True(t, o.HasMaps(), "Maps apply to native models too")
	sameWeights(t, m.Network(), o.Network())
	o.Close()
	bad, err := Open(native, &ImportOptions{Maps: filepath.Join(dir, "missing.npy")})
	require.Error(t, err, "a failed attachment fails the open")
	require.Nil(t, bad, "and leaves no half-opened model")
	_, err = Open(native, &ImportOptions{EMA: true})
	require.ErrorContains(t, err, "carries its configuration")

	// An authors' checkpoint under a misleading extension.
	raw, err := os.ReadFile(fixtures.Path(t, "models", "SRResNet_EP.pth"))
	require.NoError(t, err)
	ckpt := filepath.Join(dir, "model.safetensors")
	require.NoError(t, os.WriteFile(ckpt, raw, 0o644))
	a, err := Open(ckpt, &ImportOptions{Maps: maps})
	require.NoError(t, err)
	b, err := Import(fixtures.Path(t, "models", "SRResNet_EP.pth"), &ImportOptions{Maps: maps})
	require.NoError(t, err)
	require.Equal(t, "SRResNet_EP", a.Config().Name())
	sameWeights(t, a, b)
	img := testImage(20, 18, 5)
	oa, _, err := a.Restore(context.Background(), img, &Options{Task: 2})
	require.NoError(t, err)
	ob, _, err := b.Restore(context.Background(), img, &Options{Task: 2})
	require.NoError(t, err)
	require.Equal(t, ob.Pix, oa.Pix)
	a.Close()
	b.Close()
	_, err = Open(ckpt, &ImportOptions{Arch: "SwinIR"})
	require.ErrorContains(t, err, "its keys are not those of SwinIR")

	// Bundled models: registered bytes, a clear error for unknown names.
	saved, err := os.ReadFile(native)
	require.NoError(t, err)
	require.NoError(t, RegisterBundled("open-test", func() ([]byte, error) { return saved, nil }))
	require.ErrorContains(t, RegisterBundled("open-test", func() ([]byte, error) { return nil, nil }), "already registered")
	require.Contains(t, Bundled(), BundledPrefix+"open-test")
	c, err := Open(BundledPrefix+"open-test", nil)
	require.NoError(t, err)
	sameWeights(t, m, c)
	c.Close()
	_, err = Open(BundledPrefix+"open-test", &ImportOptions{Arch: "SRResNet"})
	require.ErrorContains(t, err, "carries its configuration")
	_, err = Open(BundledPrefix+"nope", nil)
	require.ErrorContains(t, err, "no such bundled model")
	require.ErrorContains(t, err, "mioir/pretrained")

	// Neither kind, too short, missing.
	junk := filepath.Join(dir, "junk")
	require.NoError(t, os.WriteFile(junk, []byte("definitely not a model file"), 0o644))
	_, err = Open(junk, nil)
	require.Error(t, err)
	short := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(short, []byte("PK"), 0o644))
	_, err = Open(short, nil)
	require.ErrorContains(t, err, "neither a model file nor a checkpoint")
	_, err = Open(filepath.Join(dir, "missing"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
	m.Close()
	require.Equal(t, live, torch.LiveTensors())
}
