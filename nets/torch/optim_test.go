package torch

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAdamMatchesPyTorch(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  AdamConfig
	}{
		{"adam", AdamConfig{Beta1: 0.9, Beta2: 0.99}},
		{"adam_wd", AdamConfig{Beta1: 0.9, Beta2: 0.99, WeightDecay: 0.01}},
		{"adamw", AdamConfig{Beta1: 0.9, Beta2: 0.99, WeightDecay: 0.02, Decoupled: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := NewScope(Grad)
			defer s.Close()
			p := ref(t, s, "optim.p0")
			require.NoError(t, p.SetRequiresGrad(true))
			opt, err := NewAdam([]*Tensor{p}, &c.cfg)
			require.NoError(t, err)
			defer opt.Close()
			lrs := floats(t, ref(t, s, "optim.lrs"))
			for i, lr := range lrs {
				opt.SetLR(lr)
				// Produce the gradient g_i through autograd: d/dp sum(p*g) = g.
				require.NoError(t, opt.ZeroGrad())
				require.NoError(t, p.Mul(ref(t, s, fmt.Sprintf("optim.g%d", i))).Sum(false).Backward())
				require.NoError(t, opt.Step())
				worst := requireClose(t, p, ref(t, s, fmt.Sprintf("optim.%s.p%d", c.name, i)), 1e-7, 1e-6)
				t.Logf("step %d: max |go - pytorch| = %.3g", i+1, worst)
			}
			st, err := opt.State()
			require.NoError(t, err)
			require.Equal(t, []int64{4}, st.Steps)
			m, err := FromSlice(s, st.ExpAvg[0], 5, 3)
			require.NoError(t, err)
			closeRef(t, s, m, "optim."+c.name+".exp_avg")
			v, err := FromSlice(s, st.ExpAvgSq[0], 5, 3)
			require.NoError(t, err)
			closeRef(t, s, v, "optim."+c.name+".exp_avg_sq")
		})
	}
}

// Resuming from exported state continues exactly as an uninterrupted run.
func TestAdamStateResumesExactly(t *testing.T) {
	s := NewScope(Grad)
	defer s.Close()
	run := func(p *Tensor, opt *Adam, steps []int) {
		for _, i := range steps {
			require.NoError(t, opt.ZeroGrad())
			require.NoError(t, p.Mul(ref(t, s, fmt.Sprintf("optim.g%d", i))).Sum(false).Backward())
			require.NoError(t, opt.Step())
		}
	}
	cfg := &AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99, WeightDecay: 0.01, Decoupled: true}
	full := ref(t, s, "optim.p0")
	require.NoError(t, full.SetRequiresGrad(true))
	o1, err := NewAdam([]*Tensor{full}, cfg)
	require.NoError(t, err)
	defer o1.Close()
	run(full, o1, []int{0, 1, 2, 3})

	first := ref(t, s, "optim.p0")
	require.NoError(t, first.SetRequiresGrad(true))
	o2, err := NewAdam([]*Tensor{first}, cfg)
	require.NoError(t, err)
	defer o2.Close()
	run(first, o2, []int{0, 1})
	st, err := o2.State()
	require.NoError(t, err)

	resumed := first.Detach().Clone()
	require.NoError(t, resumed.SetRequiresGrad(true))
	o3, err := NewAdam([]*Tensor{resumed}, cfg)
	require.NoError(t, err)
	defer o3.Close()
	require.NoError(t, o3.SetState(st))
	run(resumed, o3, []int{2, 3})
	requireClose(t, resumed, full, 0, 0)

	require.ErrorContains(t, o3.SetState(AdamState{}), "state for 0")
}

func TestEMAUpdateMatchesPyTorch(t *testing.T) {
	s := NewScope(NoGrad)
	defer s.Close()
	e := ref(t, s, "ema.e0")
	require.NoError(t, EMAUpdate([]*Tensor{e}, []*Tensor{ref(t, s, "optim.p0")}, 0.999))
	closeRef(t, s, e, "ema.out")
	require.Error(t, EMAUpdate([]*Tensor{e}, nil, 0.999))
}
