#!/usr/bin/env bash
# Builds and runs gomioir's tests against a CUDA build of libtorch, so the
# CUDA tests (which skip on Debian's CPU-only libtorch) really run.
#
#   LIBTORCH=/path/to/libtorch bash scripts/gpu-check.sh [go test flags...]
#
# LIBTORCH is an unpacked libtorch 1.13.x CUDA zip from pytorch.org (it holds
# include/ and lib/). Without it, the script looks for the libtorch inside an
# installed CUDA PyTorch (python3 -c 'import torch').
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${LIBTORCH:-}" ]; then
  for py in python3 /usr/bin/python3; do
    dir=$("$py" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null) || continue
    [ -f "$dir/lib/libtorch_cuda.so" ] && LIBTORCH=$dir && break
  done
fi
if [ -z "${LIBTORCH:-}" ] || [ ! -f "$LIBTORCH/lib/libtorch_cuda.so" ]; then
  echo "gpu-check: no CUDA libtorch found; set LIBTORCH to an unpacked libtorch CUDA build" >&2
  exit 2
fi
command -v nvidia-smi >/dev/null && nvidia-smi -L

export CGO_CXXFLAGS="-I$LIBTORCH/include -I$LIBTORCH/include/torch/csrc/api/include -D_GLIBCXX_USE_CXX11_ABI=${CXX11_ABI:-1}"
# --no-as-needed keeps libtorch_cuda linked although no symbol of it is used
# directly: it registers the CUDA backend when it loads.
export CGO_LDFLAGS="-L$LIBTORCH/lib -Wl,-rpath,$LIBTORCH/lib -Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed"

go run ./examples/torchinfo
go test -count=1 -run 'CUDA' -v ./internal/torch "$@" | tee /tmp/gpu-check.log
if grep -q -- '--- SKIP' /tmp/gpu-check.log; then
  echo "gpu-check: CUDA tests skipped: libtorch does not see a GPU" >&2
  exit 1
fi
go test -count=1 ./... "$@"
