package torch

import (
	"fmt"

	capi "github.com/gomioir/gomioir/internal/torch"
)

// DType is a tensor element type.
type DType int

// The element types the library uses. The zero value is Float32.
const (
	Float32 DType = DType(capi.Float32)
	Float64 DType = DType(capi.Float64)
	Int64   DType = DType(capi.Int64)
	Uint8   DType = DType(capi.Uint8)
	Bool    DType = DType(capi.Bool)
	Int32   DType = DType(capi.Int32)
	Float16 DType = DType(capi.Float16)
)

var dtypeNames = map[DType]string{
	Float32: "float32", Float64: "float64", Int64: "int64", Uint8: "uint8",
	Bool: "bool", Int32: "int32", Float16: "float16",
}

var dtypeSizes = map[DType]int{
	Float32: 4, Float64: 8, Int64: 8, Uint8: 1, Bool: 1, Int32: 4, Float16: 2,
}

func (d DType) String() string {
	if n, ok := dtypeNames[d]; ok {
		return n
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Size is the size of one element in bytes (0 for an unknown type).
func (d DType) Size() int { return dtypeSizes[d] }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d == Float32 || d == Float64 || d == Float16 }

// ParseDType returns the DType named s ("float32", "int64", ...).
func ParseDType(s string) (DType, error) {
	for d, n := range dtypeNames {
		if n == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("torch: unknown dtype %q", s)
}
