package safetensors

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/nets/torch/host"
)

func sampleStateDict(t testing.TB) *host.StateDict {
	sd := host.NewStateDict()
	require.NoError(t, sd.Add("conv_first.weight", host.FromFloat32([]int{2, 1, 1, 2}, []float32{0.5, -1, 2, 3.25})))
	require.NoError(t, sd.Add("body.0.bias", host.FromFloat64([]int{3}, []float64{1e-300, 0, -7})))
	require.NoError(t, sd.Add("relative_position_index", host.FromInt64([]int{2, 2}, []int64{0, 1, 1 << 40, -3})))
	require.NoError(t, sd.Add("mask", &host.Tensor{DType: host.Bool, Shape: []int{3}, Data: []byte{1, 0, 1}}))
	require.NoError(t, sd.Add("u8", host.FromUint8([]int{1}, []uint8{200})))
	require.NoError(t, sd.Add("half", &host.Tensor{DType: host.Float16, Shape: []int{1}, Data: []byte{0x00, 0x3c}}))
	require.NoError(t, sd.Add("bf", &host.Tensor{DType: host.BFloat16, Shape: []int{1}, Data: []byte{0x49, 0xc0}}))
	require.NoError(t, sd.Add("i32", &host.Tensor{DType: host.Int32, Shape: []int{}, Data: []byte{0xff, 0xff, 0xff, 0xff}}))
	require.NoError(t, sd.Add("empty", &host.Tensor{DType: host.Float32, Shape: []int{0, 4}, Data: []byte{}}))
	return sd
}

func requireSameStateDict(t *testing.T, want, got *host.StateDict) {
	t.Helper()
	require.Equal(t, want.Keys(), got.Keys())
	for _, e := range want.Entries {
		g, ok := got.Get(e.Name)
		require.True(t, ok, e.Name)
		require.Equal(t, e.Tensor.DType, g.DType, e.Name)
		require.Equal(t, e.Tensor.Shape, g.Shape, e.Name)
		require.Equal(t, e.Tensor.Data, g.Data, e.Name)
	}
}

func TestRoundTripFile(t *testing.T) {
	sd := sampleStateDict(t)
	md := map[string]string{"backbone": "SwinIR", "prompt": "EP", "config": `{"embed_dim":60}`}
	p := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, WriteFile(p, sd, md))

	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(raw)
	require.Zero(t, n%8, "header padded to 8 bytes")
	require.Equal(t, byte('{'), raw[8])

	f, err := ReadFile(p)
	require.NoError(t, err)
	requireSameStateDict(t, sd, f.Tensors)
	require.Equal(t, md, f.Metadata)

	bf, _ := f.Tensors.Get("bf")
	v, err := bf.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{-3.140625}, v)

	h, err := ReadHeaderFile(p)
	require.NoError(t, err)
	require.Equal(t, md, h.Metadata)
	require.Len(t, h.Tensors, sd.Len())
	require.Equal(t, TensorInfo{Name: "body.0.bias", DType: host.Float64, Shape: []int{3}, Begin: 16, End: 40}, h.Tensors[1])
}

func TestWriteIsDeterministicAndOrdered(t *testing.T) {
	sd := sampleStateDict(t)
	md := map[string]string{"z": "1", "a": "2"}
	a, err := Marshal(sd, md)
	require.NoError(t, err)
	b, err := Marshal(sd, md)
	require.NoError(t, err)
	require.Equal(t, a, b)
	hdr := string(a[8 : 8+binary.LittleEndian.Uint64(a)])
	require.True(t, strings.HasPrefix(hdr, `{"__metadata__":{"a":"2","z":"1"},"conv_first.weight":{"dtype":"F32","shape":[2,1,1,2],"data_offsets":[0,16]},"body.0.bias":{"dtype":"F64"`), hdr)

	// No metadata: no __metadata__ member, Read gives nil metadata.
	c, err := Marshal(sd, nil)
	require.NoError(t, err)
	require.NotContains(t, string(c), MetadataKey)
	f, err := Read(c)
	require.NoError(t, err)
	require.Nil(t, f.Metadata)
	requireSameStateDict(t, sd, f.Tensors)
}

func TestReadDataIsCapped(t *testing.T) {
	raw, err := Marshal(sampleStateDict(t), nil)
	require.NoError(t, err)
	f, err := Read(raw)
	require.NoError(t, err)
	w, _ := f.Tensors.Get("conv_first.weight")
	require.Equal(t, len(w.Data), cap(w.Data))
	_ = append(w.Data, 9, 9, 9, 9)
	b, _ := f.Tensors.Get("body.0.bias")
	v, err := b.Float64s()
	require.NoError(t, err)
	require.Equal(t, []float64{1e-300, 0, -7}, v)
}

// referenceLayout builds, byte by byte, what the reference Python library
// writes for save_file({"b": torch.tensor([1., 2.]), "a": torch.tensor([[1, 2]])},
// metadata={"format": "pt"}): compact JSON, the metadata first, tensors
// sorted by alignment then name, header padded with spaces to 8 bytes.
func referenceLayout() []byte {
	hdr := `{"__metadata__":{"format":"pt"},"a":{"dtype":"I64","shape":[1,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}`
	for len(hdr)%8 != 0 {
		hdr += " "
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	out = append(out, hdr...)
	out = binary.LittleEndian.AppendUint64(out, 1)
	out = binary.LittleEndian.AppendUint64(out, 2)
	out = append(out, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40) // 1.0f, 2.0f
	return out
}

func TestReadReferenceLayout(t *testing.T) {
	f, err := Read(referenceLayout())
	require.NoError(t, err)
	require.Equal(t, map[string]string{"format": "pt"}, f.Metadata)
	require.Equal(t, []string{"a", "b"}, f.Tensors.Keys())
	a, _ := f.Tensors.Get("a")
	require.Equal(t, []int{1, 2}, a.Shape)
	iv, err := a.Int64s()
	require.NoError(t, err)
	require.Equal(t, []int64{1, 2}, iv)
	b, _ := f.Tensors.Get("b")
	fv, err := b.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{1, 2}, fv)

	// Writing the same tensors in the same order reproduces the bytes.
	again, err := Marshal(f.Tensors, f.Metadata)
	require.NoError(t, err)
	require.Equal(t, referenceLayout(), again)
}

func TestHeaderOrderIsKeptEvenIfOffsetsDiffer(t *testing.T) {
	hdr := `{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`
	f, err := Read(withHeader(hdr, []byte{10, 20}))
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a"}, f.Tensors.Keys())
	b, _ := f.Tensors.Get("b")
	require.Equal(t, []byte{20}, b.Data)
}

func withHeader(hdr string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	out = append(out, hdr...)
	return append(out, data...)
}

func TestCorrupt(t *testing.T) {
	u8 := func(name string, b, e int) string {
		return `"` + name + `":{"dtype":"U8","shape":[` + itoa(e-b) + `],"data_offsets":[` + itoa(b) + `,` + itoa(e) + `]}`
	}
	cases := map[string]struct {
		data []byte
		msg  string
	}{
		"short":      {[]byte{1, 2, 3}, "file too short"},
		"hugeLen":    {binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds 104857600 bytes"},
		"truncated":  {binary.LittleEndian.AppendUint64(nil, 100), "truncated file"},
		"notObject":  {withHeader(`[1,2,3] `, nil), "not a JSON object"},
		"badJSON":    {withHeader(`{"a":{"dtype":"U8",}`, nil), "bad header JSON"},
		"notUTF8":    {withHeader("{\"\xff\":1}", nil), "not UTF-8"},
		"dtype":      {withHeader(`{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)), `unsupported dtype "C64" in entry "a"`},
		"unknownFld": {withHeader(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}`, []byte{1}), `bad entry "a"`},
		"noShape":    {withHeader(`{"a":{"dtype":"U8","data_offsets":[0,0]}}`, nil), "has no shape"},
		"offsets3":   {withHeader(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, []byte{1}), "data_offsets must be [begin, end]"},
		"negDim":     {withHeader(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, []byte{1}), "bad dimension -1"},
		"sizeMis":    {withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), "needs 8 bytes, data_offsets [0, 4] give 4"},
		"reversed":   {withHeader(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4)), "bad data_offsets [4, 0]"},
		"hugeShape":  {withHeader(`{"a":{"dtype":"F64","shape":[281474976710656,281474976710656],"data_offsets":[0,8]}}`, make([]byte, 8)), "too many elements"},
		"outOfRange": {withHeader("{"+u8("a", 0, 4)+"}", make([]byte, 2)), "beyond the 2-byte data section"},
		"overlap":    {withHeader("{"+u8("a", 0, 4)+","+u8("b", 2, 6)+"}", make([]byte, 6)), `entries "a" and "b" overlap`},
		"hole":       {withHeader("{"+u8("a", 0, 2)+","+u8("b", 4, 6)+"}", make([]byte, 6)), "hole in data section at bytes [2, 4)"},
		"tail":       {withHeader("{"+u8("a", 0, 2)+"}", make([]byte, 5)), "3 unindexed bytes"},
		"duplicate":  {withHeader("{"+u8("a", 0, 1)+","+u8("a", 1, 2)+"}", make([]byte, 2)), `duplicate header entry "a"`},
		"metaType":   {withHeader(`{"__metadata__":{"a":1}}`, nil), "__metadata__ must map strings to strings"},
		"trailing":   {withHeader(`{} {}`, nil), "trailing data after header JSON"},
	}
	for name, c := range cases {
		_, err := Read(c.data)
		require.ErrorContains(t, err, c.msg, name)
		require.NotContains(t, err.Error(), "\n", name)
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	raw, err := Marshal(sampleStateDict(t), map[string]string{"k": "v"})
	require.NoError(t, err)
	for n := 0; n < len(raw); n++ {
		_, err := Read(raw[:n])
		require.Error(t, err, "truncated to %d", n)
	}
}

func TestWriteErrors(t *testing.T) {
	sd := host.NewStateDict()
	require.NoError(t, sd.Add(MetadataKey, host.FromUint8([]int{1}, []uint8{1})))
	_, err := Marshal(sd, nil)
	require.ErrorContains(t, err, "is reserved")

	sd = &host.StateDict{Entries: []host.Entry{{Name: "x", Tensor: host.FromUint8([]int{1}, []uint8{1})}, {Name: "x", Tensor: host.FromUint8([]int{1}, []uint8{1})}}}
	_, err = Marshal(sd, nil)
	require.ErrorContains(t, err, `duplicate tensor name "x"`)

	sd = host.NewStateDict()
	require.NoError(t, sd.Add("bad", &host.Tensor{DType: host.Float32, Shape: []int{2}, Data: make([]byte, 3)}))
	_, err = Marshal(sd, nil)
	require.ErrorContains(t, err, `tensor "bad"`)

	_, err = Marshal(nil, nil)
	require.ErrorContains(t, err, "nil state dict")

	// A failing write leaves the existing file untouched and no temp file.
	dir := t.TempDir()
	p := filepath.Join(dir, "keep.safetensors")
	require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
	require.Error(t, WriteFile(p, sd, nil))
	old, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "old", string(old))
	ents, _ := os.ReadDir(dir)
	require.Len(t, ents, 1)
}

func TestReadFileErrors(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "missing.safetensors"))
	require.ErrorContains(t, err, "no such file")
	p := filepath.Join(t.TempDir(), "bad.safetensors")
	require.NoError(t, os.WriteFile(p, []byte("PK\x03\x04 this is a zip"), 0o644))
	_, err = ReadFile(p)
	require.ErrorContains(t, err, "not a safetensors file?")
	require.ErrorContains(t, err, "bad.safetensors")
	_, err = ReadHeaderFile(p)
	require.ErrorContains(t, err, "not a safetensors file?")
}

func FuzzRead(f *testing.F) {
	f.Add(referenceLayout())
	raw, _ := Marshal(sampleStateDict(f), map[string]string{"a": "b"})
	f.Add(raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Read(b)
		if err != nil {
			return
		}
		for _, e := range file.Tensors.Entries {
			if err := e.Tensor.Validate(); err != nil {
				t.Fatalf("invalid tensor %q: %v", e.Name, err)
			}
		}
		again, err := Marshal(file.Tensors, file.Metadata)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := Read(again)
		if err != nil || back.Tensors.Len() != file.Tensors.Len() {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
