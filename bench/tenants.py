"""Time the tenant allocation model: 50 teams x 20 pools (the issue's figure), and other sizes.

    .venv/bin/python bench/tenants.py                       # 50 x 20, 7 runs
    .venv/bin/python bench/tenants.py --teams 100 --pools 40 --repeat 3

The instance is synthetic and seeded: GPU pools of 8-GPU nodes and TPU pools of 16- and 64-chip
slices; about a third of the teams hold guarantees and a fifth have caps in each pool, weights
from 1 to 8. Figures are printed, never asserted: the target is well under a second.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.config.tenants import PoolCapacity, TenantConfig  # noqa: E402
from infra.tenants import allocation  # noqa: E402

TARGET_SECONDS = 1.0


def instance(teams: int, pools: int, seed: int = 15) -> tuple[dict[str, TenantConfig],
                                                                dict[str, PoolCapacity]]:
    rng = random.Random(seed)
    caps: dict[str, PoolCapacity] = {}
    for p in range(pools):
        if p % 2 == 0:
            caps[f"gpu_pools.g{p:02d}"] = PoolCapacity("nvidia.com/gpu", 8, 8 * rng.randint(8, 128),
                                                       "node")
        else:
            chips = rng.choice([16, 64])
            caps[f"tpu_pools.t{p:02d}"] = PoolCapacity("google.com/tpu", chips,
                                                       chips * rng.randint(4, 64), "slice")
    guaranteed: dict[str, dict[str, int]] = {f"team{t:03d}": {} for t in range(teams)}
    maxima: dict[str, dict[str, int]] = {f"team{t:03d}": {} for t in range(teams)}
    for key, cap in caps.items():
        left = cap.units // 2  # guarantees take at most half of a pool
        for team in guaranteed:
            if rng.random() < 1 / 3 and left:
                units = rng.randint(1, max(1, min(left, cap.units // 8)))
                guaranteed[team][key] = units * cap.unit
                left -= units
            if rng.random() < 1 / 5:
                floor = guaranteed[team].get(key, 0) // cap.unit
                maxima[team][key] = rng.randint(max(floor, 1), cap.units) * cap.unit
    tenants = {team: TenantConfig(group=f"{team}@acme.example",
                                  weight=rng.choice([1, 1, 2, 3, 4, 8]),
                                  guaranteed=guaranteed[team], max=maxima[team])
               for team in guaranteed}
    return tenants, caps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--pools", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tenants, pools = instance(args.teams, args.pools)

    calls = 0
    solve = allocation.milp

    def counted(*a, **k):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return solve(*a, **k)

    allocation.milp = counted
    allocation.allocate(tenants, pools)  # warm-up: imports, HiGHS start
    calls = 0
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = allocation.allocate(tenants, pools)
        times.append(time.perf_counter() - start)
    per_run = calls // args.repeat
    handed = sum(p.allocated for p in result.pools)
    total = sum(p.capacity for p in result.pools)
    median = statistics.median(times)
    print(f"{args.teams} teams x {args.pools} pools: median {median * 1000:.1f} ms, "
          f"min {min(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms over {args.repeat} "
          f"runs; {per_run} HiGHS solves a run; {handed} of {total} accelerators handed out")
    print(f"target: under {TARGET_SECONDS:.0f} s -> {'met' if median < TARGET_SECONDS else 'MISSED'}")


if __name__ == "__main__":
    main()
