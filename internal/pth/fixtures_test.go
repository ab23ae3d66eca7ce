package pth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// manifestVariant holds the manifest.json fields these tests use.
type manifestVariant struct {
	Buffers          []string `json:"buffers"`
	StateDictEntries int      `json:"state_dict_entries"`
	Params           int      `json:"params"`
}

func readManifest(t *testing.T, dir string) map[string]manifestVariant {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	var m struct {
		Variants map[string]manifestVariant `json:"variants"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))
	return m.Variants
}

func TestReferenceCheckpoints(t *testing.T) {
	dir := fixtures.Dir(t, "models")
	paths, err := filepath.Glob(filepath.Join(dir, "*.pth"))
	require.NoError(t, err)
	require.Len(t, paths, 13, "every variant but PromptIR has a .pth")
	manifest := readManifest(t, dir)
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".pth")
		t.Run(name, func(t *testing.T) {
			mv, ok := manifest[name]
			require.True(t, ok, "manifest entry")
			c, err := Load(p)
			require.NoError(t, err)
			require.Equal(t, []string{"params", "params_ema"}, c.Sections())
			require.Empty(t, c.Others())
			want := readKeys(t, filepath.Join(dir, name+".keys.json"))
			require.Len(t, want, mv.StateDictEntries)
			params, err := c.StateDict("params")
			require.NoError(t, err)
			ema, err := c.StateDict("params_ema")
			require.NoError(t, err)
			requireKeys(t, want, params, "params")
			requireKeys(t, want, ema, "params_ema")
			require.NotEmpty(t, c.ModuleVersions("params"))

			nParams := 0
			for i, e := range params.Entries {
				et := ema.Entries[i].Tensor
				if slices.Contains(mv.Buffers, e.Name) {
					require.Equal(t, e.Tensor.Data, et.Data, "buffer %s is identical in params_ema", e.Name)
					continue
				}
				nParams += e.Tensor.NumElements()
				require.True(t, e.Tensor.DType.IsFloat(), e.Name)
				a, err := e.Tensor.Float32s()
				require.NoError(t, err)
				b, err := et.Float32s()
				require.NoError(t, err)
				// params_ema = p + 0.001*randn: every element moves, by a few 1e-3 at most.
				maxDiff, nDiff := 0.0, 0
				for j := range a {
					d := float64(b[j] - a[j])
					if d != 0 {
						nDiff++
					}
					maxDiff = max(maxDiff, d, -d)
				}
				require.Greater(t, nDiff, len(a)/2, "params_ema differs for %s", e.Name)
				require.Less(t, maxDiff, 0.01, e.Name)
			}
			require.Equal(t, mv.Params, nParams, "parameter count from the manifest")
			for _, b := range mv.Buffers {
				_, ok := params.Get(b)
				require.True(t, ok, "buffer %s present", b)
			}
		})
	}
}

func TestReferenceBufferValues(t *testing.T) {
	c, err := Load(fixtures.Path(t, "models", "SwinIR.pth"))
	require.NoError(t, err)
	sd, _ := c.Default()
	rpi, ok := sd.Get("layers.0.residual_group.blocks.0.attn.relative_position_index")
	require.True(t, ok)
	require.Equal(t, host.Int64, rpi.DType)
	require.Equal(t, []int{64, 64}, rpi.Shape)
	idx, err := rpi.Int64s()
	require.NoError(t, err)
	// For an 8x8 window the index of (token i, token j) is
	// (dy+7)*15 + (dx+7) with dy, dx the coordinate differences.
	for i := range 64 {
		for j := range 64 {
			dy, dx := i/8-j/8, i%8-j%8
			require.Equal(t, int64((dy+7)*15+dx+7), idx[i*64+j])
		}
	}
	mask, ok := sd.Get("layers.0.residual_group.blocks.1.attn_mask")
	require.True(t, ok)
	require.Equal(t, []int{4, 64, 64}, mask.Shape)
	m, err := mask.Float32s()
	require.NoError(t, err)
	for _, v := range m {
		require.True(t, v == 0 || v == -100, "attn_mask holds 0 or -100, got %v", v)
	}
	require.Equal(t, float32(0), m[0], "window 0 is unshifted")
}

func BenchmarkLoadSRResNet(b *testing.B) {
	p := fixtures.Path(b, "models", "SRResNet.pth")
	st, err := os.Stat(p)
	require.NoError(b, err)
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := Load(p); err != nil {
			b.Fatal(err)
		}
	}
}
