package nets

import (
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
)

// Hook modulates the feature f at the modulation point named point and
// returns the feature the backbone continues with. A backbone calls it at
// each of its ModulationPoints, in forward order; a nil Hook leaves every
// feature unchanged (the plain network).
//
// The feature, and whatever the hook computes from it, may belong to a
// short-lived child scope that the backbone closes after the stage (see
// layers.Step): a hook that wants to keep a tensor beyond the call moves a
// copy out, e.g. f.Scope().Keep(f.Clone()), which lands in the forward pass's
// scope.
type Hook func(point string, f *torch.Tensor) *torch.Tensor

// Apply calls h, or returns f unchanged when h is nil.
func (h Hook) Apply(point string, f *torch.Tensor) *torch.Tensor {
	if h == nil {
		return f
	}
	return h(point, f)
}

// Layout is where a feature keeps its channels.
type Layout int

const (
	// ChannelsFirst is an (N, C, H, W) feature map: a per-channel scale
	// broadcasts over H and W.
	ChannelsFirst Layout = iota
	// ChannelsLast is a token sequence (N, L, C) (or any shape with channels
	// last): a per-channel scale broadcasts over the tokens.
	ChannelsLast
)

// ModulationPoint is one place where a backbone calls its Hook.
type ModulationPoint struct {
	// Name is what the backbone passes to the Hook ("body1", "hr", "out").
	Name string
	// Channels is the channel count of the feature there.
	Channels int64
	// Layout says which dimension holds the channels.
	Layout Layout
	// Extractor is the index, in Modulation.Extractors, of the prompt
	// extractor whose vector modulates this point.
	Extractor int
	// ScaleKey and ShiftKey are the state_dict prefixes the reference
	// EP/AP checkpoints use for this point's FC pair ("prompt_scale1").
	ScaleKey, ShiftKey string
}

// Modulation describes every modulation point of a backbone and the prompt
// extractors that feed them.
type Modulation struct {
	// Extractors are the state_dict prefixes of the prompt extractors of the
	// reference EP/AP variant ("F_ext_net", or "F_ext_net1".."F_ext_net4").
	Extractors []string
	// Points are in the order the forward pass reaches them.
	Points []ModulationPoint
}

// Backbone is a restoration network that prompt learning can modulate.
// Forward maps an (N, 3, H, W) image to the restored image, calling hook at
// each point of Modulation; it must be called on an input that belongs to a
// torch.Scope (see package layers).
type Backbone interface {
	layers.Module
	Forward(x *torch.Tensor, hook Hook) *torch.Tensor
	Modulation() Modulation
	Close()
}
