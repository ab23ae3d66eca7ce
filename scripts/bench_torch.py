#!/usr/bin/python3
"""Go binding vs PyTorch on the same libtorch, side by side, in one run.

    /usr/bin/python3 scripts/bench_torch.py [--threads N] [--rounds R] [--iters K]

Builds nets/torch's test binary, then alternates rounds: the Go benchmark
(BenchmarkConv2d: 64->64 3x3 conv, padding 1, on 1x64x256x256, forward in
inference mode, and forward+backward of sum(out) with weight and bias
requiring grad) and the same work in PyTorch (Debian's python3-torch, the same
libtorch 1.13.1), both with the same intra-op thread count. Prints each
side's median time per iteration and the Go/PyTorch ratio (< 1: Go is faster).
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def pytorch_round(threads, iters):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn((1, 64, 256, 256), generator=g)
    w = torch.randn((64, 64, 3, 3), generator=g)
    b = torch.randn((64,), generator=g)
    out = {}
    with torch.inference_mode():
        torch.nn.functional.conv2d(x, w, b, padding=1)  # warm-up
        t0 = time.perf_counter()
        for _ in range(iters):
            torch.nn.functional.conv2d(x, w, b, padding=1)
        out["forward"] = (time.perf_counter() - t0) / iters
    w.requires_grad_()
    b.requires_grad_()
    torch.nn.functional.conv2d(x, w, b, padding=1).sum().backward()  # warm-up
    t0 = time.perf_counter()
    for _ in range(iters):
        torch.nn.functional.conv2d(x, w, b, padding=1).sum().backward()
        w.grad = None
        b.grad = None
    out["forward-backward"] = (time.perf_counter() - t0) / iters
    return out


def go_round(binary, threads, iters):
    env = dict(os.environ, MIOIR_NUM_THREADS=str(threads))
    res = subprocess.run([binary, "-test.run", "^$", "-test.bench", "^BenchmarkConv2d$",
                          "-test.benchtime", f"{iters}x", "-test.cpu", str(threads)],
                         env=env, capture_output=True, text=True, check=True,
                         cwd=os.path.join(ROOT, "nets", "torch"))
    out = {}
    for m in re.finditer(r"BenchmarkConv2d/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", res.stdout):
        out[m.group(1)] = float(m.group(2)) / 1e9
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    a = ap.parse_args()
    binary = os.path.join(tempfile.mkdtemp(), "torch.test")
    subprocess.run(["go", "test", "-c", "-o", binary, "./nets/torch"], cwd=ROOT, check=True)
    go, py = {}, {}
    for r in range(a.rounds):
        for k, v in go_round(binary, a.threads, a.iters).items():
            go.setdefault(k, []).append(v)
        for k, v in pytorch_round(a.threads, a.iters).items():
            py.setdefault(k, []).append(v)
    print(f"conv2d 64->64 3x3 on 1x64x256x256, {a.threads} threads, {a.rounds} alternating rounds of {a.iters} iterations")
    print(f"torch {torch.__version__}; times are medians per iteration")
    print(f"{'case':<18} {'Go (ms)':>9} {'PyTorch (ms)':>13} {'Go/PyTorch':>11}")
    for k in ["forward", "forward-backward"]:
        g, p = statistics.median(go[k]), statistics.median(py[k])
        print(f"{k:<18} {g * 1e3:9.2f} {p * 1e3:13.2f} {g / p:11.3f}")


if __name__ == "__main__":
    main()
