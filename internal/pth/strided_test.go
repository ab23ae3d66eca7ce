package pth

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGather(t *testing.T) {
	src := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11} // 3x4, element size 1
	cases := []struct {
		name          string
		offset        int
		shape, stride []int
		want          []byte
	}{
		{"contiguous", 0, []int{3, 4}, []int{4, 1}, src},
		{"transposed", 0, []int{4, 3}, []int{1, 4}, []byte{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}},
		{"slice", 5, []int{4}, []int{1}, []byte{5, 6, 7, 8}},
		{"strided", 4, []int{2, 2}, []int{4, 2}, []byte{4, 6, 8, 10}},
		{"expanded", 0, []int{3, 4}, []int{0, 1}, []byte{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}},
		{"scalar", 7, []int{}, []int{}, []byte{7}},
		{"size1 any stride", 2, []int{1, 3}, []int{99, 1}, []byte{2, 3, 4}},
		{"empty", 0, []int{0, 4}, []int{4, 1}, []byte{}},
		{"3d permuted", 0, []int{2, 3, 2}, []int{1, 4, 2}, []byte{0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11}},
	}
	for _, c := range cases {
		got, err := gather(src, 1, c.offset, c.shape, c.stride)
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, got, c.name)
	}
	// Element size 2: bytes of an element stay together.
	got, err := gather([]byte{1, 2, 3, 4, 5, 6}, 2, 0, []int{3}, []int{1})
	require.NoError(t, err)
	require.Equal(t, []byte{1, 2, 3, 4, 5, 6}, got)
	got, err = gather([]byte{1, 2, 3, 4, 5, 6}, 2, 0, []int{2}, []int{2})
	require.NoError(t, err)
	require.Equal(t, []byte{1, 2, 5, 6}, got)
}

func TestGatherErrors(t *testing.T) {
	src := make([]byte, 12)
	_, err := gather(src, 1, 0, []int{3, 5}, []int{5, 1})
	require.ErrorContains(t, err, "reaches element 14 of a 12-element storage")
	_, err = gather(src, 1, 12, []int{1}, []int{1})
	require.ErrorContains(t, err, "reaches element 12")
	_, err = gather(src, 1, -1, []int{1}, []int{1})
	require.ErrorContains(t, err, "negative storage offset")
	_, err = gather(src, 1, 0, []int{2}, []int{-1})
	require.ErrorContains(t, err, "negative size or stride")
	_, err = gather(src, 1, 0, []int{2}, []int{1, 1})
	require.ErrorContains(t, err, "differ in length")
	_, err = gather(src, 1, 0, []int{1 << 40, 1 << 40}, []int{1, 1})
	require.ErrorContains(t, err, "too many elements")
	_, err = gather(src, 1, 0, []int{3, 2}, []int{1 << 62, 1})
	require.ErrorContains(t, err, "overflow")
}
