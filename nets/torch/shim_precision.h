// Float32 precision on CUDA: whether cuDNN convolutions and cuBLAS matrix
// products may round their inputs to TF32 (Ampere and later GPUs).
#pragma once
#include "shim.h"

#ifdef __cplusplus
extern "C" {
#endif

tt_error tt_set_allow_tf32(int conv, int matmul);
tt_error tt_allow_tf32(int *conv, int *matmul);

#ifdef __cplusplus
}
#endif
