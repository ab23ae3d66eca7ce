// Package testutil holds the helpers that the tests of several packages
// share: reading the reference fixtures (arrays, key lists) and comparing
// outputs. It is imported by tests only.
package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/npy"
	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/nets/torch"
)

// Model returns the path of a file among the model fixtures, skipping the
// test when the fixture folder is absent.
func Model(tb testing.TB, name string) string {
	tb.Helper()
	return fixtures.Path(tb, "models", name)
}

// ReadNpy returns a model fixture array (a .npy file) as float32 values and
// its shape.
func ReadNpy(tb testing.TB, name string) ([]float32, []int64) {
	tb.Helper()
	r, err := npy.ReadFile(Model(tb, name))
	require.NoError(tb, err)
	v, err := r.Float32s()
	require.NoError(tb, err)
	shape := make([]int64, len(r.Shape))
	for i, d := range r.Shape {
		shape[i] = int64(d)
	}
	return v, shape
}

// RelL2 is ||a-b|| / ||b||, and the largest |a-b|.
func RelL2(a, b []float32) (rel, maxAbs float64) {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
		maxAbs = math.Max(maxAbs, math.Abs(d))
	}
	return math.Sqrt(num / den), maxAbs
}

// Key is one [key, shape, dtype] row of a <name>.keys.json fixture.
type Key struct {
	Name  string
	Shape []int64
	DType string
}

// Keys reads a keys fixture file (e.g. "SwinIR.full.keys.json").
func Keys(tb testing.TB, file string) []Key {
	tb.Helper()
	raw, err := os.ReadFile(Model(tb, file))
	require.NoError(tb, err)
	var rows [][3]json.RawMessage
	require.NoError(tb, json.Unmarshal(raw, &rows))
	keys := make([]Key, len(rows))
	for i, r := range rows {
		require.NoError(tb, json.Unmarshal(r[0], &keys[i].Name))
		require.NoError(tb, json.Unmarshal(r[1], &keys[i].Shape))
		require.NoError(tb, json.Unmarshal(r[2], &keys[i].DType))
	}
	return keys
}

// KeyShapes reads a keys fixture file and returns its keys and shapes
// apart, in file order.
func KeyShapes(tb testing.TB, file string) (keys []string, shapes [][]int64) {
	tb.Helper()
	for _, k := range Keys(tb, file) {
		keys = append(keys, k.Name)
		shapes = append(shapes, k.Shape)
	}
	return keys, shapes
}

// FullKeys reads <name>.full.keys.json (the paper configuration's keys) as
// KeyShapes does.
func FullKeys(tb testing.TB, name string) (keys []string, shapes [][]int64) {
	tb.Helper()
	return KeyShapes(tb, name+".full.keys.json")
}

// ModelJSON decodes the JSON model fixture file into v.
func ModelJSON(tb testing.TB, file string, v any) {
	tb.Helper()
	raw, err := os.ReadFile(Model(tb, file))
	require.NoError(tb, err)
	require.NoError(tb, json.Unmarshal(raw, v))
}

// Tensor is torch.FromSlice(s, vals, shape...) that fails tb on error (a
// nil s: the caller closes the tensor).
func Tensor(tb testing.TB, s *torch.Scope, vals []float32, shape ...int64) *torch.Tensor {
	tb.Helper()
	x, err := torch.FromSlice(s, vals, shape...)
	require.NoError(tb, err)
	return x
}

// Values is torch.ToSlice[float32](x) that fails tb on error.
func Values(tb testing.TB, x *torch.Tensor) []float32 {
	tb.Helper()
	v, err := torch.ToSlice[float32](x)
	require.NoError(tb, err)
	return v
}

// Forward builds a tensor of vals (shape) in an inference scope, runs f on
// it and returns the output's values and shape.
func Forward(tb testing.TB, vals []float32, shape []int64, f func(x *torch.Tensor) *torch.Tensor) ([]float32, []int64) {
	tb.Helper()
	out, err := torch.Run(torch.Inference, func(s *torch.Scope) *torch.Tensor {
		return f(Tensor(tb, s, vals, shape...))
	})
	require.NoError(tb, err)
	defer out.Close()
	return Values(tb, out), out.Shape()
}

// WritePNG encodes img as a PNG file at path, creating its folder.
func WritePNG(tb testing.TB, path string, img image.Image) {
	tb.Helper()
	require.NoError(tb, os.MkdirAll(filepath.Dir(path), 0o755))
	var b bytes.Buffer
	require.NoError(tb, png.Encode(&b, img))
	require.NoError(tb, os.WriteFile(path, b.Bytes(), 0o644))
}

// ReadPNG decodes the PNG file at path.
func ReadPNG(tb testing.TB, path string) image.Image {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(tb, err)
	return img
}

// NoisyImages writes n smooth-plus-noise RGB PNGs of w x h, named 00.png,
// 01.png, ..., to a new temporary folder and returns it; seed picks the
// noise.
func NoisyImages(tb testing.TB, n, w, h int, seed uint64) string {
	tb.Helper()
	dir := tb.TempDir()
	for i := range n {
		r := rand.New(rand.NewPCG(uint64(i), seed))
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetNRGBA(x, y, color.NRGBA{uint8(2*x + 30*i + r.IntN(20)), uint8(3*y + r.IntN(20)), uint8((x*y)/8 + r.IntN(20)), 255})
			}
		}
		WritePNG(tb, filepath.Join(dir, fmt.Sprintf("%02d.png", i)), m)
	}
	return dir
}

// FileTensors reads every tensor of a safetensors file (a model file, a
// training state) as float32 values, by name.
func FileTensors(tb testing.TB, path string) map[string][]float32 {
	tb.Helper()
	f, err := safetensors.ReadFile(path)
	require.NoError(tb, err)
	out := map[string][]float32{}
	for _, k := range f.Tensors.Keys() {
		r, _ := f.Tensors.Get(k)
		v, err := r.Float32s()
		require.NoError(tb, err, k)
		out[k] = v
	}
	return out
}

// RequireSameBits fails unless a and b hold the same float32 bit patterns
// (exactness, where equality of values would let -0 pass for +0).
func RequireSameBits(tb testing.TB, a, b []float32, what string) {
	tb.Helper()
	require.Len(tb, b, len(a), what)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			require.Failf(tb, "not bit-identical", "%s[%d]: %v and %v", what, i, a[i], b[i])
		}
	}
}
