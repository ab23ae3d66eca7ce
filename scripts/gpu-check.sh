#!/usr/bin/env bash
# Builds gomioir against the CUDA libtorch inside an installed PyTorch and runs
# the GPU checks, on a machine that has no Go and no network: the device
# machine (one H100/H200, python3 with a CUDA torch wheel, g++).
#
#   bash scripts/gpu-pack.sh                # here: packs .gpu/ (Go kit, fixtures)
#   bash scripts/gpu-check.sh [MODE]        # there, with .gpu carried
#
# MODE:
#   (none)         the GPU checks, within about 8 minutes (each step has a
#                  time limit): the CUDA tests, parity of every fixture variant
#                  on CUDA in full float32 (rel. L2 <= 1e-4), forward timings
#                  of the 13 paper configurations at 256x256 against PyTorch
#                  CUDA eager in the same run, and a 200-step SRResNet-EP
#                  training run on CUDA with its iterations per second
#   --rehearse     the same steps on the CPU at toy sizes: proves unpacking,
#                  discovery, build and every step's plumbing on a machine
#                  without a GPU (e.g. inside scripts/libtorch2.sh)
#   --build-only   unpack, find libtorch, build, print what was found
#
# The kit is unpacked into a fresh folder (GPU_WORK, default a new temporary
# folder); libtorch is found through python3's torch (PYTHON, default python3):
# its include/ and lib/ folders and its C++ ABI
# (torch._C._GLIBCXX_USE_CXX11_ABI), or LIBTORCH=/path/to/libtorch with
# CXX11_ABI=0|1. Results go to $OUT (default GPU_WORK/out), at most 8 files:
# summary.txt, torchinfo.txt, tests.txt, bench.txt, train.txt, build.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)
mode=${1:-gpu}
case "$mode" in
gpu | --rehearse | --build-only) ;;
*) echo "usage: bash scripts/gpu-check.sh [--rehearse | --build-only]" >&2; exit 2 ;;
esac
kit=${MIOIR_GPU_KIT:-$repo/.gpu}
work=${GPU_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/gomioir-gpu.XXXXXX")}
out=${OUT:-$work/out}
mkdir -p "$work" "$out"
summary="$out/summary.txt"
: >"$summary"
say() { echo "gpu-check: $*" | tee -a "$summary" >&2; }
t0=$SECONDS

# 1. Unpack the Go kit and the fixtures.
for f in gokit.tar.zst fixtures.tar.zst; do
  [ -f "$kit/$f" ] || { say "missing $kit/$f: run bash scripts/gpu-pack.sh and carry .gpu"; exit 2; }
done
zstd=$(command -v zstd || true)
if [ -z "$zstd" ] || ! "$zstd" -V >/dev/null 2>&1; then zstd="$kit/zstd"; fi
"$zstd" -V >/dev/null 2>&1 || { say "no working zstd (none installed, and the carried $kit/zstd does not run here)"; exit 2; }
"$zstd" -q -dc --long=27 "$kit/gokit.tar.zst" | tar -xf - -C "$work"
"$zstd" -q -dc --long=27 "$kit/fixtures.tar.zst" | tar -xf - -C "$work"
export GOROOT="$work/gokit/go" GOMODCACHE="$work/gokit/mod" GOCACHE="$work/gocache" GOPATH="$work/gopath"
export PATH="$GOROOT/bin:$PATH" GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -vet=off"
export MIOIR_FIXTURES="$work/fixtures"
say "unpacked $(go version | cut -d' ' -f3) and the fixtures into $work in $((SECONDS - t0)) s"

# 2. Find libtorch.
abi=${CXX11_ABI:-}
if [ -z "${LIBTORCH:-}" ]; then
  py=${PYTHON:-python3}
  info=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI), torch.__version__, torch.version.cuda)') ||
    { say "$py cannot import torch; set PYTHON or LIBTORCH"; exit 2; }
  read -r LIBTORCH pyabi pyver pycuda <<<"$info"
  abi=${abi:-$pyabi}
  say "python torch $pyver (CUDA $pycuda) at $LIBTORCH, C++11 ABI $abi"
fi
abi=${abi:-1}
inc="$LIBTORCH/include" lib="$LIBTORCH/lib"
[ -f "$inc/ATen/ATen.h" ] || { say "no ATen headers in $inc"; exit 2; }
[ -f "$lib/libtorch_cpu.so" ] || { say "no libtorch_cpu.so in $lib"; exit 2; }
export CGO_CXXFLAGS="-I$inc -I$inc/torch/csrc/api/include -D_GLIBCXX_USE_CXX11_ABI=$abi"
export CGO_LDFLAGS="-L$lib -Wl,-rpath,$lib"
if [ -f "$lib/libtorch_cuda.so" ]; then
  # --no-as-needed keeps libtorch_cuda linked although the shim uses none of
  # its symbols: loading it is what registers the CUDA backend.
  CGO_LDFLAGS+=" -Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed"
elif [ "$mode" = gpu ]; then
  say "$lib has no libtorch_cuda.so: a CPU-only torch (use --rehearse)"; exit 2
fi
# NCCL: the shim compiles its c10d NCCL process group when the wheel ships
# ProcessGroupNCCL.hpp and the NCCL and CUDA runtime headers are found (the
# nvidia-* wheels torch depends on carry them); its symbols are in libtorch_cuda.
if [ -f "$lib/libtorch_cuda.so" ] && [ -f "$inc/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp" ]; then
  site=$(dirname "$LIBTORCH")
  nccl_h=$(find "$site/nvidia" -name nccl.h -path '*include*' 2>/dev/null | head -1)
  cudart_h=$(find "$site/nvidia" -name cuda_runtime_api.h -path '*include*' 2>/dev/null | head -1)
  [ -z "$cudart_h" ] && [ -f /usr/local/cuda/include/cuda_runtime_api.h ] && cudart_h=/usr/local/cuda/include/cuda_runtime_api.h
  if [ -n "$nccl_h" ] && [ -n "$cudart_h" ]; then
    CGO_CXXFLAGS+=" -DUSE_C10D_NCCL -I$(dirname "$nccl_h") -I$(dirname "$cudart_h")"
    say "NCCL: compiling the c10d NCCL binding (nccl.h in $(dirname "$nccl_h"))"
  else
    say "NCCL: headers not found (nccl.h: ${nccl_h:-none}, cuda_runtime_api.h: ${cudart_h:-none}); Gloo only"
  fi
fi

# 3. Build: the test binaries of the packages with CUDA tests, the examples
# and the benchmark binary, all at once (the shim is compiled once).
t=$SECONDS
pkgs=(./internal/torch ./nets/torch/... ./nets/... ./mioir ./prompt)
if ! { go build ./... && go test -count=1 -run '^$' "${pkgs[@]}" &&
  go test -c -o "$work/gobin/prompt.test" ./prompt; } >"$out/build.txt" 2>&1; then
  tail -30 "$out/build.txt" >&2; say "build failed (see build.txt)"; exit 1
fi
say "built against $LIBTORCH in $((SECONDS - t)) s (CGO_CXXFLAGS=$CGO_CXXFLAGS CGO_LDFLAGS=$CGO_LDFLAGS)"
go run ./examples/torchinfo >"$out/torchinfo.txt" 2>&1 || { cat "$out/torchinfo.txt" >&2; say "torchinfo failed"; exit 1; }
sed 's/^/  /' "$out/torchinfo.txt" | tee -a "$summary" >&2
[ "$mode" = --build-only ] && { say "build only: done in $((SECONDS - t0)) s"; exit 0; }

status=0
# step NAME SECONDS CMD...: runs CMD with a time limit, output to NAME.txt.
step() {
  local name=$1 limit=$2
  shift 2
  local s=$SECONDS rc=0
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.txt" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    status=1
    [ $rc -eq 124 ] && say "$name: over its ${limit} s limit" || say "$name: failed (exit $rc), see $name.txt"
    tail -15 "$out/$name.txt" >&2
  fi
  say "$name: $((SECONDS - s)) s"
  return 0
}

# 4. The CUDA tests, and parity of every fixture variant on CUDA.
step tests 120 go test -count=1 -v -run 'CUDA|ParityDevices|AllowTF32|Version|Synchronize' "${pkgs[@]}"
grep -E '^(ok|FAIL|---)' "$out/tests.txt" | grep -v -- '--- PASS' | sed 's/^/  /' | tee -a "$summary" >&2 || true
grep -E ' on (cpu|cuda:0): rel' "$out/tests.txt" | sed 's/^ */  /' | tee -a "$summary" >&2 || true
if [ "$mode" = gpu ] && grep -q -- '--- SKIP' "$out/tests.txt"; then
  say "CUDA tests were skipped: libtorch sees no GPU"; status=1
fi
# Parity: 13 variants (12 imported checkpoints and PromptIR) on each device.
want=13; [ "$mode" = gpu ] && want=26
n=$(grep -cE ' on (cpu|cuda:0): rel' "$out/tests.txt" || true)
[ "$n" -eq "$want" ] || { say "parity: $n of $want variant/device results"; status=1; }

# 5. Forward timings of the paper configurations against PyTorch eager.
variants=SRResNet,SRResNet_EP,SRResNet_AP,SwinIR,SwinIR_EP,SwinIR_AP,Restormer,Restormer_EP,Restormer_AP,Uformer,Uformer_EP,Uformer_AP,PromptIR
if [ "$mode" = gpu ]; then
  step bench 270 "${PYTHON:-python3}" scripts/bench_models.py --device cuda --variants "$variants" \
    --sizes 256 --rounds 2 --iters 5 --go-test-bin "$work/gobin"
else
  step bench 270 "${PYTHON:-python3}" scripts/bench_models.py --device cpu --variants SRResNet_EP,Restormer_AP \
    --sizes 64 --rounds 1 --iters 1 --go-test-bin "$work/gobin"
fi
sed -n '/^paper configurations/,$p' "$out/bench.txt" | grep -v '^#' | sed 's/^/  /' | tee -a "$summary" >&2 || true

# 5b. Data parallelism on one rank: the c10d group test (NCCL on CUDA where
# compiled in, Gloo always) and a few steps of examples/train as rank 0 of 1
# (NCCL for CUDA tensors; the rehearsal: Gloo).
step dist 90 go test -count=1 -v -run 'TestGroupOneRank' ./nets/torch
if [ "$mode" = gpu ]; then ddev=cuda; else ddev=cpu; fi
mkdir -p "$work/dist-data"
cp mioir/pretrained/sample/clean.png "$work/dist-data/a.png"
step dist-train 90 env WORLD_SIZE=1 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29533 go run ./examples/train \
  -data "$work/dist-data" -out "$work/dist-out" -backbone srresnet -prompt ep -schedule mixed -tasks n -stage-iters 3 \
  -final-cycles 0 -batch 2 -patch 64 -device "$ddev" -log-every 1 -seed 1
grep -h 'backend=' "$out/dist-train.txt" | head -1 | sed 's/^/  /' | tee -a "$summary" >&2 || true

# 6. A 200-step SRResNet-EP training run over the seven tasks, mixed (8
# cosine cycles of 25 steps; the rehearsal: 8 of 3 steps at 64x64).
data="$work/train-data"
mkdir -p "$data"
cp mioir/pretrained/sample/clean.png "$data/a.png"
cp mioir/pretrained/sample/degraded.png "$data/b.png"
if [ "$mode" = gpu ]; then cycle=25 dev=cuda batch=16 patch=128; else cycle=3 dev=cpu batch=2 patch=64; fi
step train 90 go run ./examples/train -data "$data" -out "$work/train-out" -backbone srresnet -prompt ep \
  -schedule mixed -stage-iters "$cycle" -final-cycles 2 -batch "$batch" -patch "$patch" -device "$dev" \
  -log-every "$cycle" -ckpt-every $((cycle * 8)) -val-every $((cycle * 80)) -seed 1
log="$work/train-out/train.log"
if [ -f "$log" ]; then
  # Iterations per second between the first logged step and the last (the
  # first steps include cuDNN's algorithm search and the allocator's growth).
  rate=$("${PYTHON:-python3}" - "$log" <<'EOF'
import datetime, json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"msg":"train"' in l]
t = lambda r: datetime.datetime.fromisoformat(r["time"][:26].rstrip("Z"))
a, b = rows[0], rows[-1]
print(f'{b["iter"]} steps, {(b["iter"] - a["iter"]) / (t(b) - t(a)).total_seconds():.2f} it/s from step {a["iter"]} to {b["iter"]}, final loss {b["loss"]:.4f}')
EOF
  ) && say "train ($dev, SRResNet_EP, batch $batch, patch $patch): $rate"
  cp "$log" "$out/train.log"
fi

say "done in $((SECONDS - t0)) s, status $status"
exit $status
