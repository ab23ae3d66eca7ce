// shim_dist.cpp: c10d, PyTorch's distributed engine: a TCPStore for the
// rendezvous and a process group over Gloo (CPU tensors) or NCCL (CUDA
// tensors, where the libtorch was built with it) for the collectives.
//
// cgo does not read CMake's interface definitions: USE_DISTRIBUTED and
// USE_C10D_GLOO are defined here by hand, or ProcessGroupGloo.hpp compiles to
// nothing. USE_C10D_NCCL comes from CGO_CXXFLAGS on a CUDA libtorch
// (scripts/gpu-check.sh). The process group's base class is ProcessGroup in
// 1.13 and Backend in 2.x; both declare the collectives used here with the
// same signatures.
#ifndef USE_DISTRIBUTED
#define USE_DISTRIBUTED 1
#endif
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>
#include <vector>

#include "shim_internal.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
using tt_pg_base = c10d::Backend;
#else
using tt_pg_base = c10d::ProcessGroup;
#endif

struct tt_store_s {
  c10::intrusive_ptr<c10d::Store> s;
};

struct tt_group_s {
  c10::intrusive_ptr<tt_pg_base> pg;
  int world;
};

namespace {

std::chrono::milliseconds ms(int64_t v) { return std::chrono::milliseconds(v); }

// Runs one collective on each bucket of ts: tensors of one dtype and device,
// consecutive, up to bucket_bytes together (a tensor larger than that is a
// bucket of its own). A bucket of one contiguous tensor goes as it is; a
// larger one is flattened into one buffer, sent, and copied back, so that a
// model's hundreds of small gradients cost a few messages, not hundreds.
template <typename F>
void bucketed(tt_tensor *ts, int n, int64_t bucket_bytes, F collective) {
  at::NoGradGuard no_grad;
  int i = 0;
  while (i < n) {
    const at::Tensor &first = ttshim::T(ts[i]);
    std::vector<at::Tensor> group{first};
    int64_t bytes = first.numel() * static_cast<int64_t>(first.element_size());
    int j = i + 1;
    for (; j < n; j++) {
      const at::Tensor &t = ttshim::T(ts[j]);
      int64_t b = t.numel() * static_cast<int64_t>(t.element_size());
      if (t.scalar_type() != first.scalar_type() || t.device() != first.device() ||
          bytes + b > bucket_bytes) {
        break;
      }
      group.push_back(t);
      bytes += b;
    }
    if (group.size() == 1 && first.is_contiguous()) {
      std::vector<at::Tensor> one{first};
      collective(one);
    } else {
      std::vector<at::Tensor> flat;
      flat.reserve(group.size());
      for (auto &t : group) flat.push_back(t.reshape({-1}));
      std::vector<at::Tensor> buf{at::cat(flat)};
      collective(buf);
      int64_t off = 0;
      for (auto &t : group) {
        int64_t k = t.numel();
        t.copy_(buf[0].narrow(0, off, k).view(t.sizes()));
        off += k;
      }
    }
    i = j;
  }
}

void wait(const c10::intrusive_ptr<c10d::Work> &w) {
  if (!w->wait()) TORCH_CHECK(false, "the collective did not complete");
}

}  // namespace

extern "C" {

tt_error tt_dist_available(int backend, int *out) {
  TT_BEGIN("dist_available")
  *out = 0;
  if (backend == TT_GLOO) *out = 1;
#ifdef USE_C10D_NCCL
  if (backend == TT_NCCL) *out = 1;
#endif
  TT_END
}

tt_error tt_store_tcp(const char *host, int port, int is_server, int world, int64_t timeout_ms,
                      tt_store *out) {
  TT_BEGIN("tcp_store")
  TORCH_CHECK(port > 0 && port < 65536, "port ", port, " out of range");
  TORCH_CHECK(world > 0, "world size ", world, " must be positive");
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = is_server != 0;
  o.numWorkers = static_cast<std::size_t>(world);
  o.waitWorkers = false;  // the rendezvous waits on keys, with its own timeout
  o.timeout = ms(timeout_ms);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
  // 2.x asks for the libuv server by default and refuses where it was built
  // without it (Debian's 2.6, whose check is not exported): then the
  // classic server.
  try {
    *out = new tt_store_s{c10::make_intrusive<c10d::TCPStore>(std::string(host), o)};
    return nullptr;
  } catch (const c10::Error &e) {
    if (std::string(e.what()).find("libuv") == std::string::npos) throw;
  }
  o.useLibUV = false;
#endif
  *out = new tt_store_s{c10::make_intrusive<c10d::TCPStore>(std::string(host), o)};
  TT_END
}

void tt_store_free(tt_store s) { delete s; }

tt_error tt_store_set(tt_store s, const char *key, const uint8_t *val, int64_t n) {
  TT_BEGIN("store_set")
  TORCH_CHECK(s != nullptr, "store is closed");
  s->s->set(std::string(key), std::vector<uint8_t>(val, val + n));
  TT_END
}

tt_error tt_store_get(tt_store s, const char *key, int64_t timeout_ms, uint8_t **val, int64_t *n) {
  TT_BEGIN("store_get")
  TORCH_CHECK(s != nullptr, "store is closed");
  *val = nullptr;
  *n = 0;
  std::string k(key);
  s->s->wait({k}, ms(timeout_ms));
  std::vector<uint8_t> v = s->s->get(k);
  *n = static_cast<int64_t>(v.size());
  *val = static_cast<uint8_t *>(std::malloc(v.empty() ? 1 : v.size()));
  TORCH_CHECK(*val != nullptr, "out of memory");
  if (!v.empty()) std::memcpy(*val, v.data(), v.size());
  TT_END
}

tt_error tt_group_new(tt_store s, const char *prefix, int backend, int rank, int world,
                      int64_t timeout_ms, const char *iface, const char *host, tt_group *out) {
  TT_BEGIN("process_group")
  TORCH_CHECK(s != nullptr, "store is closed");
  TORCH_CHECK(world > 0 && rank >= 0 && rank < world, "rank ", rank, " outside world size ", world);
  auto store = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), s->s);
  c10::intrusive_ptr<tt_pg_base> pg;
  if (backend == TT_GLOO) {
    auto o = c10d::ProcessGroupGloo::Options::create(ms(timeout_ms));
    if (iface != nullptr && iface[0] != 0) {
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
    } else if (host != nullptr && host[0] != 0) {
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
    } else {
      o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    o->threads = 2;
    pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, o);
  } else if (backend == TT_NCCL) {
#ifdef USE_C10D_NCCL
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = ms(timeout_ms);
    pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, o);
#else
    TORCH_CHECK(false, "this libtorch was built without NCCL (a CPU build, or the binding compiled without USE_C10D_NCCL)");
#endif
  } else {
    TORCH_CHECK(false, "unknown backend ", backend);
  }
  *out = new tt_group_s{pg, world};
  TT_END
}

void tt_group_free(tt_group g) { delete g; }

tt_error tt_group_allreduce(tt_group g, tt_tensor *ts, int n, int op, int64_t bucket_bytes) {
  TT_BEGIN("all_reduce")
  TORCH_CHECK(g != nullptr, "process group is closed");
  bucketed(ts, n, bucket_bytes, [&](std::vector<at::Tensor> &b) {
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp(c10d::ReduceOp::SUM);
    wait(g->pg->allreduce(b, o));
    if (op == TT_REDUCE_MEAN) {
      TORCH_CHECK(b[0].is_floating_point(), "a mean of ", b[0].scalar_type(), " tensors");
      b[0].div_(g->world);
    }
  });
  TT_END
}

tt_error tt_group_broadcast(tt_group g, tt_tensor *ts, int n, int root, int64_t bucket_bytes) {
  TT_BEGIN("broadcast")
  TORCH_CHECK(g != nullptr, "process group is closed");
  TORCH_CHECK(root >= 0 && root < g->world, "root ", root, " outside world size ", g->world);
  bucketed(ts, n, bucket_bytes, [&](std::vector<at::Tensor> &b) {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    wait(g->pg->broadcast(b, o));
  });
  TT_END
}

tt_error tt_group_barrier(tt_group g) {
  TT_BEGIN("barrier")
  TORCH_CHECK(g != nullptr, "process group is closed");
  wait(g->pg->barrier(c10d::BarrierOptions()));
  TT_END
}

}  // extern "C"
