#!/usr/bin/env python3
"""What the blur prompt does to blurred crops, by how much a blur still changes them.

A NumPy port of Traces.Reblur (mioir/reblur.go: the RMS change of the
luminance under a Gaussian blur of 1.5 pixels, 13 taps, over the pixels whose
whole kernel lies inside the crop), in 8-bit levels, for every blurred input
of an autoeval -write folder, and the PSNR gain (RGB, crop 4) of the bundled
model's blur prompt on those under 0.6, by band. The restorations come from
examples/restore, run on a folder of those inputs. Then the same for the
clean crops blurred harder than the method's range (OpenCV, sigma 4 and 5,
rounded to 8 bits), split at the default guard's 0.25/255:

    go run ./scripts/autoeval -stats-only -photos ... -write W
    /usr/bin/python3 scripts/autoeval/reblur_crops.py W

Needs python3-numpy and python3-opencv (Debian) and the Go toolchain;
measurement only.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

from crops import manifest, psnr

KERNEL = np.exp(-np.arange(-6, 7) ** 2 / (2 * 1.5**2))
KERNEL /= KERNEL.sum()
BANDS = [(0, 0.15), (0.15, 0.2), (0.2, 0.25), (0.25, 0.3), (0.3, 0.4), (0.4, 0.6)]


def reblur(path):
    x = cv2.imread(path)[:, :, ::-1].astype(np.float64) / 255
    y = x @ np.array([0.299, 0.587, 0.114])
    h = np.apply_along_axis(lambda r: np.convolve(r, KERNEL, "valid"), 1, y)
    v = np.apply_along_axis(lambda c: np.convolve(c, KERNEL, "valid"), 0, h)
    return 255 * np.sqrt(((v - y[6:-6, 6:-6]) ** 2).mean())


def restore_blur(inputs):
    """PSNR gains of the blur prompt: inputs are (path, clean path) pairs."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        os.makedirs(src)
        names = []
        for i, (path, _) in enumerate(inputs):
            names.append(f"{i:05d}.png")
            shutil.copy(path, os.path.join(src, names[-1]))
        repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        subprocess.run(["go", "run", "./examples/restore", "-q", "-in", src, "-out", dst, "-task", "b"], cwd=repo, check=True)
        out = []
        for name, (_, clean) in zip(names, inputs):
            x = cv2.imread(os.path.join(src, name))
            y = cv2.imread(os.path.join(dst, name))
            c = cv2.imread(clean)[: x.shape[0], : x.shape[1]]
            p = psnr(x, c)
            out.append((p, psnr(y, c) - p))
        return out


def main():
    w = sys.argv[1]
    blurred = [(reblur(os.path.join(w, r[0])), os.path.join(w, r[0]), os.path.join(w, r[2])) for r in manifest(w, "blur")]
    print(f"{len(blurred)} blurred inputs, {sum(v < 0.25 for v, _, _ in blurred)} under 0.25 levels")
    low = [b for b in blurred if b[0] < 0.6]
    res = [(v,) + g for (v, _, _), g in zip(low, restore_blur([(x, c) for _, x, c in low]))]
    for lo, hi in BANDS:
        band = [r for r in res if lo <= r[0] < hi]
        if not band:
            continue
        g = np.array([r[2] for r in band])
        p = np.array([r[1] for r in band])
        print(f"reblur [{lo}, {hi}) levels: {len(band)} crops, blur prompt gain mean {g.mean():+.2f} dB "
              f"(min {g.min():+.2f}, max {g.max():+.2f}), {(g < -0.5).sum()} lose > 0.5 dB, "
              f"{(g > 0.3).sum()} gain > 0.3 dB; input PSNR median {np.median(p):.1f} dB")

    cleans = sorted({c for _, _, c in blurred})
    with tempfile.TemporaryDirectory() as tmp:
        for sigma in (4, 5):
            heavy = []
            for i, c in enumerate(cleans):
                x = cv2.GaussianBlur(cv2.imread(c).astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
                path = os.path.join(tmp, f"s{sigma}_{i:05d}.png")
                cv2.imwrite(path, np.clip(x.round(), 0, 255).astype(np.uint8))
                heavy.append((reblur(path), path, c))
            gains = [g for _, g in restore_blur([(x, c) for _, x, c in heavy])]
            for name, keep in (("refused (under 0.25)", lambda v: v < 0.25), ("kept", lambda v: v >= 0.25)):
                g = np.array([gi for (v, _, _), gi in zip(heavy, gains) if keep(v)])
                if len(g):
                    print(f"sigma {sigma}, {name}: {len(g)} of {len(heavy)} crops, blur prompt gain mean {g.mean():+.2f} dB "
                          f"(min {g.min():+.2f}, max {g.max():+.2f}), {(g < -0.5).sum()} lose > 0.5 dB")


if __name__ == "__main__":
    main()
