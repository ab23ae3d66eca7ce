package safetensors

import (
	"fmt"

	"github.com/gomioir/gomioir/internal/rawtensor"
)

var codeToDType = map[string]rawtensor.DType{
	"F32":  rawtensor.Float32,
	"F64":  rawtensor.Float64,
	"F16":  rawtensor.Float16,
	"BF16": rawtensor.BFloat16,
	"I64":  rawtensor.Int64,
	"I32":  rawtensor.Int32,
	"U8":   rawtensor.Uint8,
	"BOOL": rawtensor.Bool,
}

// DTypeCode returns the safetensors dtype code ("F32", ...) of d.
func DTypeCode(d rawtensor.DType) (string, error) {
	for code, dt := range codeToDType {
		if dt == d {
			return code, nil
		}
	}
	return "", fmt.Errorf("safetensors: unsupported dtype %q", string(d))
}

// ParseDTypeCode returns the dtype of a safetensors dtype code.
func ParseDTypeCode(code string) (rawtensor.DType, error) {
	d, ok := codeToDType[code]
	if !ok {
		return "", fmt.Errorf("safetensors: unsupported dtype %q", code)
	}
	return d, nil
}
