"""The plan-time capacity report of the three shipped stacks, and that `aidc plan` carries it.

Expected figures are worked out here from the stack files and Google's tables rather than read
back from the code: GPUs = GPUs per VM x max nodes; TPU chips = product of the topology's sides
x slices; pod addresses = max nodes x the per-node pod block GKE assigns (twice max pods per
node, rounded up to a power of two: 32 pods -> /26 = 64 addresses, 64 -> /25 = 128,
110 -> /24 = 256; https://cloud.google.com/kubernetes-engine/docs/how-to/flexible-pod-cidr);
a subnet holds its size less the 4 addresses GCP reserves
(https://cloud.google.com/vpc/docs/subnets#unusable-ip-addresses-in-every-subnet).
"""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest

from infra.report.capacity import capacity_report, render_capacity
from infra.config.compute import GpuPoolConfig
from infra.config.load import load_stack_file
from tests.helpers import STACKS_DIR, run_aidc

POD_BLOCK = {32: 64, 64: 128, 110: 256}
"""Pod addresses GKE reserves per node, by max pods per node."""


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    return {env: capacity_report(load_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml"))
            for env in ("dev", "staging", "prod")}


# env -> GPUs by accelerator type, TPU chips by generation, (pool, max nodes, pods/node, NICs)
EXPECTED: dict[str, dict[str, Any]] = {
    "dev": {
        # g2-standard-8 carries 1 L4, spot up to 2 nodes; v5e 2x2 is 4 chips on one VM.
        "gpus": {"nvidia-l4": 1 * 2},
        "tpu_chips": {"v5e": 2 * 2},
        "pools": [("system", 3, 64, 1), ("gpu_pools.l4", 2, 64, 1), ("tpu_pools.v5e-dev", 1, 64, 1)],
    },
    "staging": {
        # a2-ultragpu-8g carries 8 A100 80GB, up to 4 nodes; v5e 4x4 is 16 chips on 4 VMs.
        "gpus": {"nvidia-a100-80gb": 8 * 4},
        "tpu_chips": {"v5e": 4 * 4},
        "pools": [("system", 4, 64, 1), ("gpu_pools.a100", 4, 64, 1),
                  ("tpu_pools.v5e-slice", 4, 64, 1)],
    },
    "prod": {
        # a3-megagpu-8g carries 8 H100 Mega, up to 16 nodes, 1 primary + 8 TCPXO NICs each;
        # v5p 4x4x4 is 64 chips on 16 VMs.
        "gpus": {"nvidia-h100-mega-80gb": 8 * 16},
        "tpu_chips": {"v5p": 4 * 4 * 4},
        "pools": [("system", 6, 32, 1), ("gpu_pools.h100-mega", 16, 32, 9),
                  ("tpu_pools.v5p-slice", 16, 32, 1)],
    },
}


@pytest.mark.parametrize("env", sorted(EXPECTED))
def test_accelerators_at_maximum_size(env: str, reports: dict[str, dict[str, Any]]) -> None:
    """GPUs by type at every pool's maximum, TPU chips by generation."""
    assert reports[env]["gpus"] == EXPECTED[env]["gpus"]
    assert reports[env]["tpu_chips"] == EXPECTED[env]["tpu_chips"]


@pytest.mark.parametrize("env", sorted(EXPECTED))
def test_pool_rows(env: str, reports: dict[str, dict[str, Any]]) -> None:
    """One row per pool (system first): max nodes, max pods per node, NICs per node, and its pod
    addresses at the GKE block size."""
    rows = reports[env]["pools"]
    assert [(r["pool"], r["max_nodes"], r["max_pods_per_node"], r["nics_per_node"]) for r in rows] \
        == EXPECTED[env]["pools"]
    for row in rows:
        assert row["pod_addresses"] == row["max_nodes"] * POD_BLOCK[row["max_pods_per_node"]]


@pytest.mark.parametrize("env, subnet_demand, pod_demand", [
    ("dev", 3 + 2 + 1, (3 + 2 + 1) * 128),
    ("staging", 4 + 4 + 4, (4 + 4 + 4) * 128),
    ("prod", 6 + 16 + 16, (6 + 16 + 16) * 64),
])
def test_address_demand_against_the_ranges(env: str, subnet_demand: int, pod_demand: int,
                                           reports: dict[str, dict[str, Any]]) -> None:
    """Pod address demand is the sum of max nodes x pod block over the pools; node demand is the
    sum of max nodes; each range's capacity is what its CIDR holds, and demand fits."""
    ranges = reports[env]["ranges"]
    assert ranges["pods"]["demand"] == pod_demand
    assert ranges["subnet"]["demand"] == subnet_demand
    assert ranges["pods"]["capacity"] == IPv4Network(ranges["pods"]["cidr"]).num_addresses
    assert ranges["subnet"]["capacity"] == IPv4Network(ranges["subnet"]["cidr"]).num_addresses - 4
    for name in ("subnet", "pods"):
        assert ranges[name]["demand"] <= ranges[name]["capacity"]
    assert {"services", "psa"} <= set(ranges)


def test_prod_gpu_subnets(reports: dict[str, dict[str, Any]]) -> None:
    """prod's TCPXO pool has 8 GPU NIC subnets, each a /27 of 192.168.0.0/16 (28 usable
    addresses) for the pool's 16 nodes; the row says tcpxo."""
    ranges = reports["prod"]["ranges"]
    gpu = {k: v for k, v in ranges.items() if k.startswith("gpu:")}
    assert sorted(gpu) == [f"gpu:h100-mega-gpu{i}" for i in range(8)]
    for r in gpu.values():
        cidr = IPv4Network(r["cidr"])
        assert cidr.prefixlen == 27 and cidr.subnet_of(IPv4Network("192.168.0.0/16"))
        assert (r["capacity"], r["demand"]) == (32 - 4, 16)
    row = next(r for r in reports["prod"]["pools"] if r["pool"] == "gpu_pools.h100-mega")
    assert (row["gpudirect"], row["accelerator"]) == ("tcpxo", "8 x nvidia-h100-mega-80gb")


def test_gpu_subnet_demand_is_its_own_pools() -> None:
    """With pools `train` (4 nodes) and `train-gpu0` (2 nodes), whose name is also train's first
    NIC subnet, each GPU subnet's demand is its own pool's maximum: the pool comes from the
    subnet's data, not from its name."""
    cfg = load_stack_file(STACKS_DIR / "Pulumi.prod.yaml").model_copy(update={"gpu_pools": {
        "train": GpuPoolConfig(machine_type="a3-megagpu-8g", zones=["us-central1-a"],
                               autoscaling={"max_nodes": 4}),
        "train-gpu0": GpuPoolConfig(machine_type="a3-megagpu-8g", zones=["us-central1-a"],
                                    autoscaling={"max_nodes": 2})}})
    gpu = {k: v["demand"] for k, v in capacity_report(cfg)["ranges"].items() if k.startswith("gpu:")}
    assert gpu == {**{f"gpu:train-gpu{i}": 4 for i in range(8)},
                   **{f"gpu:train-gpu0-gpu{i}": 2 for i in range(8)}}


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_no_gpu_subnets_without_gpudirect(env: str, reports: dict[str, dict[str, Any]]) -> None:
    """Stacks without a GPUDirect pool plan no GPU NIC subnets and one NIC per node."""
    assert not [k for k in reports[env]["ranges"] if k.startswith("gpu:")]
    assert all(r["nics_per_node"] == 1 and "gpudirect" not in r for r in reports[env]["pools"])


def test_rendered_report(reports: dict[str, dict[str, Any]]) -> None:
    """The text form names every accelerator total, the NIC count and each range."""
    text = "\n".join(render_capacity(reports["prod"]))
    assert "GPUs       nvidia-h100-mega-80gb: 128" in text
    assert "TPU chips  v5p: 64" in text
    assert "pool gpu_pools.h100-mega: up to 16 nodes x 32 pods, 9 NIC(s)/node" in text
    assert "gpu:h100-mega-gpu7" in text


@pytest.fixture(scope="module")
def prod_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`aidc plan prod --json F`, run once for the module: (F, stdout)."""
    path = tmp_path_factory.mktemp("capacity") / "plan-prod.json"
    result = run_aidc("plan", "prod", "--json", path)
    assert result.returncode == 0, result.stderr
    return path, result.stdout


def test_plan_json_carries_the_capacity_report(prod_plan: tuple[Path, str],
                                               reports: dict[str, dict[str, Any]]) -> None:
    """`aidc plan prod --json F` writes the same capacity report next to the resources, and
    prints it after the resource tree."""
    path, stdout = prod_plan
    plan = json.loads(path.read_text())
    assert plan["capacity"] == reports["prod"]
    assert plan["capacity"]["gpus"] == {"nvidia-h100-mega-80gb": 128}
    assert "Capacity at the pools' maximum size:" in stdout
    assert "9 NIC(s)/node" in stdout
