package capi

// Debian's libtorch-dev (bookworm 1.13.1, trixie 2.6.0) puts the ATen headers
// in /usr/include and the C++ API in /usr/include/torch/csrc/api/include; its
// libraries are on the default search path. Another libtorch 2.x (the CUDA
// build inside a pip torch wheel, a pytorch.org zip) is chosen with
// CGO_CXXFLAGS / CGO_LDFLAGS: see the README and scripts/gpu-check.sh. The
// shim uses only the C++ API that 1.13 and 2.x share (c10::NoGradGuard, not
// the at:: aliases 2.x removed); code for one generation would go there behind
// TORCH_VERSION_MAJOR / MINOR, never into Go. -fopenmp matters only to ProbeThreads, whose
// parallel loop is an ATen template compiled here.
//
// The shim is three translation units (shim_core.cpp, shim_ops.cpp,
// shim_dist.cpp for c10d): each file that includes the torch headers costs
// tens of seconds to compile cold, and separate files compile in parallel.
// shim_dist.cpp needs gloo's headers (Debian's libgloo-dev); the gloo code
// itself is inside libtorch, so nothing more is linked.

/*
#cgo CXXFLAGS: -std=c++17 -O2 -fopenmp -I/usr/include/torch/csrc/api/include -Wno-deprecated-declarations
#cgo LDFLAGS: -fopenmp -ltorch -ltorch_cpu -lc10 -lstdc++
#include <stdlib.h>
#include "shim.h"
*/
import "C"
