#!/usr/bin/env python3
"""Whether a restoration strength predicted per image keeps auto mode from over-restoring.

For the haze, rain and noise inputs of autoeval -write folders, the bundled
model's prompt of that task (examples/restore -strength 1: the network's
output, without the strength model the file may carry) is blended with the
input, out = k*restored + (1-k)*input, for k = 0, 0.05, ..., 1, and the PSNR
gain (RGB, crop 4) of each k is measured. The best k per image is the
oracle. A linear model of k over eleven global statistics of the input and
the restored image (luminance mean, spread and their change, the ratio of
the spreads, the 1st percentile and the mean of the darkest channel of
each, saturation, mean absolute change; mioir measures the same in Go, in
the order mioir.StrengthStats gives) is fitted by least squares on the oracle k of the first folder's
crops (FIT) and applied, clipped to 0.3..1, to the held-out sets (the
others, NAME=FOLDER=RECORDS, RECORDS the autoeval -lazy -json run of that
set). Printed per task: how well the model predicts the oracle (R^2),
images more than 0.5 dB below their input with the prompt and with the
predicted k, auto mode's distance below the task given on each set when
its choices of that task are blended so, and what one k for every input
would do instead (the mean gain and the inputs more than 0.5 dB worse):

    go run ./scripts/autoeval -stats-only -photos FITPHOTOS... -write FIT
    go run ./scripts/autoeval -lazy -photos SET... -json S.jsonl -write S
    /usr/bin/python3 scripts/autoeval/strength_fit.py [-save DIR] [-haze-physics] FIT [A=S=S.jsonl ...]

FIT was first the training photos' crops (the fit did not carry over to the
sets), then the validation photos of scripts/default-model/train.sh (15 of
OpenCV's sample photos, in neither the training nor the sets), whose noise
fit the bundled model carries. -save writes each task's fitted model to
DIR/TASK.json (the statistics' names, the intercept and weights, the clip
range), which scripts/default-model/strength stores in a model file.
-haze-physics fits haze alone, on eleven features read through the
scattering model I = J t + A (1 - t) instead (the airlight A from the
brightest 0.1 % of the input's dark channel, the transmission t the output
implies, both images' dark channels, the change in clipped darks,
saturation, brightness and spread); it cannot be saved.

Needs python3-numpy and python3-opencv (Debian) and the Go toolchain.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

from crops import PROMPT, input_name, manifest, psnr

TASKS = {"haze": "h", "rain": "r", "noise": "n"}
STATS = ["lmean", "lstd", "ostd", "ratio", "dmean", "imin", "omin", "mimean", "momean", "sati", "rms"]
LUMA = np.array([0.114, 0.587, 0.299])  # BGR
KS = np.arange(21) / 20
KMIN = 0.3


def saturation(x):
    """Mean of (max - min) / max over the channels of x (0-1)."""
    return ((x.max(2) - x.min(2)) / np.maximum(x.max(2), 1e-6)).mean()


def stats(deg, res):
    """The eleven STATS of input deg and output res (0-255, BGR), as mioir measures them."""
    li, lo = deg / 255 @ LUMA, res / 255 @ LUMA
    mi, mo = deg.min(2) / 255, res.min(2) / 255
    s = dict(lmean=li.mean(), lstd=li.std(), ostd=lo.std(), ratio=lo.std() / max(li.std(), 1e-6),
             dmean=lo.mean() - li.mean(), imin=np.percentile(mi, 1), omin=np.percentile(mo, 1),
             mimean=mi.mean(), momean=mo.mean(), sati=saturation(deg / 255), rms=np.abs(res - deg).mean() / 255)
    return [s[k] for k in STATS]


def dark_channel(x, r=7):
    return cv2.erode(x.min(2), np.ones((2 * r + 1, 2 * r + 1)))


def haze_physics(i, o):
    """Eleven features of input i and output o (0-1, BGR) read through the scattering model."""
    di, do = dark_channel(i), dark_channel(o)
    brightest = np.argsort(di.ravel())[-max(1, di.size // 1000):]
    a = i.reshape(-1, 3)[brightest].mean(0)
    num, den = a - i, a - o
    c = np.argmax(np.abs(den), axis=2)[..., None]
    num, den = np.take_along_axis(num, c, 2)[..., 0], np.take_along_axis(den, c, 2)[..., 0]
    t = np.clip(num / np.where(np.abs(den) < 1e-3, 1e-3, den), 0, 1.5)
    li, lo = i @ LUMA, o @ LUMA
    return [a.mean(), np.median(t), np.percentile(t, 10), t.std(), di.mean(), do.mean(),
            (do < 0.02).mean() - (di < 0.02).mean(), saturation(o) - saturation(i), lo.mean() / max(li.mean(), 1e-6),
            lo.std() / max(li.std(), 1e-6), np.abs(o - i).mean()]


PHYSICS = False


def measure(folder, task, restore):
    """Gain curve over KS and statistics for every input of task in folder."""
    rows = manifest(folder, task)
    tmp = tempfile.mkdtemp()
    try:
        ind, outd = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        os.mkdir(ind)
        for r in rows:
            os.symlink(os.path.abspath(os.path.join(folder, r[0])), os.path.join(ind, r[0]))
        subprocess.run([restore, "-task", TASKS[task], "-strength", "1", "-in", ind, "-out", outd, "-q"], check=True,
                       stdout=subprocess.DEVNULL)
        out = {}
        for r in rows:
            clean, deg, res = (cv2.imread(p).astype(np.float64) for p in
                               (os.path.join(folder, r[2]), os.path.join(folder, r[0]), os.path.join(outd, r[0])))
            p0 = psnr(deg, clean)
            if np.isinf(p0):  # the degradation left the crop as it was
                continue
            curve = np.array([psnr(np.clip(np.round(k * res + (1 - k) * deg), 0, 255), clean) - p0 for k in KS])
            x = haze_physics(deg / 255, res / 255) if PHYSICS else stats(deg, res)
            out[r[0]] = (curve, np.array([1] + x))
        return out
    finally:
        shutil.rmtree(tmp)


def at(curve, k):
    """The gain of blend k on a gain curve over KS."""
    return curve[int(round(k * 20))]


def constant_k(d):
    """One k for every input of d: the mean gain and the inputs more than 0.5 dB worse, k = 1 down to 0.5."""
    cells = []
    for k in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5):
        g = np.array([at(c, k) for c, _ in d.values()])
        cells.append(f"{k:.1f}: {g.mean():+.2f}, {(g < -0.5).sum()} worse")
    return "constant k " + "; ".join(cells)


def main():
    global PHYSICS
    args, save = sys.argv[1:], None
    if args[:1] == ["-save"]:
        save, args = args[1] if len(args) > 1 else None, args[2:]
    if args[:1] == ["-haze-physics"]:
        PHYSICS, args = True, args[1:]
    if not args or save == "" or (save and PHYSICS) or args[0].startswith("-"):
        sys.exit(__doc__)
    if save:
        os.makedirs(save, exist_ok=True)
    tmp = tempfile.mkdtemp()
    restore = os.path.join(tmp, "restore")
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    subprocess.run(["go", "build", "-o", restore, "./examples/restore"], cwd=repo, check=True)
    fitdir = args[0]
    sets = [a.split("=") for a in args[1:]]
    for task in ["haze"] if PHYSICS else TASKS:
        tr = measure(fitdir, task, restore)
        X = np.array([x for _, x in tr.values()])
        y = np.array([KS[c.argmax()] for c, _ in tr.values()])
        w = np.linalg.lstsq(X, y, rcond=None)[0]
        kof = lambda x: float(np.clip(x @ w, KMIN, 1.0))
        if save:
            with open(os.path.join(save, task + ".json"), "w") as f:
                json.dump({"Stats": STATS, "Weights": list(w), "Min": KMIN, "Max": 1.0}, f, indent=1)

        def r2(d):
            xs = np.array([x for _, x in d.values()])
            ys = np.array([KS[c.argmax()] for c, _ in d.values()])
            return 1 - ((xs @ w - ys) ** 2).mean() / ys.var()

        held = {name: measure(folder, task, restore) for name, folder, _ in sets}
        pooled = {(n, k): v for n, d in held.items() for k, v in d.items()}
        line = f"{task}: fit crops {len(tr)}, oracle k < 0.8 on {(y < 0.8).sum()}, R^2 {r2(tr):.2f}"
        if pooled:
            line += (f"; held-out inputs {len(pooled)}, oracle k < 0.8 on "
                     f"{sum(KS[c.argmax()] < 0.8 for c, _ in pooled.values())}, R^2 {r2(pooled):.2f}")
        print(line)
        print(f"  fit crops: {constant_k(tr)}")
        for name, folder, records in sets:
            d = held[name]
            full = np.array([c[-1] for c, _ in d.values()])
            fit = np.array([at(c, kof(x)) for c, x in d.values()])
            orac = np.array([c.max() for c, _ in d.values()])
            given, auto, blended = [], [], []
            for line in open(records):
                r = json.loads(line)
                g, a = r["Gain"][PROMPT.index(r["Task"])], r["AutoGain"]
                b = a
                key = input_name(r)
                if r["Auto"] == task and r["Task"] == task and key in d:
                    c, x = d[key]
                    b = at(c, kof(x))
                given.append(g), auto.append(a), blended.append(b)
            given, auto, blended = map(np.array, (given, auto, blended))
            print(f"  {name}: {len(d)} inputs; mean gain {full.mean():+.2f} -> {fit.mean():+.2f} "
                  f"(oracle {orac.mean():+.2f}); > 0.5 dB worse {(full < -0.5).sum()} -> {(fit < -0.5).sum()} "
                  f"(oracle {(orac < -0.5).sum()}); auto below the task given {given.mean() - auto.mean():.3f} -> "
                  f"{given.mean() - blended.mean():.3f}, auto > 0.5 dB worse {(auto < -0.5).sum()} -> "
                  f"{(blended < -0.5).sum()}")
            print(f"  {name}: {constant_k(d)}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
