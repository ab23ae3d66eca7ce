package host

import "fmt"

// Entry is one named tensor of a StateDict.
type Entry struct {
	Name   string
	Tensor *Tensor
}

// StateDict is an ordered list of named tensors, as in a PyTorch state_dict
// (parameters and buffers in module order). Names are unique when built with
// Add; the order is the file's order. Entries may also be set directly; Get
// then indexes them on first use (the first of duplicate names wins).
type StateDict struct {
	Entries []Entry
	index   map[string]int
}

// NewStateDict returns an empty StateDict.
func NewStateDict() *StateDict { return &StateDict{} }

// Add appends a named tensor. It returns an error if the name is already
// present.
func (s *StateDict) Add(name string, t *Tensor) error {
	s.buildIndex()
	if _, dup := s.index[name]; dup {
		return fmt.Errorf("host: duplicate tensor name %q", name)
	}
	s.index[name] = len(s.Entries)
	s.Entries = append(s.Entries, Entry{Name: name, Tensor: t})
	return nil
}

// Get returns the tensor with the given name, or nil and false.
func (s *StateDict) Get(name string) (*Tensor, bool) {
	s.buildIndex()
	i, ok := s.index[name]
	if !ok || i >= len(s.Entries) || s.Entries[i].Name != name {
		// Entries may have been edited directly: rebuild and look again.
		s.index = nil
		s.buildIndex()
		if i, ok = s.index[name]; !ok {
			return nil, false
		}
	}
	return s.Entries[i].Tensor, true
}

// Keys returns the names in order.
func (s *StateDict) Keys() []string {
	keys := make([]string, len(s.Entries))
	for i, e := range s.Entries {
		keys[i] = e.Name
	}
	return keys
}

// Len returns the number of entries.
func (s *StateDict) Len() int { return len(s.Entries) }

// buildIndex (re)builds the name index when Entries were set or appended to
// directly.
func (s *StateDict) buildIndex() {
	if s.index != nil && len(s.index) == len(s.Entries) {
		return
	}
	s.index = make(map[string]int, len(s.Entries))
	for i, e := range s.Entries {
		if _, dup := s.index[e.Name]; !dup {
			s.index[e.Name] = i
		}
	}
}
