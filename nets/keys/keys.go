// Package keys is a read-only view of a checkpoint's tensor names and
// shapes, for recognising a backbone and reading its hyper-parameters from a
// reference state dict (nets.Arch.Infer). It is a package of its own to
// keep the generic helpers out of package nets and its line budget.
package keys

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrNoMatch is wrapped by the errors of an inference that finds keys of
// another backbone; other errors mean the keys are this backbone's but
// cannot be read.
var ErrNoMatch = errors.New("keys do not match")

// Keys holds a state dict's names, in checkpoint order, with their shapes.
type Keys struct {
	names  []string
	shapes map[string][]int64
}

// New returns a Keys over names with their shapes (same length).
func New(names []string, shapes [][]int64) *Keys {
	k := &Keys{names: slices.Clone(names), shapes: make(map[string][]int64, len(names))}
	for i, n := range names {
		k.shapes[n] = slices.Clone(shapes[i])
	}
	return k
}

// Names returns the keys in checkpoint order.
func (k *Keys) Names() []string { return slices.Clone(k.names) }

// Len is the number of keys.
func (k *Keys) Len() int { return len(k.names) }

// Has reports whether key is present.
func (k *Keys) Has(key string) bool { _, ok := k.shapes[key]; return ok }

// Shape returns the shape of key (nil when absent).
func (k *Keys) Shape(key string) []int64 { return slices.Clone(k.shapes[key]) }

// Dim returns dimension d of key's shape, or an error naming the key.
func (k *Keys) Dim(key string, d int) (int64, error) {
	s, ok := k.shapes[key]
	if !ok {
		return 0, fmt.Errorf("missing key %s", key)
	}
	if d >= len(s) {
		return 0, fmt.Errorf("key %s has shape %v, expected at least %d dimensions", key, s, d+1)
	}
	return s[d], nil
}

// Indices returns the sorted distinct integers N of the keys
// prefix + N + "." + ... (Indices("layers.") of a SwinIR gives 0..5).
func (k *Keys) Indices(prefix string) []int {
	var out []int
	for _, n := range k.names {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		if num, _, ok := strings.Cut(rest, "."); ok {
			if i, err := strconv.Atoi(num); err == nil && i >= 0 && !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Count returns the number of blocks prefix + N + ".*" with N = 0..n-1, or
// an error when there are none or the indices have gaps.
func (k *Keys) Count(prefix string) (int, error) {
	idx := k.Indices(prefix)
	if len(idx) == 0 {
		return 0, fmt.Errorf("no %sN.* keys", prefix)
	}
	for i, v := range idx {
		if v != i {
			return 0, fmt.Errorf("%sN: indices %v are not 0..%d", prefix, idx, len(idx)-1)
		}
	}
	return len(idx), nil
}

// Window returns the window side w of a Swin-style relative position bias
// table at key, which has (2w-1)^2 rows.
func (k *Keys) Window(key string) (int64, error) {
	rows, err := k.Dim(key, 0)
	if err != nil {
		return 0, err
	}
	side, ok := Sqrt(rows)
	if !ok || side%2 == 0 {
		return 0, fmt.Errorf("%s has %d rows, not (2*window-1)^2", key, rows)
	}
	return (side + 1) / 2, nil
}

// Reader reads several dimensions and keeps the first error, so that an
// inference reads everything it needs and checks Err once.
type Reader struct {
	*Keys
	err error
}

// Reader returns a Reader over k.
func (k *Keys) Reader() *Reader { return &Reader{Keys: k} }

// Err is the first error of the reads.
func (r *Reader) Err() error { return r.err }

func (r *Reader) keep(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Dim is Keys.Dim (0 after an error).
func (r *Reader) Dim(key string, d int) int64 {
	v, err := r.Keys.Dim(key, d)
	r.keep(err)
	return v
}

// Count is Keys.Count (0 after an error).
func (r *Reader) Count(prefix string) int {
	v, err := r.Keys.Count(prefix)
	r.keep(err)
	return v
}

// Window is Keys.Window (0 after an error).
func (r *Reader) Window(key string) int64 {
	v, err := r.Keys.Window(key)
	r.keep(err)
	return v
}

// Sqrt returns the integer square root of n and whether n is a square.
func Sqrt(n int64) (int64, bool) {
	r := int64(0)
	for (r+1)*(r+1) <= n {
		r++
	}
	return r, r*r == n
}
