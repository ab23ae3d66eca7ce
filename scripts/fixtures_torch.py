#!/usr/bin/python3
"""Reference values for nets/torch's op tests, computed by PyTorch.

Run with Debian's interpreter and python3-torch (the same libtorch 1.13.1 the
Go binding links):

    /usr/bin/python3 scripts/fixtures_torch.py

It writes nets/torch/testdata/ops.safetensors: for every case NAME, the
inputs NAME.x, NAME.w, ... and the expected outputs NAME.out (and NAME.grad_*
for gradients). The safetensors file is written by hand (the format is an
8-byte header length, a JSON header, then raw little-endian data), so no
package beyond torch and numpy is needed.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
rs = np.random.RandomState(2024)
T = {}


def rnd(*shape, lo=-1.0, hi=1.0):
    return torch.from_numpy(rs.uniform(lo, hi, size=shape).astype(np.float32))


def put(name, t):
    T[name] = t.detach().clone().contiguous()


# ---- elementwise ----
a, b = rnd(2, 3, 4), rnd(3, 1)
put("ew.a", a)
put("ew.b", b)
for op, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul),
               ("div", lambda x, y: x / (y.abs() + 0.5)), ("maximum", torch.maximum),
               ("minimum", torch.minimum)]:
    put(f"ew.{op}", fn(a, b))
put("ew.add_scaled", torch.add(a, b, alpha=-0.3))
put("ew.pow", torch.pow(a.abs() + 0.1, b))
for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
    put(f"cmp.{op}", getattr(torch, op)(a, b))
    put(f"cmp.{op}_scalar", getattr(torch, op)(a, 0.1))
put("cmp.a_rounded", (a * 4).round() / 4)
put("ew.clamp_min", a.clamp(min=0.2))
put("ew.clamp_max", a.clamp(max=-0.1))
put("ew.pow_scalar", a.abs().pow(1.7))
put("ew.rsub_scalar", 1.0 - a)
for op, fn in [("neg", torch.neg), ("exp", torch.exp), ("log", lambda x: torch.log(x.abs() + 0.1)),
               ("sqrt", lambda x: torch.sqrt(x.abs())), ("rsqrt", lambda x: torch.rsqrt(x.abs() + 0.1)),
               ("abs", torch.abs), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
               ("relu", torch.relu), ("gelu", F.gelu), ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
               ("silu", F.silu), ("sin", torch.sin), ("cos", torch.cos), ("floor", lambda x: torch.floor(x * 3)),
               ("sign", torch.sign), ("erfinv", lambda x: torch.erfinv(x * 0.9)),
               ("leaky_relu_0.1", lambda x: F.leaky_relu(x, 0.1)),
               ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2)),
               ("clamp", lambda x: x.clamp(-0.25, 0.5))]:
    put(f"ew.{op}", fn(a))
halves = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997, 254.5, 255.5], dtype=torch.float32)
put("round.x", halves)
put("round.out", torch.round(halves))
cond = a > 0.1
put("where.out", torch.where(cond, a, b.expand_as(a)))
put("masked_fill.out", a.masked_fill(cond, -7.0))

# ---- reductions, normalisation ----
x = rnd(2, 3, 4, 5)
put("red.x", x)
put("red.sum_all", x.sum())
put("red.sum_13", x.sum(dim=(1, 3), keepdim=True))
put("red.mean_2", x.mean(dim=2))
put("red.amax_1", x.amax(dim=1))
put("red.amin_m1", x.amin(dim=-1, keepdim=True))
put("red.var_3", x.var(dim=3, unbiased=False))
put("red.std_3u", x.std(dim=3, unbiased=True))
put("red.argmax_1", x.argmax(dim=1))
put("red.softmax", x.softmax(-1))
put("red.log_softmax", x.log_softmax(1))
lw, lb = rnd(5), rnd(5)
put("ln.w", lw)
put("ln.b", lb)
put("ln.out", F.layer_norm(x, (5,), lw, lb, 1e-5))
put("ln.out_nowb", F.layer_norm(x, (4, 5), None, None, 1e-6))
put("norm.out", F.normalize(x, dim=-1))

# ---- linear algebra, convolution ----
m1, m2 = rnd(2, 3, 4), rnd(4, 5)
put("mm.a", m1)
put("mm.b", m2)
put("mm.matmul", m1 @ m2)
m3 = rnd(2, 4, 6)
put("mm.c", m3)
put("mm.bmm", torch.bmm(m1, m3))
lx, lwt, lbs = rnd(2, 7, 8), rnd(6, 8), rnd(6)
put("lin.x", lx)
put("lin.w", lwt)
put("lin.b", lbs)
put("lin.out", F.linear(lx, lwt, lbs))
put("lin.out_nobias", F.linear(lx, lwt))
cx = rnd(2, 4, 9, 11)
put("conv.x", cx)
cw, cb = rnd(6, 4, 3, 3), rnd(6)
put("conv.w", cw)
put("conv.b", cb)
put("conv.s1p1", F.conv2d(cx, cw, cb, stride=1, padding=1))
put("conv.s2p0", F.conv2d(cx, cw, cb, stride=2, padding=0))
put("conv.d2p2", F.conv2d(cx, cw, None, padding=2, dilation=2))
dw = rnd(4, 1, 3, 3)
put("conv.dw", dw)
put("conv.depthwise", F.conv2d(cx, dw, None, padding=1, groups=4))
tw, tb = rnd(4, 3, 2, 2), rnd(3)
put("convt.w", tw)
put("convt.b", tb)
put("convt.s2", F.conv_transpose2d(cx, tw, tb, stride=2))
ew = rnd(10, 3)
idx = torch.tensor([[1, 4, 9], [0, 0, 7]], dtype=torch.int64)
put("emb.w", ew)
put("emb.idx", idx)
put("emb.out", F.embedding(idx, ew))

# ---- shape ----
sx = rnd(2, 3, 4, 6)
put("shape.x", sx)
put("shape.permute", sx.permute(0, 2, 3, 1))
put("shape.transpose", sx.transpose(1, 3))
put("shape.flatten", sx.flatten(2, 3))
put("shape.narrow", sx.narrow(3, 1, 4))
sel = torch.tensor([3, 0, 2], dtype=torch.int64)
put("shape.sel", sel)
put("shape.index_select", sx.index_select(2, sel))
put("shape.cat", torch.cat([sx, sx * 2], 1))
put("shape.stack", torch.stack([sx, sx * 2], 0))
for i, c in enumerate(sx.chunk(3, dim=3)):
    put(f"shape.chunk{i}", c)
put("shape.roll", torch.roll(sx, shifts=(3, -2), dims=(2, 3)))
put("shape.expand", sx[:, :1].expand(2, 5, 4, 6))
for mode in ["reflect", "replicate", "circular"]:
    put(f"pad.{mode}", F.pad(sx, (2, 1, 3, 0), mode=mode))
put("pad.constant", F.pad(sx, (1, 2, 0, 3), value=0.25))
px = rnd(1, 8, 3, 5)
put("ps.x", px)
put("ps.shuffle", F.pixel_shuffle(px, 2))
put("ps.unshuffle", F.pixel_unshuffle(sx, 2))
ix = rnd(1, 3, 16, 12, lo=0, hi=1)
put("interp.x", ix)
put("interp.bilinear", F.interpolate(ix, size=(7, 9), mode="bilinear", align_corners=False))
put("interp.bilinear_ac", F.interpolate(ix, size=(7, 9), mode="bilinear", align_corners=True))
put("interp.bicubic", F.interpolate(ix, size=(20, 30), mode="bicubic", align_corners=False))
put("interp.bicubic_sf", F.interpolate(ix, scale_factor=0.25, mode="bicubic"))
put("interp.nearest", F.interpolate(ix, size=(5, 7), mode="nearest"))
put("pool.avg", F.avg_pool2d(ix, 2, 2))
put("pool.max", F.max_pool2d(ix, 3, 2, 1))
put("pool.adaptive", F.adaptive_avg_pool2d(ix, 1))

# ---- losses ----
p, q = rnd(2, 3, 4, 4), rnd(2, 3, 4, 4)
put("loss.p", p)
put("loss.q", q)
put("loss.l1", F.l1_loss(p, q))
put("loss.mse", F.mse_loss(p, q))
logits = rnd(4, 7) * 3
cls = torch.tensor([0, 6, 3, 3], dtype=torch.int64)
probs = torch.softmax(rnd(4, 7), 1)
put("ce.logits", logits)
put("ce.cls", cls)
put("ce.probs", probs)
put("ce.idx", F.cross_entropy(logits, cls))
put("ce.prob", F.cross_entropy(logits, probs))

# ---- autograd ----
gx = rnd(2, 4, 9, 11).requires_grad_()
gw = rnd(6, 4, 3, 3).requires_grad_()
gb = rnd(6).requires_grad_()
gt = rnd(2, 6, 9, 11)
loss = F.l1_loss(F.leaky_relu(F.conv2d(gx, gw, gb, padding=1), 0.1), gt)
loss.backward()
put("grad.x", gx)
put("grad.w", gw)
put("grad.b", gb)
put("grad.t", gt)
put("grad.loss", loss)
put("grad.gx", gx.grad)
put("grad.gw", gw.grad)
put("grad.gb", gb.grad)
# attention-like block: softmax(q k^T * s) v, layer norm, mean
aq = rnd(2, 5, 8).requires_grad_()
aw = rnd(8).requires_grad_()
att = torch.softmax(aq @ aq.transpose(1, 2) * 0.3, -1) @ aq
out = F.layer_norm(att, (8,), aw, None).pow(2).mean()
out.backward()
put("agrad.q", aq)
put("agrad.w", aw)
put("agrad.out", out)
put("agrad.gq", aq.grad)
put("agrad.gw", aw.grad)

# ---- optimisers: 4 steps with given gradients and a changing learning rate ----
lrs = [2e-4, 1e-3, 5e-4, 1e-2]
p0 = rnd(5, 3)
grads = [rnd(5, 3) for _ in lrs]
put("optim.p0", p0)
put("optim.lrs", torch.tensor(lrs, dtype=torch.float64))
for i, g in enumerate(grads):
    put(f"optim.g{i}", g)
for name, cls_, wd in [("adam", torch.optim.Adam, 0.0), ("adam_wd", torch.optim.Adam, 0.01),
                       ("adamw", torch.optim.AdamW, 0.02)]:
    prm = torch.nn.Parameter(p0.clone())
    opt = cls_([prm], lr=lrs[0], betas=(0.9, 0.99), weight_decay=wd)
    for i, g in enumerate(grads):
        for group in opt.param_groups:
            group["lr"] = lrs[i]
        prm.grad = g.clone()
        opt.step()
        put(f"optim.{name}.p{i}", prm)
    st = opt.state[prm]
    put(f"optim.{name}.exp_avg", st["exp_avg"])
    put(f"optim.{name}.exp_avg_sq", st["exp_avg_sq"])
ema = rnd(5, 3)
put("ema.e0", ema)
put("ema.out", ema * 0.999 + p0 * (1 - 0.999))

# ---- random numbers ----
g = torch.Generator().manual_seed(42)
put("rng.randn", torch.randn((3, 5), generator=g))
put("rng.rand", torch.rand((4, 2), generator=g))
put("rng.uniform", torch.empty(6).uniform_(-2, 3, generator=g))
put("rng.normal", torch.empty(2, 3).normal_(0.5, 2.0, generator=g))
put("rng.randn64", torch.randn((7,), generator=torch.Generator().manual_seed(7), dtype=torch.float64))

# ---- cases added later: appended here so that the random inputs above stay
# the same ----

# Loss gradients (mean reduction).
lp, lq = rnd(2, 3, 4, 4).requires_grad_(), rnd(2, 3, 4, 4)
F.l1_loss(lp, lq).backward()
put("lossgrad.p", lp)
put("lossgrad.q", lq)
put("lossgrad.l1", lp.grad)
lp.grad = None
F.mse_loss(lp, lq).backward()
put("lossgrad.mse", lp.grad)

# A tiny U-Net written with public ops only: reflect-padded convolutions, a
# max-pool down, an attention block, learned (transposed convolution) and
# bilinear (scale factor) up-sampling, skip connections by concatenation, a
# residual output, L1 + 0.5 MSE, one backward pass and one Adam step.
ux, ut = rnd(2, 3, 8, 8), rnd(2, 3, 8, 8)
put("unet.x", ux)
put("unet.t", ut)
UNET = [("c1w", (4, 3, 3, 3)), ("c1b", (4,)), ("c2w", (8, 4, 3, 3)), ("c2b", (8,)),
        ("lnw", (8,)), ("lnb", (8,)), ("qkvw", (24, 8)), ("qkvb", (24,)), ("pw", (8, 8)), ("pb", (8,)),
        ("tw", (8, 4, 2, 2)), ("tb", (4,)), ("c3w", (3, 16, 3, 3)), ("c3b", (3,))]
up = {}
for name, shape in UNET:
    up[name] = (rnd(*shape) * 0.5).requires_grad_()
    put(f"unet.{name}", up[name])


def unet(x, p):
    e1 = F.leaky_relu(F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), p["c1w"], p["c1b"]), 0.2)
    e2 = F.gelu(F.conv2d(F.max_pool2d(e1, 2), p["c2w"], p["c2b"], padding=1))
    n, c, h, w = e2.shape
    tok = e2.flatten(2).transpose(1, 2)
    q, k, v = F.linear(F.layer_norm(tok, (c,), p["lnw"], p["lnb"]), p["qkvw"], p["qkvb"]).chunk(3, -1)
    att = torch.softmax(q @ k.transpose(1, 2) * c ** -0.5, -1) @ v
    tok = tok + F.linear(att, p["pw"], p["pb"])
    a = tok.transpose(1, 2).reshape(n, c, h, w)
    u1 = F.conv_transpose2d(a, p["tw"], p["tb"], stride=2)
    u2 = F.interpolate(a, scale_factor=2, mode="bilinear", align_corners=False)
    d = torch.cat([e1, u1, u2], 1)
    return F.conv2d(F.pad(d, (1, 1, 1, 1), mode="reflect"), p["c3w"], p["c3b"]) + x


uy = unet(ux, up)
uloss = F.l1_loss(uy, ut) + 0.5 * F.mse_loss(uy, ut)
uloss.backward()
put("unet.out", uy)
put("unet.loss", uloss)
uopt = torch.optim.Adam(list(up.values()), lr=1e-3)
for name, _ in UNET:
    put(f"unet.grad.{name}", up[name].grad)
uopt.step()
for name, _ in UNET:
    put(f"unet.step.{name}", up[name])

CODES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL", torch.uint8: "U8"}
header, blobs, off = {}, [], 0
for name in T:
    t = T[name]
    data = t.numpy().tobytes()
    header[name] = {"dtype": CODES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
    blobs.append(data)
    off += len(data)
header["__metadata__"] = {"torch": torch.__version__, "script": "scripts/fixtures_torch.py"}
hj = json.dumps(header, separators=(",", ":")).encode()
hj += b" " * (-len(hj) % 8)
dst = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "nets", "torch", "testdata", "ops.safetensors")
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(hj)))
    f.write(hj)
    for bl in blobs:
        f.write(bl)
print(f"wrote {len(T)} tensors, {off} bytes to {os.path.normpath(dst)}")
