// Package npy reads and writes NumPy .npy files (format versions 1.0, 2.0 and
// 3.0) as host.Tensors, in pure Go.
//
// The reference MiOIR code and its fixtures exchange arrays as .npy files:
// the explicit-prompt maps (type7.npy), parity inputs and outputs, and
// degradation noise. Only simple (non-structured) arrays are supported, with
// the dtypes '<f4', '<f8', '<f2', '<i8', '<i4', '|u1' and '|b1'. Big-endian
// files ('>f4', ...) are converted to little-endian on reading. Fortran-order
// arrays are rejected with a clear error rather than silently transposed.
//
// Writing always produces C-order, little-endian data with a version 1.0
// header (2.0 when the header would not fit), padded as NumPy does so that the
// data starts at a multiple of 64 bytes.
package npy
