package npy

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// ramp is the value rule of scripts/fixtures_formats.py: a[i] = i*0.25 - 1.
func ramp(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i)*0.25 - 1
	}
	return v
}

func ramp32(n int) []float32 {
	v := make([]float32, n)
	for i, x := range ramp(n) {
		v[i] = float32(x)
	}
	return v
}

func readTestdata(t *testing.T, name string) *host.Tensor {
	t.Helper()
	tn, err := ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	require.NoError(t, tn.Validate())
	return tn
}

func TestReadPythonFloats(t *testing.T) {
	for _, name := range []string{"f4_2x3.npy", "f4_2x3_v2.npy", "f4_2x3_v3.npy", "f4be_2x3.npy"} {
		tn := readTestdata(t, name)
		require.Equal(t, host.Float32, tn.DType, name)
		require.Equal(t, []int{2, 3}, tn.Shape, name)
		v, err := tn.Float32s()
		require.NoError(t, err)
		require.Equal(t, ramp32(6), v, name)
	}

	f8 := readTestdata(t, "f8_3.npy")
	require.Equal(t, host.Float64, f8.DType)
	require.Equal(t, []int{3}, f8.Shape)
	v8, err := f8.Float64s()
	require.NoError(t, err)
	require.Equal(t, ramp(3), v8)

	f2 := readTestdata(t, "f2_4.npy")
	require.Equal(t, host.Float16, f2.DType)
	require.Equal(t, []int{4}, f2.Shape)
	v2, err := f2.Float32s()
	require.NoError(t, err)
	require.Equal(t, ramp32(4), v2)

	s := readTestdata(t, "scalar_f8.npy")
	require.Equal(t, []int{}, s.Shape)
	vs, err := s.Float64s()
	require.NoError(t, err)
	require.Equal(t, []float64{3.5}, vs)

	e := readTestdata(t, "empty_0x3_f4.npy")
	require.Equal(t, []int{0, 3}, e.Shape)
	require.Empty(t, e.Data)
}

func TestReadPythonInts(t *testing.T) {
	i8 := readTestdata(t, "i8_2x2.npy")
	require.Equal(t, host.Int64, i8.DType)
	require.Equal(t, []int{2, 2}, i8.Shape)
	iv, err := i8.Int64s()
	require.NoError(t, err)
	require.Equal(t, []int64{-1, 2, 1 << 40, -(1 << 50)}, iv)

	be := readTestdata(t, "i8be_2.npy")
	iv, err = be.Int64s()
	require.NoError(t, err)
	require.Equal(t, []int64{-2, 1 << 33}, iv)

	i4 := readTestdata(t, "i4_3.npy")
	require.Equal(t, host.Int32, i4.DType)
	iv, err = i4.Int64s()
	require.NoError(t, err)
	require.Equal(t, []int64{-7, 0, 2147483647}, iv)

	u1 := readTestdata(t, "u1_2x2.npy")
	require.Equal(t, host.Uint8, u1.DType)
	require.Equal(t, []byte{0, 1, 128, 255}, u1.Data)

	b1 := readTestdata(t, "b1_3.npy")
	require.Equal(t, host.Bool, b1.DType)
	require.Equal(t, []byte{1, 0, 1}, b1.Data)
}

func TestFortranOrderRejected(t *testing.T) {
	_, err := ReadFile(filepath.Join("testdata", "fortran_2x3.npy"))
	require.ErrorContains(t, err, "Fortran-order arrays are not supported")
	require.ErrorContains(t, err, "fortran_2x3.npy")
}

func TestReadFixtures(t *testing.T) {
	type7, err := ReadFile(fixtures.Path(t, "models", "type7.npy"))
	require.NoError(t, err)
	require.Equal(t, host.Float64, type7.DType)
	require.Equal(t, []int{7, 128, 128}, type7.Shape)
	v, err := type7.Float64s()
	require.NoError(t, err)
	require.Equal(t, 0x1.0293480000000p-1, v[0])
	require.Equal(t, 0x1.f95fa80000000p-2, v[1*128*128+5*128+7])
	require.Equal(t, 0x1.84ad667fa78fcp-3, v[len(v)-1])
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	require.InDelta(t, 0x1.c11ad32ce0274p+15, sum, 1e-6)

	in, err := ReadFile(fixtures.Path(t, "models", "SRResNet.in.npy"))
	require.NoError(t, err)
	require.Equal(t, host.Float32, in.DType)
	require.Equal(t, []int{1, 3, 64, 64}, in.Shape)
	f, err := in.Float32s()
	require.NoError(t, err)
	require.Equal(t, float32(0x1.883b5ap-3), f[0])
	require.Equal(t, float32(0x1.d9e242p-1), f[len(f)-1])

	u8, err := ReadFile(fixtures.Path(t, "metrics", "tensor2img_out.npy"))
	require.NoError(t, err)
	require.Equal(t, host.Uint8, u8.DType)
	require.Equal(t, []int{4, 256, 3}, u8.Shape)
	require.Equal(t, []byte{39, 9, 255}, u8.Data[len(u8.Data)-3:])
	total := 0
	for _, b := range u8.Data {
		total += int(b)
	}
	require.Equal(t, 397351, total)

	noise, err := ReadFile(fixtures.Path(t, "degrade", "noise_randn.npy"))
	require.NoError(t, err)
	require.Equal(t, []int{1, 3, 256, 256}, noise.Shape)
	nf, err := noise.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{1.541958, -0.4656696, 0.27950305}, nf[:3])
	require.Equal(t, float32(0x1.3065b8p-1), nf[len(nf)-1])

	rain, err := ReadFile(fixtures.Path(t, "degrade", "rain_uniform.npy"))
	require.NoError(t, err)
	require.Equal(t, host.Float64, rain.DType)
	require.Equal(t, []int{256, 256}, rain.Shape)
}

func TestReadFixturesRoundTripBytes(t *testing.T) {
	// Our writer reproduces NumPy's own files byte for byte.
	for _, p := range []string{
		fixtures.Path(t, "models", "type7.npy"),
		fixtures.Path(t, "models", "Classifier.out.npy"),
		fixtures.Path(t, "metrics", "tensor2img_out.npy"),
		filepath.Join("testdata", "f4_2x3.npy"),
		filepath.Join("testdata", "i8_2x2.npy"),
		filepath.Join("testdata", "b1_3.npy"),
		filepath.Join("testdata", "f2_4.npy"),
		filepath.Join("testdata", "scalar_f8.npy"),
		filepath.Join("testdata", "empty_0x3_f4.npy"),
	} {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		tn, err := Read(bytes.NewReader(raw))
		require.NoError(t, err, p)
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, tn))
		require.Equal(t, raw, buf.Bytes(), p)
	}
}

func TestRoundTrip(t *testing.T) {
	cases := []*host.Tensor{
		host.FromFloat32([]int{2, 3, 4}, ramp32(24)),
		host.FromFloat64([]int{5}, ramp(5)),
		host.FromInt64([]int{1, 1, 2}, []int64{-5, 1 << 62}),
		host.FromUint8([]int{}, []uint8{7}),
		{DType: host.Int32, Shape: []int{1}, Data: []byte{1, 2, 3, 4}},
		{DType: host.Bool, Shape: []int{2}, Data: []byte{0, 1}},
		{DType: host.Float16, Shape: []int{1}, Data: []byte{0x00, 0x3c}},
	}
	dir := t.TempDir()
	for i, want := range cases {
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, want))
		require.Zero(t, (buf.Len()-len(want.Data))%64, "data starts at a multiple of 64")
		got, err := Read(&buf)
		require.NoError(t, err)
		require.True(t, host.Equal(want, got), "case %d: %v vs %v", i, want, got)

		p := filepath.Join(dir, "x.npy")
		require.NoError(t, WriteFile(p, want))
		got, err = ReadFile(p)
		require.NoError(t, err)
		require.True(t, host.Equal(want, got), "case %d from file", i)
	}
}

func TestSequentialArraysInOneStream(t *testing.T) {
	var buf bytes.Buffer
	a := host.FromFloat32([]int{2}, []float32{1, 2})
	b := host.FromInt64([]int{1}, []int64{3})
	require.NoError(t, Write(&buf, a))
	require.NoError(t, Write(&buf, b))
	got, err := Read(&buf)
	require.NoError(t, err)
	require.True(t, host.Equal(a, got))
	got, err = Read(&buf)
	require.NoError(t, err)
	require.True(t, host.Equal(b, got))
}

func TestLargeHeaderUsesVersion2(t *testing.T) {
	shape := make([]int, 0, 64)
	for range 64 {
		shape = append(shape, 1)
	}
	// 64 dims of 1 still fit in version 1.0; check the header is parsed back.
	tn := &host.Tensor{DType: host.Uint8, Shape: shape, Data: []byte{5}}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, tn))
	require.Equal(t, byte(1), buf.Bytes()[6])
	got, err := Read(&buf)
	require.NoError(t, err)
	require.True(t, host.Equal(tn, got))
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, &host.Tensor{DType: host.BFloat16, Shape: []int{1}, Data: []byte{0, 0}})
	require.ErrorContains(t, err, "bfloat16 has no NumPy dtype")
	err = Write(&buf, &host.Tensor{DType: host.Float32, Shape: []int{2}, Data: []byte{0}})
	require.ErrorContains(t, err, "needs 8 bytes, has 1")
	require.Zero(t, buf.Len())

	dir := t.TempDir()
	p := filepath.Join(dir, "keep.npy")
	require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
	require.Error(t, WriteFile(p, &host.Tensor{DType: "complex64", Shape: []int{1}}))
	old, _ := os.ReadFile(p)
	require.Equal(t, "old", string(old))
}

// npyBytes builds a version-1.0 file with the given header text and data.
func npyBytes(hdr string, data []byte) []byte {
	b := []byte(Magic + "\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	b = append(b, hdr...)
	return append(b, data...)
}

func TestCorruptInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "f4_2x3.npy"))
	require.NoError(t, err)
	for n := 0; n < len(good); n++ {
		_, err := Read(bytes.NewReader(good[:n]))
		require.Error(t, err, "truncated to %d bytes", n)
	}
	_, err = Read(bytes.NewReader(good[:len(good)-1]))
	require.ErrorContains(t, err, "reading 24 data bytes: unexpected EOF")

	cases := map[string]struct {
		data []byte
		msg  string
	}{
		"magic":        {[]byte("PK\x03\x04zipzipzip"), "not an .npy file"},
		"version":      {[]byte(Magic + "\x04\x00\x00\x00"), "unsupported format version 4.0"},
		"hugeHeader":   {[]byte(Magic + "\x02\x00\xff\xff\xff\xff"), "header length 4294967295 exceeds"},
		"notDict":      {npyBytes("['descr']\n", nil), "header is not a dict"},
		"missing":      {npyBytes("{'descr': '<f4', 'shape': (1,), }\n", nil), `missing key "fortran_order"`},
		"unknownKey":   {npyBytes("{'descr': '<f4', 'x': 1}\n", nil), `unexpected key "x"`},
		"dtype":        {npyBytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", nil), `unsupported dtype "<c8"`},
		"structured":   {npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", nil), "structured"},
		"order":        {npyBytes("{'descr': '=f4', 'fortran_order': False, 'shape': (1,), }\n", nil), "unsupported byte order"},
		"pipeFloat":    {npyBytes("{'descr': '|f4', 'fortran_order': False, 'shape': (1,), }\n", nil), "lacks a byte order"},
		"negative":     {npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", nil), "bad shape dimension"},
		"overflow":     {npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (281474976710656, 281474976710656), }\n", nil), "too many elements"},
		"bigDim":       {npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }\n", nil), "out of range"},
		"hugeData":     {npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }\n", make([]byte, 100)), "data truncated: got 100 of 800000000000 bytes"},
		"bool":         {npyBytes("{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,), }\n", nil), "expected True or False"},
		"unterminated": {npyBytes("{'descr: '<f4'}\n", nil), "expected ':'"},
		"dupKey":       {npyBytes("{'descr': '<f4', 'descr': '<f4'}\n", nil), `duplicate key "descr"`},
		"trailing":     {npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x\n", nil), "trailing characters"},
		"nonASCII":     {npyBytes("{'descr': '<f4\xff', 'fortran_order': False, 'shape': (1,), }\n", nil), "not ASCII"},
	}
	for name, c := range cases {
		_, err := Read(bytes.NewReader(c.data))
		require.ErrorContains(t, err, c.msg, name)
		require.False(t, strings.Contains(err.Error(), "\n"), "one-line error for %s", name)
	}
}

func TestReadFileMissing(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope.npy"))
	require.ErrorContains(t, err, "no such file")
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"f4_2x3.npy", "f4_2x3_v3.npy", "i8be_2.npy", "scalar_f8.npy", "fortran_2x3.npy"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tn, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		if err := tn.Validate(); err != nil {
			t.Fatalf("Read returned an invalid tensor: %v", err)
		}
		var buf bytes.Buffer
		if err := Write(&buf, tn); err != nil {
			t.Fatalf("cannot re-encode %v: %v", tn, err)
		}
		back, err := Read(&buf)
		if err != nil || !host.Equal(tn, back) {
			t.Fatalf("round trip of %v failed: %v", tn, err)
		}
	})
}
