package mioir

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gomioir/gomioir/internal/safetensors"
	"github.com/gomioir/gomioir/nets/layers"
	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// What mioir/train needs from a Model beyond inference: the module it trains
// and a way to write its moving average as a model file.

// Network returns the part of the model that training updates and that a
// reference checkpoint holds: the prompt modules (extractors and FC pairs),
// then the backbone, under the reference's names; not the explicit maps, not
// the classifier. Its tensors are the model's own (do not close them); their
// names are the model's native names (Save, Visit).
func (m *Model) Network() layers.Module { return m.network() }

// SaveWith is Save with some tensors replaced: replace maps native tensor
// names (as Save writes them) to tensors of the same shape that are written
// instead of the model's own, e.g. a trainer's moving average of the
// parameters. A name the model does not have, or a shape that differs, is an
// error and nothing is written. SaveWith(path, nil) is Save(path).
func (m *Model) SaveWith(path string, replace map[string]*torch.Tensor) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.net == nil {
		return ErrClosedModel
	}
	cfg, err := json.Marshal(m.cfg)
	if err != nil {
		return err
	}
	sd, err := layers.StateDict(m)
	if err != nil {
		return fmt.Errorf("mioir: save %s: %w", path, err)
	}
	if sd, err = replaceTensors(sd, replace); err != nil {
		return fmt.Errorf("mioir: save %s: %w", path, err)
	}
	meta := map[string]string{
		metaFormat:  Format,
		metaVersion: strconv.Itoa(FormatVersion),
		metaConfig:  string(cfg),
	}
	if st, err := strengthJSON(m.strength); err != nil {
		return fmt.Errorf("mioir: save %s: %w", path, err)
	} else if st != "" {
		meta[metaStrength] = st
	}
	if err := safetensors.WriteFile(path, sd, meta); err != nil {
		return fmt.Errorf("mioir: save: %w", err)
	}
	return nil
}

// replaceTensors returns sd with the tensors named in replace copied to the
// host in place of sd's own.
func replaceTensors(sd *host.StateDict, replace map[string]*torch.Tensor) (*host.StateDict, error) {
	if len(replace) == 0 {
		return sd, nil
	}
	var unknown []string
	for n := range replace {
		if _, ok := sd.Get(n); !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("no tensor named %s", strings.Join(unknown, ", "))
	}
	out := host.NewStateDict()
	for _, k := range sd.Keys() {
		r, _ := sd.Get(k)
		if t, ok := replace[k]; ok {
			h, err := torch.ToHost(t)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if !slices.Equal(h.Shape, r.Shape) || h.DType != r.DType {
				return nil, fmt.Errorf("%s: replacement %s%v, want %s%v", k, h.DType, h.Shape, r.DType, r.Shape)
			}
			r = h
		}
		if err := out.Add(k, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}
