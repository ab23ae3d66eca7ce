package blocks

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// The Restormer blocks are checked against direct float64 evaluations of
// the reference's formulas on small random inputs and weights.

// rsRandomize fills every tensor of m with uniform numbers in [-0.5, 0.5)
// (temperatures and norm weights around 1) and returns them by name.
func rsRandomize(t *testing.T, m layers.Module, seed uint64) map[string][]float64 {
	t.Helper()
	g, err := torch.NewGenerator(seed)
	require.NoError(t, err)
	defer g.Close()
	out := map[string][]float64{}
	for _, p := range layers.Params(m) {
		require.NoError(t, g.Uniform(p.Tensor(), -0.5, 0.5))
		if strings.HasSuffix(p.Name, "temperature") || strings.HasSuffix(p.Name, "body.weight") {
			require.NoError(t, g.Uniform(p.Tensor(), 0.5, 1.5))
		}
		v, err := torch.ToSlice[float32](p.Tensor())
		require.NoError(t, err)
		out[p.Name] = rsF64(v)
	}
	return out
}

func rsF64(v []float32) []float64 {
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = float64(x)
	}
	return r
}

// rsInput returns deterministic values in [-1, 1).
func rsInput(n int, seed int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((i*seed+17)%101)/50.5 - 1
	}
	return v
}

// rsForward runs fn on x (shape) in an inference scope and returns float64s.
func rsForward(t *testing.T, x []float32, shape []int64, fn func(*torch.Tensor) *torch.Tensor) ([]float64, []int64) {
	t.Helper()
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		in, err := torch.FromSlice(s, x, shape...)
		require.NoError(t, err)
		return fn(in)
	})
	require.NoError(t, err)
	defer out.Close()
	v, err := torch.ToSlice[float32](out)
	require.NoError(t, err)
	return rsF64(v), out.Shape()
}

// rsMap is a (C, H, W) float64 map of one image.
type rsMap struct {
	c, h, w int
	v       []float64
}

func (m rsMap) at(c, y, x int) float64 {
	if y < 0 || x < 0 || y >= m.h || x >= m.w {
		return 0
	}
	return m.v[(c*m.h+y)*m.w+x]
}

// conv1x1 applies weight (out, in) to m.
func (m rsMap) conv1x1(w []float64, out int) rsMap {
	r := rsMap{out, m.h, m.w, make([]float64, out*m.h*m.w)}
	for o := range out {
		for p := range m.h * m.w {
			var s float64
			for i := range m.c {
				s += w[o*m.c+i] * m.v[i*m.h*m.w+p]
			}
			r.v[o*m.h*m.w+p] = s
		}
	}
	return r
}

// dw3x3 applies a depthwise 3x3 convolution (weight (C, 1, 3, 3), zero
// padding 1).
func (m rsMap) dw3x3(w []float64) rsMap {
	r := rsMap{m.c, m.h, m.w, make([]float64, len(m.v))}
	for c := range m.c {
		for y := range m.h {
			for x := range m.w {
				var s float64
				for dy := range 3 {
					for dx := range 3 {
						s += w[c*9+dy*3+dx] * m.at(c, y+dy-1, x+dx-1)
					}
				}
				r.v[(c*m.h+y)*m.w+x] = s
			}
		}
	}
	return r
}

func rsNorm(m rsMap, w, b []float64, biasFree bool) rsMap {
	r := rsMap{m.c, m.h, m.w, make([]float64, len(m.v))}
	hw := m.h * m.w
	for p := range hw {
		var mu, vr float64
		for c := range m.c {
			mu += m.v[c*hw+p]
		}
		mu /= float64(m.c)
		for c := range m.c {
			d := m.v[c*hw+p] - mu
			vr += d * d
		}
		vr /= float64(m.c)
		for c := range m.c {
			x := m.v[c*hw+p]
			if biasFree {
				r.v[c*hw+p] = x / math.Sqrt(vr+1e-5) * w[c]
			} else {
				r.v[c*hw+p] = (x-mu)/math.Sqrt(vr+1e-5)*w[c] + b[c]
			}
		}
	}
	return r
}

func rsMDTA(m rsMap, p map[string][]float64, prefix string, heads int) rsMap {
	qkv := m.conv1x1(p[prefix+"qkv.weight"], 3*m.c).dw3x3(p[prefix+"qkv_dwconv.weight"])
	hw, d := m.h*m.w, m.c/heads
	row := func(part, ch int) []float64 { return qkv.v[(part*m.c+ch)*hw : (part*m.c+ch+1)*hw] }
	unit := func(v []float64) []float64 {
		var n float64
		for _, x := range v {
			n += x * x
		}
		n = max(math.Sqrt(n), 1e-12)
		u := make([]float64, len(v))
		for i, x := range v {
			u[i] = x / n
		}
		return u
	}
	out := rsMap{m.c, m.h, m.w, make([]float64, m.c*hw)}
	for h := range heads {
		temp := p[prefix+"temperature"][h]
		for i := range d {
			q := unit(row(0, h*d+i))
			logits := make([]float64, d)
			mx := math.Inf(-1)
			for j := range d {
				k := unit(row(1, h*d+j))
				var s float64
				for x := range hw {
					s += q[x] * k[x]
				}
				logits[j] = s * temp
				mx = max(mx, logits[j])
			}
			var z float64
			for j := range logits {
				logits[j] = math.Exp(logits[j] - mx)
				z += logits[j]
			}
			for j := range d {
				v := row(2, h*d+j)
				for x := range hw {
					out.v[(h*d+i)*hw+x] += logits[j] / z * v[x]
				}
			}
		}
	}
	return out.conv1x1(p[prefix+"project_out.weight"], m.c)
}

func rsGDFN(m rsMap, p map[string][]float64, prefix string, hid int) rsMap {
	t := m.conv1x1(p[prefix+"project_in.weight"], 2*hid).dw3x3(p[prefix+"dwconv.weight"])
	hw := m.h * m.w
	g := rsMap{hid, m.h, m.w, make([]float64, hid*hw)}
	for i := range hid * hw {
		x1, x2 := t.v[i], t.v[hid*hw+i]
		g.v[i] = 0.5 * x1 * (1 + math.Erf(x1/math.Sqrt2)) * x2
	}
	return g.conv1x1(p[prefix+"project_out.weight"], m.c)
}

func rsAdd(a, b rsMap) rsMap {
	r := rsMap{a.c, a.h, a.w, make([]float64, len(a.v))}
	for i := range a.v {
		r.v[i] = a.v[i] + b.v[i]
	}
	return r
}

func rsClose(t *testing.T, want, got []float64, tol float64) {
	t.Helper()
	require.Len(t, got, len(want))
	var num, den float64
	for i := range want {
		d := got[i] - want[i]
		num += d * d
		den += want[i] * want[i]
	}
	require.LessOrEqual(t, math.Sqrt(num/den), tol)
}

func TestChannelNormValues(t *testing.T) {
	for _, c := range []struct {
		typ      NormType
		explicit bool
	}{{NormWithBias, false}, {NormWithBias, true}, {NormBiasFree, false}} {
		typ := c.typ
		t.Run(typ.String()+map[bool]string{true: "/explicit"}[c.explicit], func(t *testing.T) {
			n, err := NewChannelNorm(5, typ)
			require.NoError(t, err)
			defer n.Close()
			n.Explicit = c.explicit
			names := []string{}
			for _, p := range layers.Params(n) {
				names = append(names, p.Name)
			}
			if typ == NormBiasFree {
				require.Equal(t, []string{"body.weight"}, names)
			} else {
				require.Equal(t, []string{"body.weight", "body.bias"}, names)
			}
			p := rsRandomize(t, n, 3)
			x := rsInput(2*5*3*4, 7)
			got, shape := rsForward(t, x, []int64{2, 5, 3, 4}, n.Forward)
			require.Equal(t, []int64{2, 5, 3, 4}, shape)
			var want []float64
			for b := range 2 {
				m := rsMap{5, 3, 4, rsF64(x[b*60 : (b+1)*60])}
				want = append(want, rsNorm(m, p["body.weight"], p["body.bias"], typ == NormBiasFree).v...)
			}
			rsClose(t, want, got, 1e-6)
		})
	}
	_, err := ParseNormType("Bias-Free")
	require.Error(t, err)
	typ, err := ParseNormType("BiasFree")
	require.NoError(t, err)
	require.Equal(t, NormBiasFree, typ)
}

func TestMDTAAndGDFNValues(t *testing.T) {
	const c, h, w, heads = 6, 5, 7, 2
	x := rsInput(c*h*w, 13)
	m := rsMap{c, h, w, rsF64(x)}

	a, err := NewMDTA(nil, c, heads, false)
	require.NoError(t, err)
	defer a.Close()
	pa := rsRandomize(t, a, 5)
	got, _ := rsForward(t, x, []int64{1, c, h, w}, a.Forward)
	rsClose(t, rsMDTA(m, pa, "", heads).v, got, 1e-5)
	got, _ = rsForward(t, x, []int64{1, c, h, w}, func(x *torch.Tensor) *torch.Tensor {
		return a.Forward(x.ChannelsLast()) // the layout of Restormer's forward pass
	})
	rsClose(t, rsMDTA(m, pa, "", heads).v, got, 1e-5)

	f, err := NewGDFN(nil, c, 0, false)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []int64{2 * 15, c, 1, 1}, f.ProjectIn.Weight.Shape()) // int(6*2.66) = 15
	pf := rsRandomize(t, f, 6)
	got, _ = rsForward(t, x, []int64{1, c, h, w}, f.Forward)
	rsClose(t, rsGDFN(m, pf, "", 15).v, got, 1e-5)

	// The block: x + MDTA(LN1(x)), then + GDFN(LN2(.)).
	b, err := NewTransformerBlock(nil, TransformerBlockConfig{Dim: c, Heads: heads})
	require.NoError(t, err)
	defer b.Close()
	pb := rsRandomize(t, b, 9)
	y := rsAdd(m, rsMDTA(rsNorm(m, pb["norm1.body.weight"], pb["norm1.body.bias"], false), pb, "attn.", heads))
	y = rsAdd(y, rsGDFN(rsNorm(y, pb["norm2.body.weight"], pb["norm2.body.bias"], false), pb, "ffn.", 15))
	live := torch.LiveTensors()
	got, _ = rsForward(t, x, []int64{1, c, h, w}, b.Forward)
	rsClose(t, y.v, got, 1e-5)
	require.Equal(t, live, torch.LiveTensors())
}

// TestTransformerBlockNames checks the state_dict names and shapes against
// those of the reference block (Restormer.keys.json, encoder_level2.0 at 8
// channels and 2 heads) and the documented hidden widths.
func TestTransformerBlockNames(t *testing.T) {
	b, err := NewTransformerBlock(nil, TransformerBlockConfig{Dim: 8, Heads: 2})
	require.NoError(t, err)
	defer b.Close()
	var got [][2]any
	for _, p := range layers.Params(b) {
		got = append(got, [2]any{p.Name, p.Tensor().Shape()})
	}
	require.Equal(t, [][2]any{
		{"norm1.body.weight", []int64{8}},
		{"norm1.body.bias", []int64{8}},
		{"attn.temperature", []int64{2, 1, 1}},
		{"attn.qkv.weight", []int64{24, 8, 1, 1}},
		{"attn.qkv_dwconv.weight", []int64{24, 1, 3, 3}},
		{"attn.project_out.weight", []int64{8, 8, 1, 1}},
		{"norm2.body.weight", []int64{8}},
		{"norm2.body.bias", []int64{8}},
		{"ffn.project_in.weight", []int64{42, 8, 1, 1}},
		{"ffn.dwconv.weight", []int64{42, 1, 3, 3}},
		{"ffn.project_out.weight", []int64{8, 21, 1, 1}},
	}, got)
	for c, want := range map[int64]int64{48: 127, 96: 255, 192: 510, 384: 1021} {
		require.Equal(t, want, GDFNHidden(c, DefaultFFNExpansion))
	}
	bb, err := NewTransformerBlock(nil, TransformerBlockConfig{Dim: 8, Heads: 2, Bias: true, Norm: NormBiasFree})
	require.NoError(t, err)
	defer bb.Close()
	require.Equal(t, layers.NumParams(b)-8*2+24+24+8+42+42+8, layers.NumParams(bb))
	_, err = NewTransformerBlock(nil, TransformerBlockConfig{Dim: 6, Heads: 4})
	require.Error(t, err)
}

func TestShuffleDownUp(t *testing.T) {
	g, err := torch.NewGenerator(1)
	require.NoError(t, err)
	defer g.Close()
	d, err := NewShuffleDown(g, 4)
	require.NoError(t, err)
	defer d.Close()
	u, err := NewShuffleUp(g, 8)
	require.NoError(t, err)
	defer u.Close()
	e, err := NewOverlapPatchEmbed(g, 3, 4, false)
	require.NoError(t, err)
	defer e.Close()
	require.Equal(t, "body.0.weight", layers.Params(d)[0].Name)
	require.Equal(t, []int64{2, 4, 3, 3}, d.Conv.Weight.Shape())
	require.Equal(t, []int64{16, 8, 3, 3}, u.Conv.Weight.Shape())
	require.Equal(t, "proj.weight", layers.Params(e)[0].Name)
	require.Len(t, layers.Params(e), 1)

	x := rsInput(3*8*6, 11)
	_, shape := rsForward(t, x, []int64{1, 3, 8, 6}, func(x *torch.Tensor) *torch.Tensor {
		return d.Forward(e.Forward(x))
	})
	require.Equal(t, []int64{1, 8, 4, 3}, shape)
	_, shape = rsForward(t, x, []int64{1, 3, 8, 6}, func(x *torch.Tensor) *torch.Tensor {
		return u.Forward(d.Forward(e.Forward(x)))
	})
	require.Equal(t, []int64{1, 4, 8, 6}, shape)
	// The downsampler is conv then PixelUnshuffle: channel 4*c+2*i+j of the
	// output holds pixel (2y+i, 2x+j) of conv channel c.
	conv, _ := rsForward(t, x, []int64{1, 3, 8, 6}, func(x *torch.Tensor) *torch.Tensor {
		return d.Conv.Forward(e.Forward(x))
	})
	down, _ := rsForward(t, x, []int64{1, 3, 8, 6}, func(x *torch.Tensor) *torch.Tensor {
		return d.Forward(e.Forward(x))
	})
	require.Equal(t, conv[(1*8+2*2+1)*6+2*1+1], down[((4*1+2*1+1)*4+2)*3+1])
	_, err = NewShuffleDown(nil, 3)
	require.Error(t, err)
}
