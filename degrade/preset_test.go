package degrade

import (
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/imgconv"
)

func TestPresetDraws(t *testing.T) {
	cases := []struct {
		preset             Preset
		sigLo, sigHi       float64
		nLo, nHi, qLo, qHi float64
		vLo, vHi           int
		bLo, bHi, gLo, gHi float64
	}{
		{InDis(), 1, 3, 15, 50, 30, 70, 50, 99, 0.5, 2.5, 1, 3},
		{Train(), 1, 3, 15, 50, 30, 70, 50, 99, 0.5, 2.5, 1, 3},
		{OutDis(), 3, 5, 50, 70, 10, 30, 100, 149, 2.5, 3, 3, 4},
	}
	for _, c := range cases {
		t.Run(c.preset.Name, func(t *testing.T) {
			s := NewSampler(c.preset, 42)
			ks := map[int]int{}
			widths := map[int]int{}
			var minV, maxV, minA, maxA, minL, maxL = 1 << 30, -1 << 30, 1 << 30, -1 << 30, 1 << 30, -1 << 30
			var sumSigma float64
			const n = 4000
			for k := uint64(0); k < n; k++ {
				b, err := s.Draw(Blur, k)
				require.NoError(t, err)
				ks[b.KernelSize]++
				require.InDelta(t, (c.sigLo+c.sigHi)/2, b.BlurSigma, (c.sigHi-c.sigLo)/2+1e-9)
				require.Equal(t, b.BlurSigma, math.Round(b.BlurSigma*100)/100)
				sumSigma += b.BlurSigma
				nz, _ := s.Draw(Noise, k)
				require.GreaterOrEqual(t, nz.NoiseSigma, c.nLo)
				require.LessOrEqual(t, nz.NoiseSigma, c.nHi)
				require.Equal(t, nz.NoiseSigma, math.Trunc(nz.NoiseSigma))
				j, _ := s.Draw(JPEG, k)
				require.GreaterOrEqual(t, float64(j.Quality), c.qLo)
				require.LessOrEqual(t, float64(j.Quality), c.qHi)
				r, _ := s.Draw(Rain, k)
				widths[r.Rain.Width]++
				minV, maxV = min(minV, r.Rain.Value), max(maxV, r.Rain.Value)
				minA, maxA = min(minA, r.Rain.Angle), max(maxA, r.Rain.Angle)
				minL, maxL = min(minL, r.Rain.Length), max(maxL, r.Rain.Length)
				h, _ := s.Draw(Haze, k)
				require.True(t, h.Airlight >= 0.8 && h.Airlight <= 1.0)
				require.True(t, h.Beta >= c.bLo && h.Beta <= c.bHi)
				d, _ := s.Draw(LowLight, k)
				require.True(t, d.Gamma >= c.gLo && d.Gamma <= c.gHi)
				sr, _ := s.Draw(SR, k)
				require.Equal(t, 4, sr.Scale)
			}
			require.Len(t, ks, 8)
			for size, cnt := range ks {
				require.Equal(t, 1, size%2)
				require.InDelta(t, n/8, cnt, 150, "kernel size %d", size)
			}
			require.Len(t, widths, 5)
			require.Equal(t, [2]int{c.vLo, c.vHi}, [2]int{minV, maxV})
			require.Equal(t, [2]int{-45, 44}, [2]int{minA, maxA})
			require.Equal(t, [2]int{20, 40}, [2]int{minL, maxL})
			require.InDelta(t, (c.sigLo+c.sigHi)/2, sumSigma/n, 0.05)
		})
	}
}

func TestSamplerDeterministic(t *testing.T) {
	s1 := NewSampler(InDis(), 7)
	s2 := NewSampler(InDis(), 7)
	s3 := NewSampler(InDis(), 8)
	differ := 0
	for _, task := range AllTasks() {
		for k := uint64(0); k < 20; k++ {
			a, _ := s1.Draw(task, k)
			b, _ := s2.Draw(task, k)
			require.Equal(t, a, b)
			c, _ := s3.Draw(task, k)
			if a.Seed != c.Seed || a.BlurSigma != c.BlurSigma || a.Quality != c.Quality || a.Gamma != c.Gamma || a.Beta != c.Beta {
				differ++
			}
		}
	}
	require.Greater(t, differ, 100) // another seed gives other draws
	_, err := PresetByName("nope")
	require.Error(t, err)
	p, err := PresetByName("Out-Dis")
	require.NoError(t, err)
	require.Equal(t, "outdis", p.Name)
}

// Same seed and image give the same output whatever GOMAXPROCS is.
func TestApplyDeterministicAcrossProcs(t *testing.T) {
	src := testPattern(96, 80)
	s := NewSampler(OutDis(), 2024)
	old := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(old)
	for _, task := range AllTasks() {
		t.Run(task.Name(), func(t *testing.T) {
			runtime.GOMAXPROCS(1)
			a, pa, err := s.Degrade(src, task, Key("img.png"), nil)
			require.NoError(t, err)
			runtime.GOMAXPROCS(8)
			b, pb, err := s.Degrade(src, task, Key("img.png"), nil)
			require.NoError(t, err)
			require.Equal(t, pa, pb)
			require.Equal(t, a.Pix, b.Pix)
			require.NotEqual(t, src.Pix[:len(a.Pix)], a.Pix)
		})
	}
}

// testPattern is a smooth synthetic colour image on the 8-bit grid.
func testPattern(w, h int) *Image {
	m := NewImage(w, h)
	n := w * h
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			m.Pix[i] = imgconv.Quantize(0.5 + 0.4*float32(math.Sin(float64(x)/7)))
			m.Pix[n+i] = imgconv.Quantize(float32(y) / float32(h))
			m.Pix[2*n+i] = imgconv.Quantize(0.3 + 0.2*float32(math.Cos(float64(x+y)/5)))
		}
	}
	return m
}
