#!/usr/bin/python3
"""How classical.py's free constants were chosen (not on the held-out photos).

    go run ./scripts/baselines -clean CALIB -seeds 5 -tasks bnjr -keep KEEP
    python3 scripts/baselines/calibrate.py CALIB KEEP [TASK...]

CALIB held two of the default model's training photos, scikit-image's
astronaut.png and chelsea.png (/usr/lib/python3/dist-packages/skimage/data).
For each task in KEEP (the driver's kept degraded images and parameters) this
prints (for the tasks named, default all) the mean PSNR (RGB, crop 4, as BasicSR) of the input and of each
candidate setting: non-local means' h / sigma factor (noise), Richardson-Lucy
iterations (blur), and the JPEG and rain stand-ins that classical.py leaves
out because none improves the input.
"""

import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import classical  # noqa: E402

cv2.setNumThreads(1)


def psnr(a, b, crop=4):
    a = a[crop:-crop, crop:-crop].astype(np.float64)
    b = b[crop:-crop, crop:-crop].astype(np.float64)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def load(clean, keep, task):
    d = os.path.join(keep, task)
    if not os.path.isdir(d):
        return []
    with open(os.path.join(d, "params.json")) as f:
        recs = json.load(f)
    out = []
    for r in recs:
        lq = cv2.imread(os.path.join(d, "in", r["file"]), cv2.IMREAD_COLOR)
        photo = r["file"].rsplit("@seed", 1)[0]
        gt = cv2.imread(os.path.join(clean, photo), cv2.IMREAD_COLOR)
        out.append((r, lq, gt[: lq.shape[0], : lq.shape[1]]))
    return out


def sweep(name, data, candidates):
    if not data:
        return
    base = np.mean([psnr(lq, gt) for _, lq, gt in data])
    print(f"{name}: input {base:.2f} dB over {len(data)} images")
    for label, fn in candidates:
        v = np.mean([psnr(fn(lq, r), gt) for r, lq, gt in data])
        print(f"  {label:32s} {v:.2f} ({v - base:+.2f})")


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: calibrate.py CLEAN KEEP [TASK...]")
    clean, keep = argv[1:3]

    def nlm(k):
        def f(lq, r):
            h = k * r["params"]["noise_sigma"]
            return cv2.fastNlMeansDenoisingColored(lq, None, h, h, 7, 21)
        return f

    only = argv[3:]

    def get(task):
        return load(clean, keep, task) if not only or task in only else []

    sweep("noise", get("noise"),
          [(f"NLM h = hColor = {k:.1f} sigma", nlm(k)) for k in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4)])
    sweep("blur", get("blur"),
          [(f"Richardson-Lucy {n} it.", lambda lq, r, n=n: classical.richardson_lucy(lq, r, n))
           for n in (10, 30, 50, 100, 150, 200, 300, 500)])
    jpeg = [(f"bilateral d=5 sigmaColor={c} sigmaSpace={sp}",
             lambda lq, r, c=c, sp=sp: cv2.bilateralFilter(lq, 5, c, sp))
            for c in (10, 15, 20, 30, 40) for sp in (2, 3, 5)]
    jpeg += [(f"NLM h = hColor = {h}", lambda lq, r, h=h: cv2.fastNlMeansDenoisingColored(lq, None, h, h, 7, 21))
             for h in (1, 2, 3, 5, 8)]
    jpeg += [("Gaussian blur 3x3 sigma 0.5", lambda lq, r: cv2.GaussianBlur(lq, (3, 3), 0.5))]
    sweep("jpeg", get("jpeg"), jpeg)
    sweep("rain", get("rain"),
          [(f"median {k}x{k}", lambda lq, r, k=k: cv2.medianBlur(lq, k)) for k in (3, 5, 7, 9, 11, 13, 15)])


if __name__ == "__main__":
    main(sys.argv)
