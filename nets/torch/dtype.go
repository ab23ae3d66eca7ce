package torch

/*
#include "shim.h"
*/
import "C"

import "fmt"

// DType is a tensor element type.
type DType int

// The element types the library uses.
const (
	Float32 DType = C.TT_FLOAT32
	Float64 DType = C.TT_FLOAT64
	Int64   DType = C.TT_INT64
	Uint8   DType = C.TT_UINT8
	Bool    DType = C.TT_BOOL
	Int32   DType = C.TT_INT32
	Float16 DType = C.TT_FLOAT16
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
