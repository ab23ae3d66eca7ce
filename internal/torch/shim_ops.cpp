// shim_ops.cpp: the tensor operations the backbones need, one C function each
// (or one per family, selected by an enum).
#include <vector>

#include "shim_internal.h"

using ttshim::ints;
using ttshim::opt;
using ttshim::T;
using ttshim::wrap;

#define TT_OP(opname, mode) \
  TT_BEGIN(opname)          \
  ttshim::ModeGuard tt_guard_(mode);

extern "C" {

// ---- elementwise ----

static const char *binary_name(int op) {
  static const char *names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                "eq",  "ne",  "lt",  "le",  "gt",  "ge"};
  return (op >= 0 && op <= TT_GE) ? names[op] : "binary";
}

static at::Tensor binary(int op, const at::Tensor &a, const at::Tensor &b) {
  switch (op) {
    case TT_ADD: return at::add(a, b);
    case TT_SUB: return at::sub(a, b);
    case TT_MUL: return at::mul(a, b);
    case TT_DIV: return at::div(a, b);
    case TT_POW: return at::pow(a, b);
    case TT_MAXIMUM: return at::maximum(a, b);
    case TT_MINIMUM: return at::minimum(a, b);
    case TT_EQ: return at::eq(a, b);
    case TT_NE: return at::ne(a, b);
    case TT_LT: return at::lt(a, b);
    case TT_LE: return at::le(a, b);
    case TT_GT: return at::gt(a, b);
    case TT_GE: return at::ge(a, b);
  }
  TORCH_CHECK(false, "unknown binary op ", op);
}

tt_error tt_binary(int op, tt_tensor a, tt_tensor b, int mode, tt_tensor *out) {
  TT_OP(binary_name(op), mode)
  *out = wrap(binary(op, T(a), T(b)));
  TT_END
}

tt_error tt_binary_scalar(int op, tt_tensor a, double b, int mode, tt_tensor *out) {
  TT_OP(binary_name(op), mode)
  const at::Tensor &x = T(a);
  at::Scalar s(b);
  at::Tensor r;
  switch (op) {
    case TT_ADD: r = at::add(x, s); break;
    case TT_SUB: r = at::sub(x, s); break;
    case TT_MUL: r = at::mul(x, s); break;
    case TT_DIV: r = at::div(x, s); break;
    case TT_POW: r = at::pow(x, s); break;
    case TT_MAXIMUM: r = at::clamp_min(x, s); break;
    case TT_MINIMUM: r = at::clamp_max(x, s); break;
    case TT_EQ: r = at::eq(x, s); break;
    case TT_NE: r = at::ne(x, s); break;
    case TT_LT: r = at::lt(x, s); break;
    case TT_LE: r = at::le(x, s); break;
    case TT_GT: r = at::gt(x, s); break;
    case TT_GE: r = at::ge(x, s); break;
    default: TORCH_CHECK(false, "unknown binary op ", op);
  }
  *out = wrap(r);
  TT_END
}

tt_error tt_rsub_scalar(double a, tt_tensor b, int mode, tt_tensor *out) {
  TT_OP("rsub", mode)
  *out = wrap(at::rsub(T(b), at::Scalar(a)));
  TT_END
}

static const char *unary_name(int op) {
  static const char *names[] = {"neg",  "exp",      "log",   "sqrt",  "rsqrt", "abs",  "sigmoid",
                                "tanh", "relu",     "gelu",  "gelu",  "silu",  "sin",  "cos",
                                "floor", "round",   "sign",  "erfinv", "reciprocal", "logical_not"};
  return (op >= 0 && op <= TT_LOGICAL_NOT) ? names[op] : "unary";
}

tt_error tt_unary(int op, tt_tensor a, int mode, tt_tensor *out) {
  TT_OP(unary_name(op), mode)
  const at::Tensor &x = T(a);
  at::Tensor r;
  switch (op) {
    case TT_NEG: r = at::neg(x); break;
    case TT_EXP: r = at::exp(x); break;
    case TT_LOG: r = at::log(x); break;
    case TT_SQRT: r = at::sqrt(x); break;
    case TT_RSQRT: r = at::rsqrt(x); break;
    case TT_ABS: r = at::abs(x); break;
    case TT_SIGMOID: r = at::sigmoid(x); break;
    case TT_TANH: r = at::tanh(x); break;
    case TT_RELU: r = at::relu(x); break;
    case TT_GELU: r = at::gelu(x, "none"); break;
    case TT_GELU_TANH: r = at::gelu(x, "tanh"); break;
    case TT_SILU: r = at::silu(x); break;
    case TT_SIN: r = at::sin(x); break;
    case TT_COS: r = at::cos(x); break;
    case TT_FLOOR: r = at::floor(x); break;
    case TT_ROUND: r = at::round(x); break;
    case TT_SIGN: r = at::sign(x); break;
    case TT_ERFINV: r = at::erfinv(x); break;
    case TT_RECIPROCAL: r = at::reciprocal(x); break;
    case TT_LOGICAL_NOT: r = at::logical_not(x); break;
    default: TORCH_CHECK(false, "unknown unary op ", op);
  }
  *out = wrap(r);
  TT_END
}

tt_error tt_leaky_relu(tt_tensor a, double slope, int mode, tt_tensor *out) {
  TT_OP("leaky_relu", mode)
  *out = wrap(at::leaky_relu(T(a), slope));
  TT_END
}

tt_error tt_clamp(tt_tensor a, double lo, double hi, int has_lo, int has_hi, int mode,
                  tt_tensor *out) {
  TT_OP("clamp", mode)
  c10::optional<at::Scalar> l, h;
  if (has_lo) l = at::Scalar(lo);
  if (has_hi) h = at::Scalar(hi);
  *out = wrap(at::clamp(T(a), l, h));
  TT_END
}

tt_error tt_where(tt_tensor cond, tt_tensor a, tt_tensor b, int mode, tt_tensor *out) {
  TT_OP("where", mode)
  *out = wrap(at::where(T(cond), T(a), T(b)));
  TT_END
}

tt_error tt_addcmul(tt_tensor a, tt_tensor t1, tt_tensor t2, double value, int mode,
                    tt_tensor *out) {
  TT_OP("addcmul", mode)
  *out = wrap(at::addcmul(T(a), T(t1), T(t2), value));
  TT_END
}

tt_error tt_masked_fill(tt_tensor a, tt_tensor mask, double value, int mode, tt_tensor *out) {
  TT_OP("masked_fill", mode)
  *out = wrap(T(a).masked_fill(T(mask), at::Scalar(value)));
  TT_END
}

tt_error tt_add_scaled(tt_tensor a, tt_tensor b, double alpha, int mode, tt_tensor *out) {
  TT_OP("add", mode)
  *out = wrap(at::add(T(a), T(b), at::Scalar(alpha)));
  TT_END
}

// ---- reductions, normalisation ----

tt_error tt_reduce(int op, tt_tensor a, const int64_t *dims, int ndims, int keepdim,
                   int unbiased, int mode, tt_tensor *out) {
  static const char *names[] = {"sum", "mean", "amax", "amin", "var", "std"};
  TT_OP((op >= 0 && op <= TT_STD) ? names[op] : "reduce", mode)
  const at::Tensor &x = T(a);
  std::vector<int64_t> all;
  at::IntArrayRef d = ints(dims, ndims);
  if (ndims == 0) {
    for (int64_t i = 0; i < x.dim(); i++) all.push_back(i);
    d = all;
  }
  at::Tensor r;
  switch (op) {
    case TT_SUM: r = at::sum(x, d, keepdim != 0); break;
    case TT_MEAN: r = at::mean(x, d, keepdim != 0); break;
    case TT_AMAX: r = at::amax(x, d, keepdim != 0); break;
    case TT_AMIN: r = at::amin(x, d, keepdim != 0); break;
    case TT_VAR: r = at::var(x, d, unbiased != 0, keepdim != 0); break;
    case TT_STD: r = at::std(x, d, unbiased != 0, keepdim != 0); break;
    default: TORCH_CHECK(false, "unknown reduction ", op);
  }
  *out = wrap(r);
  TT_END
}

tt_error tt_argmax(tt_tensor a, int64_t dim, int keepdim, int mode, tt_tensor *out) {
  TT_OP("argmax", mode)
  *out = wrap(at::argmax(T(a), dim, keepdim != 0));
  TT_END
}

tt_error tt_softmax(tt_tensor a, int64_t dim, int log, int mode, tt_tensor *out) {
  TT_OP(log ? "log_softmax" : "softmax", mode)
  *out = wrap(log ? at::log_softmax(T(a), dim) : at::softmax(T(a), dim));
  TT_END
}

tt_error tt_layer_norm(tt_tensor a, const int64_t *shape, int ndim, tt_tensor w, tt_tensor b,
                       double eps, int mode, tt_tensor *out) {
  TT_OP("layer_norm", mode)
  *out = wrap(at::layer_norm(T(a), ints(shape, ndim), opt(w), opt(b), eps));
  TT_END
}

tt_error tt_normalize(tt_tensor a, double p, int64_t dim, double eps, int mode, tt_tensor *out) {
  TT_OP("normalize", mode)
  // torch.nn.functional.normalize: x / max(||x||_p, eps) along dim.
  const at::Tensor &x = T(a);
  at::Tensor denom = x.norm(p, dim, true).clamp_min(eps).expand_as(x);
  *out = wrap(x / denom);
  TT_END
}

// ---- linear algebra, convolution ----

tt_error tt_matmul(tt_tensor a, tt_tensor b, int mode, tt_tensor *out) {
  TT_OP("matmul", mode)
  *out = wrap(at::matmul(T(a), T(b)));
  TT_END
}

tt_error tt_bmm(tt_tensor a, tt_tensor b, int mode, tt_tensor *out) {
  TT_OP("bmm", mode)
  *out = wrap(at::bmm(T(a), T(b)));
  TT_END
}

tt_error tt_linear(tt_tensor x, tt_tensor w, tt_tensor b, int mode, tt_tensor *out) {
  TT_OP("linear", mode)
  *out = wrap(at::linear(T(x), T(w), opt(b)));
  TT_END
}

tt_error tt_conv2d(tt_tensor x, tt_tensor w, tt_tensor b, const int64_t *stride,
                   const int64_t *padding, const int64_t *dilation, int64_t groups, int mode,
                   tt_tensor *out) {
  TT_OP("conv2d", mode)
  *out = wrap(at::conv2d(T(x), T(w), opt(b), ints(stride, 2), ints(padding, 2),
                         ints(dilation, 2), groups));
  TT_END
}

tt_error tt_conv2d_fused(tt_tensor x, tt_tensor w, tt_tensor b, const int64_t *stride,
                         const int64_t *padding, const int64_t *dilation, int64_t groups, int act,
                         double slope, tt_tensor residual, int mode, tt_tensor *out) {
  TT_OP("conv2d", mode)
  // The epilogue works in place on the convolution's own fresh output (no
  // one else holds it), saving one feature-map allocation per step; autograd
  // allows it because the convolution's backward does not read its output.
  at::Tensor r = at::conv2d(T(x), T(w), opt(b), ints(stride, 2), ints(padding, 2),
                            ints(dilation, 2), groups);
  switch (act) {
    case TT_ACT_NONE: break;
    case TT_ACT_RELU: r.relu_(); break;
    case TT_ACT_LEAKY_RELU: at::leaky_relu_(r, slope); break;
    default: TORCH_CHECK(false, "unknown activation ", act);
  }
  if (residual) {
    const at::Tensor &res = T(residual);
    TORCH_CHECK(res.sizes() == r.sizes(), "residual of shape ", res.sizes(),
                " does not match the convolution's output ", r.sizes());
    // The in-place activation's backward reads its output: when gradients
    // are recorded after an activation, the sum gets its own tensor.
    if (act != TT_ACT_NONE && r.requires_grad()) {
      r = r + res;
    } else {
      r.add_(res);
    }
  }
  *out = wrap(std::move(r));
  TT_END
}

tt_error tt_conv_transpose2d(tt_tensor x, tt_tensor w, tt_tensor b, const int64_t *stride,
                             const int64_t *padding, const int64_t *output_padding,
                             const int64_t *dilation, int64_t groups, int mode, tt_tensor *out) {
  TT_OP("conv_transpose2d", mode)
  *out = wrap(at::conv_transpose2d(T(x), T(w), opt(b), ints(stride, 2), ints(padding, 2),
                                   ints(output_padding, 2), groups, ints(dilation, 2)));
  TT_END
}

tt_error tt_embedding(tt_tensor weight, tt_tensor indices, int mode, tt_tensor *out) {
  TT_OP("embedding", mode)
  *out = wrap(at::embedding(T(weight), T(indices)));
  TT_END
}

// ---- shape ----

tt_error tt_reshape(tt_tensor a, const int64_t *shape, int ndim, int mode, tt_tensor *out) {
  TT_OP("reshape", mode)
  *out = wrap(T(a).reshape(ints(shape, ndim)));
  TT_END
}

tt_error tt_permute(tt_tensor a, const int64_t *dims, int ndim, int mode, tt_tensor *out) {
  TT_OP("permute", mode)
  *out = wrap(T(a).permute(ints(dims, ndim)));
  TT_END
}

tt_error tt_transpose(tt_tensor a, int64_t d0, int64_t d1, int mode, tt_tensor *out) {
  TT_OP("transpose", mode)
  *out = wrap(T(a).transpose(d0, d1));
  TT_END
}

tt_error tt_expand(tt_tensor a, const int64_t *shape, int ndim, int mode, tt_tensor *out) {
  TT_OP("expand", mode)
  *out = wrap(T(a).expand(ints(shape, ndim)));
  TT_END
}

tt_error tt_squeeze(tt_tensor a, int64_t dim, int mode, tt_tensor *out) {
  TT_OP("squeeze", mode)
  *out = wrap(T(a).squeeze(dim));
  TT_END
}

tt_error tt_unsqueeze(tt_tensor a, int64_t dim, int mode, tt_tensor *out) {
  TT_OP("unsqueeze", mode)
  *out = wrap(T(a).unsqueeze(dim));
  TT_END
}

tt_error tt_flatten(tt_tensor a, int64_t start, int64_t end, int mode, tt_tensor *out) {
  TT_OP("flatten", mode)
  *out = wrap(T(a).flatten(start, end));
  TT_END
}

tt_error tt_narrow(tt_tensor a, int64_t dim, int64_t start, int64_t length, int mode,
                   tt_tensor *out) {
  TT_OP("narrow", mode)
  *out = wrap(T(a).narrow(dim, start, length));
  TT_END
}

tt_error tt_index_select(tt_tensor a, int64_t dim, tt_tensor index, int mode, tt_tensor *out) {
  TT_OP("index_select", mode)
  *out = wrap(at::index_select(T(a), dim, T(index)));
  TT_END
}

tt_error tt_cat(const tt_tensor *ts, int n, int64_t dim, int stack, int mode, tt_tensor *out) {
  TT_OP(stack ? "stack" : "cat", mode)
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; i++) v.push_back(T(ts[i]));
  *out = wrap(stack ? at::stack(v, dim) : at::cat(v, dim));
  TT_END
}

tt_error tt_chunk(tt_tensor a, int64_t chunks, int64_t dim, int mode, tt_tensor *outs, int cap,
                  int *n) {
  TT_OP("chunk", mode)
  std::vector<at::Tensor> parts = T(a).chunk(chunks, dim);
  TORCH_CHECK(static_cast<int>(parts.size()) <= cap, "too many chunks");
  for (size_t i = 0; i < parts.size(); i++) outs[i] = wrap(parts[i]);
  *n = static_cast<int>(parts.size());
  TT_END
}

tt_error tt_roll(tt_tensor a, const int64_t *shifts, const int64_t *dims, int n, int mode,
                 tt_tensor *out) {
  TT_OP("roll", mode)
  *out = wrap(at::roll(T(a), ints(shifts, n), ints(dims, n)));
  TT_END
}

tt_error tt_pad(tt_tensor a, const int64_t *pad, int npad, int pad_mode, double value, int mode,
                tt_tensor *out) {
  static const char *modes[] = {"constant", "reflect", "replicate", "circular"};
  TT_OP("pad", mode)
  TORCH_CHECK(pad_mode >= 0 && pad_mode <= TT_PAD_CIRCULAR, "unknown padding mode ", pad_mode);
  c10::optional<double> v;
  if (pad_mode == TT_PAD_CONSTANT) v = value;
  *out = wrap(at::pad(T(a), ints(pad, npad), modes[pad_mode], v));
  TT_END
}

tt_error tt_pixel_shuffle(tt_tensor a, int64_t factor, int unshuffle, int mode, tt_tensor *out) {
  TT_OP(unshuffle ? "pixel_unshuffle" : "pixel_shuffle", mode)
  *out = wrap(unshuffle ? at::pixel_unshuffle(T(a), factor) : at::pixel_shuffle(T(a), factor));
  TT_END
}

tt_error tt_interpolate(tt_tensor a, int64_t out_h, int64_t out_w, int interp, int align_corners,
                        double scale_h, double scale_w, int mode, tt_tensor *out) {
  TT_OP("interpolate", mode)
  const at::Tensor &x = T(a);
  TORCH_CHECK(x.dim() == 4, "interpolate expects a 4-D (N,C,H,W) tensor, got ", x.dim(), "-D");
  TORCH_CHECK(out_h > 0 && out_w > 0, "output size must be positive, got ", out_h, "x", out_w);
  c10::optional<double> sh, sw;
  if (scale_h > 0) sh = scale_h;
  if (scale_w > 0) sw = scale_w;
  int64_t size[2] = {out_h, out_w};
  at::Tensor r;
  switch (interp) {
    case TT_INTERP_NEAREST: r = at::upsample_nearest2d(x, size, sh, sw); break;
    case TT_INTERP_BILINEAR: r = at::upsample_bilinear2d(x, size, align_corners != 0, sh, sw); break;
    case TT_INTERP_BICUBIC: r = at::upsample_bicubic2d(x, size, align_corners != 0, sh, sw); break;
    default: TORCH_CHECK(false, "unknown interpolation ", interp);
  }
  *out = wrap(r);
  TT_END
}

tt_error tt_pool2d(tt_tensor a, int kind, const int64_t *kernel, const int64_t *stride,
                   const int64_t *padding, int mode, tt_tensor *out) {
  TT_OP(kind == TT_POOL_MAX ? "max_pool2d" : "avg_pool2d", mode)
  if (kind == TT_POOL_MAX) {
    *out = wrap(at::max_pool2d(T(a), ints(kernel, 2), ints(stride, 2), ints(padding, 2)));
  } else {
    *out = wrap(at::avg_pool2d(T(a), ints(kernel, 2), ints(stride, 2), ints(padding, 2)));
  }
  TT_END
}

tt_error tt_adaptive_avg_pool2d(tt_tensor a, int64_t out_h, int64_t out_w, int mode,
                                tt_tensor *out) {
  TT_OP("adaptive_avg_pool2d", mode)
  int64_t size[2] = {out_h, out_w};
  *out = wrap(at::adaptive_avg_pool2d(T(a), size));
  TT_END
}

// ---- losses ----

tt_error tt_loss(int kind, tt_tensor pred, tt_tensor target, int mode, tt_tensor *out) {
  TT_OP(kind == TT_LOSS_MSE ? "mse_loss" : "l1_loss", mode)
  const at::Tensor &p = T(pred);
  const at::Tensor &t = T(target);
  TORCH_CHECK(p.sizes() == t.sizes(), "prediction ", p.sizes(), " and target ", t.sizes(),
              " differ in shape");
  *out = wrap(kind == TT_LOSS_MSE ? at::mse_loss(p, t) : at::l1_loss(p, t));
  TT_END
}

tt_error tt_cross_entropy(tt_tensor logits, tt_tensor target, int mode, tt_tensor *out) {
  TT_OP("cross_entropy", mode)
  *out = wrap(at::cross_entropy_loss(T(logits), T(target)));
  TT_END
}

}  // extern "C"
