#!/usr/bin/python3
"""Generate the small test files of the pure-Go tensor format packages.

Run from the module root with Debian's Python (numpy, torch):

    /usr/bin/python3 scripts/fixtures_formats.py

It (re)writes internal/npy/testdata/*.npy, internal/pth/testdata/*.pth with
the expected values as .npy beside them, and internal/safetensors/testdata
(only when the safetensors Python package is installed). Everything is
deterministic: values are fixed, not random.
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


def main():
    npy_files()
    print("wrote npy testdata")


if __name__ == "__main__":
    sys.exit(main())
