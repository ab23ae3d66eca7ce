// shim_internal.h: helpers shared by the C++ side of the shim (not part of the C ABI).
#ifndef GOMIOIR_TORCH_SHIM_INTERNAL_H
#define GOMIOIR_TORCH_SHIM_INTERNAL_H

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/SequenceNumber.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
#include <c10/util/Optional.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "shim.h"

struct tt_tensor_s {
  at::Tensor t;
};

struct tt_generator_s {
  at::Generator g;
};

namespace ttshim {

// Threads requested by Go. OpenMP keeps the thread count per OS thread, and Go
// runs cgo calls on whichever OS thread is free, so every call brings its
// thread up to date before doing work.
extern std::atomic<int> g_threads;
extern std::atomic<int> g_threads_gen;
void ensure_threads();

// Autograd runs a backward pass in the order of its nodes' sequence numbers
// (the latest recorded first), and that order decides in which order the
// gradients reaching a tensor from three or more uses are summed (float
// addition is not associative: think of a prompt vector feeding 36 scale and
// shift FCs). libtorch counts sequence numbers per OS thread, while Go runs
// one goroutine's successive cgo calls on whichever OS thread is free: nodes
// recorded on different threads got unrelated numbers, the summation order
// changed from run to run and so did the trained weights in the last bits.
// SeqSync makes the numbers follow the order of the calls across threads:
// each call first advances its thread's counter to the highest number any
// call has published (there is no setter, only get_and_increment, so it
// steps; a thread lags at most by the nodes recorded elsewhere since its last
// call, so the total cost is a few increments per recorded node), then
// publishes its own counter when it returns.
extern std::atomic<uint64_t> g_sequence_nr;

class SeqSync {
 public:
  SeqSync() {
    const uint64_t want = g_sequence_nr.load(std::memory_order_acquire);
    for (uint64_t have = at::sequence_number::peek(); have < want; have++) {
      at::sequence_number::get_and_increment();
    }
  }
  ~SeqSync() {
    const uint64_t now = at::sequence_number::peek();
    uint64_t cur = g_sequence_nr.load(std::memory_order_relaxed);
    while (cur < now &&
           !g_sequence_nr.compare_exchange_weak(cur, now, std::memory_order_acq_rel)) {
    }
  }
  SeqSync(const SeqSync &) = delete;
  SeqSync &operator=(const SeqSync &) = delete;
};

tt_error make_error(int kind, const char *op, const std::string &msg);

inline tt_tensor wrap(at::Tensor t) { return new tt_tensor_s{std::move(t)}; }

inline c10::ScalarType scalar_type(int dtype) {
  switch (dtype) {
    case TT_FLOAT32: return at::kFloat;
    case TT_FLOAT64: return at::kDouble;
    case TT_INT64: return at::kLong;
    case TT_UINT8: return at::kByte;
    case TT_BOOL: return at::kBool;
    case TT_INT32: return at::kInt;
    case TT_FLOAT16: return at::kHalf;
  }
  TORCH_CHECK(false, "unknown dtype code ", dtype);
}

inline int dtype_code(c10::ScalarType s) {
  switch (s) {
    case at::kFloat: return TT_FLOAT32;
    case at::kDouble: return TT_FLOAT64;
    case at::kLong: return TT_INT64;
    case at::kByte: return TT_UINT8;
    case at::kBool: return TT_BOOL;
    case at::kInt: return TT_INT32;
    case at::kHalf: return TT_FLOAT16;
    default: return -1;
  }
}

inline at::Device device(int type, int index) {
  if (type == TT_CUDA) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  TORCH_CHECK(type == TT_CPU, "unknown device type ", type);
  return at::Device(at::kCPU);
}

inline at::TensorOptions options(int dtype, int dev_type, int dev_index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device(dev_type, dev_index));
}

inline at::IntArrayRef ints(const int64_t *p, int n) {
  return at::IntArrayRef(p, static_cast<size_t>(n));
}

inline const at::Tensor &T(tt_tensor t) {
  TORCH_CHECK(t != nullptr, "tensor is nil or closed");
  return t->t;
}

inline c10::optional<at::Tensor> opt(tt_tensor t) {
  if (t == nullptr) return c10::nullopt;
  return t->t;
}

// Applies the autograd mode Go asked for, for the duration of one call.
class ModeGuard {
 public:
  explicit ModeGuard(int mode) {
    if (mode == TT_MODE_INFERENCE) {
      inference_.emplace(true);
    } else {
      grad_.emplace(mode == TT_MODE_GRAD);
    }
  }

 private:
  c10::optional<c10::InferenceMode> inference_;
  c10::optional<c10::AutoGradMode> grad_;
};

bool looks_like_oom(const std::string &msg);

}  // namespace ttshim

// TT_BEGIN/TT_END wrap the body of every exported function: no C++ exception
// ever crosses into Go; it becomes a tt_error naming the operation.
#define TT_BEGIN(opname)        \
  const char *tt_op_ = opname;  \
  try {                         \
    ttshim::ensure_threads();   \
    ttshim::SeqSync tt_seq_;

#define TT_END                                                                       \
  }                                                                                  \
  catch (const c10::OutOfMemoryError &e) {                                           \
    return ttshim::make_error(TT_ERR_OOM, tt_op_, e.msg());                          \
  }                                                                                  \
  catch (const c10::Error &e) {                                                      \
    int kind = ttshim::looks_like_oom(e.msg()) ? TT_ERR_OOM : TT_ERR_GENERIC;        \
    return ttshim::make_error(kind, tt_op_, e.msg());                                \
  }                                                                                  \
  catch (const std::bad_alloc &e) {                                                  \
    return ttshim::make_error(TT_ERR_OOM, tt_op_, "out of memory (std::bad_alloc)"); \
  }                                                                                  \
  catch (const std::exception &e) {                                                  \
    return ttshim::make_error(TT_ERR_GENERIC, tt_op_, e.what());                     \
  }                                                                                  \
  catch (...) {                                                                      \
    return ttshim::make_error(TT_ERR_GENERIC, tt_op_, "unknown C++ exception");      \
  }                                                                                  \
  return nullptr;

#endif
