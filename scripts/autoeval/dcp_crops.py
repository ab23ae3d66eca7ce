#!/usr/bin/env python3
"""The dark channel prior against the bundled model's haze prompt on autoeval's hazy crops.

For every hazy input of an autoeval -write folder, the PSNR gain (RGB, crop
4) of scripts/baselines' dark channel prior (the classical method of the
README's held-out table, same parameters) next to the haze prompt's gain
that an autoeval -json run of the same photos recorded, per set: the means,
the worst image and the images either loses more than 0.5 dB on.

    go run ./scripts/autoeval -lazy -photos SET... -json S.jsonl
    go run ./scripts/autoeval -stats-only -photos SET... -write S
    /usr/bin/python3 scripts/autoeval/dcp_crops.py NAME=S=S.jsonl ...

Needs python3-numpy and python3-opencv (Debian); measurement only.
"""
import json
import os
import sys

import cv2
import numpy as np

from crops import PROMPT, input_name, manifest, psnr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "baselines"))
from classical import dcp  # noqa: E402

def main():
    if len(sys.argv) < 2 or any(a.count("=") != 2 for a in sys.argv[1:]):
        sys.exit(__doc__)
    for arg in sys.argv[1:]:
        name, folder, records = arg.split("=")
        prompt = {}
        for line in open(records):
            r = json.loads(line)
            if r["Task"] == "haze":
                prompt[input_name(r)] = r["Gain"][PROMPT.index("haze")]
        rows = []
        for f, _, clean, _ in manifest(folder, "haze"):
            if f not in prompt:
                sys.exit(f"{records} holds no record of {f}: run autoeval on the same photos as {folder}")
            x = cv2.imread(os.path.join(folder, f))
            c = cv2.imread(os.path.join(folder, clean))[: x.shape[0], : x.shape[1]]
            rows.append((f, psnr(dcp(x, None), c) - psnr(x, c), prompt[f]))
        d, p = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
        print(f"{name}: {len(rows)} hazy inputs; dark channel prior mean {d.mean():+.2f} dB (worst {d.min():+.2f}, "
              f"{(d < -0.5).sum()} lose > 0.5 dB); haze prompt mean {p.mean():+.2f} (worst {p.min():+.2f}, "
              f"{(p < -0.5).sum()} lose > 0.5 dB)")
        for f, gd, gp in rows:
            if min(gd, gp) < -0.5:
                print(f"  {f}: dark channel prior {gd:+.2f}, haze prompt {gp:+.2f}")


if __name__ == "__main__":
    main()
