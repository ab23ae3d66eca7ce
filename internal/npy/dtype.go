package npy

import (
	"fmt"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// descrTypes maps the type part of a descr (without the byte-order
// character) to a dtype.
var descrTypes = map[string]host.DType{
	"f4": host.Float32,
	"f8": host.Float64,
	"f2": host.Float16,
	"i8": host.Int64,
	"i4": host.Int32,
	"u1": host.Uint8,
	"b1": host.Bool,
}

// parseDescr returns the dtype of a descr string and whether its data is
// big-endian.
func parseDescr(descr string) (host.DType, bool, error) {
	if len(descr) < 2 {
		return "", false, fmt.Errorf("npy: unsupported dtype %q", descr)
	}
	order, kind := descr[0], descr[1:]
	d, ok := descrTypes[kind]
	if !ok {
		return "", false, fmt.Errorf("npy: unsupported dtype %q (supported: <f4 <f8 <f2 <i8 <i4 |u1 |b1)", descr)
	}
	switch order {
	case '<':
		return d, false, nil
	case '>':
		return d, d.Size() > 1, nil
	case '|':
		if d.Size() != 1 {
			return "", false, fmt.Errorf("npy: dtype %q lacks a byte order", descr)
		}
		return d, false, nil
	}
	return "", false, fmt.Errorf("npy: unsupported byte order in dtype %q", descr)
}

// descrOf returns the descr NumPy writes for d.
func descrOf(d host.DType) (string, error) {
	switch d {
	case host.Uint8, host.Bool:
		for k, v := range descrTypes {
			if v == d {
				return "|" + k, nil
			}
		}
	case host.BFloat16:
		return "", fmt.Errorf("npy: bfloat16 has no NumPy dtype")
	default:
		for k, v := range descrTypes {
			if v == d {
				return "<" + k, nil
			}
		}
	}
	return "", fmt.Errorf("npy: unsupported dtype %q", string(d))
}
