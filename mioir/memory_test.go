package mioir

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/internal/testutil"
	"github.com/gomioir/gomioir/nets"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/prompt"
)

// TestMemoryBudget: with a budget, Restore measures the network once, tiles
// a 512x512 image so that the counted peak of CPU tensor storage stays
// within the budget (it is far above it in one pass), and gives the
// one-pass result up to the tile seams; a generous budget keeps one pass,
// and a negative one means no bound. (An explicit prompt: an adaptive
// prompt's extractor reads the whole image, see DefaultMemoryBudget.)
func TestMemoryBudget(t *testing.T) {
	m, err := New(Config{Arch: "SRResNet", Net: nets.SRResNetConfig{Features: 8, Prompted: true},
		Prompt: prompt.Explicit}, 1)
	require.NoError(t, err)
	defer m.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x := randInput(t, s, 512, 512, 7)
	restore := func(o *Options) ([]float32, *Info, int64) {
		o.Task = degrade.Noise
		var v []float32
		var info *Info
		peak, err := torch.PeakDuring(func() error {
			v, info = restoreSlice(t, m, x, o)
			return nil
		})
		require.NoError(t, err)
		return v, info, peak
	}
	whole, info, wholePeak := restore(&Options{MemoryBudget: -1})
	require.Equal(t, 1, info.Tiles)
	require.Equal(t, 0, info.Tile)
	perPix, scale, err := m.measureNeed(s, nil)
	require.NoError(t, err)
	require.Equal(t, int64(1), scale)
	// The probe's per-pixel need predicts the one-pass peak (which adds the
	// input's copies).
	t.Logf("measured need %.0f B/pixel; one pass of 512x512: peak %.1f MB (%.0f B/pixel)",
		perPix, float64(wholePeak)/1e6, float64(wholePeak)/(512*512))
	require.InDelta(t, perPix, float64(wholePeak)/(512*512), perPix*0.25)

	// A budget that leaves, beyond the whole-image buffers (budgetTile's
	// fixed: 13 planes of 512x512 float32), room for a 320-pixel tile: above
	// minBudgetTile, below which the budget may be exceeded by design.
	budget := int64(4*512*512*13 + perPix*320*320)
	require.Less(t, budget, wholePeak, "one pass needs more than the budget")
	tiled, info, tiledPeak := restore(&Options{MemoryBudget: budget})
	t.Logf("budget %.1f MB: tile %d, %d tiles, peak %.1f MB", float64(budget)/1e6, info.Tile, info.Tiles, float64(tiledPeak)/1e6)
	require.Greater(t, info.Tiles, 1)
	require.LessOrEqual(t, tiledPeak, budget)
	_, maxAbs := testutil.RelL2(tiled, whole)
	require.LessOrEqual(t, maxAbs, 1e-3)

	_, info, _ = restore(&Options{MemoryBudget: 4 * wholePeak})
	require.Equal(t, 1, info.Tiles, "a budget above the need keeps one pass")
	_, info, _ = restore(&Options{MemoryBudget: budget, Tile: 256})
	require.Equal(t, 256, info.Tile, "an explicit tile wins")
	y, _, err := m.RestoreTensor(context.Background(), x, &Options{Task: degrade.Noise})
	require.NoError(t, err)
	y.Close()
}
