package mioir

import (
	"fmt"
	"math"
	"sync"

	"github.com/gomioir/gomioir/degrade"
	"github.com/gomioir/gomioir/nets/torch"
)

// Rain streaks are bright, thin and parallel across the whole image.
// rainStreaks measures that on the guard's luminance tiles: in each
// streakWindow x streakWindow window it compares, for streakAngles
// directions, the energy of bright ridges (the negative second derivative
// across the direction, averaged along it) with that of dark ones. An edge
// gives both alike; a bright line gives a deep central trough, so bright
// lines along a direction lift its excess. The trace is the share of
// windows whose strongest excess (above streakMinExcess) lies within one
// step of the direction that is strongest over the whole image: near 1 on
// rain, low on texture and architecture whose bright lines run every way or
// only in places. Long parallel lines across the whole scene (lane
// markings, blinds) read as high as rain, so the guard uses the trace only
// to refuse a rain choice, never to make one.
const (
	streakAngles    = 24  // directions over 180 degrees
	streakLength    = 15  // pixels averaged along a direction
	streakSigma     = 1.5 // Gaussian smoothing before differentiating
	streakWindow    = 48  // side of the windows that vote
	streakMargin    = 10  // tile border left out
	streakMinExcess = 0.2 // least excess of a window that votes
)

// rainStreaks returns the share of windows over x's (1, 3, H, W) sign tiles
// that show bright lines along the image's dominant direction; 0 when the
// image has no whole window.
func rainStreaks(x *torch.Tensor) (float64, error) {
	// Radius 4 sigma, as cv2.GaussianBlur picks for float images.
	kernel, err := degrade.GaussianKernel1D(2*int(math.Round(4*streakSigma))+1, streakSigma)
	if err != nil {
		return 0, fmt.Errorf("mioir: restore: measuring rain streaks: %w", err)
	}
	h, w := x.Size(2), x.Size(3)
	var excess [][streakAngles]float64 // per window
	for _, oy := range tileOrigins(h) {
		for _, ox := range tileOrigins(w) {
			th, tw := min(signTile, h-oy), min(signTile, w-ox)
			y, err := lumaTile(x, oy, ox, th, tw)
			if err != nil {
				return 0, fmt.Errorf("mioir: restore: measuring rain streaks: %w", err)
			}
			excess = append(excess, streakExcess(y, int(th), int(tw), kernel)...)
		}
	}
	if len(excess) == 0 {
		return 0, nil
	}
	var total [streakAngles]float64
	for _, e := range excess {
		for a, v := range e {
			total[a] += v
		}
	}
	dom := argmax(total[:])
	agree := 0
	for _, e := range excess {
		b := argmax(e[:])
		d := abs(b - dom)
		if min(d, streakAngles-d) <= 1 && e[b] > streakMinExcess {
			agree++
		}
	}
	return float64(agree) / float64(len(excess)), nil
}

// streakExcess returns, for each whole window of the h x w luminance y
// (inside the margin), the bright-over-dark ridge energy per direction,
// (B - D) over the window's mean of B + D over the directions; kernel is
// the Gaussian that smooths y first.
func streakExcess(y []float32, h, w int, kernel []float32) [][streakAngles]float64 {
	nh, nw := (h-2*streakMargin)/streakWindow, (w-2*streakMargin)/streakWindow
	if nh <= 0 || nw <= 0 {
		return nil
	}
	g := gaussianBlur(y, h, w, kernel)
	xx, yy, xy := hessian(g, h, w)
	var bright, dark [streakAngles][]float64
	var wg sync.WaitGroup
	for a := range streakAngles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bright[a], dark[a] = ridgeEnergy(xx, yy, xy, h, w, nh, nw, a)
		}()
	}
	wg.Wait()
	out := make([][streakAngles]float64, nh*nw)
	for k := range out {
		norm := 0.0
		for a := range streakAngles {
			norm += bright[a][k] + dark[a][k]
		}
		norm = max(norm/streakAngles, 1e-12)
		for a := range streakAngles {
			out[k][a] = (bright[a][k] - dark[a][k]) / norm
		}
	}
	return out
}

// ridgeEnergy returns, per window, the mean squared bright and dark ridge
// responses along direction a: the second derivative across the direction,
// averaged over streakLength pixels along it.
func ridgeEnergy(xx, yy, xy []float32, h, w, nh, nw, a int) (bright, dark []float64) {
	th := float64(a) * math.Pi / streakAngles
	nx, ny := -math.Sin(th), math.Cos(th)
	cxx, cyy, cxy := float32(nx*nx), float32(ny*ny), float32(2*nx*ny)
	taps := lineTaps(th)
	bright, dark = make([]float64, nh*nw), make([]float64, nh*nw)
	// The line reaches at most streakLength/2 < streakMargin pixels out, so
	// every read stays inside the tile.
	r0, r1 := streakMargin-streakLength/2, streakMargin+nh*streakWindow+streakLength/2
	c0, c1 := streakMargin-streakLength/2, streakMargin+nw*streakWindow+streakLength/2
	d2 := make([]float32, h*w)
	for r := r0; r < r1; r++ {
		for c := c0; c < c1; c++ {
			i := r*w + c
			d2[i] = cxx*xx[i] + cyy*yy[i] + cxy*xy[i]
		}
	}
	for r := streakMargin; r < streakMargin+nh*streakWindow; r++ {
		wy := (r - streakMargin) / streakWindow
		for c := streakMargin; c < streakMargin+nw*streakWindow; c++ {
			s := float32(0)
			for _, t := range taps {
				s += t.w * d2[(r+t.dy)*w+c+t.dx]
			}
			k := wy*nw + (c-streakMargin)/streakWindow
			if s < 0 {
				bright[k] += float64(s) * float64(s)
			} else {
				dark[k] += float64(s) * float64(s)
			}
		}
	}
	for k := range bright {
		bright[k] /= streakWindow * streakWindow
		dark[k] /= streakWindow * streakWindow
	}
	return bright, dark
}

type tap struct {
	dy, dx int
	w      float32
}

// lineTaps samples a centred segment of streakLength pixels at angle th
// (radians, x to the right, y down) four times per pixel and weights each
// pixel it lands on by how often.
func lineTaps(th float64) []tap {
	const n = 4 * streakLength
	half := float64(streakLength / 2)
	count := map[[2]int]int{}
	var order [][2]int
	for i := range n {
		t := -half + 2*half*float64(i)/float64(n-1)
		p := [2]int{int(math.RoundToEven(t * math.Sin(th))), int(math.RoundToEven(t * math.Cos(th)))}
		if count[p] == 0 {
			order = append(order, p)
		}
		count[p]++
	}
	taps := make([]tap, len(order))
	for i, p := range order {
		taps[i] = tap{dy: p[0], dx: p[1], w: float32(count[p]) / n}
	}
	return taps
}

// gaussianBlur smooths the h x w plane p with the separable kernel k
// (odd, centred), reflect-101 borders.
func gaussianBlur(p []float32, h, w int, k []float32) []float32 {
	r := len(k) / 2
	tmp := make([]float32, h*w)
	for y := range h {
		for x := range w {
			s := float32(0)
			for i, kv := range k {
				s += kv * p[y*w+reflect101(x+i-r, w)]
			}
			tmp[y*w+x] = s
		}
	}
	out := make([]float32, h*w)
	for y := range h {
		for x := range w {
			s := float32(0)
			for i, kv := range k {
				s += kv * tmp[reflect101(y+i-r, h)*w+x]
			}
			out[y*w+x] = s
		}
	}
	return out
}

// hessian returns the 3x3 Sobel second derivatives of the h x w plane p:
// d2/dx2 and d2/dy2 ([1 -2 1] across, [1 2 1] along) and d2/dxdy ([-1 0 1]
// both ways), reflect-101 borders.
func hessian(p []float32, h, w int) (xx, yy, xy []float32) {
	xx, yy, xy = make([]float32, h*w), make([]float32, h*w), make([]float32, h*w)
	at := func(y, x int) float32 { return p[reflect101(y, h)*w+reflect101(x, w)] }
	for y := range h {
		for x := range w {
			var v [3][3]float32
			for i := range 3 {
				for j := range 3 {
					v[i][j] = at(y+i-1, x+j-1)
				}
			}
			xx[y*w+x] = (v[0][0] - 2*v[0][1] + v[0][2]) + 2*(v[1][0]-2*v[1][1]+v[1][2]) + (v[2][0] - 2*v[2][1] + v[2][2])
			yy[y*w+x] = (v[0][0] - 2*v[1][0] + v[2][0]) + 2*(v[0][1]-2*v[1][1]+v[2][1]) + (v[0][2] - 2*v[1][2] + v[2][2])
			xy[y*w+x] = v[0][0] - v[0][2] - v[2][0] + v[2][2]
		}
	}
	return xx, yy, xy
}

// reflect101 maps i into [0, n) by reflection about the edge pixels.
func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		} else {
			i = 2*n - 2 - i
		}
	}
	return i
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
