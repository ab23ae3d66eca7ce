package torch

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func requireOneLine(t *testing.T, err error, op string) {
	t.Helper()
	require.Error(t, err)
	var te *Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, op, te.Op)
	require.NotContains(t, err.Error(), "\n", "one-line message")
	require.NotContains(t, err.Error(), "Exception raised from", "no backtrace")
	require.True(t, strings.HasPrefix(err.Error(), "torch: "+op+": "), err.Error())
}

func TestBadArgumentsReturnErrors(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	x, err := Zeros(s, []int64{1, 4, 8, 8}, nil)
	require.NoError(t, err)
	w3, err := Zeros(s, []int64{6, 3, 3, 3}, nil)
	require.NoError(t, err)

	y := x.Conv2d(w3, nil, &ConvOptions{})
	requireOneLine(t, y.Err(), "conv2d")
	require.Contains(t, y.Err().Error(), "channels")
	require.Nil(t, y.Shape())

	a, err := Zeros(s, []int64{2, 3}, nil)
	require.NoError(t, err)
	b, err := Zeros(s, []int64{4}, nil)
	require.NoError(t, err)
	requireOneLine(t, a.Add(b).Err(), "add")
	requireOneLine(t, a.Matmul(a).Err(), "matmul")
	requireOneLine(t, a.Reshape(7).Err(), "reshape")
	requireOneLine(t, a.Permute(0).Err(), "permute")
	requireOneLine(t, a.Narrow(1, 2, 5).Err(), "narrow")
	requireOneLine(t, a.Softmax(5).Err(), "softmax")
	requireOneLine(t, a.Interpolate(4, 4, Bicubic, nil).Err(), "interpolate")
	requireOneLine(t, x.Pad([]int64{9, 9}, PadReflect, 0).Err(), "pad")
	requireOneLine(t, x.PixelShuffle(3).Err(), "pixel_shuffle")
	requireOneLine(t, L1Loss(a, b).Err(), "l1_loss")
	requireOneLine(t, Cat([]*Tensor{a, x}, 0).Err(), "cat")

	_, err = Zeros(s, []int64{2, -1}, nil)
	requireOneLine(t, err, "full")
	require.Contains(t, err.Error(), "negative size")
	_, err = FromSlice(s, []float32{1, 2, 3}, 2, 2)
	requireOneLine(t, err, "from_slice")
	_, err = Zeros(s, []int64{1 << 21, 1 << 21}, nil)
	requireOneLine(t, err, "full")
	require.Contains(t, err.Error(), "2^40")

	// The scope remembers the first failure.
	require.ErrorContains(t, s.Err(), "conv2d")
}

func TestOutOfMemoryIsDistinguishable(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	// 2^38 float32 values (1 TiB): the allocation fails at once on any
	// ordinary machine instead of being touched page by page.
	_, err := Zeros(s, []int64{1 << 19, 1 << 19}, nil)
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrOutOfMemory), "want ErrOutOfMemory, got %v", err)
	require.NotContains(t, err.Error(), "\n")

	small, err := Zeros(s, []int64{1}, nil)
	require.NoError(t, err)
	big := small.Expand(1<<19, 1<<19).Contiguous()
	require.True(t, errors.Is(big.Err(), ErrOutOfMemory), "contiguous of a huge expand: %v", big.Err())
	require.False(t, errors.Is(small.Reshape(3).Err(), ErrOutOfMemory), "a bad shape is not OOM")
}

func TestErrorsPropagateThroughOperations(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	a, err := Zeros(s, []int64{2, 3}, nil)
	require.NoError(t, err)
	bad := a.Reshape(5)
	chain := bad.ReLU().MulScalar(2).Add(a).Softmax(0)
	require.Same(t, bad.Err(), chain.Err(), "the first error is kept")
	requireOneLine(t, chain.Err(), "reshape")
	parts := bad.Chunk(2, 0)
	require.Len(t, parts, 1)
	require.Same(t, bad.Err(), parts[0].Err())
	require.Error(t, chain.Backward())
	_, err = ToSlice[float32](chain)
	require.Same(t, bad.Err(), err)
	chain.Close() // closing an errored tensor is a no-op
}

func TestClosedTensors(t *testing.T) {
	a, err := Ones(nil, []int64{3}, nil)
	require.NoError(t, err)
	a.Close()
	a.Close() // idempotent
	require.ErrorIs(t, a.Err(), ErrClosed)
	require.ErrorIs(t, a.ReLU().Err(), ErrClosed)
	_, err = ToSlice[float32](a)
	require.ErrorIs(t, err, ErrClosed)
	var nilT *Tensor
	require.Error(t, nilT.Err())
	require.Equal(t, int64(-1), nilT.Size(0))
}

func TestFailedCarriesACallersError(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	mine := errors.New("uformer: side of 40 pixels is too small to pad")
	x := Failed(s, mine)
	require.ErrorIs(t, x.ReLU().Err(), mine)
	require.ErrorIs(t, s.Err(), mine)
	require.Error(t, Failed(nil, nil).Err())
}
