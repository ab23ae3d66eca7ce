#!/usr/bin/python3
"""Generate curriculum/testdata/lr_torch.json: learning rates computed by a
PyTorch scheduler, to cross-check the Go cosine-restart schedule.

Run from the module root with Debian's Python (python3-torch):

    /usr/bin/python3 scripts/fixtures_curriculum.py

The Go package never runs this; it only reads the JSON it writes.

What is checked, and against what:

* "restart" cases: a torch.optim.lr_scheduler._LRScheduler subclass that
  computes the cosine-restart rate as method.md section 3 ("LR schedule
  exactly") states it, with the reference's (BasicSR's) evaluation order

      eta_min + w * 0.5 * (base - eta_min) * (1 + cos(pi * ((e - restart) / period)))

  with e = last_epoch. It is driven by a real torch optimizer exactly like the
  reference training loop: the scheduler is created with the optimizer (which
  sets last_epoch 0), scheduler.step() is called before every iteration except
  the first, and the rate recorded for iteration t is the one the optimizer
  would use (param_groups[0]['lr']). So torch does the bookkeeping
  (initial_lr, last_epoch, the write into the param group) and the values are
  produced by CPython's float arithmetic and glibc's cos, as in the reference.
  Small schedules are recorded at every iteration; the reference budgets
  (1M and 2.5M iterations) are stepped through in full, recorded around
  every cycle boundary and at a fixed pseudo-random sample, and every one of
  their rates enters a SHA-256 digest ("sha256_all") that the Go test
  recomputes.

  Each such case is computed twice: with CPython's math.cos (glibc's cos,
  which since glibc 2.28 is accurate to about 0.55 ulp but not always
  correctly rounded: on glibc 2.36 about 0.13 % of the cosines of a 100k
  cycle differ from the correctly rounded value by one ulp), giving "lr" and
  "sha256_all", and with a correctly rounded cosine (cos_cr, decimal
  arithmetic), giving "lr_cr" and "sha256_all_cr". The Go package computes
  the second exactly; the first bounds how far the reference's own machine
  can be from it.

* "warm_restarts" case: torch's own CosineAnnealingWarmRestarts with the same
  base rate and eta_min, to document how it differs (it restarts one
  iteration earlier and evaluates the formula in another order).
"""
import hashlib
import json
import math
import os
import random
import struct
import sys
import warnings
from decimal import Decimal, getcontext

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "curriculum", "testdata", "lr_torch.json")

BASE_LR = 2e-4


class SpecCosineRestart(torch.optim.lr_scheduler._LRScheduler):
    """method.md section 3, written from the specification."""

    def __init__(self, optimizer, periods, restart_weights, eta_min, cos=math.cos):
        self.cos = cos
        assert len(periods) == len(restart_weights)
        self.periods = list(periods)
        self.restart_weights = list(restart_weights)
        self.eta_min = eta_min
        self.cumsum = []
        s = 0
        for p in self.periods:
            s += p
            self.cumsum.append(s)
        super().__init__(optimizer, -1)

    def get_lr(self):
        e = self.last_epoch
        idx = next(i for i, c in enumerate(self.cumsum) if e <= c)
        w = self.restart_weights[idx]
        restart = 0 if idx == 0 else self.cumsum[idx - 1]
        period = self.periods[idx]
        return [self.eta_min + w * 0.5 * (base - self.eta_min) *
                (1 + self.cos(math.pi * ((e - restart) / period)))
                for base in self.base_lrs]


getcontext().prec = 60
_cr_cache = {}


def cos_cr(y):
    """cos(y) correctly rounded to float64: a 60-digit Taylor series in
    decimal arithmetic, rounded once by float() (CPython converts decimals
    with correct rounding). Only for the schedule's 0 <= y <= pi."""
    c = _cr_cache.get(y)
    if c is not None:
        return c
    x = Decimal(y)  # exact value of the double
    x2 = x * x
    total, term, n = Decimal(0), Decimal(1), 0
    eps = Decimal(10) ** -58
    while abs(term) > eps:
        total += term
        n += 2
        term = -term * x2 / (n * (n - 1))
    c = float(total)
    _cr_cache[y] = c
    return c


def optimizer():
    p = torch.nn.Parameter(torch.zeros(1))
    return torch.optim.Adam([p], lr=BASE_LR, betas=(0.9, 0.99))


def run(make_sched, total, keep):
    """Steps like basicsr/train.py + base_model.update_learning_rate and
    returns (t, lr) for the iterations t (1-based) that keep(t) accepts, and
    the SHA-256 of every rate (little-endian float64) for t = 1..total."""
    opt = optimizer()
    sched = make_sched(opt)
    iters, lrs = [], []
    h = hashlib.sha256()
    for t in range(1, total + 1):
        if t > 1:
            sched.step()
        lr = opt.param_groups[0]["lr"]
        h.update(struct.pack("<d", lr))
        if keep(t):
            iters.append(t)
            lrs.append(lr)
    return iters, lrs, h.hexdigest()


def restart_case(name, periods, weights, eta_min, full):
    total = sum(periods)
    if full:
        keep = lambda t: True
    else:
        picked = set()
        c = 0
        for p in periods:
            for d in (-2, -1, 0, 1, 2, 3):
                picked.add(c + d + 1)  # t-1 = c+d
            picked.add(c + p // 4 + 1)
            picked.add(c + p // 2 + 1)
            c += p
        rng = random.Random(name)
        for _ in range(300):
            picked.add(rng.randint(1, total))
        picked = {t for t in picked if 1 <= t <= total}
        keep = picked.__contains__
    iters, lrs, digest = run(lambda o: SpecCosineRestart(o, periods, weights, eta_min), total, keep)
    iters_cr, lrs_cr, digest_cr = run(
        lambda o: SpecCosineRestart(o, periods, weights, eta_min, cos_cr), total, keep)
    assert iters == iters_cr
    return {"name": name, "kind": "restart", "periods": periods, "restart_weights": weights,
            "base_lr": BASE_LR, "eta_min": eta_min, "iters": iters, "lr": lrs, "sha256_all": digest,
            "lr_cr": lrs_cr, "sha256_all_cr": digest_cr}


def warm_restarts_case(name, t0, cycles, eta_min):
    total = t0 * cycles
    iters, lrs, _ = run(lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=t0, T_mult=1, eta_min=eta_min), total, lambda t: True)
    return {"name": name, "kind": "warm_restarts", "periods": [t0] * cycles,
            "base_lr": BASE_LR, "eta_min": eta_min, "iters": iters, "lr": lrs}


def main():
    # The reference loop calls scheduler.step() before optimizer.step() in
    # each iteration, which torch warns about; that order is the point here.
    warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step\(\)` before")
    cases = [
        # The example of BasicSR's docstring: 4 cycles of 10, weights 1, .5, .5, .5.
        restart_case("doc_4x10_weights", [10, 10, 10, 10], [1, 0.5, 0.5, 0.5], 1e-7, True),
        restart_case("uneven_3_5_2", [3, 5, 2], [1, 1, 1], 1e-7, True),
        restart_case("one_period_1", [1], [1], 0.0, True),
        restart_case("ones_1_1_1", [1, 1, 1], [1, 0.25, 1], 1e-6, True),
        restart_case("mixed_10x100", [100] * 10, [1] * 10, 1e-7, True),
        restart_case("stage_1x100", [100], [1], 1e-7, True),
        restart_case("final_4x100", [100] * 4, [1] * 4, 1e-7, True),
        # The reference budgets.
        restart_case("mixed_10x100k", [100_000] * 10, [1] * 10, 1e-7, False),
        restart_case("mixed_10x100k_uformer", [100_000] * 10, [1] * 10, 1e-6, False),
        restart_case("mixed_10x250k", [250_000] * 10, [1] * 10, 1e-7, False),
        restart_case("stage_1x100k", [100_000], [1], 1e-7, False),
        restart_case("final_4x100k", [100_000] * 4, [1] * 4, 1e-7, False),
        restart_case("final_4x250k", [250_000] * 4, [1] * 4, 1e-7, False),
        warm_restarts_case("torch_warm_restarts_3x10", 10, 3, 1e-7),
    ]
    doc = {
        "generator": "scripts/fixtures_curriculum.py",
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, sum(len(c["iters"]) for c in cases), "values")


if __name__ == "__main__":
    main()
