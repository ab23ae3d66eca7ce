// shim.h: the raw C ABI over libtorch. Its only user is the Go package in
// this folder (internal/torch, package capi), which wraps each function once;
// the public tensor API (nets/torch) is built on that package.
//
// Rules (see ../../../shared/spec/architecture.md, "The binding"):
//   - every function returns its error by value (NULL = success) and writes its
//     results through out-parameters; no error state is kept anywhere else;
//   - the autograd mode of the call is passed in (TT_MODE_*) and applied by a
//     guard inside the call;
//   - data coming from Go is copied into libtorch-owned memory before the call
//     returns; data going to Go is copied out into memory Go owns.
#ifndef GOMIOIR_TORCH_SHIM_H
#define GOMIOIR_TORCH_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tt_tensor_s *tt_tensor;
typedef struct tt_generator_s *tt_generator;

enum { TT_ERR_GENERIC = 0, TT_ERR_OOM = 1 };
typedef struct tt_error_s {
  int kind;
  char *msg;
} *tt_error;
void tt_error_free(tt_error e);

enum { TT_MODE_GRAD = 0, TT_MODE_NO_GRAD = 1, TT_MODE_INFERENCE = 2 };

enum {
  TT_FLOAT32 = 0,
  TT_FLOAT64 = 1,
  TT_INT64 = 2,
  TT_UINT8 = 3,
  TT_BOOL = 4,
  TT_INT32 = 5,
  TT_FLOAT16 = 6,
};
enum { TT_CPU = 0, TT_CUDA = 1 };

// ---- process-wide state ----
tt_error tt_version(char **out);  // caller frees with free()
void tt_set_num_threads(int n);
tt_error tt_num_threads(int *out);          // threads a parallel op on the calling thread uses
tt_error tt_probe_threads(int64_t work, int *distinct);  // runs a parallel_for and counts its threads
tt_error tt_cuda_device_count(int *out);
tt_error tt_cuda_synchronize(int device_index);  // waits for all work queued on the GPU
void tt_manual_seed(uint64_t seed);
// Asks glibc to keep freed memory mapped (no mmap for large blocks, no trim),
// so the large temporaries of a forward pass are reused instead of being
// returned to the kernel and faulted in again. Process-wide. 1 on success.
int tt_malloc_keep_mapped(void);
void tt_malloc_trim(void);
// The counting allocator keeps freed blocks of 1 MiB and more mapped for
// reuse, up to this many bytes (default 1 GiB; 0 keeps none).
void tt_set_cpu_cache_limit(int64_t bytes);
int64_t tt_cpu_cached_bytes(void);
// Makes libtorch's CPU tensors come from an allocator that counts their
// bytes (process-wide, from now on). 1 on success.
int tt_count_cpu_memory(void);
// Bytes of live CPU tensor storage counted so far, their high-water mark
// number mark (0 or 1, reset independently) and the largest block allocated
// since that mark's reset; reset_peak resets the mark (to the current bytes,
// and the largest block to 0) after reading.
void tt_cpu_memory(int64_t *current, int64_t *peak, int64_t *largest, int mark, int reset_peak);
// Float32 precision on CUDA: whether cuDNN convolutions and cuBLAS matrix
// products may round their inputs to TF32 (Ampere and later GPUs).
tt_error tt_set_allow_tf32(int conv, int matmul);
tt_error tt_allow_tf32(int *conv, int *matmul);

// ---- lifetime, metadata, data transfer ----
void tt_free(tt_tensor t);
tt_error tt_shallow_copy(tt_tensor t, tt_tensor *out);
tt_error tt_info(tt_tensor t, int *dtype, int *device_type, int *device_index, int *ndim,
                 int64_t *shape /* 16 */, int *requires_grad);
tt_error tt_from_data(const void *data, const int64_t *shape, int ndim, int dtype,
                      int device_type, int device_index, tt_tensor *out);
tt_error tt_copy_out(tt_tensor t, void *dst, int64_t nbytes);
tt_error tt_item(tt_tensor t, double *out);

// ---- creation ----
tt_error tt_full(const int64_t *shape, int ndim, double value, int dtype, int device_type,
                 int device_index, int mode, tt_tensor *out);
// A tensor of t's shape, dtype and device filled with value (torch.full_like).
tt_error tt_full_like(tt_tensor t, double value, int mode, tt_tensor *out);
tt_error tt_arange(double start, double end, double step, int dtype, int device_type,
                   int device_index, int mode, tt_tensor *out);
tt_error tt_generator_new(uint64_t seed, int device_type, int device_index, tt_generator *out);
void tt_generator_free(tt_generator g);
tt_error tt_generator_get_state(tt_generator g, tt_tensor *out);
tt_error tt_generator_set_state(tt_generator g, tt_tensor state);
// kind: 0 uniform [a,b), 1 normal (mean a, std b)
tt_error tt_random(tt_generator g, int kind, const int64_t *shape, int ndim, double a, double b,
                   int dtype, int device_type, int device_index, int mode, tt_tensor *out);
tt_error tt_random_(tt_generator g, int kind, tt_tensor t, double a, double b);

// ---- conversion ----
tt_error tt_to(tt_tensor t, int dtype, int device_type, int device_index, int mode,
               tt_tensor *out);
tt_error tt_clone(tt_tensor t, int mode, tt_tensor *out);
tt_error tt_contiguous(tt_tensor t, int channels_last, int mode, tt_tensor *out);

// ---- autograd ----
tt_error tt_set_requires_grad(tt_tensor t, int on);
tt_error tt_backward(tt_tensor t, tt_tensor grad /* may be NULL */);
tt_error tt_grad(tt_tensor t, tt_tensor *out /* NULL when undefined */);
tt_error tt_zero_grad(tt_tensor t);
tt_error tt_detach(tt_tensor t, tt_tensor *out);
tt_error tt_copy_(tt_tensor dst, tt_tensor src);  // in place, without autograd

// ---- elementwise ----
enum {
  TT_ADD = 0, TT_SUB, TT_MUL, TT_DIV, TT_POW, TT_MAXIMUM, TT_MINIMUM,
  TT_EQ, TT_NE, TT_LT, TT_LE, TT_GT, TT_GE,
};
tt_error tt_binary(int op, tt_tensor a, tt_tensor b, int mode, tt_tensor *out);
tt_error tt_binary_scalar(int op, tt_tensor a, double b, int mode, tt_tensor *out);
tt_error tt_rsub_scalar(double a, tt_tensor b, int mode, tt_tensor *out);  // a - b
enum {
  TT_NEG = 0, TT_EXP, TT_LOG, TT_SQRT, TT_RSQRT, TT_ABS, TT_SIGMOID, TT_TANH, TT_RELU,
  TT_GELU, TT_GELU_TANH, TT_SILU, TT_SIN, TT_COS, TT_FLOOR, TT_ROUND, TT_SIGN, TT_ERFINV,
  TT_RECIPROCAL, TT_LOGICAL_NOT,
};
tt_error tt_unary(int op, tt_tensor a, int mode, tt_tensor *out);
tt_error tt_leaky_relu(tt_tensor a, double slope, int mode, tt_tensor *out);
tt_error tt_clamp(tt_tensor a, double lo, double hi, int has_lo, int has_hi, int mode,
                  tt_tensor *out);
tt_error tt_where(tt_tensor cond, tt_tensor a, tt_tensor b, int mode, tt_tensor *out);
// a + value * t1 * t2, broadcast, in one pass (one allocation).
tt_error tt_addcmul(tt_tensor a, tt_tensor t1, tt_tensor t2, double value, int mode,
                    tt_tensor *out);
tt_error tt_masked_fill(tt_tensor a, tt_tensor mask, double value, int mode, tt_tensor *out);
tt_error tt_add_scaled(tt_tensor a, tt_tensor b, double alpha, int mode, tt_tensor *out);

// ---- reductions, normalisation ----
enum { TT_SUM = 0, TT_MEAN, TT_AMAX, TT_AMIN, TT_VAR, TT_STD };
// ndims == 0 reduces over all dimensions. unbiased applies to VAR/STD.
tt_error tt_reduce(int op, tt_tensor a, const int64_t *dims, int ndims, int keepdim,
                   int unbiased, int mode, tt_tensor *out);
tt_error tt_argmax(tt_tensor a, int64_t dim, int keepdim, int mode, tt_tensor *out);
tt_error tt_softmax(tt_tensor a, int64_t dim, int log, int mode, tt_tensor *out);
tt_error tt_layer_norm(tt_tensor a, const int64_t *shape, int ndim, tt_tensor w, tt_tensor b,
                       double eps, int mode, tt_tensor *out);
tt_error tt_normalize(tt_tensor a, double p, int64_t dim, double eps, int mode, tt_tensor *out);

// ---- linear algebra, convolution ----
tt_error tt_matmul(tt_tensor a, tt_tensor b, int mode, tt_tensor *out);
tt_error tt_bmm(tt_tensor a, tt_tensor b, int mode, tt_tensor *out);
tt_error tt_linear(tt_tensor x, tt_tensor w, tt_tensor b /* may be NULL */, int mode,
                   tt_tensor *out);
tt_error tt_conv2d(tt_tensor x, tt_tensor w, tt_tensor b, const int64_t *stride,
                   const int64_t *padding, const int64_t *dilation, int64_t groups, int mode,
                   tt_tensor *out);
// Activations fused into tt_conv2d_fused.
enum { TT_ACT_NONE = 0, TT_ACT_RELU, TT_ACT_LEAKY_RELU };
// tt_conv2d_fused is act(conv2d(x, w, b)) + residual (residual may be NULL,
// else of the output's exact shape), computed in place on the fresh output.
tt_error tt_conv2d_fused(tt_tensor x, tt_tensor w, tt_tensor b, const int64_t *stride,
                         const int64_t *padding, const int64_t *dilation, int64_t groups, int act,
                         double slope, tt_tensor residual, int mode, tt_tensor *out);
tt_error tt_conv_transpose2d(tt_tensor x, tt_tensor w, tt_tensor b, const int64_t *stride,
                             const int64_t *padding, const int64_t *output_padding,
                             const int64_t *dilation, int64_t groups, int mode, tt_tensor *out);
tt_error tt_embedding(tt_tensor weight, tt_tensor indices, int mode, tt_tensor *out);

// ---- shape ----
tt_error tt_reshape(tt_tensor a, const int64_t *shape, int ndim, int mode, tt_tensor *out);
tt_error tt_permute(tt_tensor a, const int64_t *dims, int ndim, int mode, tt_tensor *out);
tt_error tt_transpose(tt_tensor a, int64_t d0, int64_t d1, int mode, tt_tensor *out);
tt_error tt_expand(tt_tensor a, const int64_t *shape, int ndim, int mode, tt_tensor *out);
tt_error tt_squeeze(tt_tensor a, int64_t dim, int mode, tt_tensor *out);
tt_error tt_unsqueeze(tt_tensor a, int64_t dim, int mode, tt_tensor *out);
tt_error tt_flatten(tt_tensor a, int64_t start, int64_t end, int mode, tt_tensor *out);
tt_error tt_narrow(tt_tensor a, int64_t dim, int64_t start, int64_t length, int mode,
                   tt_tensor *out);
tt_error tt_index_select(tt_tensor a, int64_t dim, tt_tensor index, int mode, tt_tensor *out);
tt_error tt_cat(const tt_tensor *ts, int n, int64_t dim, int stack, int mode, tt_tensor *out);
// writes up to cap tensors to outs and their count to n
tt_error tt_chunk(tt_tensor a, int64_t chunks, int64_t dim, int mode, tt_tensor *outs, int cap,
                  int *n);
tt_error tt_roll(tt_tensor a, const int64_t *shifts, const int64_t *dims, int n, int mode,
                 tt_tensor *out);
enum { TT_PAD_CONSTANT = 0, TT_PAD_REFLECT, TT_PAD_REPLICATE, TT_PAD_CIRCULAR };
tt_error tt_pad(tt_tensor a, const int64_t *pad, int npad, int pad_mode, double value, int mode,
                tt_tensor *out);
tt_error tt_pixel_shuffle(tt_tensor a, int64_t factor, int unshuffle, int mode, tt_tensor *out);
enum { TT_INTERP_NEAREST = 0, TT_INTERP_BILINEAR, TT_INTERP_BICUBIC };
// scale_h/scale_w <= 0 means "not given" (coordinates from the output size).
tt_error tt_interpolate(tt_tensor a, int64_t out_h, int64_t out_w, int interp, int align_corners,
                        double scale_h, double scale_w, int mode, tt_tensor *out);
enum { TT_POOL_AVG = 0, TT_POOL_MAX };
tt_error tt_pool2d(tt_tensor a, int kind, const int64_t *kernel, const int64_t *stride,
                   const int64_t *padding, int mode, tt_tensor *out);
tt_error tt_adaptive_avg_pool2d(tt_tensor a, int64_t out_h, int64_t out_w, int mode,
                                tt_tensor *out);

// ---- losses ----
enum { TT_LOSS_L1 = 0, TT_LOSS_MSE };
tt_error tt_loss(int kind, tt_tensor pred, tt_tensor target, int mode, tt_tensor *out);
// target: int64 class indices (N) or float probabilities (N, C)
tt_error tt_cross_entropy(tt_tensor logits, tt_tensor target, int mode, tt_tensor *out);

// ---- optimisation ----
// One Adam/AdamW step over n parameters with PyTorch's update rule.
// Parameters without a gradient are skipped.
// steps[i] counts parameter i's updates; it is incremented for every
// parameter that has a gradient, as PyTorch's per-parameter state['step'].
tt_error tt_adam_step(const tt_tensor *params, const tt_tensor *exp_avg, const tt_tensor *exp_avg_sq,
                      int64_t *steps, int n, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int decoupled);
// ema = ema*decay + p*(1-decay), in place, without autograd.
tt_error tt_ema_update(const tt_tensor *ema, const tt_tensor *params, int n, double decay);


// ---- distributed (c10d): shim_dist.cpp ----
typedef struct tt_store_s *tt_store;
typedef struct tt_group_s *tt_group;
enum { TT_GLOO = 0, TT_NCCL = 1 };
enum { TT_REDUCE_SUM = 0, TT_REDUCE_MEAN = 1 };
tt_error tt_dist_available(int backend, int *out);
// A TCPStore: the server (rank 0) listens on port; clients connect to host:port,
// retrying until timeout_ms.
tt_error tt_store_tcp(const char *host, int port, int is_server, int world, int64_t timeout_ms,
                      tt_store *out);
void tt_store_free(tt_store s);
tt_error tt_store_set(tt_store s, const char *key, const uint8_t *val, int64_t n);
// Waits up to timeout_ms for key; *val is malloc'ed (caller frees with free()).
tt_error tt_store_get(tt_store s, const char *key, int64_t timeout_ms, uint8_t **val, int64_t *n);
// A process group over the store's keys under prefix. Gloo binds to the
// network interface iface when given, else to the address host resolves to
// when given, else to the one the machine's hostname resolves to.
tt_error tt_group_new(tt_store s, const char *prefix, int backend, int rank, int world,
                      int64_t timeout_ms, const char *iface, const char *host, tt_group *out);
void tt_group_free(tt_group g);
// Collectives over ts in buckets of at most bucket_bytes, in place.
tt_error tt_group_allreduce(tt_group g, tt_tensor *ts, int n, int op, int64_t bucket_bytes);
tt_error tt_group_broadcast(tt_group g, tt_tensor *ts, int n, int root, int64_t bucket_bytes);
tt_error tt_group_barrier(tt_group g);

#ifdef __cplusplus
}
#endif
#endif
