package torch

// Debian's libtorch-dev puts the ATen headers in /usr/include and the C++ API in
// /usr/include/torch/csrc/api/include; its libraries are on the default search
// path. Another libtorch (a CUDA build from pytorch.org) is chosen with
// CGO_CXXFLAGS / CGO_LDFLAGS: see the README. -fopenmp matters only to
// ProbeThreads, whose parallel loop is an ATen template compiled here.

/*
#cgo CXXFLAGS: -std=c++17 -O2 -fopenmp -I/usr/include/torch/csrc/api/include -Wno-deprecated-declarations
#cgo LDFLAGS: -fopenmp -ltorch -ltorch_cpu -lc10 -lstdc++
#include <stdlib.h>
#include "shim.h"
*/
import "C"
