// Package safetensors reads and writes the safetensors format in pure Go: an
// 8-byte little-endian header length N, N bytes of JSON header, then the raw
// little-endian tensor data.
//
// It is gomioir's native checkpoint format: the header's "__metadata__"
// string map records the model's backbone, configuration and prompt kind, so
// a model can be rebuilt from the file alone. Files are written atomically.
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets"},
// with offsets relative to the start of the data section. Supported dtypes
// are F32, F64, F16, BF16, I64, I32, U8 and BOOL.
//
// Order: the JSON header is an object, whose member order carries no meaning
// in JSON. This package nevertheless keeps it: Write emits tensors (header
// members and data) in the order of the StateDict given, and Read returns
// the tensors in the order their members appear in the header. Files written
// by other tools are read correctly whatever their order.
//
// Reading is strict, as in the reference implementation: offsets must lie in
// the data section, match the dtype and shape, must not overlap, and must
// cover the data section without holes.
package safetensors
