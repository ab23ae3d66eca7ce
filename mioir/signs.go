package mioir

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomioir/gomioir/nets/torch"
)

// signs are measurements of an input that the guard weighs with the
// classifier: physical traces of a degradation that do not depend on which
// program made it. They are taken on at most signTiles x signTiles tiles of
// signTile pixels spread over the image (origins on the 8-pixel JPEG grid),
// so that a large photo costs a few small planes.
type signs struct {
	// noiseSigma estimates the standard deviation of white noise (0-1
	// units): the 10th percentile, over 16x16-pixel blocks, of the RMS of
	// the luminance's finest diagonal Haar coefficients. Texture and edges
	// raise a block's RMS; noise raises every block's, so the low
	// percentile reads the noise and not the scene. -1 when the image is
	// too small to tell.
	noiseSigma float64
	// blockiness is how much more the luminance changes across one column
	// (row) phase of the 8-pixel grid than across the median phase (plus
	// 1/255, so that a flat image does not divide by almost nothing): about
	// 1 or less on any scene, above it where a block transform left its
	// grid. The larger of the horizontal and vertical ratios.
	blockiness float64
	// upscale is the trace of an enlargement by 4 (bicubic or similar): the
	// luminance's second difference, averaged per position modulo 4, is
	// larger on two neighbouring positions than on the other two, as the
	// interpolation kernel is sampled at four fixed offsets. The best such
	// pair's mean over the other pair's (plus 0.25/255), the smaller of the
	// horizontal and vertical ratios: about 1 on any scene, 1.3-2 on most
	// x4 upscales with some texture.
	upscale float64
	// gridAsymmetry is how differently the luminance changes at the grid
	// phases p and p+4 (modulo 8), the largest difference over the mean
	// change plus 1/255, the larger of the two axes: a JPEG grid has period
	// 8 and raises it, an x4 upscale has period 4 and leaves it low.
	gridAsymmetry float64
	// upscaleFit: how well the luminance's lines fit an x4 bicubic
	// enlargement at the best grid phase (upscalefit.go): near 1 on any
	// scene, 0.04-0.83 on x4 bicubic upscales, textured or almost flat.
	upscaleFit float64
	// reblur is the largest RMS change, over the tiles, of the luminance
	// under a Gaussian blur of 1.5 pixels (reblur.go), 1 when no tile is
	// large enough to tell: under 0.27/255, the change of the 8-bit
	// rounding alone, there is no detail a blur could have taken.
	reblur float64
	// detail is the mean magnitude of the finest diagonal Haar coefficient
	// over the mean magnitude of the first-order ones, per 2x2 cell: fine
	// texture and noise keep it near 1, blur and upscaling remove the
	// finest scale first and bring it towards 0.
	detail float64
}

const (
	signTile  = 256
	signTiles = 4
	// noiseBlock is the side of the blocks of Haar coefficients whose RMS
	// is taken (8x8 coefficients from 16x16 pixels).
	noiseBlock = 8
)

// measureSigns measures x (1, 3, H, W, any device).
func measureSigns(x *torch.Tensor) (signs, error) {
	h, w := x.Size(2), x.Size(3)
	var rms []float64
	var colSum, rowSum, col2, row2 [8]float64
	var colN, rowN, col2N, row2N [8]int
	var diag, grad float64
	var fitH, fitV [4]float64
	reblur, reblurSeen := 0.0, false
	for _, oy := range tileOrigins(h) {
		for _, ox := range tileOrigins(w) {
			th, tw := min(signTile, h-oy), min(signTile, w-ox)
			y, err := lumaTile(x, oy, ox, th, tw)
			if err != nil {
				return signs{}, fmt.Errorf("mioir: restore: measuring the input: %w", err)
			}
			rms = haarBlockRMS(rms, y, int(th), int(tw))
			if err := upscaleFitOf(&fitH, &fitV, y, int(th), int(tw)); err != nil {
				return signs{}, err
			}
			if v, ok := reblurRMS(y, int(th), int(tw)); ok {
				reblur, reblurSeen = max(reblur, v), true
			}
			d, g := haarDetail(y, int(th), int(tw))
			diag += d
			grad += g
			// Origins are multiples of 8: a tile's phases are the image's.
			for r := range int(th) {
				row := y[r*int(tw) : (r+1)*int(tw)]
				for c := 0; c+1 < len(row); c++ {
					colSum[c%8] += abs32(row[c+1] - row[c])
					colN[c%8]++
					if c > 0 {
						col2[c%8] += abs32(row[c-1] - 2*row[c] + row[c+1])
						col2N[c%8]++
					}
				}
				if r+1 < int(th) {
					next := y[(r+1)*int(tw) : (r+2)*int(tw)]
					for c := range row {
						rowSum[r%8] += abs32(next[c] - row[c])
						rowN[r%8]++
					}
					if r > 0 {
						prev := y[(r-1)*int(tw) : r*int(tw)]
						for c := range row {
							row2[r%8] += abs32(prev[c] - 2*row[c] + next[c])
							row2N[r%8]++
						}
					}
				}
			}
		}
	}
	// Without any change inside the 2x2 cells (a flat image, or one
	// enlarged by pixel repetition, as scikit-image's moon) the ratio says
	// nothing: 1 lets the check pass.
	s := signs{
		noiseSigma:    -1,
		blockiness:    max(phaseRatio(colSum, colN), phaseRatio(rowSum, rowN)),
		upscale:       min(pairRatio4(col2, col2N), pairRatio4(row2, row2N)),
		gridAsymmetry: max(halfAsymmetry(colSum, colN), halfAsymmetry(rowSum, rowN)),
		upscaleFit:    max(fitRatio(fitH), fitRatio(fitV)),
		reblur:        1,
		detail:        1,
	}
	if reblurSeen {
		s.reblur = reblur
	}
	if grad > 0 {
		s.detail = diag / grad
	}
	if len(rms) > 0 {
		slices.Sort(rms)
		s.noiseSigma = percentile(rms, 0.10)
	}
	return s, nil
}

// tileOrigins spreads up to signTiles tiles of signTile over n pixels,
// origins rounded down to a multiple of 8.
func tileOrigins(n int64) []int64 {
	if n <= signTile {
		return []int64{0}
	}
	k := min(int64(signTiles), (n+signTile-1)/signTile)
	out := make([]int64, 0, k)
	for i := range k {
		o := i * (n - signTile) / (k - 1) / 8 * 8
		if len(out) == 0 || o != out[len(out)-1] {
			out = append(out, o)
		}
	}
	return out
}

// lumaTile returns 0.299 R + 0.587 G + 0.114 B of x's tile, row-major.
func lumaTile(x *torch.Tensor, oy, ox, th, tw int64) ([]float32, error) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	t := s.Use(x).Narrow(2, oy, th).Narrow(3, ox, tw)
	y := t.Narrow(1, 0, 1).MulScalar(0.299).
		Add(t.Narrow(1, 1, 1).MulScalar(0.587)).
		Add(t.Narrow(1, 2, 1).MulScalar(0.114))
	return torch.ToSlice[float32](y.ToDevice(torch.CPU).Contiguous())
}

// haarBlockRMS appends, for each noiseBlock x noiseBlock block of y's
// diagonal Haar coefficients (a - b - c + d) / 2 over 2x2 pixels, their RMS.
func haarBlockRMS(dst []float64, y []float32, h, w int) []float64 {
	const px = 2 * noiseBlock
	for by := 0; by+px <= h; by += px {
		for bx := 0; bx+px <= w; bx += px {
			sum := 0.0
			for r := by; r < by+px; r += 2 {
				a, b := y[r*w:], y[(r+1)*w:]
				for c := bx; c < bx+px; c += 2 {
					d := float64(a[c]-a[c+1]-b[c]+b[c+1]) / 2
					sum += d * d
				}
			}
			dst = append(dst, math.Sqrt(sum/(noiseBlock*noiseBlock)))
		}
	}
	return dst
}

// haarDetail returns the sums over y's 2x2 cells of the diagonal Haar
// coefficient's magnitude |a - b - c + d| / 2 and of the mean of the
// horizontal and vertical ones, (|a - b + c - d| + |a + b - c - d|) / 4.
func haarDetail(y []float32, h, w int) (diag, grad float64) {
	for r := 0; r+1 < h; r += 2 {
		top, bot := y[r*w:(r+1)*w], y[(r+1)*w:(r+2)*w]
		for c := 0; c+1 < w; c += 2 {
			a, b, cc, d := top[c], top[c+1], bot[c], bot[c+1]
			diag += abs32(a-b-cc+d) / 2
			grad += (abs32(a-b+cc-d) + abs32(a+b-cc-d)) / 4
		}
	}
	return diag, grad
}

// phaseRatio returns the largest phase mean over the median of the eight
// (the mean of the middle two) plus 1/255, or 1 when a phase is missing.
func phaseRatio(sum [8]float64, n [8]int) float64 {
	m, ok := phaseMeans(sum, n)
	if !ok {
		return 1
	}
	top := slices.Max(m[:])
	slices.Sort(m[:])
	return top / ((m[3]+m[4])/2 + 1.0/255)
}

// phaseMeans returns the eight phase means, false when a phase is missing.
func phaseMeans(sum [8]float64, n [8]int) ([8]float64, bool) {
	var m [8]float64
	for i := range m {
		if n[i] == 0 {
			return m, false
		}
		m[i] = sum[i] / float64(n[i])
	}
	return m, true
}

// pairRatio4 folds the eight phase means modulo 4 and returns the largest
// mean of two neighbouring phases over the other two's plus 0.25/255 (1
// when a phase is missing).
func pairRatio4(sum [8]float64, n [8]int) float64 {
	m, ok := phaseMeans(sum, n)
	if !ok {
		return 1
	}
	var q [4]float64
	for p := range q {
		q[p] = (m[p] + m[p+4]) / 2
	}
	best := 0.0
	for p := range q {
		best = max(best, (q[p]+q[(p+1)%4])/(q[(p+2)%4]+q[(p+3)%4]+0.25/255))
	}
	return best
}

// halfAsymmetry returns the largest |m[p] - m[p+4]| over the mean of the
// eight phase means plus 1/255 (0 when a phase is missing).
func halfAsymmetry(sum [8]float64, n [8]int) float64 {
	m, ok := phaseMeans(sum, n)
	if !ok {
		return 0
	}
	mean, d := 0.0, 0.0
	for p := range m {
		mean += m[p] / 8
	}
	for p := range 4 {
		d = max(d, math.Abs(m[p]-m[p+4]))
	}
	return d / (mean + 1.0/255)
}

// percentile returns the q-quantile of sorted v, interpolated linearly as
// numpy's default does.
func percentile(v []float64, q float64) float64 {
	pos := q * float64(len(v)-1)
	i := int(pos)
	if i+1 >= len(v) {
		return v[len(v)-1]
	}
	f := pos - float64(i)
	return v[i]*(1-f) + v[i+1]*f
}

func abs32(v float32) float64 {
	if v < 0 {
		return float64(-v)
	}
	return float64(v)
}
