"""Every compute validator's failing case through the real CLI.

Each case is `stacks/Pulumi.dev.yaml` with one section replaced, written to a temporary stack
file, and run as a user would: `aidc config validate --stack-file F` and
`aidc plan --stack-file F --json OUT`. Both must exit 2 with a message naming the field (the
config key path, then the pool's own field), print no traceback, and `plan` must leave no OUT.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import STACKS_DIR, run_aidc

DEV = yaml.safe_load((STACKS_DIR / "Pulumi.dev.yaml").read_text())["config"]
A, B = "us-central1-a", "us-central1-b"
L4 = {"machine_type": "g2-standard-8"}


def dev_with(**sections: Any) -> dict[str, Any]:
    """The dev stack's config with `aidc:<key>` sections replaced (None removes one); nested
    dicts given for aidc:network / aidc:cluster are merged into dev's."""
    flat = copy.deepcopy(DEV)
    for key, value in sections.items():
        full = key if ":" in key else f"aidc:{key}"
        if value is None:
            flat.pop(full, None)
        elif full in ("aidc:network", "aidc:cluster"):
            flat[full] = {**flat.get(full, {}), **value}
        else:
            flat[full] = value
    return flat


def gpu_pool(**fields: Any) -> dict[str, Any]:
    return {"gpu_pools": {"x": fields}}


def tpu_pool(**fields: Any) -> dict[str, Any]:
    return {"tpu_pools": {"t": {"generation": "v5e", "topology": "4x4", "zone": A, **fields}}}


MEGA = {"machine_type": "a3-megagpu-8g", "zones": [A]}
SUPERNET = {"gpu_supernet": "192.168.0.0/16"}

# id -> (sections to replace, substrings stderr must hold)
CASES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "unknown-machine-type": (
        gpu_pool(machine_type="g9-mega-1g"),
        ("aidc:gpu_pools.x.machine_type: 'g9-mega-1g'", "a3-megagpu-8g")),
    "non-gpu-machine-type": (
        gpu_pool(machine_type="e2-standard-8"),
        ("aidc:gpu_pools.x.machine_type: 'e2-standard-8' carries no GPU",)),
    "unknown-accelerator": (
        gpu_pool(accelerator_type="nvidia-h900", accelerator_count=8),
        ("aidc:gpu_pools.x.accelerator_type: 'nvidia-h900' is not a GPU model",)),
    "gpu-count-fixed-machine": (
        gpu_pool(machine_type="a3-highgpu-8g", accelerator_count=4, gpudirect=False),
        ("aidc:gpu_pools.x.machine_type: 'a3-highgpu-8g' carries 8", "a3-highgpu-4g")),
    "gpu-count-n1": (
        gpu_pool(machine_type="n1-standard-8", accelerator_type="nvidia-tesla-t4", accelerator_count=3),
        ("aidc:gpu_pools.x.accelerator_count:", "1, 2, 4")),
    "gpu-count-by-accelerator": (
        gpu_pool(accelerator_type="nvidia-l4", accelerator_count=3),
        ("aidc:gpu_pools.x.accelerator_count:", "3 x nvidia-l4")),
    "accelerator-on-e2": (
        gpu_pool(machine_type="e2-standard-8", accelerator_type="nvidia-tesla-t4", accelerator_count=1),
        ("aidc:gpu_pools.x.accelerator_type: 'e2-standard-8' cannot take nvidia-tesla-t4",)),
    "accelerator-on-fixed-machine": (
        gpu_pool(machine_type="a2-ultragpu-8g", accelerator_type="nvidia-tesla-t4"),
        ("aidc:gpu_pools.x.accelerator_type:", "N1 machine types only")),
    "l4-on-n1": (
        gpu_pool(machine_type="n1-standard-8", accelerator_type="nvidia-l4", accelerator_count=1),
        ("aidc:gpu_pools.x.accelerator_type: nvidia-l4 cannot attach to N1",)),
    "n1-above-gpu-ceiling": (
        gpu_pool(machine_type="n1-standard-96", accelerator_type="nvidia-tesla-v100", accelerator_count=1),
        ("aidc:gpu_pools.x.machine_type: 'n1-standard-96'", "at most 12 vCPUs")),
    "tpu-topology-not-offered": (
        tpu_pool(topology="3x3"),
        ("aidc:tpu_pools.t.topology: v5e does not offer '3x3'", "4x4")),
    "tpu-topology-wrong-dimensions": (
        tpu_pool(generation="v5p", topology="4x4"),
        ("aidc:tpu_pools.t.topology: v5p needs a 3D topology",)),
    "tpu-unknown-generation": (
        tpu_pool(generation="v9"),
        ("aidc:tpu_pools.t.generation: 'v9'",)),
    "queued-with-reservation": (
        gpu_pool(**L4, capacity="queued", reservation="r1"),
        ("aidc:gpu_pools.x.reservation: set with capacity queued",)),
    "queued-with-spot": (
        gpu_pool(**L4, capacity="queued", spot=True),
        ("aidc:gpu_pools.x.spot: unknown key", "capacity")),
    "queued-min-nodes": (
        gpu_pool(**L4, capacity="queued", autoscaling={"min_nodes": 1, "max_nodes": 2}),
        ("aidc:gpu_pools.x.autoscaling.min_nodes: 1", "scales from 0")),
    "flex-start-auto-repair": (
        gpu_pool(**L4, capacity="flex_start"),
        ("aidc:gpu_pools.x.auto_repair:", "auto_repair: false")),
    "flex-start-with-reservation": (
        gpu_pool(**L4, capacity="flex_start", auto_repair=False, reservation="r1"),
        ("aidc:gpu_pools.x.reservation: set with capacity flex_start",)),
    "flex-start-with-spot": (
        gpu_pool(**L4, capacity="flex_start", auto_repair=False, spot=True),
        ("aidc:gpu_pools.x.spot: unknown key",)),
    "spot-with-reservation": (
        gpu_pool(**L4, capacity="spot", reservation="r1"),
        ("aidc:gpu_pools.x.reservation: set with capacity spot",)),
    "reservation-missing": (
        gpu_pool(**L4, capacity="reservation"),
        ("aidc:gpu_pools.x.reservation: a specific reservation names exactly one",)),
    "reservation-two": (
        gpu_pool(**L4, capacity="reservation", reservation=["r1", "r2"]),
        ("aidc:gpu_pools.x.reservation:", "['r1', 'r2']")),
    "compact-two-zones": (
        gpu_pool(**L4, placement="compact", zones=[A, B]),
        ("aidc:gpu_pools.x.zones: compact placement keeps nodes in one zone",)),
    "compact-blue-green": (
        gpu_pool(**L4, placement="compact", zones=[A], upgrade="blue_green"),
        ("aidc:gpu_pools.x.upgrade: blue_green",)),
    "local-ssd-both": (
        gpu_pool(machine_type="a3-highgpu-8g", gpudirect=False,
                 local_ssd={"ephemeral_count": 16, "raw_block_count": 16}),
        ("aidc:gpu_pools.x.local_ssd: ephemeral_count and raw_block_count exclude each other",)),
    "tpu-multi-host-max-nodes": (
        tpu_pool(max_nodes=2),
        ("aidc:tpu_pools.t.max_nodes: 2", "must equal 4")),
    "tpu-multi-host-min-nodes": (
        tpu_pool(min_nodes=2),
        ("aidc:tpu_pools.t.min_nodes: 2",)),
    "tpu-spot-with-reservation": (
        tpu_pool(capacity="spot", reservation="r1"),
        ("aidc:tpu_pools.t.reservation: set with capacity spot",)),
    "gpudirect-below-min-gke": (
        {**gpu_pool(**MEGA), "network": SUPERNET, "cluster": {"min_master_version": "1.29.1-gke.1000"}},
        ("cluster.min_master_version: 1.29.1-gke.1000 is below the documented minimum",
         "gpu_pools.x", "1.29.4-gke.1542000")),
    "cluster-version-not-a-patch": (
        {"cluster": {"min_master_version": "1.30"}},
        ("aidc:cluster.min_master_version:", "'1.30'")),
    "gpudirect-on-g2": (
        gpu_pool(**L4, gpudirect=True),
        ("aidc:gpu_pools.x.gpudirect: g2-standard-8 has no GPUDirect networking",)),
    "gpudirect-without-supernet": (
        gpu_pool(**MEGA),
        ("network.gpu_supernet",)),
    "more-nodes-than-pods-range": (
        gpu_pool(**L4, autoscaling={"max_nodes": 200}),
        ("aidc:network.pods_cidr: 10.16.0.0/19", "gpu_pools.x: 200", "aidc:network.subnet_cidr")),
    "gpu-zone-outside-region": (
        gpu_pool(**L4, zones=["europe-west4-a"]),
        ("gpu_pools.x.zones[0]: 'europe-west4-a' is not in region 'us-central1'",)),
    "tpu-zone-outside-region": (
        tpu_pool(zone="us-east1-b"),
        ("tpu_pools.t.zone: 'us-east1-b' is not in region 'us-central1'",)),
    "stack-zone-outside-region": (
        {"zones": [A, "us-east1-b"]},
        ("zones[1]: 'us-east1-b' is not in region 'us-central1'",)),
    "pools-without-cluster": (
        {"cluster": None},
        ("aidc:cluster: node pools need a cluster",)),
}


@pytest.fixture(scope="module")
def stack_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One stack file per case, written once for the module."""
    root = tmp_path_factory.mktemp("compute-errors")
    files = {}
    for case, (sections, _) in CASES.items():
        path = root / f"Pulumi.{case}.yaml"
        path.write_text(yaml.safe_dump({"config": dev_with(**sections)}, sort_keys=False))
        files[case] = path
    return files


def assert_user_error(result: Any, needles: tuple[str, ...]) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rejects_through_config_validate(case: str, stack_files: dict[str, Path]) -> None:
    """`aidc config validate` exits 2 and names the key path and field of the broken rule."""
    result = run_aidc("config", "validate", "--stack-file", stack_files[case])
    assert_user_error(result, (str(stack_files[case]), *CASES[case][1]))


@pytest.mark.parametrize("case", sorted(CASES))
def test_rejects_through_plan(case: str, stack_files: dict[str, Path], tmp_path: Path) -> None:
    """`aidc plan --json OUT` validates before running anything: exit 2, the field named, and
    no plan file (not even a partial one) left behind."""
    out = tmp_path / "plan.json"
    result = run_aidc("plan", "--stack-file", stack_files[case], "--json", out)
    assert_user_error(result, CASES[case][1])
    assert not out.exists()
    assert not list(tmp_path.iterdir()), list(tmp_path.iterdir())


def test_every_problem_in_one_run(tmp_path: Path) -> None:
    """Several broken pools are reported together, each under its own key, in one exit 2."""
    path = tmp_path / "Pulumi.many.yaml"
    path.write_text(yaml.safe_dump({"config": dev_with(
        gpu_pools={"a": {**L4, "capacity": "spot", "reservation": "r1"},
                   "b": {"machine_type": "g9-mega-1g"}},
        tpu_pools={"t": {"generation": "v5e", "topology": "3x3"}})}))
    result = run_aidc("config", "validate", "--stack-file", path)
    assert_user_error(result, ("aidc:gpu_pools.a.reservation:", "aidc:gpu_pools.b.machine_type:",
                               "aidc:tpu_pools.t.topology:"))


def test_the_unchanged_base_is_valid(tmp_path: Path) -> None:
    """The base every case changes validates as is, so each exit 2 is that case's doing."""
    path = tmp_path / "Pulumi.base.yaml"
    path.write_text(yaml.safe_dump({"config": dev_with()}))
    result = run_aidc("config", "validate", "--stack-file", path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
