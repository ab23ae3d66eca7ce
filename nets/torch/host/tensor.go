package host

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Tensor is a dense tensor held as raw bytes: C (row-major) order,
// little-endian. A zero-dimensional tensor (scalar) has an empty Shape and one
// element.
type Tensor struct {
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of the dimensions (1 for a scalar). It
// returns -1 if a dimension is negative or the product overflows an int.
func (t *Tensor) NumElements() int {
	n, err := NumElements(t.Shape)
	if err != nil {
		return -1
	}
	return n
}

// NumElements returns the product of shape's dimensions, or an error if a
// dimension is negative or the product overflows an int.
func NumElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("host: negative dimension in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt/d {
			return 0, fmt.Errorf("host: shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}

// ByteSize returns the number of data bytes a tensor of this dtype and shape
// needs, or an error for an unknown dtype, a negative dimension or an overflow.
func ByteSize(d DType, shape []int) (int, error) {
	if !d.Valid() {
		return 0, fmt.Errorf("host: unknown dtype %q", string(d))
	}
	n, err := NumElements(shape)
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt/d.Size() {
		return 0, fmt.Errorf("host: shape %v of %s is too large", shape, d)
	}
	return n * d.Size(), nil
}

// Validate checks that the dtype is known, no dimension is negative and
// len(Data) equals NumElements()*DType.Size().
func (t *Tensor) Validate() error {
	if t == nil {
		return errors.New("host: nil tensor")
	}
	want, err := ByteSize(t.DType, t.Shape)
	if err != nil {
		return err
	}
	if len(t.Data) != want {
		return fmt.Errorf("host: %s tensor of shape %v needs %d bytes, has %d", t.DType, t.Shape, want, len(t.Data))
	}
	return nil
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{DType: t.DType, Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
}

// Equal reports whether a and b have the same dtype, shape and bytes.
func Equal(a, b *Tensor) bool {
	return a.DType == b.DType && slices.Equal(a.Shape, b.Shape) && string(a.Data) == string(b.Data)
}

// String returns a short description such as "float32[1 3 64 64]".
func (t *Tensor) String() string {
	return fmt.Sprintf("%s%v", t.DType, t.Shape)
}
