#!/usr/bin/python3
"""Generate the small test files of the pure-Go tensor format packages.

Run from the module root with Debian's Python (numpy, torch):

    /usr/bin/python3 scripts/fixtures_formats.py

It (re)writes internal/npy/testdata/*.npy and internal/pth/testdata/*.pth with
the expected values as .npy beside them. (The safetensors Python package is
not available here; the safetensors tests build reference bytes by hand from
the format specification instead.) Everything is
deterministic (values are fixed, not random) except legacy.pth, whose legacy
format embeds object ids.
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def out(pkg, name):
    d = os.path.join(ROOT, "internal", pkg, "testdata")
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def npy_files():
    # Values chosen so that the Go test can recompute them: a[i] = i*0.25 - 1.
    def ramp(n, dtype):
        return (np.arange(n, dtype=np.float64) * 0.25 - 1).astype(dtype)

    np.save(out("npy", "f4_2x3.npy"), ramp(6, "<f4").reshape(2, 3))
    np.save(out("npy", "f8_3.npy"), ramp(3, "<f8"))
    np.save(out("npy", "f2_4.npy"), ramp(4, "<f2"))
    np.save(out("npy", "i8_2x2.npy"), np.array([[-1, 2], [1 << 40, -(1 << 50)]], dtype="<i8"))
    np.save(out("npy", "i4_3.npy"), np.array([-7, 0, 2147483647], dtype="<i4"))
    np.save(out("npy", "u1_2x2.npy"), np.array([[0, 1], [128, 255]], dtype="|u1"))
    np.save(out("npy", "b1_3.npy"), np.array([True, False, True]))
    np.save(out("npy", "scalar_f8.npy"), np.float64(3.5))
    np.save(out("npy", "empty_0x3_f4.npy"), np.zeros((0, 3), dtype="<f4"))
    # Big-endian data, converted on read.
    np.save(out("npy", "f4be_2x3.npy"), ramp(6, ">f4").reshape(2, 3))
    np.save(out("npy", "i8be_2.npy"), np.array([-2, 1 << 33], dtype=">i8"))
    # Fortran order, rejected on read.
    np.save(out("npy", "fortran_2x3.npy"), np.asfortranarray(ramp(6, "<f4").reshape(2, 3)))
    # Explicit format versions 2.0 and 3.0 (same array as f4_2x3).
    from numpy.lib import format as npf
    for ver in [(2, 0), (3, 0)]:
        a = ramp(6, "<f4").reshape(2, 3)
        with open(out("npy", "f4_2x3_v%d.npy" % ver[0]), "wb") as f:
            npf.write_array(f, a, version=ver)


def save_expected(stem, sd):
    """Write <stem>.keys.json ([key, shape, dtype] in order) and one
    <stem>.<key>.npy per tensor with its values (bfloat16 as float32)."""
    import json
    import torch
    keys = []
    for k, v in sd.items():
        keys.append([k, list(v.shape), str(v.dtype).replace("torch.", "")])
        a = v.detach()
        if a.dtype == torch.bfloat16:
            a = a.float()
        np.save(out("pth", "%s.%s.npy" % (stem, k)), np.array(a.numpy(), order="C"))
    with open(out("pth", stem + ".keys.json"), "w") as f:
        json.dump(keys, f)


def pth_files():
    import collections
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Conv2d(3, 1, 1, bias=False))
    net[1].running_mean.copy_(torch.tensor([0.5, -0.25, 2.0]))
    net[1].num_batches_tracked.fill_(7)
    sd = net.state_dict()  # OrderedDict with _metadata
    torch.save(sd, out("pth", "bare.pth"))
    save_expected("bare", sd)

    g = torch.Generator().manual_seed(1)
    ema = collections.OrderedDict()
    for k, v in sd.items():
        ema[k] = v + 0.001 * torch.randn(v.shape, generator=g) if v.is_floating_point() else v.clone()
    ema._metadata = sd._metadata
    torch.save({"params": sd, "params_ema": ema}, out("pth", "basicsr.pth"))
    save_expected("basicsr.params", sd)
    save_expected("basicsr.params_ema", ema)

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 1
    views = collections.OrderedDict()
    views["base"] = base
    views["transposed"] = base.t()  # strides (1, 4)
    views["slice"] = base.view(-1)[5:9]  # storage offset 5
    views["strided"] = base[1:, ::2]  # offset 4, strides (4, 2)
    views["expanded"] = base[0:1].expand(3, 4)  # stride 0
    views["permuted"] = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4).permute(2, 0, 1)
    views["f64"] = torch.tensor([[0.1, -2.5], [1e300, 0.0]], dtype=torch.float64)
    views["i64"] = torch.tensor([-1, 1 << 40, 3], dtype=torch.int64)
    views["i32"] = torch.tensor([[7, -8]], dtype=torch.int32)
    views["u8"] = torch.tensor([0, 255, 128], dtype=torch.uint8)
    views["bool"] = torch.tensor([True, False])
    views["f16"] = torch.tensor([1.0, -2.0, 0.333], dtype=torch.float16)
    views["bf16"] = torch.tensor([1.0, -3.140625], dtype=torch.bfloat16)
    views["scalar"] = torch.tensor(3.5)
    views["empty"] = torch.zeros(0, 3)
    views["param"] = nn.Parameter(torch.tensor([2.0, 4.0]))
    torch.save(views, out("pth", "views.pth"))
    save_expected("views", views)

    # Tied weights: one tensor object under two names (pickled once, memoized).
    w = torch.tensor([1.0, 2.0, 3.0])
    torch.save(collections.OrderedDict([("enc.weight", w), ("dec.weight", w), ("dec.bias", w[1:])]), out("pth", "tied.pth"))

    torch.save({"w": torch.zeros(2, dtype=torch.int16)}, out("pth", "int16.pth"))
    torch.save([torch.zeros(1)], out("pth", "list.pth"))
    torch.save({"params": sd, "epoch": 3}, out("pth", "mixed.pth"))
    torch.save(sd, out("pth", "legacy.pth"), _use_new_zipfile_serialization=False)


def main():
    npy_files()
    print("wrote npy testdata")
    pth_files()
    print("wrote pth testdata")


if __name__ == "__main__":
    sys.exit(main())
