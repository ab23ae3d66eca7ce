#!/usr/bin/env python3
"""How well x4 upscales made by other kernels fit mioir's x4 fit trace.

A NumPy port of Traces.UpscaleFit (mioir/upscalefit.go: each line of the
luminance projected onto the span of PyTorch's bicubic kernel, a = -0.75, at
the four grid phases; the best phase's residual over the median phase's, the
larger of the two axes), run on clean crops shrunk x4 with OpenCV's area
filter and enlarged again by OpenCV's bicubic, bilinear and Lanczos and by a
Keys a = -0.5 bicubic (MATLAB's and Pillow's kernel), and on the same crops
blurred, each rounded to 8 bits. It prints the share of each under the
default guard's MinUpscaleFit (0.85).

    go run ./scripts/autoeval -stats-only -photos ... -write W
    /usr/bin/python3 scripts/autoeval/upscalefit_kernels.py W/clean

Needs python3-numpy and python3-opencv (Debian); measurement only.
"""
import glob
import sys

import cv2
import numpy as np


def kernel(x, a):
    x = abs(x)
    if x <= 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return 0.0


_bases = {}


def basis(n, phase):
    """Orthonormal basis of length-n lines enlarged x4 (PyTorch's kernel)."""
    if (n, phase) not in _bases:
        src = lambda i: (i + phase + 0.5) / 4 - 0.5
        k0, k1 = int(np.floor(src(0))) - 1, int(np.ceil(src(n - 1))) + 1
        m = np.array([[kernel(src(i) - k, -0.75) for k in range(k0, k1 + 1)] for i in range(n)])
        q, r = np.linalg.qr(m)
        keep = np.abs(np.diag(r)) > 1e-6 * np.linalg.norm(m, axis=0)
        _bases[(n, phase)] = q[:, keep]
    return _bases[(n, phase)]


def upscale_fit(y):
    out = []
    for a in (y, y.T):
        e = []
        for p in range(4):
            q = basis(a.shape[1], p)
            r = a - (a @ q) @ q.T
            e.append((r ** 2).sum())
        e.sort()
        med = (e[1] + e[2]) / 2
        out.append(1.0 if med <= 0 else np.sqrt(e[0] / med))
    return max(out)


def keys_up(lo, h, w, a=-0.5):
    def mat(n_in, n_out):
        u = np.zeros((n_out, n_in))
        for i in range(n_out):
            s = (i + 0.5) / 4 - 0.5
            f = int(np.floor(s))
            for k in range(f - 1, f + 3):
                u[i, min(max(k, 0), n_in - 1)] += kernel(s - k, a)
        return u
    uh, uw = mat(lo.shape[0], h), mat(lo.shape[1], w)
    return np.stack([uh @ lo[:, :, c] @ uw.T for c in range(3)], axis=2)


def main():
    res = {}
    luma = lambda im: im[:, :, 2] * 0.299 + im[:, :, 1] * 0.587 + im[:, :, 0] * 0.114
    q8 = lambda im: np.round(np.clip(im, 0, 1) * 255) / 255
    for f in sorted(glob.glob(sys.argv[1] + '/*.png')):
        im = cv2.imread(f).astype(np.float64) / 255
        h, w = im.shape[0] - im.shape[0] % 4, im.shape[1] - im.shape[1] % 4
        im = im[:h, :w]
        lo = cv2.resize(im, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        for name, interp in [('OpenCV bicubic', cv2.INTER_CUBIC), ('OpenCV bilinear', cv2.INTER_LINEAR),
                             ('OpenCV Lanczos', cv2.INTER_LANCZOS4)]:
            res.setdefault(name, []).append(upscale_fit(luma(q8(cv2.resize(lo, (w, h), interpolation=interp)))))
        res.setdefault('Keys a=-0.5 bicubic', []).append(upscale_fit(luma(q8(keys_up(lo, h, w)))))
        for s in (1.5, 2.5):
            res.setdefault('Gaussian blur %.1f' % s, []).append(upscale_fit(luma(q8(cv2.GaussianBlur(im, (0, 0), s)))))
    for k, v in res.items():
        v = np.array(v)
        print('%-20s %d crops, under 0.85: %d (%.0f %%), median %.2f' % (k, len(v), np.sum(v < 0.85), 100 * np.mean(v < 0.85), np.median(v)))


if __name__ == '__main__':
    main()
