package host

import "fmt"

// DType names the element type of a Tensor. The values are numpy-style names.
type DType string

// Supported element types.
const (
	Float32  DType = "float32"
	Float64  DType = "float64"
	Float16  DType = "float16"
	BFloat16 DType = "bfloat16"
	Int64    DType = "int64"
	Int32    DType = "int32"
	Uint8    DType = "uint8"
	Bool     DType = "bool"
)

// Size returns the size in bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case Float16, BFloat16:
		return 2
	case Uint8, Bool:
		return 1
	}
	return 0
}

// Valid reports whether d is one of the supported element types.
func (d DType) Valid() bool { return d.Size() != 0 }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float64 || d == Float16 || d == BFloat16
}

// String returns the dtype name.
func (d DType) String() string { return string(d) }

// ParseDType returns the DType with the given name, or an error.
func ParseDType(name string) (DType, error) {
	d := DType(name)
	if !d.Valid() {
		return "", fmt.Errorf("host: unknown dtype %q", name)
	}
	return d, nil
}
