"""The plan-time capacity report: accelerators at the pools' maximum, and the addresses the
pools can consume against the ranges planned for them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from infra.config.platform import PlatformConfig
from infra.gcp.netplan import SUBNET_RESERVED_ADDRESSES, pod_block_prefix


def capacity_report(cfg: PlatformConfig) -> dict[str, Any]:
    plan = cfg.network_plan()
    gpus: Counter[str] = Counter()
    tpu_chips: Counter[str] = Counter()
    pools = []
    for name, nodes, per_node in cfg.node_demand():
        pools.append({"pool": name, "max_nodes": nodes, "max_pods_per_node": per_node,
                      "pod_addresses": nodes * 2 ** (32 - pod_block_prefix(per_node)),
                      "nics_per_node": 1})
    by_pool = {row["pool"]: row for row in pools}
    for name, pool in cfg.gpu_pools.items():
        gpu = pool.resolved()
        gpus[gpu.accelerator_type] += gpu.accelerator_count * pool.autoscaling.max_nodes
        row = by_pool[f"gpu_pools.{name}"]
        row["accelerator"] = f"{gpu.accelerator_count} x {gpu.accelerator_type}"
        if pool.uses_gpudirect and gpu.profile is not None:
            row["nics_per_node"] = gpu.profile.nics
            row["gpudirect"] = gpu.gpudirect
    for name, tpu in cfg.tpu_pools.items():
        tpu_slice = tpu.slice()
        tpu_chips[tpu.generation] += tpu_slice.chips * tpu.slices
        row = by_pool[f"tpu_pools.{name}"]
        row["accelerator"] = f"{tpu.slices} x {tpu.generation} {tpu.topology} ({tpu_slice.chips} chips, " \
                             f"{tpu_slice.hosts} nodes each)"
    nodes = sum(r["max_nodes"] for r in pools)
    ranges = {
        "subnet": {"cidr": str(plan.subnet), "capacity": plan.subnet.num_addresses - SUBNET_RESERVED_ADDRESSES,
                   "demand": nodes},
        "pods": {"cidr": str(plan.pods), "capacity": plan.pods.num_addresses,
                 "demand": sum(r["pod_addresses"] for r in pools)},
        "services": {"cidr": str(plan.services), "capacity": plan.services.num_addresses},
        "psa": {"cidr": str(plan.psa), "capacity": plan.psa.num_addresses},
    }
    for pool, nics in cfg.gpudirect_subnets().items():
        for nic in nics:
            cidr = plan.extra_subnets[nic.name]
            ranges[f"gpu:{nic.name}"] = {"cidr": str(cidr),
                                         "capacity": cidr.num_addresses - SUBNET_RESERVED_ADDRESSES,
                                         "demand": cfg.gpu_pools[pool].autoscaling.max_nodes}
    return {"gpus": dict(sorted(gpus.items())), "tpu_chips": dict(sorted(tpu_chips.items())),
            "pools": pools, "ranges": ranges}


def render_capacity(report: dict[str, Any]) -> list[str]:
    lines = ["Capacity at the pools' maximum size:"]
    for accel, count in report["gpus"].items():
        lines.append(f"  GPUs       {accel}: {count}")
    for generation, chips in report["tpu_chips"].items():
        lines.append(f"  TPU chips  {generation}: {chips}")
    for row in report["pools"]:
        extra = f"  {row['accelerator']}" if "accelerator" in row else ""
        lines.append(f"  pool {row['pool']}: up to {row['max_nodes']} nodes x "
                     f"{row['max_pods_per_node']} pods, {row['nics_per_node']} NIC(s)/node{extra}")
    lines.append("Addresses (demand / capacity):")
    for name, r in report["ranges"].items():
        demand = f"{r['demand']} / " if "demand" in r else ""
        lines.append(f"  {name:<24} {r['cidr']:<18} {demand}{r['capacity']}")
    return lines
