"""Time `aidc plan` against its floor: the bare Pulumi mock runtime registering the same resources.

    .venv/bin/python bench/plan.py                 # dev, staging, prod + ~100/1,000/5,000 resources
    .venv/bin/python bench/plan.py --sizes 100 1000 --repeat 5 --keep /tmp/aidc-bench

For each stack, `aidc plan <stack> --json FILE` (the shipped stacks) or `aidc plan --stack-file
FILE --json FILE` (synthetic stacks, see bench/synthetic.py) runs in a fresh process; its Plan
JSON is replayed by bench/floor.py, a plain `python` process that registers exactly those
resources (same types, names, parents, dependencies, protection, inputs and declared properties)
under `pulumi.runtime.set_mocks` with a trivial echoing Mocks and no aidc code, in two ways:
the SDK floor (generic `pulumi.CustomResource`) and the typed floor (the provider SDK classes,
pulumi_gcp.storage.Bucket etc., which every Pulumi Python program imports and aidc must use).
Whole process against whole process, each measured `--repeat` times (interleaved), median.

Targets (printed, never asserted): aidc within 1.3x of the floor, and linear growth (the cost
per resource at 5,000 about the same as at 1,000).
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
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import REPO, write_floor, write_synthetic  # noqa: E402

FLOOR = REPO / "bench" / "floor.py"

PYTHON = Path(sys.executable)
AIDC = REPO / ".venv" / "bin" / "aidc"
TARGET_RATIO = 1.3
STACKS = ("dev", "staging", "prod")


def aidc_command() -> list[str]:
    return [str(AIDC)] if AIDC.exists() else [str(PYTHON), "-m", "infra.cli"]


def timed(cmd: list[str]) -> tuple[float, str]:
    """Wall-clock seconds of one fresh process; fails loudly if the process fails."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(cmd)}\n{result.stderr}")
    return elapsed, result.stdout


FLOORS = ("sdk", "typed")


@dataclass
class Row:
    stack: str
    resources: int = 0
    runs: dict[str, list[float]] = field(default_factory=lambda: {"aidc": [], "sdk": [],
                                                                   "typed": []})

    def seconds(self, who: str) -> float:
        return statistics.median(self.runs[who])

    def ratio(self, floor: str) -> float:
        return self.seconds("aidc") / self.seconds(floor)

    def per_resource_ms(self, who: str) -> float:
        return 1000 * self.seconds(who) / self.resources


def measure(name: str, plan_args: list[str], work: Path, repeat: int) -> Row:
    """Interleave aidc and both floors; the first aidc run's Plan JSON defines the floors."""
    row = Row(name)
    plan_json = work / f"plan-{name}.json"
    floor_cmds: dict[str, list[str]] = {}
    for _ in range(repeat):
        seconds, _ = timed([*aidc_command(), "plan", *plan_args, "--json", str(plan_json)])
        row.runs["aidc"].append(seconds)
        if not floor_cmds:
            data = write_floor(work, name, plan_json)
            row.resources = len(json.loads(data.read_text())["resources"])
            floor_cmds = {"sdk": [str(PYTHON), str(FLOOR), str(data)],
                          "typed": [str(PYTHON), str(FLOOR), str(data), "--typed"]}
        for floor, cmd in floor_cmds.items():
            seconds, out = timed(cmd)
            if int(out.split()[-1]) != row.resources:
                raise SystemExit(f"{floor} floor registered {out.strip()} resources, "
                                 f"expected {row.resources}")
            row.runs[floor].append(seconds)
    print(f"  {name:<14} {row.resources:>6} resources  aidc {row.seconds('aidc'):6.2f}s  "
          f"SDK floor {row.seconds('sdk'):6.2f}s  typed floor {row.seconds('typed'):6.2f}s",
          flush=True)
    return row


def calibrate(work: Path) -> tuple[int, float]:
    """Registrations of the synthetic base and per extra bucket, measured past the first
    confidential bucket (which adds the access-log bucket once)."""
    counts = []
    for buckets in (4, 44):
        path = write_synthetic(work, f"calibrate-{buckets}", buckets)
        out = work / f"calibrate-{buckets}.json"
        timed([*aidc_command(), "plan", "--stack-file", str(path), "--json", str(out), "-q"])
        plan = json.loads(out.read_text())
        counts.append(sum(1 for r in plan["resources"] if r["type"] != "pulumi:pulumi:Stack"))
    per_bucket = (counts[1] - counts[0]) / 40
    return round(counts[0] - 4 * per_bucket), per_bucket


def startup(repeat: int) -> dict[str, float]:
    """Fixed costs, each in a fresh process: the interpreter with the Pulumi SDK (the floor's
    start), and with the modules an aidc plan imports (its components pull in pulumi_gcp's
    typed compute and container modules)."""
    touched = ("compute.Network", "container.Cluster", "kms.KeyRing", "storage.Bucket",
               "filestore.Instance", "projects.Service", "serviceaccount.Account",
               "servicenetworking.Connection", "organizations.get_project")
    probes = {
        "python + pulumi": "import pulumi, pulumi.runtime",
        "python + aidc's imports": "import infra.cli, infra.plan, infra.platform",
        "python + the pulumi_gcp modules aidc uses": "import pulumi_gcp as g\n"
        + "".join(f"g.{t}\n" for t in touched),
    }
    return {k: statistics.median(timed([str(PYTHON), "-c", code])[0] for _ in range(repeat))
            for k, code in probes.items()}


def verdict(rows: list[Row], floor: str) -> str:
    worst = max(rows, key=lambda r: r.ratio(floor))
    met = [r for r in rows if r.ratio(floor) <= TARGET_RATIO]
    if len(met) == len(rows):
        return f"met at every size (worst {worst.ratio(floor):.2f}x on {worst.stack})"
    smallest = min((r.resources for r in met), default=None)
    missed = [r for r in rows if r.ratio(floor) > TARGET_RATIO]
    where = ", ".join(f"{r.stack} {r.ratio(floor):.2f}x" for r in missed)
    return ("NOT met" + (f" below {smallest} resources" if smallest else "") + f" ({where})")


def report(rows: list[Row], synthetic: list[Row], fixed: dict[str, float]) -> None:
    header = (f"{'stack':<14} {'resources':>9} {'aidc s':>7} {'SDK s':>7} {'typed s':>8} "
              f"{'vs SDK':>7} {'vs typed':>9} {'aidc ms/res':>12} {'SDK ms/res':>11}")
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.stack:<14} {row.resources:>9} {row.seconds('aidc'):>7.2f} "
              f"{row.seconds('sdk'):>7.2f} {row.seconds('typed'):>8.2f} "
              f"{row.ratio('sdk'):>6.2f}x {row.ratio('typed'):>8.2f}x "
              f"{row.per_resource_ms('aidc'):>12.2f} {row.per_resource_ms('sdk'):>11.2f}")
    print()
    print("Fixed start-up (fresh process, median): " + ", ".join(
        f"{k} {v:.2f}s" for k, v in fixed.items()))

    if not rows:
        return
    print(f"Target: aidc within {TARGET_RATIO}x of the floor")
    print(f"  vs the typed floor (same provider SDK classes): {verdict(rows, 'typed')}")
    print(f"  vs the SDK floor (generic CustomResource, no provider SDK imported): "
          f"{verdict(rows, 'sdk')}")

    if len(synthetic) < 2:
        return
    print()
    print("Linearity (synthetic stacks): seconds per resource, and marginal ms per added resource")
    for row in synthetic:
        print(f"  {row.resources:>6} resources: aidc {row.per_resource_ms('aidc'):7.2f} ms/res"
              f"   SDK floor {row.per_resource_ms('sdk'):7.2f} ms/res"
              f"   typed floor {row.per_resource_ms('typed'):7.2f} ms/res")
    for a, b in zip(synthetic, synthetic[1:]):
        added = b.resources - a.resources
        marginal = {who: (b.seconds(who) - a.seconds(who)) / added * 1000
                    for who in ("aidc", *FLOORS)}
        print(f"  marginal {a.resources}->{b.resources}: aidc {marginal['aidc']:.2f} ms/res, "
              f"SDK floor {marginal['sdk']:.2f}, typed floor {marginal['typed']:.2f} "
              f"(aidc/SDK {marginal['aidc'] / marginal['sdk']:.2f}x)")
    small, large = synthetic[-2], synthetic[-1]
    growth = {who: (large.seconds(who) / large.resources) / (small.seconds(who) / small.resources)
              for who in ("aidc", "sdk")}
    print(f"Per-resource cost at {large.resources} vs {small.resources}: aidc {growth['aidc']:.2f}x, "
          f"SDK floor {growth['sdk']:.2f}x (target: linear growth, i.e. about 1.0x or less)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 5000],
                        help="synthetic stack sizes in resources (default: 100 1000 5000)")
    parser.add_argument("--stacks", nargs="*", default=list(STACKS), help="shipped stacks to time")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--keep", type=Path, help="keep stack files, plans and floor programs here")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="aidc-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        print(f"aidc plan vs the bare Pulumi mock runtime; {args.repeat} runs each, median; "
              f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}", flush=True)
        fixed = startup(args.repeat)
        rows = [measure(env, [env], work, args.repeat) for env in args.stacks]
        synthetic: list[Row] = []
        if args.sizes:
            base, per_bucket = calibrate(work)
            for size in sorted(args.sizes):
                buckets = max(0, round((size - base) / per_bucket))
                path = write_synthetic(work, f"synth-{size}", buckets)
                synthetic.append(measure(f"synth-{size}", ["--stack-file", str(path)], work,
                                         args.repeat))
        report(rows + synthetic, synthetic, fixed)
        print(f"\nTotal benchmark time {time.perf_counter() - started:.0f}s; files in "
              f"{work if args.keep else '(temporary, removed)'}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
