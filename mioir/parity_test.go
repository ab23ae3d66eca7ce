package mioir_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/mioir"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// forwardFixture runs m on <name>.in.npy as a raw float tensor (with
// <name>.prompt.npy for EP models, the input for AP) and returns the output.
func forwardFixture(t testing.TB, m *mioir.Model, name string) []float32 {
	t.Helper()
	return forwardFixtureOn(t, m, name, torch.CPU)
}

// forwardFixtureOn is forwardFixture with the inputs made on dev (the
// model's device).
func forwardFixtureOn(t testing.TB, m *mioir.Model, name string, dev torch.Device) []float32 {
	t.Helper()
	in, shape := testutil.ReadNpy(t, name+".in.npy")
	var pv []float32
	var ps []int64
	if m.Config().Prompt == prompt.Explicit {
		pv, ps = testutil.ReadNpy(t, name+".prompt.npy")
		ps = append([]int64{ps[0], 1}, ps[1:]...) // (1,128,128) -> (1,1,128,128)
	}
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.FromSliceOn(s, dev, in, shape...)
		require.NoError(t, err)
		var p *torch.Tensor
		if pv != nil {
			p, err = torch.FromSliceOn(s, dev, pv, ps...)
			require.NoError(t, err)
		}
		y, err := m.Forward(x, p)
		require.NoError(t, err)
		require.Equal(t, dev, y.Device())
		return y.ToDevice(torch.CPU)
	})
	require.NoError(t, err)
	defer out.Close()
	v, err := torch.ToSlice[float32](out)
	require.NoError(t, err)
	return v
}

// fixtureError compares got with <name>.out.npy; with residue it compares
// out - in (SRResNet's output stays near its input).
func fixtureError(t testing.TB, name string, residue bool, got []float32) (rel, maxAbs float64) {
	t.Helper()
	want, _ := testutil.ReadNpy(t, name+".out.npy")
	if residue {
		in, _ := testutil.ReadNpy(t, name+".in.npy")
		for i := range got {
			got[i] -= in[i]
			want[i] -= in[i]
		}
	}
	return testutil.RelL2(got, want)
}

var parityCases = []struct {
	name    string
	arch    string
	kind    prompt.Kind
	residue bool    // compare out - in (SRResNet's output stays near its input)
	ema     float64 // manifest: max_abs_diff_if_params_ema_loaded
}{
	{"SRResNet", "SRResNet", prompt.None, true, 0},
	{"SRResNet_EP", "SRResNet", prompt.Explicit, false, 0.019112229347229004},
	{"SRResNet_AP", "SRResNet", prompt.Adaptive, false, 0.01787838339805603},
	{"SwinIR", "SwinIR", prompt.None, false, 0},
	{"SwinIR_EP", "SwinIR", prompt.Explicit, false, 0},
	{"SwinIR_AP", "SwinIR", prompt.Adaptive, false, 0},
	{"Restormer", "Restormer", prompt.None, false, 0},
	{"Restormer_EP", "Restormer", prompt.Explicit, false, 0},
	{"Restormer_AP", "Restormer", prompt.Adaptive, false, 0},
	{"Uformer", "Uformer", prompt.None, false, 0},
	{"Uformer_EP", "Uformer", prompt.Explicit, false, 0},
	{"Uformer_AP", "Uformer", prompt.Adaptive, false, 0},
}

// TestImportParity imports every fixture .pth through mioir.Import, with the
// architecture inferred from its keys, and compares the forward pass with
// the reference output.
func TestImportParity(t *testing.T) {
	for _, c := range parityCases {
		t.Run(c.name, func(t *testing.T) {
			live := torch.LiveTensors()
			m, err := mioir.Import(testutil.Model(t, c.name+".pth"), nil)
			require.NoError(t, err)
			defer m.Close()
			require.Equal(t, c.arch, m.Config().Arch)
			require.Equal(t, c.kind, m.Config().Prompt)
			require.Equal(t, c.name, m.Config().Name())
			rel, maxAbs := fixtureError(t, c.name, c.residue, forwardFixture(t, m, c.name))
			t.Logf("%s through mioir.Import: rel L2 %.3g, max abs %.3g", c.name, rel, maxAbs)
			require.LessOrEqual(t, rel, 1e-5)

			if c.ema > 0 {
				want, _ := testutil.ReadNpy(t, c.name+".out.npy")
				e, err := mioir.Import(testutil.Model(t, c.name+".pth"), &mioir.ImportOptions{EMA: true})
				require.NoError(t, err)
				ema := forwardFixture(t, e, c.name)
				e.Close()
				var d float64
				for i := range ema {
					d = math.Max(d, math.Abs(float64(ema[i])-float64(want[i])))
				}
				require.InDelta(t, c.ema, d, 1e-5, "params_ema is loaded only when asked")
			}

			// Native round trip: identical outputs.
			path := filepath.Join(t.TempDir(), c.name+".safetensors")
			require.NoError(t, m.Save(path))
			l, err := mioir.Load(path)
			require.NoError(t, err)
			require.Equal(t, m.Config().Name(), l.Config().Name())
			again := forwardFixture(t, l, c.name)
			l.Close()
			first := forwardFixture(t, m, c.name)
			require.Equal(t, first, again)
			m.Close()
			require.Equal(t, live, torch.LiveTensors())
		})
	}
}

// TestImportParityDevices runs every fixture variant on each device libtorch
// offers (the CPU, and the first CUDA GPU when there is one) in full float32
// (TF32 off) and compares with the reference output computed on the CPU.
// scripts/gpu-check.sh runs it on a GPU machine with the carried fixtures.
func TestImportParityDevices(t *testing.T) {
	tf32, err := torch.AllowTF32()
	require.NoError(t, err)
	require.NoError(t, torch.SetAllowTF32(torch.TF32{}))
	defer func() { require.NoError(t, torch.SetAllowTF32(tf32)) }()
	for _, dev := range testDevices() {
		for _, c := range parityCases {
			t.Run(dev.String()+"/"+c.name, func(t *testing.T) {
				m, err := mioir.Import(testutil.Model(t, c.name+".pth"), nil)
				require.NoError(t, err)
				defer m.Close()
				require.NoError(t, m.To(dev))
				rel, maxAbs := fixtureError(t, c.name, c.residue, forwardFixtureOn(t, m, c.name, dev))
				t.Logf("%s on %s: rel L2 %.3g, max abs %.3g", c.name, dev, rel, maxAbs)
				require.LessOrEqual(t, rel, 1e-4)
			})
		}
	}
}

// testDevices are the CPU and, when libtorch sees one, the first CUDA GPU.
func testDevices() []torch.Device {
	if torch.CUDAAvailable() {
		return []torch.Device{torch.CPU, torch.CUDA(0)}
	}
	return []torch.Device{torch.CPU}
}
