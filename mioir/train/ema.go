package train

import "github.com/gomioir/gomioir/nets/torch"

// newEMA returns copies of params (same shapes and devices, no gradient
// tracking), the starting point of the parameters' exponential moving
// average: BasicSR's net_g_ema starts as a copy of net_g and is updated
// after every optimiser step with ema = decay*ema + (1-decay)*param,
// parameters only (buffers are not averaged).
func newEMA(params []*torch.Tensor) ([]*torch.Tensor, error) {
	ema := make([]*torch.Tensor, 0, len(params))
	for _, p := range params {
		e, err := torch.Zeros(nil, p.Shape(), &torch.Options{DType: p.DType(), Device: p.Device()})
		if err == nil {
			err = e.CopyFrom(p)
		}
		if err != nil {
			if e != nil {
				e.Close()
			}
			for _, x := range ema {
				x.Close()
			}
			return nil, err
		}
		ema = append(ema, e)
	}
	return ema, nil
}
