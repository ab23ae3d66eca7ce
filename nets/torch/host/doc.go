// Package host defines the neutral in-memory tensor that the file-format
// packages (npy, safetensors, pth) read into and write from.
//
// A Tensor is only a dtype, a shape and the raw element bytes in C (row-major)
// order and little-endian byte order. It has no device, no autograd and no
// arithmetic: it exists so that file formats can be parsed and produced in pure
// Go, without cgo, and handed to the libtorch layer (or to tests) in one shape.
package host
