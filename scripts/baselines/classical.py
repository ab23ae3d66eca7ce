#!/usr/bin/python3
"""Classical restoration baselines for scripts/baselines (see main.go).

    python3 classical.py IN OUT PARAMS.json

PARAMS.json is a list of {"file": "<rel>.png", "task": "noise", "params": {...},
"kernel": [...]} records written by the Go driver; every degraded image
IN/<rel>.png is restored with each method of its task (METHODS) and written to
OUT/<method>/<rel>.png (8-bit RGB), and OUT/times.json maps method -> file ->
seconds spent in the method (reading and writing excluded). One thread
(cv2.setNumThreads(1); the driver also sets OMP_NUM_THREADS=1).

Dependencies (baseline script only, never the library's): Debian's
python3-opencv and python3-numpy.
"""

import json
import os
import sys
import time

import cv2
import numpy as np

cv2.setNumThreads(1)

# Noise: OpenCV non-local means on the colour image (cv2 converts to Lab and
# filters L with h, a and b with hColor), OpenCV's default windows (7x7
# patches, 21x21 search), h = hColor = NLM_FACTOR x sigma with sigma the drawn
# noise standard deviation on the 0..255 scale (an oracle sigma: a user would
# estimate it). NLM_FACTOR was chosen by calibrate.py on two training photos.
NLM_FACTOR = 0.6
NLM_TEMPLATE, NLM_SEARCH = 7, 21

# Blur: Richardson-Lucy with the true (oracle) Gaussian kernel of the draw,
# reflect-101 borders (those of the degradation), RL_ITERS iterations from
# the blurred image (iterations chosen by calibrate.py: the gain still grows
# slowly beyond 200, which bounds the time). The update is that of
# skimage.restoration.richardson_lucy (which starts from 0.5 instead).
RL_ITERS = 200

# JPEG: a light bilateral filter (5x5 window, sigmaColor 30 on 0..255,
# sigmaSpace 2), settings chosen by calibrate.py; no deblocking that knows the
# 8x8 grid is packaged in OpenCV or scikit-image.
BILATERAL_D, BILATERAL_COLOR, BILATERAL_SPACE = 5, 30, 2

# Rain: a median filter (MEDIAN_K x MEDIAN_K per channel), a stand-in, not a
# deraining method: it trades detail for streaks (size chosen by calibrate.py).
MEDIAN_K = 13

# Haze: dark channel prior (He, Sun, Tang 2009) with guided-filter refinement
# (He, Sun, Tang 2010).
DCP_PATCH, DCP_OMEGA, DCP_T0, DCP_TOP = 15, 0.95, 0.1, 0.001
GF_RADIUS, GF_EPS = 60, 1e-3

# Low light: CLAHE on L of Lab with OpenCV's tutorial settings, and a global
# gamma that maps the image mean to 0.5.
CLAHE_CLIP, CLAHE_TILES = 2.0, 8


def to_float(bgr):
    return bgr.astype(np.float32) / 255.0


def to_u8(x):
    # BasicSR's tensor2img rounding: clip, x*255, round half to even.
    return np.rint(np.clip(x, 0.0, 1.0) * np.float32(255.0)).astype(np.uint8)


def nlm(bgr, rec):
    h = NLM_FACTOR * float(rec["params"]["noise_sigma"])
    return cv2.fastNlMeansDenoisingColored(bgr, None, h, h, NLM_TEMPLATE, NLM_SEARCH)


def gauss_filter(x, k):
    return cv2.sepFilter2D(x, cv2.CV_32F, k, k, borderType=cv2.BORDER_REFLECT_101)


def richardson_lucy(bgr, rec, iters=None):
    k = np.asarray(rec["kernel"], dtype=np.float32)  # symmetric: no flip needed
    y = to_float(bgr)
    u = y.copy()
    eps = np.float32(1e-6)
    for _ in range(iters or RL_ITERS):
        est = gauss_filter(u, k)
        u = u * gauss_filter(y / np.maximum(est, eps), k)
    return to_u8(u)


def bilateral(bgr, rec):
    return cv2.bilateralFilter(bgr, BILATERAL_D, BILATERAL_COLOR, BILATERAL_SPACE)


def median(bgr, rec):
    return cv2.medianBlur(bgr, MEDIAN_K)


def box_mean(x, r):
    """Mean over the (2r+1)^2 window clipped to the image (He's boxfilter / N)."""
    h, w = x.shape[:2]

    def win_sum(a, axis, n):
        c = np.cumsum(a, axis=axis, dtype=np.float64)
        c = np.concatenate([np.zeros_like(np.take(c, [0], axis=axis)), c], axis=axis)
        idx = np.arange(n)
        hi = np.minimum(idx + r + 1, n)
        lo = np.maximum(idx - r, 0)
        return np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis)

    s = win_sum(win_sum(x.astype(np.float64), 0, h), 1, w)
    ones = win_sum(win_sum(np.ones((h, w)), 0, h), 1, w)
    return s / ones


def guided_filter(guide, src, r, eps):
    mi, ms = box_mean(guide, r), box_mean(src, r)
    cov = box_mean(guide * src, r) - mi * ms
    var = box_mean(guide * guide, r) - mi * mi
    a = cov / (var + eps)
    b = ms - a * mi
    return box_mean(a, r) * guide + box_mean(b, r)


def dark_channel(rgb, patch):
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (patch, patch))
    return cv2.erode(rgb.min(axis=2), kernel)  # outside pixels ignored


def dcp(bgr, rec):
    i = to_float(bgr[:, :, ::-1]).astype(np.float64)  # RGB
    dark = dark_channel(i, DCP_PATCH)
    n = max(1, int(round(dark.size * DCP_TOP)))
    top = np.argpartition(dark.ravel(), -n)[-n:]
    pix = i.reshape(-1, 3)[top]
    a = pix[np.argmax(pix.sum(axis=1))]  # brightest input pixel among them
    a = np.maximum(a, 1e-6)
    t = 1.0 - DCP_OMEGA * dark_channel(i / a, DCP_PATCH)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float64) / 255.0
    t = guided_filter(gray, t, GF_RADIUS, GF_EPS)
    j = (i - a) / np.maximum(t, DCP_T0)[:, :, None] + a
    return np.ascontiguousarray(to_u8(j.astype(np.float32))[:, :, ::-1])


def clahe(bgr, rec):
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)
    c = cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=(CLAHE_TILES, CLAHE_TILES))
    lab[:, :, 0] = c.apply(np.ascontiguousarray(lab[:, :, 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def gamma_mean(bgr, rec):
    x = to_float(bgr)
    m = float(x.mean())
    if not 0.0 < m < 1.0:
        return bgr.copy()
    g = np.log(0.5) / np.log(m)
    return to_u8(np.power(x, np.float32(g)))


# Methods per task; SR has none (see main.go).
METHODS = {
    "blur": [("rl", richardson_lucy)],
    "noise": [("nlm", nlm)],
    "jpeg": [("bilateral", bilateral)],
    "rain": [("median", median)],
    "haze": [("dcp", dcp)],
    "dark": [("clahe", clahe), ("gamma-mean", gamma_mean)],
}


def main(argv):
    if len(argv) != 4:
        sys.exit("usage: classical.py IN OUT PARAMS.json")
    src, dst, params = argv[1:]
    with open(params) as f:
        recs = json.load(f)
    times = {}
    for rec in recs:
        methods = METHODS.get(rec["task"], [])
        if not methods:
            continue
        path = os.path.join(src, rec["file"])
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            sys.exit("classical.py: cannot read " + path)
        for name, fn in methods:
            t0 = time.perf_counter()
            out = fn(bgr, rec)
            dt = time.perf_counter() - t0
            times.setdefault(name, {})[rec["file"]] = dt
            op = os.path.join(dst, name, rec["file"])
            os.makedirs(os.path.dirname(op), exist_ok=True)
            if not cv2.imwrite(op, out):
                sys.exit("classical.py: cannot write " + op)
    with open(os.path.join(dst, "times.json"), "w") as f:
        json.dump(times, f)


if __name__ == "__main__":
    main(sys.argv)
