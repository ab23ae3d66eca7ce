package mioir

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets/torch"
)

// TestRestoreCUDA moves a model to the GPU and checks that Restore gives the
// CPU's result (within float32 differences between the devices).
func TestRestoreCUDA(t *testing.T) {
	if !torch.CUDAAvailable() {
		t.Skip("no CUDA GPU (this libtorch sees none)")
	}
	for _, name := range []string{"SRResNet_AP", "SwinIR_AP"} {
		t.Run(name, func(t *testing.T) {
			m, err := New(smallConfigs[name], 8)
			require.NoError(t, err)
			defer m.Close()
			s := torch.NewScope(torch.Inference)
			defer s.Close()
			x := randInput(t, s, 96, 80, 2)
			cpu, _ := restoreSlice(t, m, x, &Options{Tile: 64, Overlap: 16})
			require.NoError(t, m.To(torch.CUDA(0)))
			require.Equal(t, torch.CUDA(0), m.Device())
			gpu, _ := restoreSlice(t, m, x, &Options{Tile: 64, Overlap: 16})
			_, maxAbs := testutil.RelL2(gpu, cpu)
			t.Logf("%s CUDA vs CPU: max abs %.3g", name, maxAbs)
			require.LessOrEqual(t, maxAbs, 1e-3)
		})
	}
}
