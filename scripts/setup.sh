#!/usr/bin/env bash
# Sets up a fresh Debian machine for gomioir: installs Debian's libtorch-dev
# (libtorch 1.13.1, headers and shared libraries), gloo's headers and
# OpenBLAS when they are missing. Go and a C++ compiler are expected to be present (the Go toolchain from go.dev, g++
# from Debian's build-essential).
set -euo pipefail

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
dpkg -s libtorch-dev >/dev/null 2>&1 || missing+=(libtorch-dev)
# With --no-install-recommends Debian satisfies libtorch's BLAS with the
# netlib reference library, and matmul-heavy backbones (SwinIR, Uformer) run
# about ten times slower; OpenBLAS takes the libblas.so.3 alternative.
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || missing+=(libopenblas0-pthread)
# The c10d binding (data-parallel training) includes ProcessGroupGloo.hpp,
# which includes gloo's headers; libtorch-dev does not depend on them.
dpkg -s libgloo-dev >/dev/null 2>&1 || missing+=(libgloo-dev)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} from Debian" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go is not on PATH (install Go 1.26 or newer)" >&2; exit 1; }
