package torch

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBackwardMatchesPyTorch(t *testing.T) {
	s := NewScope(Grad)
	defer s.Close()
	x, w, b := ref(t, s, "grad.x"), ref(t, s, "grad.w"), ref(t, s, "grad.b")
	for _, p := range []*Tensor{x, w, b} {
		require.NoError(t, p.SetRequiresGrad(true))
	}
	loss := L1Loss(x.Conv2d(w, b, &ConvOptions{Padding: [2]int64{1, 1}}).LeakyReLU(0.1), ref(t, s, "grad.t"))
	closeRef(t, s, loss, "grad.loss")
	require.NoError(t, loss.Backward())
	for _, c := range []struct {
		p    *Tensor
		name string
	}{{x, "grad.gx"}, {w, "grad.gw"}, {b, "grad.gb"}} {
		g, err := c.p.Grad()
		require.NoError(t, err)
		require.NotNil(t, g)
		closeRef(t, s, g, c.name)
		g.Close()
	}
	// A second backward accumulates: the gradient doubles.
	loss2 := L1Loss(x.Conv2d(w, b, &ConvOptions{Padding: [2]int64{1, 1}}).LeakyReLU(0.1), ref(t, s, "grad.t"))
	require.NoError(t, loss2.Backward())
	g, err := b.Grad()
	require.NoError(t, err)
	requireClose(t, g, ref(t, s, "grad.gb").MulScalar(2), 1e-6, 1e-5)
	g.Close()
	// ZeroGrad drops it.
	require.NoError(t, b.ZeroGrad())
	g, err = b.Grad()
	require.NoError(t, err)
	require.Nil(t, g)
}

func TestAttentionBackwardMatchesPyTorch(t *testing.T) {
	s := NewScope(Grad)
	defer s.Close()
	q, w := ref(t, s, "agrad.q"), ref(t, s, "agrad.w")
	require.NoError(t, q.SetRequiresGrad(true))
	require.NoError(t, w.SetRequiresGrad(true))
	att := q.Matmul(q.Transpose(1, 2)).MulScalar(0.3).Softmax(-1).Matmul(q)
	out := att.LayerNorm([]int64{8}, w, nil, 1e-5).PowScalar(2).Mean(false)
	closeRef(t, s, out, "agrad.out")
	require.NoError(t, out.Backward())
	gq, err := q.Grad()
	require.NoError(t, err)
	defer gq.Close()
	gw, err := w.Grad()
	require.NoError(t, err)
	defer gw.Close()
	closeRef(t, s, gq, "agrad.gq")
	closeRef(t, s, gw, "agrad.gw")
}

func TestNoGradScopesBuildNoGraph(t *testing.T) {
	for _, mode := range []Mode{NoGrad, Inference} {
		t.Run(mode.String(), func(t *testing.T) {
			w, err := Ones(nil, []int64{3}, nil)
			require.NoError(t, err)
			defer w.Close()
			require.NoError(t, w.SetRequiresGrad(true))
			s := NewScope(mode)
			defer s.Close()
			y := s.Use(w).MulScalar(2).Sum(false)
			require.NoError(t, y.Err())
			require.False(t, y.RequiresGrad())
			err = y.Backward()
			require.Error(t, err)
			require.Contains(t, err.Error(), "backward")
		})
	}
}

func TestDetachAndCopyFrom(t *testing.T) {
	s := NewScope(Grad)
	defer s.Close()
	w, err := Zeros(s, []int64{2, 2}, nil)
	require.NoError(t, err)
	require.NoError(t, w.SetRequiresGrad(true))
	require.False(t, w.MulScalar(3).Detach().RequiresGrad())
	src, err := FromSlice(s, []float32{1, 2, 3, 4}, 2, 2)
	require.NoError(t, err)
	require.NoError(t, w.CopyFrom(src))
	require.Equal(t, []float64{1, 2, 3, 4}, floats(t, w))
	require.True(t, w.RequiresGrad(), "copying weights keeps the parameter a leaf")
	bad, err := FromSlice(s, []float32{1, 2, 3}, 3)
	require.NoError(t, err)
	require.ErrorContains(t, w.CopyFrom(bad), "shape mismatch")
}

// The backward pass sums the gradients reaching one tensor from several uses
// in the reverse order of the calls that recorded them, even when those
// calls ran on different OS threads (Go moves a goroutine between threads
// from one cgo call to the next; libtorch numbers autograd nodes per
// thread). Here x is used three times, with factors 1, 1e8 and -1e8: in
// float32 only the order 1e8 + -1e8 + 1 (the last use first) gives 1. The
// first use is recorded on a thread that has recorded many nodes before, so
// with per-thread numbering it would be summed first and give 0.
func TestBackwardOrderFollowsCallsAcrossThreads(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := NewScope(Grad)
	defer s.Close()
	x, err := Ones(s, []int64{1}, nil)
	require.NoError(t, err)
	require.NoError(t, x.SetRequiresGrad(true))
	first := make(chan *Tensor)
	go func() {
		runtime.LockOSThread() // another OS thread than the test's
		defer runtime.UnlockOSThread()
		w := NewScope(Grad)
		for i := range 20000 {
			w.Use(x).MulScalar(1) // one autograd node each
			if i%1000 == 999 {
				w.Close()
				w = NewScope(Grad)
			}
		}
		w.Close()
		first <- x.MulScalar(1)
	}()
	y1 := <-first
	loss := y1.Add(x.MulScalar(1e8)).Add(x.MulScalar(-1e8))
	require.NoError(t, loss.Backward())
	g, err := x.Grad()
	require.NoError(t, err)
	defer g.Close()
	v, err := g.Item()
	require.NoError(t, err)
	require.Equal(t, 1.0, v, "gradients summed out of call order")
}
