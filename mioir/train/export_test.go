package train

import "github.com/gomioir/gomioir/nets/torch"

// OptimizerState returns the trainer's Adam state (moments and step counts),
// or the state Resume read when no optimiser runs yet; nil when neither.
func OptimizerState(t *Trainer) (*torch.AdamState, error) {
	if t.opt == nil {
		return t.pending, nil
	}
	s, err := t.opt.State()
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// GeneratorState returns the stochastic-depth generator's state (nil when
// the network has none).
func GeneratorState(t *Trainer) ([]byte, error) {
	if t.gen == nil {
		return nil, nil
	}
	return t.gen.State()
}
