#!/usr/bin/python3
"""Go vs PyTorch forward timings per network, side by side, in one run.

    /usr/bin/python3 scripts/bench_models.py [--check | --check-only] [--mode forward|train|both]
        [--variants V,...] [--sizes S,...] [--slow-sizes all] [--threads N] [--rounds R] [--iters K]
        [--glibc-tunables] [--device cpu|cuda] [--fresh-py] [--go-test-bin DIR]
        [--extra-python CMD] [--compile]

The PyTorch side runs this script's own restatements of the MiOIR networks,
written from the method specification (sections 4 and 5 of method.md), with
module and parameter names equal to the reference state_dict keys (section
8.2). `--check` proves each restatement is the reference computation: it
builds the fixture configuration of every selected variant, loads
`<name>.pth['params']` with strict=True and compares the output with
`<name>.out.npy` (relative L2 <= 1e-5), before any timing.

The Go side is the library itself: the BenchmarkSideBySide family of
prompt/bench_sidebyside_test.go (paper configurations, seeded random
weights), driven through the package's test binary with -test.benchtime Nx.

Protocol (reference-speed.md): eval mode, inference (torch.inference_mode()
here, a torch.Inference scope in Go), float32, input 1x3xSxS (EP: plus one
1x128x128 map, AP: the input again), the same intra-op thread count on both
sides (MIOIR_NUM_THREADS for Go), paper configurations. Each round runs, for
every case, the Go benchmark (a fresh process: one warm-up pass, then K timed
passes) and the PyTorch side (a persistent worker process: one warm-up pass
the first time a case runs, then K timed passes), alternating which side goes
first. --fresh-py starts a new PyTorch process for every measurement too, so
that both sides run under the same conditions: a persistent worker's heap
has grown through the cases before (larger glibc heaps and mmap thresholds,
fewer page faults), which made it up to 25 % faster than a fresh PyTorch
process on the same SRResNet case. A side's time for a round is its mean over
the K passes; the table
gives the median over the rounds and the Go/PyTorch ratio (< 1: Go faster).
K is --iters, reduced for slow cases so that one side's timed work in a round
stays near --round-seconds (never below 1 pass).

--mode train (or both) times one training step per variant instead (Go:
BenchmarkSideBySideTrain): zero grad, forward in training mode (stochastic
depth on for SwinIR and Uformer), mean L1 loss, backward, Adam (SRResNet,
SwinIR) or AdamW (Restormer, Uformer with weight decay 0.02, PromptIR),
lr 2e-4, betas 0.9/0.99, no EMA, with the batch and crop of reference-speed.md
(SRResNet/Restormer/PromptIR 4x64x64, SwinIR 1x64x64, Uformer 1x128x128;
--train-crop N changes the crop on both sides, e.g. 128 for SRResNet-EP at 4x128x128).

Under load (other processes on the same cores), libgomp's default active
spinning can slow a 2-thread PyTorch process from Python several-fold, much
more than the Go process (measured: 34 64->64 3x3 convs on 1x64x128x128,
2.4-2.8 s default vs 0.78 s with OMP_WAIT_POLICY=PASSIVE, while the Go
benchmark ran near the reference's unloaded time). --env OMP_WAIT_POLICY=PASSIVE
sets it for both sides; on a loaded machine also compare --threads 1.

--glibc-tunables runs Go and a second PyTorch worker with
GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967295
and reports Go(tuned)/PyTorch(default) and Go(tuned)/PyTorch(tuned).

--extra-python CMD times a further PyTorch worker run by another interpreter:
CMD is a command prefix, split like a shell command and followed by this
script's absolute path (os.path.realpath) and the worker arguments, e.g.

    /usr/bin/python3 scripts/bench_models.py --extra-python "bash scripts/libtorch2.sh /usr/bin/python3"

for Debian trixie's PyTorch 2.6 next to the host's (libtorch2.sh mounts the
checkout at the same path inside its root). It follows the main PyTorch
side's protocol (a persistent worker, or with --fresh-py a new process per
measurement; its place in the alternating order of each round). A worker
takes its requests as JSON lines on stdin and answers one JSON line each on
stdout (other stdout lines, a wrapper's, are passed to stderr), and gets the
thread count, device and --env settings on its command line, as a wrapper
may pass on only some of the environment (libtorch2.sh: MIOIR_*, GOFLAGS,
GOMAXPROCS); a worker that lacks an --env variable re-executes itself with
it, so that OMP_* settings apply from the start. The header gives the extra
interpreter's torch version, python version and thread count; the columns
PyT(extra), PyT(extra)/PyTorch (its time over the main PyTorch time) and
Go/PyT(extra).

--compile also times torch.compile(model) (default inductor backend, default
mode) on the PyTorch side of this interpreter, forward mode only (training
cases show '-'), in a persistent worker of its own whatever --fresh-py says:
each case is compiled once (static shapes: dynamo's automatic dynamic shapes
off and its cache limits raised, since cases share forward code), warmed up
with 2 calls (the first compiles; its time goes to stderr), then timed over
K passes like the eager side. Columns PyT compile and Go/PyT(compile). It
needs torch >= 2 and, for inductor on the CPU, a C++ compiler and Python.h;
a small probe module is compiled first, and where that fails the header says
"compile unavailable: <reason>" and the column shows '-' (a single case that
fails to compile: "compile failed: ..." and '-' for that case). Inside the
trixie root:

    bash scripts/libtorch2.sh /usr/bin/python3 scripts/bench_models.py --compile

Variants: SRResNet, SwinIR, Restormer, Uformer (each also _EP, _AP) and
PromptIR. By default SRResNet* at 128 and 256 and SwinIR* at 128 (SwinIR at
256 takes about a minute per pass: add it with --slow-sizes all).

--device cuda runs both sides on the GPU (cuda:0): the PyTorch side builds the
model and inputs on it (eager mode, PyTorch's default cuDNN/TF32 settings),
the Go side gets MIOIR_BENCH_DEVICE=cuda. Every timed pass is bracketed by
device synchronisations on both sides (torch.cuda.synchronize before the
start and before reading the end time; torch.Synchronize in Go), so a pass's
time is that of its completed GPU work. On the GPU every case runs --iters
passes (no reduction from the CPU reference times) and --slow-sizes defaults
to all. --threads still sets the CPU intra-op threads of both sides. The Go
test binary must be linked against a CUDA libtorch (CGO_CXXFLAGS/CGO_LDFLAGS
as in scripts/gpu-check.sh); --go-test-bin DIR uses DIR/prompt.test built
beforehand (go test -c -o DIR/prompt.test ./prompt) instead of building it.
--check always runs on the CPU.
"""
import argparse
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIXTURES = os.environ.get("MIOIR_FIXTURES") or os.path.join(ROOT, "..", "shared", "fixtures")
TUNABLES = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967295"


# --------------------------------------------------------------------------
# Shared pieces: the prompt extractor (section 4.1) and modulation (4.2).
# --------------------------------------------------------------------------

class PromptExtractor(nn.Module):
    """F_ext: three (ZeroPad2d(1), conv, ReLU) stages, then the spatial mean."""

    def __init__(self, in_nc):
        super().__init__()
        self.conv1 = nn.Conv2d(in_nc, 64, 7, 2, 0)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 0)
        self.conv3 = nn.Conv2d(64, 64, 3, 2, 0)

    def forward(self, p):
        if p.dim() == 3:  # EP map (B, 128, 128)
            p = p.unsqueeze(1)
        for c in (self.conv1, self.conv2, self.conv3):
            p = F.relu(c(F.pad(p, (1, 1, 1, 1))))
        return p.mean(dim=(2, 3))


def modulate_nchw(f, scale, shift, v):
    """f*(1+s)+b per channel of an (N, C, H, W) feature."""
    s = scale(v).unsqueeze(-1).unsqueeze(-1)
    b = shift(v).unsqueeze(-1).unsqueeze(-1)
    return f * s + b + f


def modulate_tokens(f, scale, shift, v):
    """The same on an (N, L, C) token sequence."""
    return f * scale(v).unsqueeze(1) + shift(v).unsqueeze(1) + f


def drop_path(x, p, training):
    """Stochastic depth (training only): drop the branch per sample, scale the kept ones by 1/(1-p)."""
    if not training or p == 0.0:
        return x
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
    return x.div(keep) * mask


def prompt_kind(name):
    if name.endswith("_EP"):
        return "EP"
    if name.endswith("_AP"):
        return "AP"
    return None


# --------------------------------------------------------------------------
# SRResNet (section 5.1)
# --------------------------------------------------------------------------

class ResidualBlockNoBN(nn.Module):
    def __init__(self, nf):
        super().__init__()
        self.conv1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf, nf, 3, 1, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class SRResNet(nn.Module):
    def __init__(self, num_in_ch=3, num_out_ch=3, num_feat=64, num_block=16, upscale=1, kind=None, **_):
        super().__init__()
        assert upscale == 1
        self.kind = kind
        if kind:
            self.F_ext_net = PromptExtractor(1 if kind == "EP" else 3)
            pts = [str(i) for i in range(1, num_block + 1)] + ["hr", "out"]
            for p in pts:
                setattr(self, "prompt_scale" + p, nn.Linear(64, num_out_ch if p == "out" else num_feat))
            for p in pts:
                setattr(self, "prompt_shift" + p, nn.Linear(64, num_out_ch if p == "out" else num_feat))
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        if kind:
            for i in range(1, num_block + 1):
                setattr(self, f"body{i}", nn.Sequential(ResidualBlockNoBN(num_feat)))
        else:
            self.body = nn.Sequential(*[ResidualBlockNoBN(num_feat) for _ in range(num_block)])
        self.num_block = num_block
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def forward(self, x, p=None):
        if not self.kind:
            out = F.leaky_relu(self.conv_first(x), 0.1)
            out = self.body(out)
            out = self.conv_last(F.leaky_relu(self.conv_hr(out), 0.1))
            return out + x
        v = self.F_ext_net(p)
        out = F.leaky_relu(self.conv_first(x), 0.1)
        for i in range(1, self.num_block + 1):
            out = getattr(self, f"body{i}")(out)
            out = modulate_nchw(out, getattr(self, f"prompt_scale{i}"), getattr(self, f"prompt_shift{i}"), v)
        out = F.leaky_relu(self.conv_hr(out), 0.1)
        out = modulate_nchw(out, self.prompt_scalehr, self.prompt_shifthr, v)
        out = self.conv_last(out)
        out = modulate_nchw(out, self.prompt_scaleout, self.prompt_shiftout, v)
        return out + x


# --------------------------------------------------------------------------
# SwinIR (section 5.2)
# --------------------------------------------------------------------------

def window_partition(x, ws):
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, c)


def window_reverse(windows, ws, h, w):
    b = windows.shape[0] // ((h // ws) * (w // ws))
    x = windows.view(b, h // ws, w // ws, ws, ws, -1)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, -1)


def relative_position_index(ws):
    r = torch.arange(ws)
    coords = torch.stack(torch.meshgrid(r, r, indexing="ij")).flatten(1)  # (2, ws*ws)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += ws - 1
    rel[:, :, 1] += ws - 1
    rel[:, :, 0] *= 2 * ws - 1
    return rel.sum(-1)


def shift_mask(h, w, ws, shift, device=None):
    """The -100 mask of a shifted-window block: (nW, ws*ws, ws*ws), built on device (default CPU)."""
    img = torch.zeros((1, h, w, 1), device=device)
    cnt = 0
    sl = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    for hs in sl:
        for wsl in sl:
            img[:, hs, wsl, :] = cnt
            cnt += 1
    mw = window_partition(img, ws).view(-1, ws * ws)
    m = mw.unsqueeze(1) - mw.unsqueeze(2)
    return m.masked_fill(m != 0, -100.0).masked_fill(m == 0, 0.0)


class SwinWindowAttention(nn.Module):
    def __init__(self, dim, ws, heads):
        super().__init__()
        self.ws, self.heads = ws, heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        self.register_buffer("relative_position_index", relative_position_index(ws))
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(bw // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, n)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj(x)


class SwinMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class SwinBlock(nn.Module):
    def __init__(self, dim, res, heads, ws, shift, mlp_ratio, dp=0.0):
        super().__init__()
        if res <= ws:
            ws, shift = res, 0
        self.ws, self.shift, self.res, self.dp = ws, shift, res, dp
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SwinWindowAttention(dim, ws, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = SwinMlp(dim, int(dim * mlp_ratio))
        self.register_buffer("attn_mask", shift_mask(res, res, ws, shift) if shift > 0 else None)

    def forward(self, x, hw):
        h, w = hw
        b, _, c = x.shape
        t = self.norm1(x).view(b, h, w, c)
        if self.shift > 0:
            t = torch.roll(t, (-self.shift, -self.shift), (1, 2))
        win = window_partition(t, self.ws).view(-1, self.ws * self.ws, c)
        if self.shift == 0:
            mask = None
        elif (h, w) == (self.res, self.res):
            mask = self.attn_mask
        else:  # as the reference: recomputed on every call for other sizes
            mask = shift_mask(h, w, self.ws, self.shift).to(x.device)
        win = self.attn(win, mask).view(-1, self.ws, self.ws, c)
        t = window_reverse(win, self.ws, h, w)
        if self.shift > 0:
            t = torch.roll(t, (self.shift, self.shift), (1, 2))
        x = x + drop_path(t.reshape(b, h * w, c), self.dp, self.training)
        return x + drop_path(self.mlp(self.norm2(x)), self.dp, self.training)


class SwinGroup(nn.Module):
    def __init__(self, dim, res, depth, heads, ws, mlp_ratio, dpr):
        super().__init__()
        self.blocks = nn.ModuleList([SwinBlock(dim, res, heads, ws, 0 if i % 2 == 0 else ws // 2, mlp_ratio, dpr[i])
                                     for i in range(depth)])

    def forward(self, x, hw):
        for blk in self.blocks:
            x = blk(x, hw)
        return x


def tokens(x):
    return x.flatten(2).transpose(1, 2)


def untokens(x, hw):
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], hw[0], hw[1])


class RSTB(nn.Module):
    def __init__(self, dim, res, depth, heads, ws, mlp_ratio, prompted, dpr):
        super().__init__()
        self.residual_group = SwinGroup(dim, res, depth, heads, ws, mlp_ratio, dpr)
        self.conv = nn.Conv2d(dim, dim, 3, 1, 1)
        if prompted:
            self.prompt_scale = nn.Linear(64, dim)
            self.prompt_shift = nn.Linear(64, dim)

    def forward(self, x, hw, v=None):
        x = tokens(self.conv(untokens(self.residual_group(x, hw), hw))) + x
        if v is not None:
            x = modulate_tokens(x, self.prompt_scale, self.prompt_shift, v)
        return x


class SwinIR(nn.Module):
    def __init__(self, img_size=128, in_chans=3, embed_dim=180, depths=(6,) * 6, num_heads=(6,) * 6,
                 window_size=8, mlp_ratio=2.0, upscale=1, img_range=1.0, upsampler="pixelshuffle",
                 resi_connection="1conv", drop_path_rate=0.1, kind=None, **_):
        super().__init__()
        depths = list(depths)
        assert upscale == 1 and upsampler == "pixelshuffle" and resi_connection == "1conv"
        self.kind, self.ws, self.img_range = kind, window_size, img_range
        self.mean = torch.Tensor((0.4488, 0.4371, 0.4040)).view(1, 3, 1, 1)
        if kind:
            self.F_ext_net = PromptExtractor(1 if kind == "EP" else 3)
        self.conv_first = nn.Conv2d(in_chans, embed_dim, 3, 1, 1)
        self.patch_embed = nn.Module()
        self.patch_embed.norm = nn.LayerNorm(embed_dim)
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.layers = nn.ModuleList([RSTB(embed_dim, img_size, d, h, window_size, mlp_ratio, bool(kind),
                                          dpr[sum(depths[:i]):sum(depths[:i + 1])])
                                     for i, (d, h) in enumerate(zip(depths, num_heads))])
        self.norm = nn.LayerNorm(embed_dim)
        self.conv_after_body = nn.Conv2d(embed_dim, embed_dim, 3, 1, 1)
        self.conv_before_upsample = nn.Sequential(nn.Conv2d(embed_dim, 64, 3, 1, 1), nn.LeakyReLU(inplace=True))
        self.conv_last = nn.Conv2d(64, in_chans, 3, 1, 1)
        if kind:
            for p, c in (("after_body", embed_dim), ("before_upsample", 64), ("last", in_chans)):
                setattr(self, "prompt_scale_" + p, nn.Linear(64, c))
                setattr(self, "prompt_shift_" + p, nn.Linear(64, c))

    def forward(self, x, p=None):
        h, w = x.shape[2:]
        ph, pw = (self.ws - h % self.ws) % self.ws, (self.ws - w % self.ws) % self.ws
        v = self.F_ext_net(p) if self.kind else None
        x = F.pad(x, (0, pw, 0, ph), "reflect") if ph or pw else x
        hw = x.shape[2:]
        mean = self.mean.type_as(x)
        x = (x - mean) * self.img_range
        x = self.conv_first(x)
        t = self.patch_embed.norm(tokens(x))
        for layer in self.layers:
            t = layer(t, hw, v)
        x = self.conv_after_body(untokens(self.norm(t), hw)) + x
        if v is not None:
            x = modulate_nchw(x, self.prompt_scale_after_body, self.prompt_shift_after_body, v)
        x = self.conv_before_upsample(x)
        if v is not None:
            x = modulate_nchw(x, self.prompt_scale_before_upsample, self.prompt_shift_before_upsample, v)
        x = self.conv_last(x)
        if v is not None:
            x = modulate_nchw(x, self.prompt_scale_last, self.prompt_shift_last, v)
        x = x / self.img_range + mean
        return x[:, :, :h, :w]


# --------------------------------------------------------------------------
# Restormer (section 5.3) and PromptIR (section 5.5)
# --------------------------------------------------------------------------

class BiasLayerNorm(nn.Module):
    """Per-pixel LayerNorm over channels (biased variance, eps 1e-5), weight and bias."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        var = x.var(-1, keepdim=True, unbiased=False)
        return (x - mu) / torch.sqrt(var + 1e-5) * self.weight + self.bias


class ChannelNorm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = BiasLayerNorm(c)

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.body(x.flatten(2).transpose(1, 2))
        return t.transpose(1, 2).reshape(b, c, h, w)


class MDTA(nn.Module):
    def __init__(self, dim, heads, bias):
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, 3, 1, 1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1)
        q, k, v = (t.reshape(b, self.heads, c // self.heads, h * w) for t in (q, k, v))
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.temperature).softmax(dim=-1)
        return self.project_out((attn @ v).reshape(b, c, h, w))


class GDFN(nn.Module):
    def __init__(self, dim, factor, bias):
        super().__init__()
        hid = int(dim * factor)
        self.project_in = nn.Conv2d(dim, hid * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(hid * 2, hid * 2, 3, 1, 1, groups=hid * 2, bias=bias)
        self.project_out = nn.Conv2d(hid, dim, 1, bias=bias)

    def forward(self, x):
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(x1) * x2)


class RestormerBlock(nn.Module):
    def __init__(self, dim, heads, factor, bias):
        super().__init__()
        self.norm1 = ChannelNorm(dim)
        self.attn = MDTA(dim, heads, bias)
        self.norm2 = ChannelNorm(dim)
        self.ffn = GDFN(dim, factor, bias)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


def rblocks(n, dim, heads, factor, bias):
    return nn.Sequential(*[RestormerBlock(dim, heads, factor, bias) for _ in range(n)])


class ConvShuffle(nn.Module):
    """Downsample (conv C->C/2, PixelUnshuffle) or Upsample (conv C->2C, PixelShuffle)."""

    def __init__(self, c, down):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c // 2 if down else c * 2, 3, 1, 1, bias=False),
                                  nn.PixelUnshuffle(2) if down else nn.PixelShuffle(2))

    def forward(self, x):
        return self.body(x)


class PatchEmbedConv(nn.Module):
    def __init__(self, cin, dim, bias):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, 3, 1, 1, bias=bias)

    def forward(self, x):
        return self.proj(x)


class Restormer(nn.Module):
    def __init__(self, inp_channels=3, out_channels=3, dim=48, num_blocks=(4, 6, 6, 8), num_refinement_blocks=4,
                 heads=(1, 2, 4, 8), ffn_expansion_factor=2.66, bias=False, LayerNorm_type="WithBias",
                 dual_pixel_task=False, global_residual=True, kind=None, **_):
        super().__init__()
        assert LayerNorm_type == "WithBias" and not dual_pixel_task and global_residual
        self.kind = kind
        if kind:
            for i in range(1, 5):
                setattr(self, f"F_ext_net{i}", PromptExtractor(1 if kind == "EP" else 3))
            widths = {"1": dim * 8, "2": dim * 4, "3": dim * 2, "4": dim * 2, "5": dim * 2, "out": out_channels}
            for p, c in widths.items():
                setattr(self, "prompt_scale" + p, nn.Linear(64, c))
            for p, c in widths.items():
                setattr(self, "prompt_shift" + p, nn.Linear(64, c))
        f, nb = ffn_expansion_factor, num_blocks
        self.patch_embed = PatchEmbedConv(inp_channels, dim, bias)
        self.encoder_level1 = rblocks(nb[0], dim, heads[0], f, bias)
        self.down1_2 = ConvShuffle(dim, True)
        self.encoder_level2 = rblocks(nb[1], dim * 2, heads[1], f, bias)
        self.down2_3 = ConvShuffle(dim * 2, True)
        self.encoder_level3 = rblocks(nb[2], dim * 4, heads[2], f, bias)
        self.down3_4 = ConvShuffle(dim * 4, True)
        self.latent = rblocks(nb[3], dim * 8, heads[3], f, bias)
        self.up4_3 = ConvShuffle(dim * 8, False)
        self.reduce_chan_level3 = nn.Conv2d(dim * 8, dim * 4, 1, bias=bias)
        self.decoder_level3 = rblocks(nb[2], dim * 4, heads[2], f, bias)
        self.up3_2 = ConvShuffle(dim * 4, False)
        self.reduce_chan_level2 = nn.Conv2d(dim * 4, dim * 2, 1, bias=bias)
        self.decoder_level2 = rblocks(nb[1], dim * 2, heads[1], f, bias)
        self.up2_1 = ConvShuffle(dim * 2, False)
        self.decoder_level1 = rblocks(nb[0], dim * 2, heads[0], f, bias)
        self.refinement = rblocks(num_refinement_blocks, dim * 2, heads[0], f, bias)
        self.output = nn.Conv2d(dim * 2, out_channels, 3, 1, 1, bias=bias)

    def forward(self, inp, p=None):
        if self.kind:
            v = [getattr(self, f"F_ext_net{i}")(p) for i in range(1, 5)]
            mod = lambda f, pt, vec: modulate_nchw(f, getattr(self, "prompt_scale" + pt),
                                                   getattr(self, "prompt_shift" + pt), vec)
        else:
            v = [None] * 4
            mod = lambda f, pt, vec: f
        e1 = self.encoder_level1(self.patch_embed(inp))
        e2 = self.encoder_level2(self.down1_2(e1))
        e3 = self.encoder_level3(self.down2_3(e2))
        lat = mod(self.latent(self.down3_4(e3)), "1", v[0])
        d3 = self.reduce_chan_level3(torch.cat([self.up4_3(lat), e3], 1))
        d3 = mod(self.decoder_level3(d3), "2", v[1])
        d2 = self.reduce_chan_level2(torch.cat([self.up3_2(d3), e2], 1))
        d2 = mod(self.decoder_level2(d2), "3", v[2])
        d1 = mod(self.decoder_level1(torch.cat([self.up2_1(d2), e1], 1)), "4", v[2])
        d1 = mod(self.refinement(d1), "5", v[2])
        return mod(self.output(d1), "out", v[3]) + inp


class PromptGenBlock(nn.Module):
    def __init__(self, prompt_dim, prompt_len, prompt_size, lin_dim):
        super().__init__()
        self.prompt_param = nn.Parameter(torch.rand(1, prompt_len, prompt_dim, prompt_size, prompt_size))
        self.linear_layer = nn.Linear(lin_dim, prompt_len)
        self.conv3x3 = nn.Conv2d(prompt_dim, prompt_dim, 3, 1, 1, bias=False)

    def forward(self, x):
        b, _, h, w = x.shape
        wts = self.linear_layer(x.mean(dim=(-2, -1))).softmax(dim=1)  # (B, len)
        prompt = (wts[:, :, None, None, None] * self.prompt_param).sum(dim=1)  # param (1, len, D, S, S)
        prompt = F.interpolate(prompt, (h, w), mode="bilinear", align_corners=False)
        return self.conv3x3(prompt)


class PromptIR(nn.Module):
    def __init__(self, inp_channels=3, out_channels=3, dim=48, num_blocks=(4, 6, 6, 8), num_refinement_blocks=4,
                 heads=(1, 2, 4, 8), ffn_expansion_factor=2.66, bias=False, LayerNorm_type="WithBias",
                 decoder=True, kind=None, **_):
        super().__init__()
        assert kind is None and decoder and LayerNorm_type == "WithBias"
        f, nb = ffn_expansion_factor, num_blocks
        self.patch_embed = PatchEmbedConv(inp_channels, dim, bias)
        self.prompt1 = PromptGenBlock(64, 5, 64, 96)
        self.prompt2 = PromptGenBlock(128, 5, 32, 192)
        self.prompt3 = PromptGenBlock(320, 5, 16, 384)
        self.encoder_level1 = rblocks(nb[0], dim, heads[0], f, bias)
        self.down1_2 = ConvShuffle(dim, True)
        self.encoder_level2 = rblocks(nb[1], dim * 2, heads[1], f, bias)
        self.down2_3 = ConvShuffle(dim * 2, True)
        self.encoder_level3 = rblocks(nb[2], dim * 4, heads[2], f, bias)
        self.down3_4 = ConvShuffle(dim * 4, True)
        self.latent = rblocks(nb[3], dim * 8, heads[3], f, bias)
        self.up4_3 = ConvShuffle(dim * 4, False)
        self.reduce_chan_level3 = nn.Conv2d(dim * 2 + dim * 4, dim * 4, 1, bias=bias)
        self.noise_level3 = RestormerBlock(dim * 8 + 320, 4, f, bias)
        self.reduce_noise_level3 = nn.Conv2d(dim * 8 + 320, dim * 4, 1, bias=bias)
        self.up3_2 = ConvShuffle(dim * 4, False)
        self.reduce_chan_level2 = nn.Conv2d(dim * 4, dim * 2, 1, bias=bias)
        self.noise_level2 = RestormerBlock(dim * 4 + 128, 4, f, bias)
        self.reduce_noise_level2 = nn.Conv2d(dim * 4 + 128, dim * 4, 1, bias=bias)
        self.up2_1 = ConvShuffle(dim * 2, False)
        self.noise_level1 = RestormerBlock(dim * 2 + 64, 4, f, bias)
        self.reduce_noise_level1 = nn.Conv2d(dim * 2 + 64, dim * 2, 1, bias=bias)
        self.decoder_level3 = rblocks(nb[2], dim * 4, heads[2], f, bias)
        self.decoder_level2 = rblocks(nb[1], dim * 2, heads[1], f, bias)
        self.decoder_level1 = rblocks(nb[0], dim * 2, heads[0], f, bias)
        self.refinement = rblocks(num_refinement_blocks, dim * 2, heads[0], f, bias)
        self.output = nn.Conv2d(dim * 2, out_channels, 3, 1, 1, bias=bias)

    def forward(self, inp, p=None):
        e1 = self.encoder_level1(self.patch_embed(inp))
        e2 = self.encoder_level2(self.down1_2(e1))
        e3 = self.encoder_level3(self.down2_3(e2))
        lat = self.latent(self.down3_4(e3))
        lat = torch.cat([lat, self.prompt3(lat)], 1)
        lat = self.reduce_noise_level3(self.noise_level3(lat))
        d3 = self.reduce_chan_level3(torch.cat([self.up4_3(lat), e3], 1))
        d3 = self.decoder_level3(d3)
        d3 = torch.cat([d3, self.prompt2(d3)], 1)
        d3 = self.reduce_noise_level2(self.noise_level2(d3))
        d2 = self.reduce_chan_level2(torch.cat([self.up3_2(d3), e2], 1))
        d2 = self.decoder_level2(d2)
        d2 = torch.cat([d2, self.prompt1(d2)], 1)
        d2 = self.reduce_noise_level1(self.noise_level1(d2))
        d1 = self.decoder_level1(torch.cat([self.up2_1(d2), e1], 1))
        d1 = self.refinement(d1)
        return self.output(d1) + inp


def promptir_rule_weights(path):
    """The closed-form PromptIR fixture weights (fixtures/models/README.md)."""
    rule = json.load(open(path))
    sd = {}
    for t in rule["tensors"]:
        n = int(np.prod(t["shape"]))
        with np.errstate(over="ignore"):
            j = np.arange(n, dtype=np.uint64)
            x = (j * np.uint64(0x9E3779B1) + np.uint64((t["k"] + 1) * 0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
            x ^= x >> np.uint64(16)
            x = (x * np.uint64(0x7FEB352D)) & np.uint64(0xFFFFFFFF)
            x ^= x >> np.uint64(15)
            x = (x * np.uint64(0x846CA68B)) & np.uint64(0xFFFFFFFF)
            x ^= x >> np.uint64(16)
        m = (x >> np.uint64(8)).astype(np.int64) - 8388608
        val = (t["offset"] + m.astype(np.float64) * 2.0 ** (t["scale_exp"] - 23)).astype(np.float32)
        sd[t["key"]] = torch.from_numpy(val.reshape(t["shape"]))
    return sd


# --------------------------------------------------------------------------
# Uformer (section 5.4)
# --------------------------------------------------------------------------

def square_map(x):
    """(B, L, C) tokens -> (B, C, sqrt(L), sqrt(L)), as the reference's square reshapes."""
    b, n, c = x.shape
    h = int(math.sqrt(n))
    return x.transpose(1, 2).reshape(b, c, h, h)


class UProj(nn.Module):
    """Token projection: to_q (C->C), to_kv (C->2C)."""

    def __init__(self, dim, heads, bias):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=bias)
        self.to_kv = nn.Linear(dim, dim * 2, bias=bias)

    def forward(self, x):
        bw, n, c = x.shape
        q = self.to_q(x).reshape(bw, n, self.heads, c // self.heads).permute(0, 2, 1, 3)
        kv = self.to_kv(x).reshape(bw, n, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        return q, kv[0], kv[1]


class UWindowAttention(nn.Module):
    def __init__(self, dim, ws, heads, bias):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        self.register_buffer("relative_position_index", relative_position_index(ws))
        self.qkv = UProj(dim, heads, bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        bw, n, c = x.shape
        q, k, v = self.qkv(x)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(bw // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)).view(-1, self.heads, n, n)
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(bw, n, c))


class LeFF(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.linear1 = nn.Sequential(nn.Linear(dim, hidden), nn.GELU())
        self.dwconv = nn.Sequential(nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden), nn.GELU())
        self.linear2 = nn.Sequential(nn.Linear(hidden, dim))

    def forward(self, x):
        return self.linear2(tokens(self.dwconv(square_map(self.linear1(x)))))


class LeWinBlock(nn.Module):
    def __init__(self, dim, res, heads, ws, shift, mlp_ratio, qkv_bias, modulator, dp=0.0):
        super().__init__()
        if res <= ws:
            ws, shift = res, 0
        self.ws, self.shift, self.dp = ws, shift, dp
        if modulator:
            self.modulator = nn.Embedding(ws * ws, dim)
        else:
            self.modulator = None
        self.norm1 = nn.LayerNorm(dim)
        self.attn = UWindowAttention(dim, ws, heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = LeFF(dim, int(dim * mlp_ratio))

    def forward(self, x):
        b, n, c = x.shape
        h = int(math.sqrt(n))
        # Built on the input's device on every call, as the reference (torch.zeros(...).type_as(x)).
        mask = shift_mask(h, h, self.ws, self.shift, x.device) if self.shift > 0 else None
        t = self.norm1(x).view(b, h, h, c)
        if self.shift > 0:
            t = torch.roll(t, (-self.shift, -self.shift), (1, 2))
        win = window_partition(t, self.ws).view(-1, self.ws * self.ws, c)
        if self.modulator is not None:
            win = win + self.modulator.weight
        win = self.attn(win, mask).view(-1, self.ws, self.ws, c)
        t = window_reverse(win, self.ws, h, h)
        if self.shift > 0:
            t = torch.roll(t, (self.shift, self.shift), (1, 2))
        x = x + drop_path(t.reshape(b, n, c), self.dp, self.training)
        return x + drop_path(self.mlp(self.norm2(x)), self.dp, self.training)


class UformerLayer(nn.Module):
    def __init__(self, dim, res, depth, heads, ws, mlp_ratio, qkv_bias, shift_flag, modulator, dpr):
        super().__init__()
        self.blocks = nn.ModuleList([
            LeWinBlock(dim, res, heads, ws, ws // 2 if (shift_flag and i % 2 == 1) else 0, mlp_ratio, qkv_bias,
                       modulator, dpr[i]) for i in range(depth)])

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return x


class TokenConv(nn.Module):
    """Downsample (conv 4x4 stride 2 pad 1) or Upsample (ConvTranspose 2x2 stride 2) on tokens."""

    def __init__(self, cin, cout, down):
        super().__init__()
        if down:
            self.conv = nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1))
        else:
            self.deconv = nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, 2))
        self.down = down

    def forward(self, x):
        return tokens((self.conv if self.down else self.deconv)(square_map(x)))


class UInputProj(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.LeakyReLU(inplace=True))

    def forward(self, x):
        return tokens(self.proj(x))


class UOutputProj(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1))

    def forward(self, x):
        return self.proj(square_map(x))


class Uformer(nn.Module):
    def __init__(self, img_size=256, in_chans=3, dd_in=3, embed_dim=32, depths=(2, 2, 2, 2, 2, 2, 2, 2, 2),
                 num_heads=(1, 2, 4, 8, 16, 16, 8, 4, 2), win_size=8, mlp_ratio=4.0, qkv_bias=True,
                 token_projection="linear", token_mlp="leff", shift_flag=True, modulator=False,
                 cross_modulator=False, drop_path_rate=0.1, kind=None, **_):
        super().__init__()
        assert token_projection == "linear" and token_mlp == "leff" and not cross_modulator and dd_in == 3
        self.kind = kind
        C, r, d, hd = embed_dim, img_size, depths, num_heads
        if kind:
            for i in range(1, 6):
                setattr(self, f"F_ext_net{i}", PromptExtractor(1 if kind == "EP" else 3))
            widths = [C * 16, C * 16, C * 8, C * 4, C * 2, in_chans]
            for i, c in enumerate(widths):
                setattr(self, f"prompt_scale{i}", nn.Linear(64, c))
            for i, c in enumerate(widths):
                setattr(self, f"prompt_shift{i}", nn.Linear(64, c))
        self.input_proj = UInputProj(dd_in, C)
        self.output_proj = UOutputProj(2 * C, in_chans)
        # Stochastic depth: encoder rates rise linearly, the bottleneck has the top rate, the decoder mirrors.
        enc = torch.linspace(0, drop_path_rate, sum(d[:4])).tolist()
        dec = enc[::-1]
        dpr = [enc[sum(d[:i]):sum(d[:i + 1])] for i in range(4)] + [[drop_path_rate] * d[4]] + \
              [dec[sum(d[5:5 + i]):sum(d[5:6 + i])] for i in range(4)]
        lay = lambda dim, res, i, m: UformerLayer(dim, res, d[i], hd[i], win_size, mlp_ratio, qkv_bias, shift_flag, m,
                                                  dpr[i])
        self.encoderlayer_0 = lay(C, r, 0, False)
        self.dowsample_0 = TokenConv(C, C * 2, True)
        self.encoderlayer_1 = lay(C * 2, r // 2, 1, False)
        self.dowsample_1 = TokenConv(C * 2, C * 4, True)
        self.encoderlayer_2 = lay(C * 4, r // 4, 2, False)
        self.dowsample_2 = TokenConv(C * 4, C * 8, True)
        self.encoderlayer_3 = lay(C * 8, r // 8, 3, False)
        self.dowsample_3 = TokenConv(C * 8, C * 16, True)
        self.conv = lay(C * 16, r // 16, 4, False)
        self.upsample_0 = TokenConv(C * 16, C * 8, False)
        self.decoderlayer_0 = lay(C * 16, r // 8, 5, modulator)
        self.upsample_1 = TokenConv(C * 16, C * 4, False)
        self.decoderlayer_1 = lay(C * 8, r // 4, 6, modulator)
        self.upsample_2 = TokenConv(C * 8, C * 2, False)
        self.decoderlayer_2 = lay(C * 4, r // 2, 7, modulator)
        self.upsample_3 = TokenConv(C * 4, C, False)
        self.decoderlayer_3 = lay(C * 2, r, 8, modulator)

    def forward(self, x, p=None):
        if self.kind:
            v = [getattr(self, f"F_ext_net{i}")(p) for i in range(1, 6)]
            mod = lambda f, i, vec: modulate_tokens(f, getattr(self, f"prompt_scale{i}"),
                                                    getattr(self, f"prompt_shift{i}"), vec)
        else:
            v = [None] * 5
            mod = lambda f, i, vec: f
        c0 = self.encoderlayer_0(self.input_proj(x))
        c1 = self.encoderlayer_1(self.dowsample_0(c0))
        c2 = self.encoderlayer_2(self.dowsample_1(c1))
        c3 = self.encoderlayer_3(self.dowsample_2(c2))
        c4 = mod(self.conv(self.dowsample_3(c3)), 0, v[0])
        d0 = mod(self.decoderlayer_0(torch.cat([self.upsample_0(c4), c3], -1)), 1, v[0])
        d1 = mod(self.decoderlayer_1(torch.cat([self.upsample_1(d0), c2], -1)), 2, v[1])
        d2 = mod(self.decoderlayer_2(torch.cat([self.upsample_2(d1), c1], -1)), 3, v[2])
        d3 = mod(self.decoderlayer_3(torch.cat([self.upsample_3(d2), c0], -1)), 4, v[3])
        y = self.output_proj(d3)
        if self.kind:
            y = modulate_nchw(y, self.prompt_scale5, self.prompt_shift5, v[4])
        return x + y


# --------------------------------------------------------------------------
# Registry: fixture and paper configurations
# --------------------------------------------------------------------------

BUILDERS = {"SRResNet": SRResNet, "SwinIR": SwinIR, "Restormer": Restormer, "Uformer": Uformer,
            "PromptIR": PromptIR}
PAPER = {
    "SRResNet": dict(num_in_ch=3, num_out_ch=3, num_feat=64, num_block=16, upscale=1),
    "SwinIR": dict(upscale=1, in_chans=3, img_size=128, window_size=8, img_range=1.0, depths=[6] * 6,
                   embed_dim=180, num_heads=[6] * 6, mlp_ratio=2, upsampler="pixelshuffle",
                   resi_connection="1conv"),
    "Restormer": dict(inp_channels=3, out_channels=3, dim=48, num_blocks=[4, 6, 6, 8], num_refinement_blocks=4,
                      heads=[1, 2, 4, 8], ffn_expansion_factor=2.66, bias=False, LayerNorm_type="WithBias",
                      dual_pixel_task=False, global_residual=True),
    "Uformer": dict(upscale=1, in_chans=3, embed_dim=32, win_size=8, token_projection="linear", token_mlp="leff",
                    depths=[1, 2, 8, 8, 2, 8, 8, 2, 1], modulator=True),
    "PromptIR": dict(),
}
ALL_VARIANTS = [f"{b}{s}" for b in BUILDERS for s in ("", "_EP", "_AP") if b != "PromptIR" or not s]
# Go benchmarks (prompt/bench_sidebyside_test.go): variant -> (package dir, benchmark).
GO_BENCH = {v: ("prompt", "BenchmarkSideBySide") for v in ALL_VARIANTS}
# Forward seconds of the reference on this kind of machine (reference-speed.md), to size rounds.
# Paper-configuration parameter counts (method.md section 5), checked by --check.
PAPER_PARAMS = {"SRResNet": 1_222_147, "SRResNet_EP": 1_441_033, "SRResNet_AP": 1_447_305,
                "SwinIR": 11_604_775, "SwinIR_EP": 11_854_341, "SwinIR_AP": 11_860_613,
                "Restormer": 26_126_644, "Restormer_EP": 26_547_578, "Restormer_AP": 26_572_666,
                "Uformer": 50_880_946, "Uformer_EP": 51_457_976, "Uformer_AP": 51_489_336,
                "PromptIR": 35_376_967}
REF_SECONDS = {"SRResNet": (0.64, 2.68), "SwinIR": (13.5, 62.3), "Restormer": (3.8, 14.0),
               "Uformer": (2.6, 7.7), "PromptIR": (3.8, 14.8)}
# Training step of the reference timings: batch, crop, AdamW?, weight decay, seconds (reference-speed.md).
TRAIN = {"SRResNet": (4, 64, False, 0.0, 2.04), "SwinIR": (1, 64, False, 0.0, 12.0),
         "Restormer": (4, 64, True, 0.0, 11.0), "Uformer": (1, 128, True, 0.02, 7.7),
         "PromptIR": (4, 64, True, 0.0, 11.3)}


def backbone(name):
    return name.split("_")[0]


def build(name, kwargs):
    kw = dict(kwargs)
    kw["kind"] = prompt_kind(name)
    return BUILDERS[backbone(name)](**kw).eval()


def call(model, name, x, pmap):
    k = prompt_kind(name)
    if k == "EP":
        return model(x, pmap)
    if k == "AP":
        return model(x, x)
    return model(x)


# --------------------------------------------------------------------------
# --check: strict load of the fixture weights and comparison with out.npy
# --------------------------------------------------------------------------

def check(variants):
    ok = True
    d = os.path.join(FIXTURES, "models")
    for name in variants:
        cfg = json.load(open(os.path.join(d, name + ".config.json")))
        kw = {k: v for k, v in cfg["kwargs"].items()}
        model = build(name, kw)
        pth = os.path.join(d, name + ".pth")
        rule = os.path.join(d, name + ".weights_rule.json")
        if os.path.exists(pth):
            sd = torch.load(pth, map_location="cpu")["params"]
        elif os.path.exists(rule):  # PromptIR: closed-form weights
            sd = promptir_rule_weights(rule)
        else:
            print(f"check {name:<14} SKIP (no {name}.pth)")
            continue
        # Buffers (relative position indices, attention masks) as constructed here must equal the stored ones.
        bufs = dict(model.named_buffers())
        bad = [k for k, b in bufs.items() if k not in sd or not torch.equal(b, sd[k])]
        if bad:
            print(f"check {name:<14} FAIL: constructed buffers differ from the fixture: {bad[:3]}")
            ok = False
        model.load_state_dict(sd, strict=True)
        x = torch.from_numpy(np.load(os.path.join(d, name + ".in.npy")))
        p = None
        if prompt_kind(name) == "EP":
            p = torch.from_numpy(np.load(os.path.join(d, name + ".prompt.npy")))
        want = np.load(os.path.join(d, name + ".out.npy")).astype(np.float64)
        with torch.inference_mode():
            got = call(model, name, x, p).numpy().astype(np.float64)
        n_params = sum(t.numel() for t in model.parameters())
        paper = build(name, PAPER[backbone(name)])
        n_paper = sum(t.numel() for t in paper.parameters())
        del paper
        rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
        extra = ""
        if backbone(name) == "SRResNet":  # output stays close to the input: compare out - in too
            xi = x.numpy().astype(np.float64)
            extra = f", rel L2 of out-in {np.linalg.norm((got - xi) - (want - xi)) / np.linalg.norm(want - xi):.2e}"
        good = got.shape == want.shape and rel <= 1e-5 and n_paper == PAPER_PARAMS[name]
        ok &= good
        print(f"check {name:<14} {'OK  ' if good else 'FAIL'} rel L2 {rel:.2e}, max |diff| "
              f"{np.abs(got - want).max():.2e}{extra}; {len(bufs)} buffers equal; params fixture {n_params:,}, paper {n_paper:,}")
    return ok


# --------------------------------------------------------------------------
# PyTorch worker: a persistent process that times cases on request
# --------------------------------------------------------------------------

def to_device(m, dev):
    """m on dev, with its plain tensor attributes (SwinIR's mean, which the reference moves on its first call)."""
    m = m.to(dev)
    if isinstance(getattr(m, "mean", None), torch.Tensor):
        m.mean = m.mean.to(dev)
    return m


def one_line(e):
    """A one-line reason for an exception (inductor's are pages long: prefer the compiler's error line)."""
    text = f"{type(e).__name__}: {e}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for pat in (r"fatal error", r"\berror:", r"No such file", r"not found", r"[Nn]o module named"):
        for ln in lines:
            if re.search(pat, ln):
                return ln[:300]
    return (lines[0] if lines else type(e).__name__)[:300]


def compile_probe(dev, sync):
    """torch.compile (inductor, default mode) of a small conv + pointwise module: None, or why it fails."""
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile (needs torch >= 2)"
    try:
        m = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), nn.LeakyReLU(0.1)).eval().to(dev)
        cm = torch.compile(m)
        x = torch.rand(1, 3, 16, 16).to(dev)
        with torch.inference_mode():
            got, want = cm(x), m(x)
        sync()
        if not torch.allclose(got, want, rtol=1e-4, atol=1e-5):
            return "the compiled probe module's output differs from eager"
    except Exception as e:  # inductor without a C compiler, Python.h, triton, ...
        return one_line(e)
    finally:
        torch._dynamo.reset()
    return None


def worker(threads, device):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    state = {}
    compile_ok = None  # None: not probed yet; True; or the reason it fails
    reply = lambda obj: print(json.dumps(obj), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("op") == "info":  # who answers: the interpreter behind --extra-python, say
            reply({"torch": torch.__version__, "python": sys.version.split()[0], "threads": torch.get_num_threads(),
                   "executable": sys.executable})
            continue
        compiled = bool(req.get("compile"))
        if (compiled and compile_ok is None) or req.get("op") == "probe_compile":
            why = compile_probe(dev, sync)
            compile_ok = True if why is None else why
            if req.get("op") == "probe_compile":
                reply({"ok": why is None, "error": why})
                continue
        mode, name, size, iters = req["mode"], req["variant"], req["size"], req["iters"]
        if compiled and (compile_ok is not True or mode != "forward"):
            reply({"error": compile_ok if compile_ok is not True else "torch.compile: forward mode only"})
            continue
        key = (mode, name, size, compiled)
        first = key not in state
        if compiled:
            # torch.compile(model), inductor, default mode: compiled once per case, 2 warm-up calls
            # (the first compiles), then the K timed passes. Dynamo settings that keep every case a
            # static graph of its own: the cases share forward code objects (SRResNet at 128 and 256,
            # say), and by default a second input shape would turn a case's graph dynamic, and the
            # per-code-object cache limit could make a later case fall back to eager.
            if first:
                torch._dynamo.config.automatic_dynamic_shapes = False
                for k, v in (("cache_size_limit", 256), ("accumulated_cache_size_limit", 1024)):
                    if hasattr(torch._dynamo.config, k):
                        setattr(torch._dynamo.config, k, max(v, getattr(torch._dynamo.config, k)))
                m = to_device(build(name, PAPER[backbone(name)]), dev)
                cm = torch.compile(m)
                x, p = torch.rand(1, 3, size, size).to(dev), torch.rand(1, 128, 128).to(dev)
                try:
                    t0 = time.perf_counter()
                    for i in range(2):
                        with torch.inference_mode():
                            call(cm, name, x, p)
                        sync()
                        if i == 0:
                            t_compile = time.perf_counter() - t0
                except Exception as e:
                    reply({"error": f"{name} {size}: {one_line(e)}"})
                    continue
                print(f"# torch.compile {name} {size}: first call (compilation) {t_compile:.1f} s",
                      file=sys.stderr, flush=True)
                state[key] = (cm, x, p)
            cm, x, p = state[key]
            times = []
            for _ in range(iters):
                sync()
                t0 = time.perf_counter()
                with torch.inference_mode():
                    call(cm, name, x, p)
                sync()
                times.append(time.perf_counter() - t0)
            reply({"mean": sum(times) / len(times), "times": times})
            continue
        if mode == "forward":
            if first:
                state[key] = (to_device(build(name, PAPER[backbone(name)]), dev),
                              torch.rand(1, 3, size, size).to(dev), torch.rand(1, 128, 128).to(dev))
            m, x, p = state[key]

            def run():
                with torch.inference_mode():
                    call(m, name, x, p)
        else:
            if first:
                batch, _, adamw, decay, _ = TRAIN[backbone(name)]
                crop = size  # the case's crop (TRAIN's, or --train-crop)
                m = to_device(build(name, PAPER[backbone(name)]).train(), dev)
                # Created after the move: the optimiser state lives on dev (PyTorch's default
                # implementation there: foreach on CUDA).
                opt = (torch.optim.AdamW if adamw else torch.optim.Adam)(
                    m.parameters(), lr=2e-4, betas=(0.9, 0.99), weight_decay=decay)
                state[key] = (m, opt, torch.rand(batch, 3, crop, crop).to(dev),
                              torch.rand(batch, 3, crop, crop).to(dev), torch.rand(batch, 128, 128).to(dev))
            m, opt, x, target, p = state[key]

            def run():
                opt.zero_grad()
                F.l1_loss(call(m, name, x, p), target).backward()
                opt.step()
        if first:
            run()  # warm-up (training: also creates the optimiser state)
            sync()
        times = []
        for _ in range(iters):
            sync()  # CUDA: nothing queued before the start (no-op on the CPU)
            t0 = time.perf_counter()
            run()
            sync()  # CUDA: the pass's kernels have completed
            times.append(time.perf_counter() - t0)
        print(json.dumps({"mean": sum(times) / len(times), "times": times}), flush=True)


EXTRA_ENV = {}  # --env KEY=VALUE, for both sides


class WorkerError(RuntimeError):
    """A request the worker answered with an error (torch.compile unavailable, say)."""


class Worker:
    """A PyTorch worker process: JSON requests on its stdin, one JSON line per reply on its stdout.

    python: None for this interpreter, or a command prefix (--extra-python, split with shlex)
    that is followed by this script's absolute path (os.path.realpath: scripts/libtorch2.sh
    mounts the checkout at that path inside its root) and the worker arguments. Everything the
    worker needs goes on its command line (--threads, --device, --env), as a wrapper such as
    libtorch2.sh passes on only some environment variables.
    """

    def __init__(self, threads, tunables, device="cpu", python=None):
        env = dict(os.environ, **EXTRA_ENV)
        env.pop("GLIBC_TUNABLES", None)
        if tunables:
            env["GLIBC_TUNABLES"] = TUNABLES
        prefix = shlex.split(python) if python else [sys.executable]
        args = ["--worker", "--threads", str(threads), "--device", device]
        for k, v in EXTRA_ENV.items():
            args += ["--env", f"{k}={v}"]
        self.what = " ".join(prefix)
        self.p = subprocess.Popen(prefix + [os.path.realpath(__file__)] + args,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def request(self, req):
        try:
            self.p.stdin.write(json.dumps(req) + "\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(f"PyTorch worker ({self.what}) died (rc {self.p.poll()})") from None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"PyTorch worker ({self.what}) died (rc {self.p.wait()})")
            try:
                out = json.loads(line)
            except ValueError:
                out = None
            if isinstance(out, dict):
                return out
            # Not the worker's: a wrapper's chatter on stdout.
            print(f"# worker stdout: {line.rstrip()}", file=sys.stderr, flush=True)

    def info(self):
        return self.request({"op": "info"})

    def probe_compile(self):
        """None if torch.compile works in this worker, else a one-line reason."""
        out = self.request({"op": "probe_compile"})
        return None if out["ok"] else out["error"]

    def time(self, mode, name, size, iters, compiled=False):
        req = {"mode": mode, "variant": name, "size": size, "iters": iters}
        if compiled:
            req["compile"] = True
        out = self.request(req)
        if "error" in out:
            raise WorkerError(out["error"])
        return out["mean"]

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        self.p.wait()


# --------------------------------------------------------------------------
# Go side
# --------------------------------------------------------------------------

def build_go(pkgs, prebuilt=None):
    """The test binary of each package: built with go test -c, or <prebuilt>/<pkg>.test (--go-test-bin)."""
    out = {}
    if prebuilt:
        for pkg in sorted(pkgs):
            binary = os.path.abspath(os.path.join(prebuilt, pkg.replace("/", "_") + ".test"))
            if not os.access(binary, os.X_OK):
                sys.exit(f"bench_models.py: --go-test-bin: no executable {binary} "
                         f"(build it with: go test -c -o {binary} ./{pkg})")
            out[pkg] = binary
        return out
    d = tempfile.mkdtemp(prefix="bench_models.")
    for pkg in sorted(pkgs):
        binary = os.path.join(d, pkg.replace("/", "_") + ".test")
        subprocess.run(["go", "test", "-c", "-o", binary, "./" + pkg], cwd=ROOT, check=True)
        out[pkg] = binary
    return out


def go_time(binaries, threads, mode, name, size, iters, tunables, device="cpu"):
    pkg, bench = GO_BENCH[name]
    if mode == "train":
        bench += "Train"
    env = dict(os.environ, MIOIR_NUM_THREADS=str(threads), **EXTRA_ENV)
    env["MIOIR_BENCH_DEVICE"] = device  # read by prompt/bench_sidebyside_test.go
    if mode == "train":
        env["MIOIR_BENCH_TRAIN_CROP"] = str(size)
    else:
        env["MIOIR_BENCH_SIZES"] = str(size)  # the Go benchmark's sizes (default 128,256)
    env.pop("GLIBC_TUNABLES", None)
    if tunables:
        env["GLIBC_TUNABLES"] = TUNABLES
    pattern = f"^{bench}$/^{name}$" + (f"/^{size}$" if mode == "forward" else "")
    res = subprocess.run([binaries[pkg], "-test.run", "^$", "-test.bench", pattern,
                          "-test.benchtime", f"{iters}x", "-test.cpu", str(threads)],
                         env=env, capture_output=True, text=True, cwd=os.path.join(ROOT, pkg))
    sub = f"/{size}" if mode == "forward" else ""
    m = re.search(rf"{bench}/{re.escape(name)}{sub}(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", res.stdout)
    if res.returncode != 0 or not m:
        raise RuntimeError(f"Go benchmark {pattern} failed (rc {res.returncode}):\n{res.stdout}\n{res.stderr}")
    return float(m.group(1)) / 1e9


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--variants", default="SRResNet,SRResNet_EP,SRResNet_AP,SwinIR,SwinIR_EP,SwinIR_AP",
                    help=f"comma-separated, from {','.join(ALL_VARIANTS)}")
    ap.add_argument("--sizes", default="128,256", help="comma-separated input sides")
    ap.add_argument("--slow-sizes", default=None,
                    help="sizes at which variants whose reference forward takes > 10 s at 256 "
                         "(SwinIR*) run by default; 'all' for every --sizes entry "
                         "(default: 128 on the CPU, all with --device cuda)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=5, help="most timed passes per side per round")
    ap.add_argument("--round-seconds", type=float, default=6.0,
                    help="target timed work per side per round (sets the passes of slow cases)")
    ap.add_argument("--mode", choices=("forward", "train", "both"), default="forward")
    ap.add_argument("--fresh-py", action="store_true",
                    help="a new PyTorch process for every measurement, as on the Go side")
    ap.add_argument("--train-crop", type=int, default=0,
                    help="crop side of the training steps (default: reference-speed.md's per backbone)")
    ap.add_argument("--check", action="store_true", help="verify the restatements against the fixtures first")
    ap.add_argument("--check-only", action="store_true", help="only --check")
    ap.add_argument("--glibc-tunables", action="store_true")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for both sides (repeatable), e.g. OMP_WAIT_POLICY=PASSIVE")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                    help="where both sides run (cuda: cuda:0, synchronised around every timed pass)")
    ap.add_argument("--go-test-bin", metavar="DIR",
                    help="use the prebuilt DIR/prompt.test (go test -c -o DIR/prompt.test ./prompt) "
                         "instead of building it")
    ap.add_argument("--extra-python", metavar="CMD",
                    help="also time an additional PyTorch worker run by the command prefix CMD (split "
                         "like a shell command, followed by this script's absolute path and the worker "
                         "arguments), e.g. 'bash scripts/libtorch2.sh /usr/bin/python3' for PyTorch 2.6")
    ap.add_argument("--compile", action="store_true",
                    help="also time torch.compile(model) (inductor, default mode) in a persistent worker "
                         "(forward mode, torch >= 2)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    for kv in a.env:
        k, sep, v = kv.partition("=")
        if not sep:
            ap.error(f"--env {kv}: want KEY=VALUE")
        EXTRA_ENV[k] = v
    if a.worker:
        # --env reaches a worker on its command line too: a wrapper (--extra-python) may drop the
        # environment. Variables that must be set before libgomp or torch start (OMP_*) need a
        # re-exec with them in the environment; once only.
        missing = {k: v for k, v in EXTRA_ENV.items() if os.environ.get(k) != v}
        if missing and not os.environ.get("BENCH_MODELS_REEXEC"):
            os.execve(sys.executable, [sys.executable] + sys.argv,
                      dict(os.environ, BENCH_MODELS_REEXEC="1", **missing))
        worker(a.threads, a.device)
        return
    gpu = ""
    if a.device == "cuda":
        if not torch.cuda.is_available():
            built = torch.version.cuda or "none (a CPU-only build)"
            ap.error(f"--device cuda: PyTorch sees no usable CUDA GPU (torch {torch.__version__}, "
                     f"CUDA {built}, torch.cuda.is_available() is False)")
        gpu = f"cuda:0 {torch.cuda.get_device_name(0)}"
        try:  # informative only; newer torch deprecates the allow_tf32 flags in favour of fp32_precision
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gpu += (f", cuDNN {torch.backends.cudnn.version()}, cudnn.allow_tf32 "
                        f"{torch.backends.cudnn.allow_tf32}, cuda.matmul.allow_tf32 "
                        f"{torch.backends.cuda.matmul.allow_tf32}")
        except Exception as e:
            gpu += f" (TF32 settings unreadable: {e})"
    if a.slow_sizes is None:
        a.slow_sizes = "all" if a.device == "cuda" else "128"
    variants = [v for v in a.variants.split(",") if v]
    for v in variants:
        if v not in ALL_VARIANTS:
            ap.error(f"unknown variant {v}")
    if a.check or a.check_only:
        torch.set_num_threads(a.threads)
        if not check(variants):
            sys.exit("check failed")
        if a.check_only:
            return
    sizes = [int(s) for s in a.sizes.split(",") if s]
    slow = None if a.slow_sizes == "all" else {int(s) for s in a.slow_sizes.split(",") if s}
    cases = []  # (mode, variant, size, K); for train, size is the crop
    for v in variants:
        if a.mode in ("forward", "both"):
            for s in sizes:
                if slow is not None and REF_SECONDS[backbone(v)][1] > 20 and s not in slow:
                    continue
                ref = REF_SECONDS[backbone(v)][0] * (s / 128) ** 2
                k = a.iters if a.device == "cuda" else max(1, min(a.iters, int(a.round_seconds / ref)))
                cases.append(("forward", v, s, k))
        if a.mode in ("train", "both"):
            t = TRAIN[backbone(v)]
            crop = a.train_crop or t[1]
            secs = t[4] * (crop / t[1]) ** 2
            k = a.iters if a.device == "cuda" else max(1, min(a.iters, int(a.round_seconds / secs)))
            cases.append(("train", v, crop, k))
    binaries = build_go({GO_BENCH[c[1]][0] for c in cases if c[1] in GO_BENCH}, a.go_test_bin)
    py = Worker(a.threads, False, a.device)
    pyt = Worker(a.threads, True, a.device) if a.glibc_tunables else None
    pyx = pyc = None
    extra_info = compile_why = None  # compile_why: why torch.compile is unavailable
    compile_failed = {}  # case -> reason (it compiled elsewhere, not for this case)
    try:
        if a.extra_python:
            # The same protocol as the main PyTorch side: a persistent worker, or with --fresh-py a
            # new process per measurement (this first one then only says who it is).
            pyx = Worker(a.threads, False, a.device, a.extra_python)
            extra_info = pyx.info()
            if a.fresh_py:
                pyx.close()
                pyx = None
            print(f"# PyT(extra): {a.extra_python}: torch {extra_info['torch']}, python {extra_info['python']}, "
                  f"{extra_info['threads']} threads", file=sys.stderr, flush=True)
        if a.compile:
            if not hasattr(torch, "compile"):
                compile_why = f"torch {torch.__version__} has no torch.compile (needs torch >= 2)"
            elif not any(c[0] == "forward" for c in cases):
                compile_why = "forward mode only"
            else:
                # Always a persistent worker of its own (compiling is expensive; --fresh-py does not
                # apply), so the eager workers' heaps and threads are not the compiler's.
                pyc = Worker(a.threads, False, a.device)
                compile_why = pyc.probe_compile()
                if compile_why:
                    pyc.close()
                    pyc = None
            if compile_why:
                print(f"# compile unavailable: {compile_why}", file=sys.stderr, flush=True)
    except BaseException:
        for w in (py, pyt, pyx, pyc):
            if w:
                w.close()
        raise
    res = {c: {"go": [], "py": [], "pyt": [], "pyx": [], "pyc": []} for c in cases}
    unit, scale = ("ms", 1e3) if a.device == "cuda" else ("s", 1.0)  # times as printed
    t_start = time.time()
    try:
        for r in range(a.rounds):
            for c in cases:
                mode, name, size, iters = c
                sides = (["go", "py"] + (["pyt"] if pyt else []) + (["pyx"] if a.extra_python else [])
                         + (["pyc"] if pyc and mode == "forward" and c not in compile_failed else []))
                if r % 2:
                    sides.reverse()
                for side in sides:
                    if side == "go":
                        if name in GO_BENCH:
                            res[c]["go"].append(go_time(binaries, a.threads, mode, name, size, iters,
                                                        a.glibc_tunables, a.device))
                    elif side == "py" and a.fresh_py:
                        # The Go side's conditions: a new process, one warm-up pass, K passes.
                        w = Worker(a.threads, False, a.device)
                        try:
                            res[c]["py"].append(w.time(mode, name, size, iters))
                        finally:
                            w.close()
                    elif side == "py":
                        res[c]["py"].append(py.time(mode, name, size, iters))
                    elif side == "pyt":
                        res[c]["pyt"].append(pyt.time(mode, name, size, iters))
                    elif side == "pyx" and a.fresh_py:
                        w = Worker(a.threads, False, a.device, a.extra_python)
                        try:
                            res[c]["pyx"].append(w.time(mode, name, size, iters))
                        finally:
                            w.close()
                    elif side == "pyx":
                        res[c]["pyx"].append(pyx.time(mode, name, size, iters))
                    else:
                        try:
                            res[c]["pyc"].append(pyc.time(mode, name, size, iters, compiled=True))
                        except (WorkerError, RuntimeError) as e:
                            compile_failed[c] = str(e).splitlines()[0] if str(e) else type(e).__name__
                            print(f"# torch.compile failed: {compile_failed[c]}", file=sys.stderr, flush=True)
                            if not isinstance(e, WorkerError):  # the compile worker died
                                compile_why = compile_why or compile_failed[c]
                                pyc.close()
                                pyc = None
                got = "  ".join(f"{k} {res[c][k][-1] * scale:.3f}" for k in ("go", "py", "pyt", "pyx", "pyc")
                                if len(res[c][k]) > r)
                print(f"# round {r + 1} {mode} {name} {size}: {got} {unit} ({time.time() - t_start:.0f} s)",
                      file=sys.stderr, flush=True)
            print(f"# round {r + 1}/{a.rounds} done after {time.time() - t_start:.0f} s", file=sys.stderr, flush=True)
    finally:
        for w in (py, pyt, pyx, pyc):
            if w:
                w.close()

    med = lambda xs: statistics.median(xs) if xs else math.nan
    gl = f"; GLIBC_TUNABLES={TUNABLES} for Go and PyT(tuned)" if a.glibc_tunables else ""
    gl += "".join(f"; {k}={v}" for k, v in EXTRA_ENV.items())
    where = f"device {gpu}, synchronised around every timed pass" if gpu else "device cpu"
    print(f"paper configurations, float32; {where}; {a.threads} threads; torch {torch.__version__}{gl}")
    pyside = ("fresh process, 1 warm-up + K passes" if a.fresh_py
              else "persistent worker, warm-up once + K passes")
    print(f"{a.rounds} alternating rounds; per round: Go = fresh process, 1 warm-up + K passes; PyTorch = "
          f"{pyside}; medians over rounds of the per-round mean")
    print("forward: eval, inference, 1x3xSxS; train: zero grad, forward, L1, backward, Adam/AdamW step, BxSxS")
    if a.extra_python:
        print(f"PyT(extra) = {a.extra_python}: torch {extra_info['torch']}, python {extra_info['python']}, "
              f"{extra_info['threads']} threads; {pyside}")
    if a.compile:
        if compile_why:
            print(f"compile unavailable: {compile_why}")
        else:
            print(f"PyT compile = torch.compile(model) (inductor, default mode), torch {torch.__version__}, "
                  f"persistent worker: compiled once per case, 2 warm-up calls + K passes; forward only")
        for c, why in compile_failed.items():
            if why != compile_why:
                print(f"compile failed: {why}")
    hdr = (f"{'mode':<7} {'variant':<12} {'size':>7} {'K':>2} {'Go ' + unit:>8} {'PyTorch ' + unit:>10} "
           f"{'Go/PyTorch':>11}")
    if pyt:
        hdr += f" {'PyT(tuned) ' + unit:>13} {'Go/PyT(tuned)':>14}"
    if a.extra_python:
        hdr += f" {'PyT(extra) ' + unit:>13} {'PyT(extra)/PyTorch':>18} {'Go/PyT(extra)':>14}"
    if a.compile:
        hdr += f" {'PyT compile ' + unit:>14} {'Go/PyT(compile)':>16}"
    print(hdr)
    num = lambda v, w, f=".3f": f"{v:{w}{f}}" if not math.isnan(v) else f"{'-':>{w}}"
    for c in cases:
        mode, name, size, iters = c
        g, p = med(res[c]["go"]), med(res[c]["py"])
        gs = f"{g * scale:8.3f}" if not math.isnan(g) else f"{'-':>8}"
        rs = f"{g / p:11.3f}" if not math.isnan(g) else f"{'-':>11}"
        sz = str(size) if mode == "forward" else f"{TRAIN[backbone(name)][0]}x{size}"
        line = f"{mode:<7} {name:<12} {sz:>7} {iters:>2} {gs} {p * scale:10.3f} {rs}"
        if pyt:
            pt = med(res[c]["pyt"])
            rt = f"{g / pt:14.3f}" if not math.isnan(g) else f"{'-':>14}"
            line += f" {pt * scale:13.3f} {rt}"
        if a.extra_python:
            px = med(res[c]["pyx"])
            line += f" {num(px * scale, 13)} {num(px / p, 18)} {num(g / px, 14)}"
        if a.compile:
            pc = med(res[c]["pyc"])
            line += f" {num(pc * scale, 14)} {num(g / pc, 16)}"
        print(line)
    print(f"# total {time.time() - t_start:.0f} s", file=sys.stderr)

if __name__ == "__main__":
    main()
