package layers

import (
	"math"
	"testing"

	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
	"github.com/stretchr/testify/require"
)

type block struct {
	Conv *Conv2d
	Seq  Sequential
	Norm *LayerNorm
	Idx  *torch.Tensor
}

func (b *block) Visit(v Visitor) {
	v.Module("conv", b.Conv)
	v.Module("seq", b.Seq)
	v.Module("norm", b.Norm)
	v.Buffer("index", &b.Idx)
}

func newBlock(t *testing.T, g *torch.Generator) *block {
	c, err := NewConv2d(g, 3, 4, 3, &ConvConfig{Padding: 1})
	require.NoError(t, err)
	l1, err := NewLinear(g, 4, 5, false)
	require.NoError(t, err)
	l2, err := NewLinear(g, 5, 2, true) // no bias
	require.NoError(t, err)
	n, err := NewLayerNorm(2, 0, false)
	require.NoError(t, err)
	idx, err := torch.FromSlice(nil, []int64{0, 1, 2}, 3)
	require.NoError(t, err)
	return &block{Conv: c, Seq: Sequential{l1, ReLU(), l2}, Norm: n, Idx: idx}
}

func TestParamsNamesOrderAndCounts(t *testing.T) {
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(1)
	require.NoError(t, err)
	defer g.Close()
	b := newBlock(t, g)
	var names []string
	var buffers []string
	for _, p := range Params(b) {
		names = append(names, p.Name)
		if p.Buffer {
			buffers = append(buffers, p.Name)
		}
	}
	require.Equal(t, []string{"conv.weight", "conv.bias", "seq.0.weight", "seq.0.bias", "seq.2.weight",
		"norm.weight", "norm.bias", "index"}, names)
	require.Equal(t, []string{"index"}, buffers)
	require.Equal(t, int64(4*3*9+4+4*5+5+5*2+2+2), NumParams(b))
	require.Len(t, Parameters(b), 7)
	Close(b)
	Close(b)
	require.Nil(t, b.Conv.Weight)
	require.Equal(t, live, torch.LiveTensors())
}

func TestDefaultInitBoundsAndSeed(t *testing.T) {
	g1, err := torch.NewGenerator(7)
	require.NoError(t, err)
	defer g1.Close()
	g2, err := torch.NewGenerator(7)
	require.NoError(t, err)
	defer g2.Close()
	c1, err := NewConv2d(g1, 8, 16, 3, &ConvConfig{})
	require.NoError(t, err)
	defer c1.Close()
	c2, err := NewConv2d(g2, 8, 16, 3, &ConvConfig{})
	require.NoError(t, err)
	defer c2.Close()
	w1, err := torch.ToSlice[float32](c1.Weight)
	require.NoError(t, err)
	w2, err := torch.ToSlice[float32](c2.Weight)
	require.NoError(t, err)
	require.Equal(t, w1, w2)
	bound := 1 / math.Sqrt(72)
	var maxAbs float64
	for _, v := range w1 {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	require.LessOrEqual(t, maxAbs, bound)
	require.Greater(t, maxAbs, 0.9*bound)

	z, err := NewConv2d(nil, 8, 16, 3, &ConvConfig{})
	require.NoError(t, err)
	defer z.Close()
	zw, err := torch.ToSlice[float32](z.Weight)
	require.NoError(t, err)
	require.Equal(t, make([]float32, len(zw)), zw)
}

func TestTruncNormalLimits(t *testing.T) {
	g, err := torch.NewGenerator(3)
	require.NoError(t, err)
	defer g.Close()
	p, err := NewParam(10000)
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, TruncNormal(g, p, 0, 0.02, -2, 2))
	v, err := torch.ToSlice[float32](p)
	require.NoError(t, err)
	var s, s2 float64
	for _, x := range v {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	std := math.Sqrt(s2 / float64(len(v)))
	require.InDelta(t, 0.02, std, 0.001)
	require.InDelta(t, 0, s/float64(len(v)), 0.001)
}

// mismatchedStateDict is a block's sd with conv.bias missing, seq.0.weight
// of another shape ([5 3]) and an unexpected extra.weight.
func mismatchedStateDict(t *testing.T, sd *host.StateDict) *host.StateDict {
	t.Helper()
	out := host.NewStateDict()
	for _, e := range sd.Entries {
		switch e.Name {
		case "conv.bias":
		case "seq.0.weight":
			require.NoError(t, out.Add(e.Name, host.FromFloat32([]int{5, 3}, make([]float32, 15))))
		default:
			require.NoError(t, out.Add(e.Name, e.Tensor))
		}
	}
	require.NoError(t, out.Add("extra.weight", host.FromFloat32([]int{1}, []float32{1})))
	return out
}

func TestStateDictRoundTripAndStrictLoad(t *testing.T) {
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(1)
	require.NoError(t, err)
	defer g.Close()
	src := newBlock(t, g)
	defer Close(src)
	sd, err := StateDict(src)
	require.NoError(t, err)
	require.Equal(t, []string{"conv.weight", "conv.bias", "seq.0.weight", "seq.0.bias", "seq.2.weight",
		"norm.weight", "norm.bias", "index"}, sd.Keys())

	dst := newBlock(t, nil)
	defer Close(dst)
	require.NoError(t, LoadStateDict(dst, sd, nil))
	back, err := StateDict(dst)
	require.NoError(t, err)
	for _, k := range sd.Keys() {
		a, _ := sd.Get(k)
		b, _ := back.Get(k)
		require.True(t, host.Equal(a, b), k)
	}

	// Missing, unexpected and mismatched keys are all named; nothing is copied.
	bad := mismatchedStateDict(t, sd)
	fresh := newBlock(t, nil)
	defer Close(fresh)
	err = LoadStateDict(fresh, bad, nil)
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.Equal(t, []string{"conv.bias"}, le.Missing)
	require.Equal(t, []string{"extra.weight"}, le.Unexpected)
	require.Len(t, le.Mismatched, 1)
	require.Equal(t, "seq.0.weight", le.Mismatched[0].Key)
	require.Equal(t, []int64{5, 4}, le.Mismatched[0].Want)
	require.Equal(t, []int64{5, 3}, le.Mismatched[0].Got)
	require.Contains(t, err.Error(), "conv.bias")
	require.Contains(t, err.Error(), "extra.weight")
	w, err := torch.ToSlice[float32](fresh.Norm.Weight)
	require.NoError(t, err)
	require.Equal(t, []float32{1, 1}, w, "a refused load copies nothing")

	// Rename maps module names to file keys.
	renamed := host.NewStateDict()
	for _, e := range sd.Entries {
		require.NoError(t, renamed.Add("m."+e.Name, e.Tensor))
	}
	require.NoError(t, LoadStateDict(fresh, renamed, &LoadOptions{Rename: func(n string) string { return "m." + n }}))
	Close(src)
	Close(dst)
	Close(fresh)
	require.Equal(t, live, torch.LiveTensors())
}

func TestLoadMatchingCopiesOnlyWhatFits(t *testing.T) {
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(3)
	require.NoError(t, err)
	defer g.Close()
	src := newBlock(t, g)
	sd, err := StateDict(src)
	require.NoError(t, err)
	Close(src)
	partial := mismatchedStateDict(t, sd)
	dst := newBlock(t, nil)
	defer Close(dst)
	before, err := torch.ToSlice[float32](dst.Seq[0].(*Linear).Weight)
	require.NoError(t, err)
	loaded, skipped, err := LoadMatching(dst, partial)
	require.NoError(t, err)
	require.Equal(t, []string{"conv.weight", "seq.0.bias", "seq.2.weight", "norm.weight", "norm.bias", "index"}, loaded)
	require.Equal(t, []string{"conv.bias", "seq.0.weight"}, skipped)
	back, err := StateDict(dst)
	require.NoError(t, err)
	for _, k := range loaded {
		a, _ := sd.Get(k)
		b, _ := back.Get(k)
		require.True(t, host.Equal(a, b), k)
	}
	after, err := torch.ToSlice[float32](dst.Seq[0].(*Linear).Weight)
	require.NoError(t, err)
	require.Equal(t, before, after, "a skipped tensor keeps its values")
	Close(dst)
	require.Equal(t, live, torch.LiveTensors())
}

func TestForwardShapes(t *testing.T) {
	live := torch.LiveTensors()
	g, err := torch.NewGenerator(2)
	require.NoError(t, err)
	defer g.Close()
	rb, err := NewResidualBlockNoBN(g, 8, 0)
	require.NoError(t, err)
	defer rb.Close()
	bias, err := torch.ToSlice[float32](rb.Conv1.Bias)
	require.NoError(t, err)
	require.Equal(t, make([]float32, 8), bias)
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		x, err := g.Rand(s, []int64{1, 8, 5, 6}, nil)
		if err != nil {
			return nil
		}
		return Sequential{rb, ZeroPad2d(1)}.Forward(x)
	})
	require.NoError(t, err)
	require.Equal(t, []int64{1, 8, 7, 8}, out.Shape())
	out.Close()
	rb.Close()
	require.Equal(t, live, torch.LiveTensors())
}

func TestLoadRejectsDuplicateTargetsAndKindMismatch(t *testing.T) {
	live := torch.LiveTensors()
	b := newBlock(t, nil)
	sd, err := StateDict(b)
	require.NoError(t, err)
	err = LoadStateDict(b, sd, &LoadOptions{Rename: func(string) string { return "conv.weight" }})
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.Contains(t, le.Duplicate, "conv.weight")

	// A float tensor in the file for the int64 buffer is refused by name.
	sd2 := host.NewStateDict()
	for _, e := range sd.Entries {
		if e.Name == "index" {
			require.NoError(t, sd2.Add(e.Name, host.FromFloat32([]int{3}, []float32{0, 1, 2})))
			continue
		}
		require.NoError(t, sd2.Add(e.Name, e.Tensor))
	}
	err = LoadStateDict(b, sd2, nil)
	require.ErrorAs(t, err, &le)
	require.Len(t, le.Mismatched, 1)
	require.Equal(t, "int64", le.Mismatched[0].WantType)
	require.Equal(t, "float32", le.Mismatched[0].GotType)
	require.ErrorContains(t, err, "index (want int64, got float32)")
	Close(b)
	require.Equal(t, live, torch.LiveTensors())
}
