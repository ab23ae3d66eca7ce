package layers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomioir/gomioir/nets/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
)

// StateDict copies m's tensors (parameters and buffers) out, in state_dict
// order, for writing to a file.
func StateDict(m Module) (*host.StateDict, error) {
	sd := host.NewStateDict()
	for _, p := range Params(m) {
		r, err := torch.ToHost(*p.Ref)
		if err != nil {
			return nil, fmt.Errorf("layers: exporting %s: %w", p.Name, err)
		}
		if err := sd.Add(p.Name, r); err != nil {
			return nil, fmt.Errorf("layers: exporting: %w", err)
		}
	}
	return sd, nil
}

// LoadOptions complete LoadStateDict; a nil *LoadOptions keeps the names.
type LoadOptions struct {
	// Rename maps a module name (as Visit reports it) to the key it has in
	// the state dict; nil keeps the names. Networks whose reference
	// checkpoints use other names (SRResNet_EP's body1..body16) supply it,
	// so the check itself stays strict.
	Rename func(name string) string
}

// ShapeMismatch is one tensor whose file shape or type differs from the
// module's.
type ShapeMismatch struct {
	Key       string
	Want, Got []int64
	// WantType and GotType are set when the element kinds differ (a float
	// tensor in the file for an integer buffer, or the reverse).
	WantType, GotType string
}

// String describes the mismatch: "key (want [2 4], got [2 3])".
func (s ShapeMismatch) String() string {
	if s.WantType != "" {
		return fmt.Sprintf("%s (want %s, got %s)", s.Key, s.WantType, s.GotType)
	}
	return fmt.Sprintf("%s (want %v, got %v)", s.Key, s.Want, s.Got)
}

// LoadError reports why a strict load was refused. Nothing is copied when it
// is returned.
type LoadError struct {
	Missing    []string        // keys the module needs that the state dict lacks
	Unexpected []string        // state-dict keys the module does not use
	Mismatched []ShapeMismatch // keys present in both with different shapes
	Duplicate  []string        // keys that two module tensors were renamed to
}

// Error lists the offending keys by kind (at most eight of each).
func (e *LoadError) Error() string {
	var parts []string
	list := func(what string, keys []string) {
		if len(keys) == 0 {
			return
		}
		shown := keys
		more := ""
		if len(shown) > 8 {
			shown = shown[:8]
			more = fmt.Sprintf(" and %d more", len(keys)-8)
		}
		parts = append(parts, fmt.Sprintf("%d %s: %s%s", len(keys), what, strings.Join(shown, ", "), more))
	}
	list("missing", e.Missing)
	list("unexpected", e.Unexpected)
	var mm []string
	for _, m := range e.Mismatched {
		mm = append(mm, m.String())
	}
	list("with another shape", mm)
	list("duplicate targets", e.Duplicate)
	return "layers: state dict does not match the module: " + strings.Join(parts, "; ")
}

// LoadStateDict copies sd into m's tensors, strictly: every tensor of m must
// find its key, every key of sd must be used, and every shape must be equal;
// otherwise a *LoadError names the offending keys and m is left unchanged.
// Values are converted to each tensor's dtype and device (a float64 file
// loads into float32 parameters).
func LoadStateDict(m Module, sd *host.StateDict, o *LoadOptions) error {
	var rename func(string) string
	if o != nil {
		rename = o.Rename
	}
	ps := Params(m)
	keys := make([]string, len(ps))
	le := &LoadError{}
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		k := p.Name
		if rename != nil {
			k = rename(k)
		}
		keys[i] = k
		if seen[k] {
			le.Duplicate = append(le.Duplicate, k)
		}
		seen[k] = true
		r, ok := sd.Get(k)
		if !ok {
			le.Missing = append(le.Missing, k)
			continue
		}
		t := *p.Ref
		want := t.Shape()
		got := rawShape(r)
		if !slices.Equal(want, got) {
			le.Mismatched = append(le.Mismatched, ShapeMismatch{Key: k, Want: want, Got: got})
			continue
		}
		if t.DType().IsFloat() != r.DType.IsFloat() {
			le.Mismatched = append(le.Mismatched, ShapeMismatch{Key: k, Want: want, Got: got,
				WantType: t.DType().String(), GotType: r.DType.String()})
		}
	}
	for _, k := range sd.Keys() {
		if !seen[k] {
			le.Unexpected = append(le.Unexpected, k)
		}
	}
	if len(le.Missing)+len(le.Unexpected)+len(le.Mismatched)+len(le.Duplicate) > 0 {
		return le
	}
	for i, p := range ps {
		r, _ := sd.Get(keys[i])
		t := *p.Ref
		src, err := torch.FromHost(nil, r, t.Device())
		if err != nil {
			return fmt.Errorf("layers: loading %s: %w", keys[i], err)
		}
		err = t.CopyFrom(src)
		src.Close()
		if err != nil {
			return fmt.Errorf("layers: loading %s: %w", keys[i], err)
		}
	}
	return nil
}

// LoadMatching copies into m only the tensors of sd whose key and shape
// match one of m's (fine-tuning across configurations: an explicit-prompt
// model's backbone into an adaptive-prompt one). loaded lists the copied
// keys, skipped the module's tensors left as they were (no key, or another
// shape or element kind). Unlike LoadStateDict nothing is refused, so the
// caller should look at skipped.
func LoadMatching(m Module, sd *host.StateDict) (loaded, skipped []string, err error) {
	for _, p := range Params(m) {
		t := *p.Ref
		r, ok := sd.Get(p.Name)
		if !ok || t.DType().IsFloat() != r.DType.IsFloat() || !slices.Equal(t.Shape(), rawShape(r)) {
			skipped = append(skipped, p.Name)
			continue
		}
		src, err := torch.FromHost(nil, r, t.Device())
		if err != nil {
			return loaded, skipped, fmt.Errorf("layers: loading %s: %w", p.Name, err)
		}
		err = t.CopyFrom(src)
		src.Close()
		if err != nil {
			return loaded, skipped, fmt.Errorf("layers: loading %s: %w", p.Name, err)
		}
		loaded = append(loaded, p.Name)
	}
	return loaded, skipped, nil
}

func rawShape(r *host.Tensor) []int64 {
	s := make([]int64, len(r.Shape))
	for i, d := range r.Shape {
		s[i] = int64(d)
	}
	return s
}
