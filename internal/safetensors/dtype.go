package safetensors

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/torch/host"
)

var codeToDType = map[string]host.DType{
	"F32":  host.Float32,
	"F64":  host.Float64,
	"F16":  host.Float16,
	"BF16": host.BFloat16,
	"I64":  host.Int64,
	"I32":  host.Int32,
	"U8":   host.Uint8,
	"BOOL": host.Bool,
}

// DTypeCode returns the safetensors dtype code ("F32", ...) of d.
func DTypeCode(d host.DType) (string, error) {
	for code, dt := range codeToDType {
		if dt == d {
			return code, nil
		}
	}
	return "", fmt.Errorf("safetensors: unsupported dtype %q", string(d))
}

// ParseDTypeCode returns the dtype of a safetensors dtype code.
func ParseDTypeCode(code string) (host.DType, error) {
	d, ok := codeToDType[code]
	if !ok {
		return "", fmt.Errorf("safetensors: unsupported dtype %q", code)
	}
	return d, nil
}
