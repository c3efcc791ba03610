"""GPUDirect pools through the real CLI, where their NIC subnets once went wrong late.

Pools `train` and `train-gpu0` (a3-megagpu-8g, GPUDirect-TCPXO) used to pass
`aidc config validate` and then fail in `aidc plan` with duplicate URNs, because `train`'s
subnets were found by the name prefix `train-gpu`, which `train-gpu0`'s subnets share. The
subnets are data now: such a pair validates and plans, each pool attached to its own eight.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import STACKS_DIR, run_aidc

A = "us-central1-a"
MEGA = {"machine_type": "a3-megagpu-8g", "zones": [A], "autoscaling": {"max_nodes": 2}}


@pytest.fixture(scope="module")
def pair_stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dev with a GPU supernet and the pools `train` and `train-gpu0` instead of its own."""
    flat = copy.deepcopy(yaml.safe_load((STACKS_DIR / "Pulumi.dev.yaml").read_text())["config"])
    flat["aidc:network"]["gpu_supernet"] = "192.168.0.0/16"
    flat["aidc:gpu_pools"] = {"train": MEGA, "train-gpu0": MEGA}
    path = tmp_path_factory.mktemp("gpudirect") / "Pulumi.pair.yaml"
    path.write_text(yaml.safe_dump({"config": flat}, sort_keys=False))
    return path


def test_pools_named_like_each_others_subnets_validate(pair_stack: Path) -> None:
    result = run_aidc("config", "validate", "--stack-file", pair_stack)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_pools_named_like_each_others_subnets_plan(pair_stack: Path, tmp_path: Path) -> None:
    """`aidc plan` exits 0 without noise on stderr; URNs are unique; each pool attaches exactly
    its own eight NIC networks, in order; the capacity report lists sixteen GPU subnets."""
    out = tmp_path / "plan.json"
    result = run_aidc("plan", "--stack-file", pair_stack, "--json", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Task was destroyed" not in result.stderr
    plan = json.loads(out.read_text())
    urns = [r["urn"] for r in plan["resources"]]
    assert len(urns) == len(set(urns))
    pools = {r["name"]: r["inputs"] for r in plan["resources"]
             if r["type"] == "gcp:container/nodePool:NodePool"}
    for pool in ("train", "train-gpu0"):
        attached = pools[f"gpu-{pool}-pool"]["networkConfig"]["additionalNodeNetworkConfigs"]
        assert [n["subnetwork"] for n in attached] == [f"aidc-dev-{pool}-gpu{i}" for i in range(8)]
    gpu_ranges = [k for k in plan["capacity"]["ranges"] if k.startswith("gpu:")]
    assert len(gpu_ranges) == 16
