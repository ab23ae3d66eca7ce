package torch

import (
	"runtime"

	capi "github.com/gomioir/gomioir/internal/torch"
	"github.com/gomioir/gomioir/nets/torch/host"
)

var hostDTypes = map[host.DType]DType{
	host.Float32: Float32, host.Float64: Float64, host.Float16: Float16,
	host.Int64: Int64, host.Int32: Int32, host.Uint8: Uint8, host.Bool: Bool,
}

// FromHost copies a tensor read from a file (npy, safetensors, pth) into a new
// tensor on dev, owned by s (nil: by the caller).
func FromHost(s *Scope, r *host.Tensor, dev Device) (*Tensor, error) {
	dt, ok := hostDTypes[r.DType]
	if !ok {
		return nil, argError("from_raw", "unsupported dtype %s", r.DType)
	}
	shape := make([]int64, len(r.Shape))
	for i, d := range r.Shape {
		shape[i] = int64(d)
	}
	if err := checkShape("from_raw", shape); err != nil {
		return nil, err
	}
	if want := numel(shape) * int64(dt.Size()); int64(len(r.Data)) != want {
		return nil, argError("from_raw", "%s holds %d bytes, want %d", r, len(r.Data), want)
	}
	t, err := scopeOp(s, func(capi.Mode) (capi.Tensor, error) {
		return capi.FromData(r.Data, shape, capi.DType(dt), capi.DeviceType(dev.Type()), dev.Index())
	})
	runtime.KeepAlive(r)
	return t, err
}

// ToHost copies t into a raw tensor for writing to a file.
func ToHost(t *Tensor) (*host.Tensor, error) {
	info, err := t.Info()
	if err != nil {
		return nil, err
	}
	var rdt host.DType
	for k, v := range hostDTypes {
		if v == info.DType {
			rdt = k
		}
	}
	if rdt == "" {
		return nil, argError("to_raw", "unsupported dtype %v", info.DType)
	}
	shape := make([]int, len(info.Shape))
	for i, d := range info.Shape {
		shape[i] = int(d)
	}
	data := make([]byte, numel(info.Shape)*int64(info.DType.Size()))
	if err := t.copyOut(data); err != nil {
		return nil, err
	}
	return &host.Tensor{DType: rdt, Shape: shape, Data: data}, nil
}
