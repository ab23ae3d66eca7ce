package pth

import (
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/gomioir/gomioir/nets/torch/host"
)

// storageDTypes maps torch storage class names to element types.
var storageDTypes = map[string]host.DType{
	"FloatStorage":    host.Float32,
	"DoubleStorage":   host.Float64,
	"HalfStorage":     host.Float16,
	"BFloat16Storage": host.BFloat16,
	"LongStorage":     host.Int64,
	"IntStorage":      host.Int32,
	"ByteStorage":     host.Uint8,
	"BoolStorage":     host.Bool,
}

// storageClass stands for a torch.*Storage class in the pickle stream.
type storageClass struct {
	name  string
	dtype host.DType // empty when unsupported
}

// storage is a loaded storage: raw little-endian bytes of numel elements.
type storage struct {
	dtype host.DType
	data  []byte
}

// callFunc adapts a Go function to a pickle callable.
type callFunc func(args ...interface{}) (interface{}, error)

// Call implements types.Callable.
func (f callFunc) Call(args ...interface{}) (interface{}, error) { return f(args...) }

// opaque stands for an instance of a class this package does not know (for
// example an argparse.Namespace stored beside the weights). It absorbs the
// pickle operations applied to it so that loading can continue; it is an
// error only when it appears where a tensor is expected.
type opaque struct {
	class string
}

// Call implements types.Callable (REDUCE).
func (o *opaque) Call(args ...interface{}) (interface{}, error) { return &opaque{class: o.class}, nil }

// PyNew implements types.PyNewable (NEWOBJ).
func (o *opaque) PyNew(args ...interface{}) (interface{}, error) { return &opaque{class: o.class}, nil }

// PySetState implements types.PyStateSettable (BUILD).
func (o *opaque) PySetState(state interface{}) error { return nil }

// findClass resolves the globals of a torch checkpoint's pickle stream.
func findClass(module, name string) (interface{}, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		return callFunc(rebuildTensor), nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return callFunc(rebuildParameter), nil
	case "_codecs.encode":
		return callFunc(codecsEncode), nil
	case "builtins.set", "__builtin__.set":
		return callFunc(func(args ...interface{}) (interface{}, error) { return &opaque{class: "set"}, nil }), nil
	}
	if module == "torch" {
		if d, ok := storageDTypes[name]; ok {
			return &storageClass{name: "torch." + name, dtype: d}, nil
		}
		if len(name) > len("Storage") && name[len(name)-len("Storage"):] == "Storage" {
			return &storageClass{name: "torch." + name}, nil
		}
	}
	return &opaque{class: module + "." + name}, nil
}

// rebuildTensor implements torch._utils._rebuild_tensor_v2(storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
// and the older _rebuild_tensor(storage, storage_offset, size, stride).
func rebuildTensor(args ...interface{}) (interface{}, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor: %d arguments, want at least 4", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor: first argument is %T, not a storage", args[0])
	}
	offset, err := toInt(args[1])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: storage offset: %w", err)
	}
	shape, err := toInts(args[2])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: size: %w", err)
	}
	stride, err := toInts(args[3])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: stride: %w", err)
	}
	data, err := gather(st.data, st.dtype.Size(), offset, shape, stride)
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: %w", err)
	}
	return &host.Tensor{DType: st.dtype, Shape: shape, Data: data}, nil
}

// rebuildParameter implements torch._utils._rebuild_parameter(data,
// requires_grad, backward_hooks[, state]): a Parameter is its data here.
func rebuildParameter(args ...interface{}) (interface{}, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter: no arguments")
	}
	if _, ok := args[0].(*host.Tensor); !ok {
		return nil, fmt.Errorf("_rebuild_parameter: data is %T, not a tensor", args[0])
	}
	return args[0], nil
}

// codecsEncode implements _codecs.encode(str, 'latin1'), which protocol-2
// pickles use for bytes objects.
func codecsEncode(args ...interface{}) (interface{}, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_codecs.encode: no arguments")
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("_codecs.encode: argument is %T", args[0])
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("_codecs.encode: character %U is not latin-1", r)
		}
		out = append(out, byte(r))
	}
	return out, nil
}

func toInt(v interface{}) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *big.Int:
		if x.IsInt64() {
			return int(x.Int64()), nil
		}
		return 0, fmt.Errorf("integer %s out of range", x)
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}

func toInts(v interface{}) ([]int, error) {
	var items []interface{}
	switch x := v.(type) {
	case *types.Tuple:
		items = *x
	case *types.List:
		items = *x
	default:
		return nil, fmt.Errorf("%T is not a tuple", v)
	}
	out := make([]int, len(items))
	for i, it := range items {
		n, err := toInt(it)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
