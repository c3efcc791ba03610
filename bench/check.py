"""Time `aidc check` (plan + policy pack over the analyzer protocol) on dev, staging, prod and the
synthetic stacks of bench/synthetic.py (~100/1,000/5,000 resources; `--quick` skips 5,000).

    .venv/bin/python bench/check.py [--quick] [--repeat 3] [--keep DIR]

Each run is the real `aidc check ... --format json --output F` in a fresh process (as a user runs
it), next to the real `aidc plan ...` of the same stack (interleaved). `aidc check` sends each
resource to the pack as it is registered, so most policy work overlaps the plan; what the check
costs a user is its wall time minus the plan's. The JSON report's `timings` give the split inside
the check (plan_seconds; policy_seconds = everything else: pack start, configure, the analysis
left after the plan, stop). Median of `--repeat` runs.
Target (printed, never asserted): the policy check adds <= 30% to the plan's time at every size.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.plan import STACKS, aidc_command, calibrate, timed  # noqa: E402
from bench.synthetic import REPO, write_synthetic  # noqa: E402

TARGET = 0.30


def run_check(args: list[str], out: Path) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cmd = [*aidc_command(), "check", *args, "--format", "json", "--output", str(out)]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    # Exit code 0 (no mandatory violation) or 1 (mandatory violations: synthetic stacks may
    # have advisory/mandatory violations) are both normal reports; only 2 (bad input, pack
    # failed to start) or anything else is a failure of the benchmark.
    if result.returncode not in (0, 1):
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(cmd)}\n{result.stderr}")
    return wall, json.loads(out.read_text())


def count_resources(report: dict) -> int:
    summary = report.get("summary")
    if isinstance(summary, dict) and isinstance(summary.get("resources"), int):
        return summary["resources"]
    for key in ("resources", "resource_count"):
        if isinstance(report.get(key), int):
            return report[key]
    plan = report.get("plan")
    if isinstance(plan, dict):
        for key in ("resources", "resource_count"):
            v = plan.get(key)
            if isinstance(v, list):
                return sum(1 for r in v if r.get("type") != "pulumi:pulumi:Stack")
            if isinstance(v, int):
                return v
    if isinstance(report.get("resources"), list):
        return len(report["resources"])
    return 0


def measure(name: str, args: list[str], work: Path, repeat: int) -> dict:
    walls, plan_walls, plans, policies, starts, n = [], [], [], [], [], 0
    for _ in range(repeat):
        plan_walls.append(timed([*aidc_command(), "plan", *args, "-q"])[0])
        wall, report = run_check(args, work / f"check-{name}.json")
        t = report.get("timings", {})
        walls.append(wall)
        plans.append(t.get("plan_seconds", 0.0))
        policies.append(t.get("policy_seconds", 0.0))
        if "policy_start_seconds" in t:
            starts.append(t["policy_start_seconds"])
        n = count_resources(report)
    row = {"stack": name, "resources": n, "plan": statistics.median(plans),
           "policy": statistics.median(policies), "total": statistics.median(walls),
           "plan_alone": statistics.median(plan_walls),
           "start": statistics.median(starts) if starts else None}
    print(f"  {name:<14} {n:>6} resources  aidc plan {row['plan_alone']:6.2f}s  "
          f"aidc check {row['total']:6.2f}s (plan {row['plan']:.2f}s + policy {row['policy']:.2f}s)",
          flush=True)
    return row


def report(rows: list[dict]) -> None:
    header = (f"{'stack':<14} {'resources':>9} {'plan s':>7} {'check s':>8} {'added':>7} "
              f"{'in check: plan s':>16} {'policy s':>9} {'pack start s':>12} {'res/s':>7}")
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        added = (r["total"] - r["plan_alone"]) / r["plan_alone"]
        rps = r["resources"] / r["policy"] if r["policy"] else float("inf")
        start = f"{r['start']:.2f}" if r["start"] is not None else "-"
        print(f"{r['stack']:<14} {r['resources']:>9} {r['plan_alone']:>7.2f} {r['total']:>8.2f} "
              f"{added:>6.0%} {r['plan']:>16.2f} {r['policy']:>9.2f} {start:>12} {rps:>7.0f}")
    print()
    for r in rows:
        added = (r["total"] - r["plan_alone"]) / r["plan_alone"]
        print(f"Target: the policy check adds <= {TARGET:.0%} to the plan on {r['stack']} "
              f"({r['resources']} resources): {'met' if added <= TARGET else 'NOT met'} "
              f"(+{r['total'] - r['plan_alone']:.2f}s, {added:.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 5,000-resource stack")
    parser.add_argument("--repeat", type=int, default=3, help="runs per stack (median)")
    parser.add_argument("--keep", type=Path, help="keep stack files and reports here")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 5000]
    work = args.keep or Path(tempfile.mkdtemp(prefix="aidc-check-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        print(f"aidc check; {args.repeat} runs each, median; {os.cpu_count()} CPUs", flush=True)
        rows = [measure(env, [env], work, args.repeat) for env in STACKS]
        base, per_bucket = calibrate(work)
        for size in sizes:
            buckets = max(0, round((size - base) / per_bucket))
            path = write_synthetic(work, f"synth-{size}", buckets)
            rows.append(measure(f"synth-{size}", ["--stack-file", str(path)], work, args.repeat))
        report(rows)
        print(f"\nTotal benchmark time {time.perf_counter() - started:.0f}s")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
