// shim_core.cpp: errors, threads, CUDA precision settings, tensor lifetime and
// data transfer, creation, random numbers, autograd and optimiser steps.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cpuid.h>
#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "shim_internal.h"

namespace ttshim {

std::atomic<int> g_threads{0};
std::atomic<int> g_threads_gen{0};
std::atomic<uint64_t> g_sequence_nr{0};
static thread_local int t_threads_gen = -1;

void ensure_threads() {
  int gen = g_threads_gen.load(std::memory_order_acquire);
  if (gen == t_threads_gen) return;
  int n = g_threads.load(std::memory_order_acquire);
  if (n > 0) at::set_num_threads(n);
  t_threads_gen = gen;
}

// Keeps the first line of a libtorch message that is not a source location.
static std::string one_line(const std::string &msg) {
  std::string out;
  size_t start = 0;
  while (start <= msg.size()) {
    size_t end = msg.find('\n', start);
    if (end == std::string::npos) end = msg.size();
    std::string line = msg.substr(start, end - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.rfind("Exception raised from", first) != first) {
      if (!out.empty()) out += "; ";
      out += line.substr(first);
    }
    start = end + 1;
  }
  return out.empty() ? std::string("unknown error") : out;
}

tt_error make_error(int kind, const char *op, const std::string &msg) {
  std::string text = std::string(op) + ": " + one_line(msg);
  auto *e = static_cast<tt_error_s *>(std::malloc(sizeof(tt_error_s)));
  if (e == nullptr) return nullptr;
  e->kind = kind;
  e->msg = static_cast<char *>(std::malloc(text.size() + 1));
  if (e->msg != nullptr) std::memcpy(e->msg, text.c_str(), text.size() + 1);
  return e;
}

bool looks_like_oom(const std::string &msg) {
  for (const char *needle : {"not enough memory", "out of memory", "can't allocate memory",
                             "Cannot allocate memory"}) {
    if (msg.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace ttshim

using ttshim::T;
using ttshim::wrap;

extern "C" {

void tt_error_free(tt_error e) {
  if (e == nullptr) return;
  std::free(e->msg);
  std::free(e);
}

tt_error tt_version(char **out) {
  TT_BEGIN("version")
  std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                  "." + std::to_string(TORCH_VERSION_PATCH);
  *out = static_cast<char *>(std::malloc(v.size() + 1));
  std::memcpy(*out, v.c_str(), v.size() + 1);
  TT_END
}

void tt_set_num_threads(int n) {
  ttshim::g_threads.store(n, std::memory_order_release);
  ttshim::g_threads_gen.fetch_add(1, std::memory_order_acq_rel);
}

tt_error tt_num_threads(int *out) {
  TT_BEGIN("num_threads")
  *out = at::get_num_threads();
  TT_END
}

tt_error tt_probe_threads(int64_t work, int *distinct) {
  TT_BEGIN("probe_threads")
  std::mutex mu;
  std::set<std::thread::id> ids;
  at::parallel_for(0, work, 1, [&](int64_t b, int64_t e) {
    volatile double sink = 0;
    for (int64_t i = b; i < e; i++) {
      for (int k = 0; k < 20000; k++) sink = sink + std::sqrt(static_cast<double>(i + k));
    }
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  *distinct = static_cast<int>(ids.size());
  TT_END
}

tt_error tt_cuda_device_count(int *out) {
  TT_BEGIN("cuda_device_count")
  *out = at::detail::getCUDAHooks().hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  TT_END
}

tt_error tt_cuda_synchronize(int device_index) {
  TT_BEGIN("cuda_synchronize")
  // Throws c10::Error (caught by TT_END) when libtorch sees no CUDA GPU or the
  // index is out of range.
  torch::cuda::synchronize(device_index);
  TT_END
}

void tt_manual_seed(uint64_t seed) {
  try {
    at::manual_seed(seed);
  } catch (...) {
  }
}

// ---- CPU memory accounting ----
// A CPU allocator around c10's own alloc_cpu/free_cpu (the default
// allocator's) that counts the bytes of live tensor storage and keeps two
// high-water marks that reset independently (the program's, and one for
// measurements inside the library). Each block has a 64-byte header with its
// requested size before the data, so the data pointer is also the deleter's
// context, as raw_allocate requires.
namespace {

std::atomic<int64_t> g_cpu_bytes{0};
std::atomic<int64_t> g_cpu_peak[2] = {{0}, {0}};
std::atomic<int64_t> g_cpu_largest[2] = {{0}, {0}};  // largest block since each mark's reset
constexpr size_t kHeader = 64;  // keeps alloc_cpu's 64-byte alignment

void raise(std::atomic<int64_t> &mark, int64_t v) {
  int64_t cur = mark.load(std::memory_order_relaxed);
  while (v > cur && !mark.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// ---- Large blocks ----
// Blocks of at least kLargeBlock bytes bypass glibc: they are mapped
// directly, and a freed one of at most kMaxCachedBlock is kept, the least
// recently freed given back first above g_cache_limit bytes, for a later
// request of its size class or up to half its size. A tiled restoration or a
// training step asks for the same sizes pass after pass. glibc would serve
// them from whichever arena the calling thread drew: kept in the main heap
// (with its fragmentation), but unmapped from a secondary arena's heaps,
// so that each pass faulted its memory in anew and the time and peak of a
// run depended on its threads. Larger blocks are whole-image buffers,
// seldom asked for twice at one size: caching them only raises the peak.
// Size classes (8 per power of two) waste at most 12.5 %. The second word
// of a large block's header holds its mapped size.
constexpr size_t kLargeBlock = size_t(1) << 20;
constexpr size_t kMaxCachedBlock = size_t(64) << 20;
void drop_cached_blocks();
std::mutex g_cache_mu;
// Cached blocks, the most recently freed last, and an index by class size.
struct CachedBlock {
  size_t size;
  void *p;
};
std::list<CachedBlock> g_cache;                                     // guarded by g_cache_mu
std::multimap<size_t, std::list<CachedBlock>::iterator> g_by_size;  // guarded by g_cache_mu
size_t g_cache_bytes = 0;                                           // guarded by g_cache_mu
std::atomic<int64_t> g_cache_limit{int64_t(1) << 30};

size_t size_class(size_t n) {
  size_t page = 4096;
  if (n <= page) return page;
  int lg = 63 - __builtin_clzll(static_cast<unsigned long long>(n - 1));
  size_t step = std::max(page, size_t(1) << (lg > 3 ? lg - 3 : 0));
  return (n + step - 1) / step * step;
}

// evict_until unmaps the least recently freed blocks until the cache holds
// at most limit bytes. Caller holds g_cache_mu.
void evict_until(int64_t limit) {
  while (!g_cache.empty() && static_cast<int64_t>(g_cache_bytes) > limit) {
    CachedBlock b = g_cache.front();
    auto range = g_by_size.equal_range(b.size);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == g_cache.begin()) {
        g_by_size.erase(it);
        break;
      }
    }
    g_cache.pop_front();
    g_cache_bytes -= b.size;
    munmap(b.p, b.size);
  }
}

// large_alloc returns a block of at least cls bytes and its size: the
// smallest cached one up to twice that, or a new mapping.
void *large_alloc(size_t cls, size_t *size) {
  {
    std::lock_guard<std::mutex> lock(g_cache_mu);
    auto it = g_by_size.lower_bound(cls);
    if (it != g_by_size.end() && it->first <= 2 * cls) {
      void *p = it->second->p;
      *size = it->first;
      g_cache.erase(it->second);
      g_by_size.erase(it);
      g_cache_bytes -= *size;
      return p;
    }
  }
  *size = cls;
  void *p = mmap(nullptr, cls, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    // The cache may hold the memory this request needs.
    drop_cached_blocks();
    p = mmap(nullptr, cls, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
  }
  return p;
}

void large_free(void *p, size_t cls) {
  std::lock_guard<std::mutex> lock(g_cache_mu);
  int64_t limit = g_cache_limit.load(std::memory_order_relaxed);
  if (cls > kMaxCachedBlock || static_cast<int64_t>(cls) > limit) {
    munmap(p, cls);
    return;
  }
  evict_until(limit - static_cast<int64_t>(cls));
  g_cache.push_back({cls, p});
  g_by_size.emplace(cls, std::prev(g_cache.end()));
  g_cache_bytes += cls;
}

void counted_free(void *p) {
  if (p == nullptr) return;
  char *base = static_cast<char *>(p) - kHeader;
  size_t n = *reinterpret_cast<size_t *>(base);
  g_cpu_bytes.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
  if (n + kHeader >= kLargeBlock) {
    large_free(base, reinterpret_cast<size_t *>(base)[1]);
    return;
  }
  c10::free_cpu(base);
}

struct CountingCPUAllocator final : public at::Allocator {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  at::DataPtr allocate(size_t n) override { return alloc(n); }
  void copy_data(void *dest, const void *src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#else
  at::DataPtr allocate(size_t n) const override { return alloc(n); }
#endif
  at::DeleterFnPtr raw_deleter() const override { return &counted_free; }

 private:
  static at::DataPtr alloc(size_t n) {
    char *base;
    if (n + kHeader >= kLargeBlock) {
      size_t mapped = 0;
      base = static_cast<char *>(large_alloc(size_class(n + kHeader), &mapped));
      // c10::alloc_cpu's own message, as the default allocator would throw.
      TORCH_CHECK(base != nullptr, "DefaultCPUAllocator: not enough memory: you tried to allocate ", n, " bytes.");
      reinterpret_cast<size_t *>(base)[1] = mapped;
    } else {
      base = static_cast<char *>(c10::alloc_cpu(n + kHeader));
    }
    *reinterpret_cast<size_t *>(base) = n;
    int64_t now = g_cpu_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed) + static_cast<int64_t>(n);
    for (int i = 0; i < 2; i++) {
      raise(g_cpu_peak[i], now);
      raise(g_cpu_largest[i], static_cast<int64_t>(n));
    }
    void *data = base + kHeader;
    return {data, data, &counted_free, at::Device(at::DeviceType::CPU)};
  }
};

CountingCPUAllocator g_counting_allocator;

void drop_cached_blocks() {
  std::lock_guard<std::mutex> lock(g_cache_mu);
  evict_until(0);
}

}  // namespace

int tt_count_cpu_memory(void) {
  // Priority above the default allocator's 0; tensors allocated before keep
  // their own deleter.
  c10::SetCPUAllocator(&g_counting_allocator, 1);
  return c10::GetCPUAllocator() == &g_counting_allocator;
}

void tt_cpu_memory(int64_t *current, int64_t *peak, int64_t *largest, int mark, int reset_peak) {
  int i = mark == 0 ? 0 : 1;
  *current = g_cpu_bytes.load(std::memory_order_relaxed);
  *peak = g_cpu_peak[i].load(std::memory_order_relaxed);
  *largest = g_cpu_largest[i].load(std::memory_order_relaxed);
  if (reset_peak) {
    g_cpu_peak[i].store(*current, std::memory_order_relaxed);
    g_cpu_largest[i].store(0, std::memory_order_relaxed);
  }
}

// On AMD Zen 5 (family 0x1A), the oneDNN 3.7 of libtorch 2.6 (Debian
// trixie) returns NaN in parts of small convolutions' gradients from its
// JIT kernels: Python's torch 2.6 on one such machine in 34 of 50 random
// 2x4x9x7 convolutions, this package's tests in 12 of 20 runs even with
// ONEDNN_MAX_CPU_ISA=AVX2, and in none of 20 with SSE41 (libtorch 1.13's
// oneDNN 2.6 is not affected). oneDNN reads the variable once, at its first
// primitive, so it is set before main, and only when the user has not set
// it (to choose speed over these gradients, set ONEDNN_MAX_CPU_ISA=ALL).
#if TORCH_VERSION_MAJOR >= 2
__attribute__((constructor)) static void tt_onednn_isa_workaround(void) {
  if (getenv("ONEDNN_MAX_CPU_ISA") != nullptr || getenv("DNNL_MAX_CPU_ISA") != nullptr) return;
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return;
  bool amd = b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163;  // "AuthenticAMD"
  if (!amd || !__get_cpuid(1, &a, &b, &c, &d)) return;
  unsigned family = (a >> 8) & 0xf;
  if (family == 0xf) family += (a >> 20) & 0xff;
  if (family >= 0x1a) setenv("ONEDNN_MAX_CPU_ISA", "SSE41", 0);
}
#endif

int tt_malloc_keep_mapped(void) {
  int a = mallopt(M_MMAP_MAX, 0);
  int b = mallopt(M_TRIM_THRESHOLD, INT_MAX);
  return a == 1 && b == 1;
}

// malloc_trim(0) also gives back the free pages inside every arena
// (madvise), not only the top of the main heap;
// drop_cached_blocks gives back the counting allocator's cached blocks.
void tt_malloc_trim(void) {
  drop_cached_blocks();
  malloc_trim(0);
}

void tt_set_cpu_cache_limit(int64_t bytes) {
  bytes = bytes < 0 ? 0 : bytes;
  g_cache_limit.store(bytes, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(g_cache_mu);
  evict_until(bytes);
}

int64_t tt_cpu_cached_bytes(void) {
  std::lock_guard<std::mutex> lock(g_cache_mu);
  return static_cast<int64_t>(g_cache_bytes);
}

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

void tt_free(tt_tensor t) { delete t; }

tt_error tt_shallow_copy(tt_tensor t, tt_tensor *out) {
  TT_BEGIN("shallow_copy")
  *out = wrap(T(t));
  TT_END
}

tt_error tt_info(tt_tensor t, int *dtype, int *device_type, int *device_index, int *ndim,
                 int64_t *shape, int *requires_grad) {
  TT_BEGIN("info")
  const at::Tensor &x = T(t);
  TORCH_CHECK(x.defined(), "undefined tensor");
  TORCH_CHECK(x.dim() <= 16, "tensors of more than 16 dimensions are not supported");
  *dtype = ttshim::dtype_code(x.scalar_type());
  *device_type = x.device().is_cuda() ? TT_CUDA : TT_CPU;
  *device_index = x.device().has_index() ? x.device().index() : 0;
  *ndim = static_cast<int>(x.dim());
  for (int64_t i = 0; i < x.dim(); i++) shape[i] = x.size(i);
  *requires_grad = x.requires_grad() ? 1 : 0;
  TT_END
}

tt_error tt_from_data(const void *data, const int64_t *shape, int ndim, int dtype,
                      int device_type, int device_index, tt_tensor *out) {
  TT_BEGIN("from_data")
  auto opts = at::TensorOptions().dtype(ttshim::scalar_type(dtype));
  at::Tensor x = at::empty(ttshim::ints(shape, ndim), opts);
  if (x.numel() > 0) std::memcpy(x.data_ptr(), data, x.nbytes());
  if (device_type != TT_CPU) x = x.to(ttshim::device(device_type, device_index));
  *out = wrap(x);
  TT_END
}

tt_error tt_copy_out(tt_tensor t, void *dst, int64_t nbytes) {
  TT_BEGIN("copy_out")
  c10::NoGradGuard no_grad;
  at::Tensor x = T(t).detach().to(at::kCPU).contiguous();
  TORCH_CHECK(static_cast<int64_t>(x.nbytes()) == nbytes, "destination holds ", nbytes,
              " bytes, tensor has ", x.nbytes());
  if (nbytes > 0) std::memcpy(dst, x.data_ptr(), nbytes);
  TT_END
}

tt_error tt_item(tt_tensor t, double *out) {
  TT_BEGIN("item")
  const at::Tensor &x = T(t);
  TORCH_CHECK(x.numel() == 1, "item needs a tensor with one element, got ", x.numel());
  *out = x.item<double>();
  TT_END
}

tt_error tt_full(const int64_t *shape, int ndim, double value, int dtype, int device_type,
                 int device_index, int mode, tt_tensor *out) {
  TT_BEGIN("full")
  ttshim::ModeGuard g(mode);
  *out = wrap(at::full(ttshim::ints(shape, ndim), value,
                       ttshim::options(dtype, device_type, device_index)));
  TT_END
}

tt_error tt_full_like(tt_tensor t, double value, int mode, tt_tensor *out) {
  TT_BEGIN("full_like")
  ttshim::ModeGuard g(mode);
  *out = wrap(at::full_like(T(t), value));
  TT_END
}

tt_error tt_arange(double start, double end, double step, int dtype, int device_type,
                   int device_index, int mode, tt_tensor *out) {
  TT_BEGIN("arange")
  ttshim::ModeGuard g(mode);
  *out = wrap(at::arange(start, end, step, ttshim::options(dtype, device_type, device_index)));
  TT_END
}

tt_error tt_generator_new(uint64_t seed, int device_type, int device_index, tt_generator *out) {
  TT_BEGIN("generator")
  // Numbers are always drawn on the CPU and moved, so a seed gives the same
  // numbers on every device.
  (void)device_type;
  (void)device_index;
  *out = new tt_generator_s{at::make_generator<at::CPUGeneratorImpl>(seed)};
  TT_END
}

void tt_generator_free(tt_generator g) { delete g; }

tt_error tt_generator_get_state(tt_generator g, tt_tensor *out) {
  TT_BEGIN("generator_get_state")
  std::lock_guard<std::mutex> lock(g->g.mutex());
  *out = wrap(g->g.get_state());
  TT_END
}

tt_error tt_generator_set_state(tt_generator g, tt_tensor state) {
  TT_BEGIN("generator_set_state")
  std::lock_guard<std::mutex> lock(g->g.mutex());
  g->g.set_state(T(state));
  TT_END
}

// The random kernels lock the generator themselves.
static void fill_random(at::Tensor &x, at::Generator &gen, int kind, double a, double b) {
  if (kind == 0) {
    x.uniform_(a, b, gen);
  } else {
    TORCH_CHECK(kind == 1, "unknown distribution ", kind);
    x.normal_(a, b, gen);
  }
}

tt_error tt_random(tt_generator g, int kind, const int64_t *shape, int ndim, double a, double b,
                   int dtype, int device_type, int device_index, int mode, tt_tensor *out) {
  TT_BEGIN(kind == 0 ? "rand" : "randn")
  TORCH_CHECK(g != nullptr, "generator is nil or closed");
  ttshim::ModeGuard guard(mode);
  at::Tensor x = at::empty(ttshim::ints(shape, ndim), ttshim::options(dtype, TT_CPU, 0));
  fill_random(x, g->g, kind, a, b);
  if (device_type != TT_CPU) x = x.to(ttshim::device(device_type, device_index));
  *out = wrap(x);
  TT_END
}

tt_error tt_random_(tt_generator g, int kind, tt_tensor t, double a, double b) {
  TT_BEGIN(kind == 0 ? "uniform_" : "normal_")
  TORCH_CHECK(g != nullptr, "generator is nil or closed");
  c10::NoGradGuard no_grad;
  at::Tensor x = T(t);
  if (x.device().is_cpu()) {
    fill_random(x, g->g, kind, a, b);
  } else {
    at::Tensor cpu = at::empty(x.sizes(), x.options().device(at::kCPU));
    fill_random(cpu, g->g, kind, a, b);
    x.copy_(cpu);
  }
  TT_END
}

tt_error tt_to(tt_tensor t, int dtype, int device_type, int device_index, int mode,
               tt_tensor *out) {
  TT_BEGIN("to")
  ttshim::ModeGuard g(mode);
  const at::Tensor &x = T(t);
  at::ScalarType st = dtype < 0 ? x.scalar_type() : ttshim::scalar_type(dtype);
  at::Device dev = device_type < 0 ? x.device() : ttshim::device(device_type, device_index);
  *out = wrap(x.to(dev, st));
  TT_END
}

tt_error tt_clone(tt_tensor t, int mode, tt_tensor *out) {
  TT_BEGIN("clone")
  ttshim::ModeGuard g(mode);
  *out = wrap(T(t).clone());
  TT_END
}

tt_error tt_contiguous(tt_tensor t, int channels_last, int mode, tt_tensor *out) {
  TT_BEGIN("contiguous")
  ttshim::ModeGuard g(mode);
  *out = wrap(T(t).contiguous(channels_last ? at::MemoryFormat::ChannelsLast
                                            : at::MemoryFormat::Contiguous));
  TT_END
}

tt_error tt_set_requires_grad(tt_tensor t, int on) {
  TT_BEGIN("set_requires_grad")
  T(t).set_requires_grad(on != 0);
  TT_END
}

tt_error tt_backward(tt_tensor t, tt_tensor grad) {
  TT_BEGIN("backward")
  c10::AutoGradMode on(true);
  const at::Tensor &x = T(t);
  TORCH_CHECK(x.requires_grad(), "tensor does not require grad (built without parameters "
                                 "that require grad, or in a no-grad scope)");
  if (grad == nullptr) {
    x.backward();
  } else {
    x.backward(T(grad));
  }
  TT_END
}

tt_error tt_grad(tt_tensor t, tt_tensor *out) {
  TT_BEGIN("grad")
  const at::Tensor &g = T(t).grad();
  *out = g.defined() ? wrap(g) : nullptr;
  TT_END
}

tt_error tt_zero_grad(tt_tensor t) {
  TT_BEGIN("zero_grad")
  // As PyTorch's zero_grad(set_to_none=True): the next backward allocates afresh.
  T(t).mutable_grad().reset();
  TT_END
}

tt_error tt_detach(tt_tensor t, tt_tensor *out) {
  TT_BEGIN("detach")
  *out = wrap(T(t).detach());
  TT_END
}

tt_error tt_copy_(tt_tensor dst, tt_tensor src) {
  TT_BEGIN("copy_")
  c10::NoGradGuard no_grad;
  at::Tensor d = T(dst);
  const at::Tensor &s = T(src);
  TORCH_CHECK(d.sizes() == s.sizes(), "shape mismatch: destination ", d.sizes(), ", source ",
              s.sizes());
  d.copy_(s);
  TT_END
}

tt_error tt_adam_step(const tt_tensor *params, const tt_tensor *exp_avg, const tt_tensor *exp_avg_sq,
                      int64_t *steps, int n, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int decoupled) {
  TT_BEGIN(decoupled ? "adamw_step" : "adam_step")
  c10::NoGradGuard no_grad;
  for (int i = 0; i < n; i++) {
    at::Tensor p = T(params[i]);
    at::Tensor grad = p.grad();
    if (!grad.defined()) continue;
    const int64_t step = ++steps[i];
    // The same sequence of tensor operations and the same double-precision
    // scalars as torch.optim.Adam/AdamW (PyTorch 1.13, single-tensor path).
    const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
    const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    at::Tensor m = T(exp_avg[i]);
    at::Tensor v = T(exp_avg_sq[i]);
    if (decoupled) {
      p.mul_(1 - lr * weight_decay);
    } else if (weight_decay != 0) {
      grad = grad.add(p, weight_decay);
    }
    m.mul_(beta1).add_(grad, 1 - beta1);
    v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    at::Tensor denom = (v.sqrt() / bias_correction2_sqrt).add_(eps);
    p.addcdiv_(m, denom, -step_size);
  }
  TT_END
}

tt_error tt_ema_update(const tt_tensor *ema, const tt_tensor *params, int n, double decay) {
  TT_BEGIN("ema_update")
  c10::NoGradGuard no_grad;
  for (int i = 0; i < n; i++) {
    at::Tensor e = T(ema[i]);
    e.mul_(decay).add_(T(params[i]).detach(), 1 - decay);
  }
  TT_END
}

}  // extern "C"
