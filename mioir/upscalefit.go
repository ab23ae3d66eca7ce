package mioir

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/gomioir/gomioir/nets/torch"
)

// An x4 bicubic enlargement is exactly a combination of four-pixel-spaced
// copies of the cubic kernel: every line of it lies in a subspace of a
// quarter of the line's dimension, up to the 8-bit rounding. A blurred
// image does not, however smooth, unless it has nothing finer than the
// lower resolution's Nyquist frequency. upscaleFit projects each line of
// the luminance onto that subspace at the four possible grid phases: at
// the right phase an enlargement leaves only the rounding (about 0.17 of
// an 8-bit step in luminance), at the others it leaves its detail; a
// blurred or sharp image leaves about as much at every phase. The trace is
// the best phase's residual over the median phase's, the larger of the
// two axes': near 1 on any scene that is not an enlargement, 0.04-0.35 on
// x4 bicubic upscales with some texture, up to about 0.83 on almost flat
// ones.

// upscaleCubicA is PyTorch's (and the library's SR degradation's) bicubic
// coefficient.
const upscaleCubicA = -0.75

// upscaleBases caches the orthonormal bases of whole tiles' lines
// (signTile pixels), by phase; other lengths (images smaller than a tile)
// are computed each time, so the cache stays bounded.
var upscaleBases = struct {
	sync.Mutex
	m map[[2]int][]float32
}{m: map[[2]int][]float32{}}

// cubicKernel is the cubic convolution kernel with coefficient a.
func cubicKernel(x, a float64) float64 {
	x = math.Abs(x)
	switch {
	case x <= 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

// upscaleBasis returns an orthonormal basis (n rows, k columns, row-major)
// of the lines of length n enlarged x4 from a grid shifted by phase pixels:
// output pixel i samples the kernels of the low-resolution pixels around
// (i+phase+0.5)/4-0.5, as PyTorch's bicubic interpolation does.
func upscaleBasis(n, phase int) ([]float32, int) {
	key := [2]int{n, phase}
	if n == signTile {
		upscaleBases.Lock()
		defer upscaleBases.Unlock()
		if q, ok := upscaleBases.m[key]; ok {
			return q, len(q) / n
		}
	}
	src := func(i int) float64 { return (float64(i+phase)+0.5)/4 - 0.5 }
	k0, k1 := int(math.Floor(src(0)))-1, int(math.Ceil(src(n-1)))+1
	var cols [][]float64
	for k := k0; k <= k1; k++ {
		c := make([]float64, n)
		for i := range c {
			c[i] = cubicKernel(src(i)-float64(k), upscaleCubicA)
		}
		// Modified Gram-Schmidt, twice for accuracy; columns that add
		// nothing (kernels barely reaching the line) are dropped.
		norm0 := math.Sqrt(dot(c, c))
		for range 2 {
			for _, q := range cols {
				d := dot(c, q)
				for i := range c {
					c[i] -= d * q[i]
				}
			}
		}
		nrm := math.Sqrt(dot(c, c))
		if nrm <= 1e-6*norm0 || nrm == 0 {
			continue
		}
		for i := range c {
			c[i] /= nrm
		}
		cols = append(cols, c)
	}
	q := make([]float32, n*len(cols))
	for j, c := range cols {
		for i, v := range c {
			q[i*len(cols)+j] = float32(v)
		}
	}
	if n == signTile {
		upscaleBases.m[key] = q
	}
	return q, len(cols)
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// upscaleResidual adds to e[p] the squared residual of t's rows (a 2-D
// tensor of lines of t.Size(1) pixels) projected onto the x4 bases of
// each phase p.
func upscaleResidual(s *torch.Scope, e *[4]float64, t *torch.Tensor) error {
	w := int(t.Size(1))
	if w < 16 {
		return nil
	}
	for p := range e {
		qs, k := upscaleBasis(w, p)
		q, err := torch.FromSlice(s, qs, int64(w), int64(k))
		if err != nil {
			return err
		}
		r := t.Sub(t.Matmul(q).Matmul(q.Transpose(0, 1)))
		v, err := r.Mul(r).Sum(false).ToDType(torch.Float64).Item()
		if err != nil {
			return err
		}
		e[p] += v
	}
	return nil
}

// fitRatio is the smallest of e over its median (1 when the median is 0:
// a flat image says nothing).
func fitRatio(e [4]float64) float64 {
	s := e
	slices.Sort(s[:])
	med := (s[1] + s[2]) / 2
	if med <= 0 {
		return 1
	}
	return math.Sqrt(s[0] / med)
}

// upscaleFitOf accumulates the residuals of a tile (y, h lines of w
// pixels, row-major) along its rows (eh) and its columns (ev).
func upscaleFitOf(eh, ev *[4]float64, y []float32, h, w int) error {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	t, err := torch.FromSlice(s, y, int64(h), int64(w))
	if err == nil {
		err = upscaleResidual(s, eh, t)
	}
	if err == nil {
		// Contiguous, as the rows are: the products then sum in the same
		// order, so both axes read the same bits a copied tile would.
		err = upscaleResidual(s, ev, t.Transpose(0, 1).Contiguous())
	}
	if err != nil {
		return fmt.Errorf("mioir: restore: measuring the input: %w", err)
	}
	return nil
}
