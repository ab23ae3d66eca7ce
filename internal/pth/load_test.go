package pth

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/npy"
	"github.com/gomioir/gomioir/nets/torch/host"
)

func td(name string) string { return filepath.Join("testdata", name) }

// requireValues compares every tensor of sd with <stem>.<key>.npy written by
// scripts/fixtures_formats.py (bfloat16 tensors are stored there as float32).
func requireValues(t *testing.T, stem string, sd *host.StateDict) {
	t.Helper()
	requireKeys(t, readKeys(t, td(stem+".keys.json")), sd, stem)
	for _, e := range sd.Entries {
		want, err := npy.ReadFile(td(stem + "." + e.Name + ".npy"))
		require.NoError(t, err)
		require.Equal(t, want.Shape, e.Tensor.Shape, e.Name)
		if e.Tensor.DType == host.BFloat16 {
			got, err := e.Tensor.Float32s()
			require.NoError(t, err)
			w, err := want.Float32s()
			require.NoError(t, err)
			require.Equal(t, w, got, e.Name)
			continue
		}
		require.Equal(t, want.DType, e.Tensor.DType, e.Name)
		require.Equal(t, want.Data, e.Tensor.Data, "%s/%s values", stem, e.Name)
	}
}

func TestBareStateDict(t *testing.T) {
	c, err := Load(td("bare.pth"))
	require.NoError(t, err)
	require.True(t, c.IsBare())
	require.Equal(t, []string{Bare}, c.Sections())
	require.Empty(t, c.Others())
	sd, err := c.StateDict(Bare)
	require.NoError(t, err)
	requireValues(t, "bare", sd)

	def, name := c.Default()
	require.Equal(t, Bare, name)
	require.Same(t, sd, def)

	rm, _ := sd.Get("1.running_mean")
	v, err := rm.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{0.5, -0.25, 2}, v)
	nb, _ := sd.Get("1.num_batches_tracked")
	require.Equal(t, host.Int64, nb.DType)
	require.Equal(t, []int{}, nb.Shape)
	iv, err := nb.Int64s()
	require.NoError(t, err)
	require.Equal(t, []int64{7}, iv)

	// _metadata: BatchNorm modules are version 2, others 1.
	require.Equal(t, map[string]int{"": 1, "0": 1, "1": 2, "2": 1}, c.ModuleVersions(Bare))
	_, err = c.StateDict("params")
	require.ErrorContains(t, err, `no state dict "params" (it has "")`)
}

func TestBasicSRCheckpoint(t *testing.T) {
	c, err := Load(td("basicsr.pth"))
	require.NoError(t, err)
	require.False(t, c.IsBare())
	require.Equal(t, []string{"params", "params_ema"}, c.Sections())
	p, err := c.StateDict("params")
	require.NoError(t, err)
	requireValues(t, "basicsr.params", p)
	e, err := c.StateDict("params_ema")
	require.NoError(t, err)
	requireValues(t, "basicsr.params_ema", e)
	def, name := c.Default()
	require.Equal(t, "params", name)
	require.Same(t, p, def)
	require.Equal(t, 2, c.ModuleVersions("params")["1"])
}

func TestViewsAndDTypes(t *testing.T) {
	c, err := Load(td("views.pth"))
	require.NoError(t, err)
	sd, err := c.StateDict(Bare)
	require.NoError(t, err)
	requireValues(t, "views", sd)

	// Spot checks of the view semantics, independent of the .npy files.
	tr, _ := sd.Get("transposed")
	require.Equal(t, []int{4, 3}, tr.Shape)
	v, _ := tr.Float32s()
	// base[i][j] = (4i+j)*0.5-1, transposed[j][i] = base[i][j].
	require.Equal(t, []float32{-1, 1, 3, -0.5, 1.5, 3.5, 0, 2, 4, 0.5, 2.5, 4.5}, v)
	sl, _ := sd.Get("slice")
	v, _ = sl.Float32s()
	require.Equal(t, []float32{1.5, 2, 2.5, 3}, v)
	st, _ := sd.Get("strided")
	v, _ = st.Float32s()
	require.Equal(t, []float32{1, 2, 3, 4}, v)
	ex, _ := sd.Get("expanded")
	v, _ = ex.Float32s()
	require.Equal(t, []float32{-1, -0.5, 0, 0.5, -1, -0.5, 0, 0.5, -1, -0.5, 0, 0.5}, v)
	pm, _ := sd.Get("permuted")
	require.Equal(t, []int{4, 2, 3}, pm.Shape)
	d, _ := pm.Float64s()
	require.Equal(t, []float64{0, 4, 8, 12, 16, 20}, d[:6])
	f16, _ := sd.Get("f16")
	v, _ = f16.Float32s()
	require.Equal(t, []float32{1, -2, 0.3330078125}, v) // float16(0.333)
	p, _ := sd.Get("param")
	v, _ = p.Float32s()
	require.Equal(t, []float32{2, 4}, v)

	// Views of one storage are copied out: changing one leaves the others.
	base, _ := sd.Get("base")
	base.Data[0] = 0xff
	v, _ = tr.Float32s()
	require.Equal(t, float32(-1), v[0])
}

func TestMixedCheckpoint(t *testing.T) {
	c, err := Load(td("mixed.pth"))
	require.NoError(t, err)
	require.Equal(t, []string{"params"}, c.Sections())
	require.Equal(t, []string{"epoch"}, c.Others())
	sd, err := c.StateDict("params")
	require.NoError(t, err)
	requireValues(t, "bare", sd)
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]string{
		"int16.pth":      "unsupported dtype: storage type torch.ShortStorage",
		"list.pth":       "checkpoint is a list, not a dict",
		"legacy.pth":     "legacy (pre-1.6, non-zip) PyTorch format is not supported",
		"bare.keys.json": "not a PyTorch checkpoint (not a zip archive)",
	}
	for name, msg := range cases {
		_, err := Load(td(name))
		require.ErrorContains(t, err, msg, name)
		require.ErrorContains(t, err, name, "error names the file")
		require.NotContains(t, err.Error(), "\n")
	}
	_, err := Load(td("missing.pth"))
	require.ErrorContains(t, err, "no such file")
	_, err = LoadBytes(nil)
	require.ErrorContains(t, err, "pth: empty file")
}

func TestTruncated(t *testing.T) {
	raw, err := os.ReadFile(td("basicsr.pth"))
	require.NoError(t, err)
	for _, n := range []int{4, 100, len(raw) / 3, len(raw) / 2, len(raw) - 30, len(raw) - 1} {
		_, err := LoadBytes(raw[:n])
		require.ErrorContains(t, err, "truncated or corrupt zip archive", "cut at %d", n)
	}
}

// record is one entry of a zip archive.
type record struct {
	name string
	data []byte
}

// records returns the records of a checkpoint archive in order.
func records(t testing.TB, src string) []record {
	t.Helper()
	zr, err := zip.OpenReader(src)
	require.NoError(t, err)
	defer zr.Close()
	var out []record
	for _, f := range zr.File {
		data, err := readRecord(f, 1<<30)
		require.NoError(t, err)
		out = append(out, record{f.Name, data})
	}
	return out
}

// buildZip writes records as an uncompressed zip archive, as torch.save does.
func buildZip(t testing.TB, recs []record) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range recs {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: zip.Store})
		require.NoError(t, err)
		_, err = w.Write(r.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// rezip rewrites a checkpoint archive, letting edit change or drop records.
func rezip(t *testing.T, src string, edit func(name string, data []byte) ([]byte, bool)) []byte {
	t.Helper()
	var out []record
	for _, r := range records(t, src) {
		if d, keep := edit(r.name, r.data); keep {
			out = append(out, record{r.name, d})
		}
	}
	return buildZip(t, out)
}

func TestCorruptArchives(t *testing.T) {
	keep := func(name string, data []byte) ([]byte, bool) { return data, true }
	same := rezip(t, td("bare.pth"), keep)
	c, err := LoadBytes(same)
	require.NoError(t, err)
	sd, _ := c.StateDict(Bare)
	requireValues(t, "bare", sd)

	cases := map[string]struct {
		edit func(name string, data []byte) ([]byte, bool)
		msg  string
	}{
		"no data.pkl":     {func(n string, d []byte) ([]byte, bool) { return d, !strings.HasSuffix(n, "data.pkl") }, "has no data.pkl"},
		"missing storage": {func(n string, d []byte) ([]byte, bool) { return d, n != "bare/data/0" }, "storage record data/0 is missing"},
		"short storage": {func(n string, d []byte) ([]byte, bool) {
			if n == "bare/data/0" {
				return d[:len(d)-4], true
			}
			return d, true
		}, "storage data/0 holds"},
		"truncated pickle": {func(n string, d []byte) ([]byte, bool) {
			if strings.HasSuffix(n, "data.pkl") {
				return d[:len(d)/2], true
			}
			return d, true
		}, "decoding data.pkl"},
		"garbage pickle": {func(n string, d []byte) ([]byte, bool) {
			if strings.HasSuffix(n, "data.pkl") {
				return []byte("\xff\xfe\xfd"), true
			}
			return d, true
		}, "decoding data.pkl"},
	}
	for name, c := range cases {
		_, err := LoadBytes(rezip(t, td("bare.pth"), c.edit))
		require.ErrorContains(t, err, c.msg, name)
	}

	// PyTorch 2 records the byte order; big-endian data is refused.
	recs := records(t, td("bare.pth"))
	for _, order := range []string{"little", "big"} {
		raw := buildZip(t, append(recs[:len(recs):len(recs)], record{"bare/byteorder", []byte(order)}))
		c, err := LoadBytes(raw)
		if order == "little" {
			require.NoError(t, err)
			require.True(t, c.IsBare())
		} else {
			require.ErrorContains(t, err, `"big" byte order is not supported`)
		}
	}

	// A TorchScript archive has constants.pkl next to data.pkl.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range []string{"m/data.pkl", "m/constants.pkl"} {
		w, err := zw.Create(n)
		require.NoError(t, err)
		fmt.Fprint(w, "x")
	}
	require.NoError(t, zw.Close())
	_, err = LoadBytes(buf.Bytes())
	require.ErrorContains(t, err, "TorchScript archives are not supported")
}

func TestEveryByteFlipIsHandled(t *testing.T) {
	// Corrupting any byte of data.pkl gives an error or a checkpoint, never a panic.
	recs := records(t, td("bare.pth"))
	require.Equal(t, "bare/data.pkl", recs[0].name)
	pkl := recs[0].data
	for i := range pkl {
		for _, delta := range []byte{1, 0x80} {
			d := bytes.Clone(pkl)
			d[i] += delta
			mod := append([]record{{recs[0].name, d}}, recs[1:]...)
			c, err := LoadBytes(buildZip(t, mod))
			if err == nil {
				require.NotEmpty(t, c.Sections())
			}
		}
	}
}

func TestTiedWeightsAreIndependent(t *testing.T) {
	c, err := Load(td("tied.pth"))
	require.NoError(t, err)
	sd, err := c.StateDict(Bare)
	require.NoError(t, err)
	require.Equal(t, []string{"enc.weight", "dec.weight", "dec.bias"}, sd.Keys())
	enc, _ := sd.Get("enc.weight")
	dec, _ := sd.Get("dec.weight")
	bias, _ := sd.Get("dec.bias")
	require.NotSame(t, enc, dec)
	require.Equal(t, enc.Data, dec.Data)
	enc.Data[0] = 0
	v, _ := dec.Float32s()
	require.Equal(t, []float32{1, 2, 3}, v)
	v, _ = bias.Float32s()
	require.Equal(t, []float32{2, 3}, v)
}
