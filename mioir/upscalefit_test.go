package mioir

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
)

// TestUpscaleBasis: each basis is orthonormal, and a line enlarged x4 by
// the library's PyTorch-exact bicubic resize, cropped at any offset, lies
// in the basis of its phase (to float32 precision) and not in the others.
func TestUpscaleBasis(t *testing.T) {
	for _, n := range []int{16, 97, 256} {
		for p := range 4 {
			q, k := upscaleBasis(n, p)
			require.Equal(t, n*k, len(q))
			require.True(t, k >= n/4 && k <= n/4+4, "n %d phase %d: %d columns", n, p, k)
			for a := range k {
				for b := range k {
					d := 0.0
					for i := range n {
						d += float64(q[i*k+a]) * float64(q[i*k+b])
					}
					want := 0.0
					if a == b {
						want = 1
					}
					require.InDelta(t, want, d, 1e-5, "n %d phase %d: q%d.q%d", n, p, a, b)
				}
			}
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	lo := degrade.NewImage(50, 40)
	for i := range lo.Pix {
		lo.Pix[i] = rng.Float32()
	}
	hi, err := degrade.ResizeBicubic(lo, 200, 160)
	require.NoError(t, err)
	for _, off := range []int{0, 1, 2, 3, 6} {
		c := hi.Crop(image.Rect(off, off, off+180, off+140))
		y := make([]float32, c.W*c.H)
		copy(y, c.Pix[:c.W*c.H]) // one channel is enough
		var eh, ev [4]float64
		require.NoError(t, upscaleFitOf(&eh, &ev, y, c.H, c.W))
		total := 0.0
		for _, v := range y {
			total += float64(v) * float64(v)
		}
		for _, e := range [][4]float64{eh, ev} {
			best := math.Inf(1)
			for _, v := range e {
				best = min(best, v)
			}
			require.Less(t, best/total, 1e-10, "offset %d: the right phase leaves more than float32 error", off)
			require.Less(t, fitRatio(e), 0.01, "offset %d", off)
		}
	}
	// A flat image says nothing.
	require.Equal(t, 1.0, fitRatio([4]float64{}))
}
