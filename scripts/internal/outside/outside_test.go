package outside

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/degrade"
)

// TestHaze: I = J t + A (1 - t) per row, rounded to 8 bits, the same for
// every column and channel.
func TestHaze(t *testing.T) {
	m := degrade.NewImage(3, 2)
	for i := range m.Pix {
		m.Pix[i] = 0.2
	}
	ramp := func(row, rows int) float64 { return math.Exp(-1.5 * (1 - float64(row)/float64(rows-1))) }
	out := Haze(m, 0.9, ramp)
	top := 0.2*math.Exp(-1.5) + 0.9*(1-math.Exp(-1.5)) // 0.7438..., level 189.67
	for c := range 3 {
		p := out.Plane(c)
		for x := range 3 {
			require.Equal(t, float32(190.0/255), p[x], "top row: %v rounds to 190", top*255)
			require.Equal(t, float32(51.0/255), p[3+x], "bottom row: t = 1 leaves 0.2 (51)")
		}
	}
	fog := Haze(m, 0.9, func(int, int) float64 { return 0.5 })
	for _, v := range fog.Pix {
		require.Equal(t, float32(140.0/255), v) // 0.55*255 = 140.25
	}
}
