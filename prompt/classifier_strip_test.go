package prompt

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/torch"
)

// TestClassifyStrips: an image taller than a strip (here 2,500 x 1,700
// pixels: four strips of 612 rows, then 45 rows, and 7 rows below the last
// 9x9 block that one pass never reads either) gives the one-pass
// probabilities within float rounding, with a fraction of its peak of CPU
// tensor memory.
func TestClassifyStrips(t *testing.T) {
	g, err := torch.NewGenerator(3)
	require.NoError(t, err)
	defer g.Close()
	c, err := NewClassifier(g)
	require.NoError(t, err)
	defer c.Close()
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	x, err := g.Rand(s, []int64{1, 3, 2500, 1700}, nil)
	require.NoError(t, err)
	var strips []Prediction
	stripPeak, err := torch.PeakDuring(func() (err error) {
		strips, err = c.Classify(x)
		return err
	})
	require.NoError(t, err)
	var whole *torch.Tensor
	wholePeak, err := torch.PeakDuring(func() (err error) {
		whole, err = torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor { return c.Forward(s.Use(x)) })
		return err
	})
	require.NoError(t, err)
	defer whole.Close()
	want, err := torch.ToSlice[float32](whole)
	require.NoError(t, err)
	for i, p := range strips[0].Probs {
		require.InDelta(t, want[i], p, 1e-6, "probability %d", i)
	}
	t.Logf("one pass peak %.0f MB, strips %.0f MB", float64(wholePeak)/1e6, float64(stripPeak)/1e6)
	require.Less(t, stripPeak, wholePeak/2)
}
