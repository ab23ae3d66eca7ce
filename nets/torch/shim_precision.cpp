#include "shim_internal.h"
#include "shim_precision.h"

#include <ATen/Context.h>

// at::Context holds the same two switches in libtorch 1.13 and 2.x (PyTorch's
// torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32);
// on a CPU-only build they are stored and have no effect.
tt_error tt_set_allow_tf32(int conv, int matmul) {
  TT_BEGIN("set_allow_tf32")
  at::globalContext().setAllowTF32CuDNN(conv != 0);
  at::globalContext().setAllowTF32CuBLAS(matmul != 0);
  TT_END
}

tt_error tt_allow_tf32(int *conv, int *matmul) {
  TT_BEGIN("allow_tf32")
  *conv = at::globalContext().allowTF32CuDNN() ? 1 : 0;
  *matmul = at::globalContext().allowTF32CuBLAS() ? 1 : 0;
  TT_END
}
