package torch

/*
#include "shim_precision.h"
*/
import "C"

// TF32 says whether float32 work on a CUDA GPU may use TF32 (10-bit mantissa
// inputs, float32 accumulation), which Ampere and later GPUs run several
// times faster than full float32.
type TF32 struct {
	Conv   bool // cuDNN convolutions (PyTorch's default: true)
	Matmul bool // cuBLAS matrix products (PyTorch's default: false)
}

// AllowTF32 returns the process-wide TF32 settings.
func AllowTF32() (TF32, error) {
	var conv, mm C.int
	err := takeError(C.tt_allow_tf32(&conv, &mm))
	return TF32{Conv: conv != 0, Matmul: mm != 0}, err
}

// SetAllowTF32 sets the process-wide TF32 settings. Full float32 (both
// false) is what reproduces CPU results to float32 rounding; PyTorch's
// defaults trade about 1e-3 relative error in convolutions for speed. It has
// no effect on the CPU.
func SetAllowTF32(p TF32) error {
	return takeError(C.tt_set_allow_tf32(boolInt(p.Conv), boolInt(p.Matmul)))
}

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
