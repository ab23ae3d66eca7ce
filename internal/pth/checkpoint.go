package pth

import (
	"fmt"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// Bare is the section name of a checkpoint that is a bare state dict.
const Bare = ""

// Checkpoint is a loaded PyTorch checkpoint: either a bare state dict (one
// section named Bare) or a dict whose values include state dicts, such as
// BasicSR's {'params': sd, 'params_ema': sd} (one section per such value, in
// file order). Top-level entries that are not state dicts (an epoch number,
// optimizer state, ...) are listed by Others.
type Checkpoint struct {
	names    []string
	dicts    map[string]*host.StateDict
	versions map[string]map[string]int
	others   []string
}

// IsBare reports whether the checkpoint is a bare state dict.
func (c *Checkpoint) IsBare() bool { return len(c.names) == 1 && c.names[0] == Bare }

// Sections returns the names of the state dicts in file order: ["params",
// "params_ema"] for a BasicSR checkpoint, [Bare] for a bare state dict.
func (c *Checkpoint) Sections() []string { return append([]string(nil), c.names...) }

// Others returns the top-level keys whose values are not state dicts.
func (c *Checkpoint) Others() []string { return append([]string(nil), c.others...) }

// StateDict returns the state dict of a section (Bare for a bare state dict).
func (c *Checkpoint) StateDict(section string) (*host.StateDict, error) {
	sd, ok := c.dicts[section]
	if !ok {
		have := make([]string, len(c.names))
		for i, n := range c.names {
			have[i] = fmt.Sprintf("%q", n)
		}
		return nil, fmt.Errorf("pth: checkpoint has no state dict %q (it has %s)", section, strings.Join(have, ", "))
	}
	return sd, nil
}

// Default returns the state dict a model loads by default: the bare state
// dict, else "params" (what BasicSR test configurations load), else the first
// section. It also returns the section's name.
func (c *Checkpoint) Default() (*host.StateDict, string) {
	for _, name := range []string{Bare, "params"} {
		if sd, ok := c.dicts[name]; ok {
			return sd, name
		}
	}
	return c.dicts[c.names[0]], c.names[0]
}

// ModuleVersions returns the per-module versions PyTorch stores in a state
// dict's _metadata attribute (module prefix -> version; the root module is
// ""), or nil when the state dict has none. Load does not need them; they are
// exposed for callers that must handle older module layouts.
func (c *Checkpoint) ModuleVersions(section string) map[string]int {
	return c.versions[section]
}

// newCheckpoint interprets the unpickled top-level object.
func newCheckpoint(obj interface{}) (*Checkpoint, error) {
	items, ok := dictItems(obj)
	if !ok {
		return nil, fmt.Errorf("pth: checkpoint is a %s, not a dict", pyTypeName(obj))
	}
	c := &Checkpoint{dicts: map[string]*host.StateDict{}, versions: map[string]map[string]int{}}
	if sd, err := toStateDict(items); err == nil {
		c.add(Bare, sd, obj)
		return c, nil
	}
	for _, it := range items {
		key, ok := it.Key.(string)
		if !ok {
			return nil, fmt.Errorf("pth: checkpoint has a non-string key %v", it.Key)
		}
		sub, isDict := dictItems(it.Value)
		if isDict && len(sub) > 0 {
			if sd, err := toStateDict(sub); err == nil {
				c.add(key, sd, it.Value)
				continue
			} else if looksLikeStateDict(sub) {
				return nil, fmt.Errorf("pth: state dict %q: %w", key, err)
			}
		}
		c.others = append(c.others, key)
	}
	if len(c.names) == 0 {
		return nil, fmt.Errorf("pth: checkpoint is a dict without state dicts (keys: %s)", strings.Join(c.others, ", "))
	}
	return c, nil
}

func (c *Checkpoint) add(name string, sd *host.StateDict, obj interface{}) {
	c.names = append(c.names, name)
	c.dicts[name] = sd
	if v := moduleVersions(obj); v != nil {
		c.versions[name] = v
	}
}

// toStateDict converts dict items whose keys are strings and values tensors.
func toStateDict(items []types.DictEntry) (*host.StateDict, error) {
	sd := host.NewStateDict()
	seen := map[*host.Tensor]bool{}
	for _, it := range items {
		key, ok := it.Key.(string)
		if !ok {
			return nil, fmt.Errorf("non-string key %v", it.Key)
		}
		t, ok := it.Value.(*host.Tensor)
		if !ok {
			return nil, fmt.Errorf("%q is a %s, not a tensor", key, pyTypeName(it.Value))
		}
		if seen[t] {
			t = t.Clone() // the same tensor saved under two names: keep them independent
		}
		seen[t] = true
		if err := sd.Add(key, t); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

// looksLikeStateDict reports whether most values are tensors: then a failure
// to convert is an error worth reporting rather than "not a state dict".
func looksLikeStateDict(items []types.DictEntry) bool {
	n := 0
	for _, it := range items {
		if _, ok := it.Value.(*host.Tensor); ok {
			n++
		}
	}
	return n > 0 && 2*n >= len(items)
}

// dictItems returns the entries of a pickled dict or OrderedDict in order.
func dictItems(obj interface{}) ([]types.DictEntry, bool) {
	switch d := obj.(type) {
	case *types.Dict:
		return *d, true
	case *types.OrderedDict:
		out := make([]types.DictEntry, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			out = append(out, types.DictEntry{Key: entry.Key, Value: entry.Value})
		}
		return out, true
	}
	return nil, false
}

// moduleVersions reads the _metadata attribute of a state dict OrderedDict:
// {prefix: {'version': n}, ...}.
func moduleVersions(obj interface{}) map[string]int {
	od, ok := obj.(*types.OrderedDict)
	if !ok {
		return nil
	}
	items, ok := dictItems(od.PyDict["_metadata"])
	if !ok {
		return nil
	}
	out := map[string]int{}
	for _, it := range items {
		prefix, ok := it.Key.(string)
		if !ok {
			continue
		}
		fields, ok := dictItems(it.Value)
		if !ok {
			continue
		}
		for _, f := range fields {
			if f.Key == "version" {
				if v, err := toInt(f.Value); err == nil {
					out[prefix] = v
				}
			}
		}
	}
	return out
}

// pyTypeName names the Python type of an unpickled value for error messages.
func pyTypeName(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case *host.Tensor:
		return "tensor"
	case *types.List:
		return "list"
	case *types.Tuple:
		return "tuple"
	case *types.Dict, *types.OrderedDict:
		return "dict"
	case string:
		return "str"
	case int, int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case []byte:
		return "bytes"
	case *opaque:
		return x.class + " object"
	case *storage:
		return "storage"
	}
	return fmt.Sprintf("%T", v)
}
