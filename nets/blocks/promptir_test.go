package blocks

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// promptGenReference computes PromptGenBlock's forward pass in float64 plain
// Go: mean over H, W; linear; softmax; weighted sum of the components;
// bilinear resize with align_corners false (PyTorch's source index
// (d+0.5)*in/out-0.5 clamped at 0); 3x3 convolution with zero padding.
func promptGenReference(x []float64, bsz, lin, h, w int, param []float64, l, d, s int, lw, lb, conv []float64) []float64 {
	out := make([]float64, bsz*d*h*w)
	for b := range bsz {
		emb := make([]float64, lin)
		for c := range lin {
			for i := range h * w {
				emb[c] += x[(b*lin+c)*h*w+i]
			}
			emb[c] /= float64(h * w)
		}
		logits := make([]float64, l)
		var mx float64 = math.Inf(-1)
		for k := range l {
			logits[k] = lb[k]
			for c := range lin {
				logits[k] += lw[k*lin+c] * emb[c]
			}
			mx = max(mx, logits[k])
		}
		var z float64
		for k := range l {
			logits[k] = math.Exp(logits[k] - mx)
			z += logits[k]
		}
		p := make([]float64, d*s*s)
		for k := range l {
			for i := range p {
				p[i] += logits[k] / z * param[k*d*s*s+i]
			}
		}
		src := func(dst, in, outN int) (int, int, float64) {
			f := max((float64(dst)+0.5)*float64(in)/float64(outN)-0.5, 0)
			i0 := int(math.Floor(f))
			i1 := min(i0+1, in-1)
			return i0, i1, f - float64(i0)
		}
		r := make([]float64, d*h*w)
		for c := range d {
			for y := range h {
				y0, y1, ly := src(y, s, h)
				for xx := range w {
					x0, x1, lx := src(xx, s, w)
					at := func(yy, xi int) float64 { return p[(c*s+yy)*s+xi] }
					r[(c*h+y)*w+xx] = (1-ly)*((1-lx)*at(y0, x0)+lx*at(y0, x1)) + ly*((1-lx)*at(y1, x0)+lx*at(y1, x1))
				}
			}
		}
		for o := range d {
			for y := range h {
				for xx := range w {
					var acc float64
					for c := range d {
						for ky := range 3 {
							for kx := range 3 {
								yy, xi := y+ky-1, xx+kx-1
								if yy < 0 || yy >= h || xi < 0 || xi >= w {
									continue
								}
								acc += conv[((o*d+c)*3+ky)*3+kx] * r[(c*h+yy)*w+xi]
							}
						}
					}
					out[((b*d+o)*h+y)*w+xx] = acc
				}
			}
		}
	}
	return out
}

func toF64(v []float32) []float64 {
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = float64(x)
	}
	return r
}

func TestPromptGenBlockValues(t *testing.T) {
	g, err := torch.NewGenerator(11)
	require.NoError(t, err)
	defer g.Close()
	const bsz, lin, h, w, l, d, s = 2, 4, 5, 7, 3, 2, 3
	b, err := NewPromptGenBlock(g, PromptGenConfig{Dim: d, Len: l, Size: s, LinDim: lin})
	require.NoError(t, err)
	defer b.Close()

	var names []string
	var shapes [][]int64
	for _, p := range layers.Params(b) {
		names = append(names, p.Name)
		shapes = append(shapes, p.Tensor().Shape())
	}
	require.Equal(t, []string{"prompt_param", "linear_layer.weight", "linear_layer.bias", "conv3x3.weight"}, names)
	require.Equal(t, [][]int64{{1, l, d, s, s}, {l, lin}, {l}, {d, d, 3, 3}}, shapes)
	require.Equal(t, int64(l*d*s*s+l*lin+l+d*d*9), layers.NumParams(b))

	vals := func(tt *torch.Tensor) []float32 {
		v, err := torch.ToSlice[float32](tt)
		require.NoError(t, err)
		return v
	}
	param := vals(b.PromptParam)
	for _, v := range param {
		require.True(t, v >= 0 && v < 1, "torch.rand range: %v", v)
	}
	// Bigger linear weights than the default init, so that the softmax
	// weights differ clearly between samples.
	require.NoError(t, g.Uniform(b.Linear.Weight, -2, 2))

	x := make([]float32, bsz*lin*h*w)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)*0.7)) + float32(i%3)*0.25
	}
	want := promptGenReference(toF64(x), bsz, lin, h, w, toF64(param), l, d, s,
		toF64(vals(b.Linear.Weight)), toF64(vals(b.Linear.Bias)), toF64(vals(b.Conv.Weight)))

	before := torch.LiveTensors()
	out, err := torch.Run(torch.Inference, func(sc *torch.Scope) *torch.Tensor {
		xt, err := torch.FromSlice(sc, x, bsz, lin, h, w)
		require.NoError(t, err)
		return b.Forward(xt)
	})
	require.NoError(t, err)
	require.Equal(t, []int64{bsz, d, h, w}, out.Shape())
	got := vals(out)
	out.Close()
	require.Equal(t, before, torch.LiveTensors())
	for i := range want {
		require.InDelta(t, want[i], float64(got[i]), 1e-5, "element %d", i)
	}
	// The two samples get different component weights.
	wts, err := torch.Run(torch.Inference, func(sc *torch.Scope) *torch.Tensor {
		xt, err := torch.FromSlice(sc, x, bsz, lin, h, w)
		require.NoError(t, err)
		return b.Weights(xt)
	})
	require.NoError(t, err)
	wv := vals(wts)
	wts.Close()
	require.Len(t, wv, bsz*l)
	for i := range bsz {
		require.InDelta(t, 1, float64(wv[i*l]+wv[i*l+1]+wv[i*l+2]), 1e-6)
	}
	require.Greater(t, math.Abs(float64(wv[0]-wv[l])), 1e-3)
}

func TestPromptGenBlockNilGenerator(t *testing.T) {
	b, err := NewPromptGenBlock(nil, PromptGenConfig{Dim: 4, Len: 5, Size: 8, LinDim: 6})
	require.NoError(t, err)
	v, err := torch.ToSlice[float32](b.PromptParam)
	require.NoError(t, err)
	require.Equal(t, make([]float32, 5*4*8*8), v)
	b.Close()
	b.Close()
	require.Nil(t, b.PromptParam)
	_, err = NewPromptGenBlock(nil, PromptGenConfig{Dim: 4, Len: 0, Size: 8, LinDim: 6})
	require.Error(t, err)
}
