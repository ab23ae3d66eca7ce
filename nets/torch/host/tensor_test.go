package host

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDTypeSize(t *testing.T) {
	want := map[DType]int{Float32: 4, Float64: 8, Float16: 2, BFloat16: 2, Int64: 8, Int32: 4, Uint8: 1, Bool: 1, "complex64": 0}
	for d, n := range want {
		require.Equal(t, n, d.Size(), d)
	}
	_, err := ParseDType("int16")
	require.ErrorContains(t, err, "unknown dtype")
	d, err := ParseDType("bfloat16")
	require.NoError(t, err)
	require.Equal(t, BFloat16, d)
}

func TestFromAndBack(t *testing.T) {
	f := FromFloat32([]int{2, 2}, []float32{1, -2.5, 3e-8, float32(math.Inf(1))})
	require.Equal(t, 4, f.NumElements())
	require.NoError(t, f.Validate())
	v, err := f.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{1, -2.5, 3e-8, float32(math.Inf(1))}, v)
	d, err := f.Float64s()
	require.NoError(t, err)
	require.Equal(t, -2.5, d[1])
	_, err = f.Int64s()
	require.ErrorContains(t, err, "cannot convert float32 to int64")

	g := FromFloat64([]int{3}, []float64{0.1, -1, 1e300})
	v, err = g.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{0.1, -1, float32(math.Inf(1))}, v)

	i := FromInt64([]int{3}, []int64{-7, 0, 1 << 40})
	iv, err := i.Int64s()
	require.NoError(t, err)
	require.Equal(t, []int64{-7, 0, 1 << 40}, iv)
	fv, err := i.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{-7, 0, 1 << 40}, fv)
	_, err = i.Uint8s()
	require.ErrorContains(t, err, "cannot convert int64 to uint8")

	u := FromUint8([]int{1, 3}, []uint8{0, 128, 255})
	uv, err := u.Uint8s()
	require.NoError(t, err)
	require.Equal(t, []uint8{0, 128, 255}, uv)
	fv, err = u.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{0, 128, 255}, fv)

	s := FromFloat32(nil, []float32{42})
	require.Equal(t, 1, s.NumElements())
	require.Equal(t, "float32[]", s.String())
}

func TestFromPanicsOnMismatch(t *testing.T) {
	require.Panics(t, func() { FromFloat32([]int{2, 3}, make([]float32, 5)) })
}

func TestValidate(t *testing.T) {
	require.ErrorContains(t, (&Tensor{DType: Float32, Shape: []int{2}, Data: make([]byte, 7)}).Validate(), "needs 8 bytes, has 7")
	require.ErrorContains(t, (&Tensor{DType: Float32, Shape: []int{-1}}).Validate(), "negative dimension")
	require.ErrorContains(t, (&Tensor{DType: "x", Shape: nil}).Validate(), "unknown dtype")
	require.ErrorContains(t, (&Tensor{DType: Float64, Shape: []int{1 << 40, 1 << 40}}).Validate(), "too many elements")
	require.ErrorContains(t, (*Tensor)(nil).Validate(), "nil tensor")
	require.NoError(t, (&Tensor{DType: Float32, Shape: []int{0, 5}}).Validate())
	require.Equal(t, -1, (&Tensor{DType: Float32, Shape: []int{-2}}).NumElements())
}

func TestHalfAndBFloat16(t *testing.T) {
	cases := map[uint16]float32{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.960464477539063e-08,
		0x0400: 6.103515625e-05, 0x3555: 0.333251953125, 0x0000: 0,
	}
	for h, f := range cases {
		require.Equal(t, f, HalfToFloat32(h), "%#x", h)
	}
	require.True(t, math.IsInf(float64(HalfToFloat32(0x7c00)), 1))
	require.True(t, math.IsInf(float64(HalfToFloat32(0xfc00)), -1))
	require.True(t, math.IsNaN(float64(HalfToFloat32(0x7e00))))
	require.True(t, math.Signbit(float64(HalfToFloat32(0x8000))))
	require.Equal(t, float32(1), BFloat16ToFloat32(0x3f80))
	require.Equal(t, float32(-3.140625), BFloat16ToFloat32(0xc049))

	h := &Tensor{DType: Float16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}}
	v, err := h.Float32s()
	require.NoError(t, err)
	require.Equal(t, []float32{1, -2}, v)
}

func TestStateDict(t *testing.T) {
	sd := NewStateDict()
	require.NoError(t, sd.Add("b.weight", FromFloat32([]int{1}, []float32{1})))
	require.NoError(t, sd.Add("a.bias", FromInt64([]int{1}, []int64{2})))
	require.ErrorContains(t, sd.Add("a.bias", FromInt64([]int{1}, []int64{3})), `duplicate tensor name "a.bias"`)
	require.Equal(t, []string{"b.weight", "a.bias"}, sd.Keys())
	require.Equal(t, 2, sd.Len())
	got, ok := sd.Get("a.bias")
	require.True(t, ok)
	iv, _ := got.Int64s()
	require.Equal(t, []int64{2}, iv)
	_, ok = sd.Get("missing")
	require.False(t, ok)

	// Entries built directly are indexed lazily.
	sd2 := &StateDict{Entries: []Entry{{Name: "x", Tensor: FromUint8([]int{1}, []uint8{9})}}}
	got, ok = sd2.Get("x")
	require.True(t, ok)
	require.Equal(t, []byte{9}, got.Data)
	c := got.Clone()
	c.Data[0] = 1
	require.Equal(t, []byte{9}, got.Data)
	require.True(t, Equal(got, sd2.Entries[0].Tensor))
	require.False(t, Equal(got, c))
}
