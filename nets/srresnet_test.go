package nets

import (
	"math"
	"testing"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/stretchr/testify/require"
)

func TestSRResNetParamsAndKeys(t *testing.T) {
	for _, c := range []struct {
		name     string
		prompted bool
		params   int64
	}{{"SRResNet", false, 1222147}} {
		t.Run(c.name, func(t *testing.T) {
			live := torch.LiveTensors()
			g, err := torch.NewGenerator(0)
			require.NoError(t, err)
			defer g.Close()
			n, err := NewSRResNet(g, SRResNetConfig{Prompted: c.prompted})
			require.NoError(t, err)
			require.Equal(t, c.params, layers.NumParams(n))
			keys, shapes := testutil.FullKeys(t, c.name)
			ps := layers.Params(n)
			require.Len(t, ps, len(keys))
			for i, p := range ps {
				require.Equal(t, keys[i], p.Name)
				require.Equal(t, shapes[i], p.Tensor().Shape(), p.Name)
			}
			n.Close()
			require.Equal(t, live, torch.LiveTensors())
		})
	}
}

// srForward loads SRResNet.pth's section into a fresh network and runs it
// on the fixture input, returning out - in.
func srForward(t *testing.T, section string) []float32 {
	t.Helper()
	ck, err := pth.Load(fixtures.Path(t, "models", "SRResNet.pth"))
	require.NoError(t, err)
	sd, err := ck.StateDict(section)
	require.NoError(t, err)
	n, err := NewSRResNet(nil, SRResNetConfig{})
	require.NoError(t, err)
	defer n.Close()
	require.NoError(t, layers.LoadStateDict(n, sd, nil))
	in, _ := testutil.ReadNpy(t, "SRResNet.in.npy")
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.FromSlice(s, in, 1, 3, 64, 64)
		if err != nil {
			return nil
		}
		return n.Forward(x, nil).Sub(x)
	})
	require.NoError(t, err)
	defer out.Close()
	v, err := torch.ToSlice[float32](out)
	require.NoError(t, err)
	return v
}

func TestSRResNetParity(t *testing.T) {
	live := torch.LiveTensors()
	got := srForward(t, "params")
	in, _ := testutil.ReadNpy(t, "SRResNet.in.npy")
	want, _ := testutil.ReadNpy(t, "SRResNet.out.npy")
	for i := range want {
		want[i] -= in[i]
	}
	rel, maxAbs := testutil.RelL2(got, want)
	t.Logf("SRResNet: rel L2 of out-in %.3g, max abs %.3g", rel, maxAbs)
	require.LessOrEqual(t, rel, 1e-5)
	require.Equal(t, live, torch.LiveTensors())
}

func TestSRResNetParamsEMAIsAnExplicitChoice(t *testing.T) {
	a := srForward(t, "params")
	b := srForward(t, "params_ema")
	var maxAbs float64
	for i := range a {
		maxAbs = math.Max(maxAbs, math.Abs(float64(a[i])-float64(b[i])))
	}
	// manifest.json: max_abs_diff_if_params_ema_loaded.
	require.InDelta(t, 0.0016520023345947266, maxAbs, 1e-6)
}

func TestSRResNetLoadIsStrict(t *testing.T) {
	ck, err := pth.Load(fixtures.Path(t, "models", "SRResNet_EP.pth"))
	require.NoError(t, err)
	sd, err := ck.StateDict("params")
	require.NoError(t, err)
	n, err := NewSRResNet(nil, SRResNetConfig{})
	require.NoError(t, err)
	defer n.Close()
	err = layers.LoadStateDict(n, sd, nil)
	var le *layers.LoadError
	require.ErrorAs(t, err, &le)
	require.Contains(t, le.Missing, "body.0.conv1.weight")
	require.Contains(t, le.Unexpected, "body1.0.conv1.weight")
	require.Contains(t, le.Unexpected, "F_ext_net.conv1.weight")
	require.Contains(t, err.Error(), "body.0.conv1.weight")
}

func TestSRResNetConfig(t *testing.T) {
	_, err := NewSRResNet(nil, SRResNetConfig{Upscale: 4})
	require.ErrorContains(t, err, "upscale 4")
	_, err = NewSRResNet(nil, SRResNetConfig{Prompted: true, Blocks: 4})
	require.Error(t, err)
	n, err := NewSRResNet(nil, SRResNetConfig{Blocks: 2, Features: 8})
	require.NoError(t, err)
	defer n.Close()
	require.Equal(t, int64(1), n.Config.Pad().Multiple)
	m := n.Modulation()
	require.Equal(t, []string{"F_ext_net"}, m.Extractors)
	require.Len(t, m.Points, 4)
	require.Equal(t, ModulationPoint{Name: "body1", Channels: 8, ScaleKey: "prompt_scale1", ShiftKey: "prompt_shift1"}, m.Points[0])
	require.Equal(t, ModulationPoint{Name: "out", Channels: 3, ScaleKey: "prompt_scaleout", ShiftKey: "prompt_shiftout"}, m.Points[3])
	var seen []string
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := torch.Zeros(s, []int64{1, 3, 8, 8}, nil)
		if err != nil {
			return nil
		}
		return n.Forward(x, func(p string, f *torch.Tensor) *torch.Tensor {
			seen = append(seen, p)
			return f
		})
	})
	require.NoError(t, err)
	out.Close()
	require.Equal(t, []string{"body1", "body2", "hr", "out"}, seen)
}
