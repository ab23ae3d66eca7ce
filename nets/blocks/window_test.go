package blocks

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gomioir/gomioir/internal/fixtures"
	"github.com/gomioir/gomioir/internal/pth"
	"github.com/gomioir/gomioir/nets/torch"
)

func TestRelativePositionIndexSmall(t *testing.T) {
	// ws = 2: tokens (0,0) (0,1) (1,0) (1,1); span 3; centre index 4.
	require.Equal(t, []int64{
		4, 3, 1, 0,
		5, 4, 2, 1,
		7, 6, 4, 3,
		8, 7, 5, 4,
	}, relativePositionIndex(2))
	idx := relativePositionIndex(8)
	require.Len(t, idx, 64*64)
	require.Equal(t, int64(112), idx[0], "the diagonal is the centre of the 15x15 table")
	require.Equal(t, int64(224), idx[63*64+0], "query (7,7), key (0,0)")
	require.Equal(t, int64(0), idx[0*64+63], "query (0,0), key (7,7)")
}

func TestShiftedWindowMaskSmall(t *testing.T) {
	// A 4x4 map, 2x2 windows, shift 1: regions per axis are [0,2) [2,3) [3,4).
	m, err := shiftedWindowMask(4, 4, 2, 1)
	require.NoError(t, err)
	require.Len(t, m, 4*4*4)
	// Window 0 (rows 0-1, cols 0-1) lies in region (0,0): no masking.
	require.Equal(t, make([]float32, 16), m[:16])
	// Window 3 (rows 2-3, cols 2-3): tokens (2,2) (2,3) (3,2) (3,3) are four
	// distinct regions, so only the diagonal is unmasked.
	w3 := m[48:64]
	for i := range 4 {
		for j := range 4 {
			want := float32(maskFill)
			if i == j {
				want = 0
			}
			require.Equal(t, want, w3[i*4+j], "window 3 (%d,%d)", i, j)
		}
	}
	// Window 1 (rows 0-1, cols 2-3): columns 2 and 3 differ, rows do not.
	require.Equal(t, []float32{0, -100, 0, -100, -100, 0, -100, 0, 0, -100, 0, -100, -100, 0, -100, 0}, m[16:32])

	_, err = shiftedWindowMask(12, 16, 8, 4)
	require.ErrorContains(t, err, "12x16")
	_, err = shiftedWindowMask(16, 16, 8, 8)
	require.ErrorContains(t, err, "shift")
}

// TestWindowBuffersMatchReference compares the masks and relative position
// indices with the buffers stored in the reference SwinIR checkpoint (built
// for img_size 16, window 8, shift 4).
func TestWindowBuffersMatchReference(t *testing.T) {
	ck, err := pth.Load(fixtures.Path(t, "models", "SwinIR.pth"))
	require.NoError(t, err)
	sd, err := ck.StateDict("params")
	require.NoError(t, err)

	mask, err := shiftedWindowMask(16, 16, 8, 4)
	require.NoError(t, err)
	idx := relativePositionIndex(8)
	for _, layer := range []int{0, 1} {
		pre := fmt.Sprintf("layers.%d.residual_group.blocks.", layer)
		raw, ok := sd.Get(pre + "1.attn_mask")
		require.True(t, ok)
		require.Equal(t, []int{4, 64, 64}, raw.Shape)
		ref, err := raw.Float32s()
		require.NoError(t, err)
		require.Equal(t, ref, mask, "attn_mask of layer %d", layer)
		nMasked := 0
		for _, v := range ref {
			if v != 0 {
				nMasked++
			}
		}
		require.Positive(t, nMasked, "the reference mask masks something")

		for _, blk := range []string{"0", "1"} {
			raw, ok := sd.Get(pre + blk + ".attn.relative_position_index")
			require.True(t, ok)
			ref, err := raw.Int64s()
			require.NoError(t, err)
			require.Equal(t, ref, idx)
		}
	}

	s := torch.NewScope(torch.Inference)
	defer s.Close()
	mt, err := shiftedWindowMaskTensor(s, 16, 16, 8, 4, torch.CPU)
	require.NoError(t, err)
	require.Equal(t, []int64{4, 64, 64}, mt.Shape())
	it, err := relativePositionIndexTensor(s, 8, torch.CPU)
	require.NoError(t, err)
	require.Equal(t, torch.Int64, it.DType())
	got, err := torch.ToSlice[int64](it)
	require.NoError(t, err)
	require.Equal(t, idx, got)
}

func TestWindowPartitionRoundTrip(t *testing.T) {
	s := torch.NewScope(torch.Inference)
	defer s.Close()
	// (B=2, H=4, W=6, C=3) with values equal to their flat index.
	const b, h, w, c = 2, 4, 6, 3
	vals := make([]float32, b*h*w*c)
	for i := range vals {
		vals[i] = float32(i)
	}
	x, err := torch.FromSlice(s, vals, b, h, w, c)
	require.NoError(t, err)
	win := WindowPartition(x, 2)
	require.NoError(t, win.Err())
	require.Equal(t, []int64{2 * 6, 4, 3}, win.Shape())
	got, err := torch.ToSlice[float32](win)
	require.NoError(t, err)
	// Window 1 of image 0 covers rows 0-1, columns 2-3; its token 3 is (1,3).
	at := func(bi, y, xx, ci int) float32 { return float32(((bi*h+y)*w+xx)*c + ci) }
	require.Equal(t, at(0, 1, 3, 2), got[(1*4+3)*c+2])
	// Window 5 of image 1 (the 12th window): rows 2-3, columns 4-5; token 0 is (2,4).
	require.Equal(t, at(1, 2, 4, 0), got[(11*4+0)*c+0])

	back := WindowReverse(win, 2, h, w)
	require.Equal(t, []int64{b, h, w, c}, back.Shape())
	gotBack, err := torch.ToSlice[float32](back)
	require.NoError(t, err)
	require.Equal(t, vals, gotBack)

	bad := WindowPartition(x, 4)
	require.Error(t, bad.Err(), "6 columns are not whole 4-wide windows")
}

func TestMaskCache(t *testing.T) {
	before := torch.LiveTensors()
	var c MaskCache
	s := torch.NewScope(torch.Inference)
	a, err := c.Get(s, 16, 16, 8, 4, torch.CPU)
	require.NoError(t, err)
	b, err := c.Get(s, 16, 16, 8, 4, torch.CPU)
	require.NoError(t, err)
	require.Equal(t, 1, c.Len())
	_, err = c.Get(s, 16, 24, 8, 4, torch.CPU)
	require.NoError(t, err)
	require.Equal(t, 2, c.Len())
	va, err := torch.ToSlice[float32](a)
	require.NoError(t, err)
	vb, err := torch.ToSlice[float32](b)
	require.NoError(t, err)
	require.Equal(t, va, vb)
	_, err = c.Get(s, 10, 16, 8, 4, torch.CPU)
	require.Error(t, err)
	c.Close()
	require.Zero(t, c.Len())
	// The handles given out survive the cache's Close.
	vb2, err := torch.ToSlice[float32](b)
	require.NoError(t, err)
	require.Equal(t, va, vb2)
	s.Close()
	require.Equal(t, before, torch.LiveTensors())
}
