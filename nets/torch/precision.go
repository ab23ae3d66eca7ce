package torch

import capi "github.com/gomioir/gomioir/internal/torch"

// TF32 says whether float32 work on a CUDA GPU may use TF32 (10-bit mantissa
// inputs, float32 accumulation), which Ampere and later GPUs run several
// times faster than full float32.
type TF32 struct {
	Conv   bool // cuDNN convolutions (PyTorch's default: true)
	Matmul bool // cuBLAS matrix products (PyTorch's default: false)
}

// AllowTF32 returns the process-wide TF32 settings.
func AllowTF32() (TF32, error) {
	conv, mm, err := capi.AllowTF32()
	return TF32{Conv: conv, Matmul: mm}, fromC(err)
}

// SetAllowTF32 sets the process-wide TF32 settings. Full float32 (both
// false) is what reproduces CPU results to float32 rounding; PyTorch's
// defaults trade about 1e-3 relative error in convolutions for speed. It has
// no effect on the CPU.
func SetAllowTF32(p TF32) error {
	return fromC(capi.SetAllowTF32(p.Conv, p.Matmul))
}
