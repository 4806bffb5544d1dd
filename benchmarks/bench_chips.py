"""Chip-economics speed: vectorised numpy against the plain-`math` reference of ai-fab-facts.md
§3.4 (the peer), in the same run. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_chips.py
"""

from __future__ import annotations

import math

import numpy as np
from _timing import best_of

from fabnet.chips import (
    d0_from_yield,
    die_yield,
    dies_per_wafer_exact,
    dies_per_wafer_standard,
    harvested_yield,
)


def main() -> None:
    n = 1_000_000
    rng = np.random.default_rng(0)
    area = rng.uniform(50, 850, n)
    d0 = rng.uniform(0.05, 0.8, n)
    side = np.sqrt(area)

    def peer_yield():
        return [(1 + a / 100 * d / 2.0) ** -2.0 for a, d in zip(area.tolist(), d0.tolist(), strict=True)]

    def peer_dpw():
        return [
            math.pi * 294 * 294 / (4 * (s + 0.1) ** 2) - math.pi * 294 / math.sqrt(2 * (s + 0.1) ** 2)
            for s in side.tolist()
        ]

    rows = [
        ("NB yield, 1 M dies", lambda: die_yield(area, d0), peer_yield),
        ("standard DPW, 1 M dies", lambda: dies_per_wafer_standard(300, side, side, 3, 0.1), peer_dpw),
    ]
    print(f"{'task':<34}{'fabnet s':>10}{'peer s':>10}{'peer/fabnet':>13}")
    for name, ours, peer in rows:
        t_ours, t_peer = best_of(ours), best_of(peer, repeat=2)
        print(f"{name:<34}{t_ours:>10.4f}{t_peer:>10.4f}{t_peer / t_ours:>13.1f}")

    y = die_yield(area[:100_000], d0[:100_000], "murphy")
    print(f"{'Murphy inversion, 100 k yields':<34}{best_of(lambda: d0_from_yield(area[:100_000], y, 'murphy')):>10.4f}")
    print(
        f"{'harvest 144 units/12, 100 k D0':<34}"
        f"{best_of(lambda: harvested_yield(814, d0[:100_000], 144, 12, 0.6)):>10.4f}"
    )
    for w, h in [(26, 31.3), (10, 10), (2, 2)]:
        t = best_of(lambda w=w, h=h: dies_per_wafer_exact(300, w, h, 3, 0.1), repeat=3)
        print(f"{f'exact DPW {w}x{h} mm (64x64 offsets)':<34}{t:>10.4f}")


if __name__ == "__main__":
    main()
