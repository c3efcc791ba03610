"""`aidc:tenants`: the teams that share the accelerator pools, and what each one claims.

```yaml
aidc:tenants:
  nlp:
    namespace: nlp                    # default: the team name
    group: nlp-eng@acme.example
    weight: 2                         # share of what is not guaranteed (default 1)
    guaranteed: {gpu_pools.h100-mega: 64, tpu_pools.v5p-slice: 64}
    max: {gpu_pools.h100-mega: 128}
    buckets: {datasets: read, checkpoints: write}
  vision: {group: vision@acme.example, buckets: {datasets: read}}
```

A pool is named as the stack names it, `gpu_pools.<name>` or `tpu_pools.<name>`, and claims are
counted in the accelerators Kubernetes schedules (GPUs, TPU chips) in whole units: a GPU node's
GPUs, a TPU slice's chips (GKE schedules a node's GPUs and a slice's chips to one workload).
Every team takes part in every pool; `max: {<pool>: 0}` keeps a team out of one.

Whether the claims fit the pools is a rule across sections: `quota_problems(tenants,
pool_capacities(gpu_pools, tpu_pools))` names every guarantee that cannot be met, and
`infra.tenants.allocation` turns claims that fit into quotas.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, NonNegativeInt, field_validator

from infra.catalog.crds.releases import INSTALL_NAMESPACES
from infra.catalog.gpu import GPU_RESOURCE
from infra.catalog.tpu import TPU_RESOURCE
from infra.config.base import Spec
from infra.config.compute import GpuPoolConfig, TpuPoolConfig
from infra.errors import AidcError, Problem, raise_problems
from infra.gcp.naming import check_dns_label

POOL_SECTIONS = ("gpu_pools", "tpu_pools")
# A pool key: its section and the pool's name (an RFC 1123 label).
_POOL_KEY = re.compile(rf"({'|'.join(POOL_SECTIONS)})\.[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_GROUP = re.compile(r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(\.[a-z0-9-]+)+")
# Namespaces Kubernetes, GKE and the queueing controllers own; a team never shares them.
_RESERVED_NAMESPACES = ("default", *INSTALL_NAMESPACES)
_RESERVED_PREFIXES = ("kube-", "gke-", "gmp-")


def check_pool_key(key: str) -> str:
    if not _POOL_KEY.fullmatch(key):
        raise AidcError(f"{key!r} is not a pool: write gpu_pools.<name> or tpu_pools.<name>, "
                        "naming a pool of this stack")
    return key


BucketAccess = Literal["read", "write"]


class TenantConfig(Spec):
    """One team: its namespace and group, its weight, and per pool its guarantee and cap."""

    namespace: str | None = Field(
        None, description="The namespace of the team's workloads, queue and service account. "
                          "Default: the team name. One team, one namespace.")
    group: str = Field(
        description="Google group (e-mail) whose members may edit the team's namespace, through "
                    "Google Groups for RBAC; it must be a member of the cluster's "
                    "gke-security-groups group.")
    weight: int = Field(
        1, ge=1, le=100,
        description="The team's share of what is not guaranteed: a pool's capacity above the "
                    "guarantees goes to the teams so that (quota - guaranteed) / weight is as "
                    "even as whole units allow. An integer from 1 (the default) to 100: "
                    "relative weights like 1.5 : 1 are written 3 : 2.")
    guaranteed: dict[str, NonNegativeInt] = Field(
        default_factory=dict,
        description="Accelerators (GPUs, TPU chips) the team always gets, per pool, in whole "
                    "GPU nodes or TPU slices; never lent to other teams. Default: none.")
    max: dict[str, NonNegativeInt] = Field(
        default_factory=dict,
        description="Cap per pool on what the team holds, its quota plus what it borrows, in "
                    "whole units; 0 keeps the team out of the pool. Default: the whole pool.")
    buckets: dict[str, BucketAccess] = Field(
        default_factory=dict,
        description="Data buckets (purposes from aidc:storage.buckets) the team's identity may "
                    "read, or write (which includes read), through bucket-level IAM only. "
                    "Default: none.")

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str | None) -> str | None:
        if v is not None:
            check_tenant_namespace(v)
        return v

    @field_validator("guaranteed", "max")
    @classmethod
    def _pool_keys(cls, v: dict[str, int]) -> dict[str, int]:
        problems = []
        for key in v:
            try:
                check_pool_key(key)
            except AidcError as exc:
                problems.append(Problem((key,), exc.message))
        raise_problems(problems)
        return v

    @field_validator("group")
    @classmethod
    def _group(cls, v: str) -> str:
        if not _GROUP.fullmatch(v):
            raise AidcError(f"{v!r} is not a group e-mail address (name@domain, lowercase)")
        return v

    def namespace_of(self, team: str) -> str:
        """The namespace this team works in: its own setting, or the team's name."""
        return self.namespace or team


def check_tenant_namespace(name: str) -> str:
    check_dns_label(name)
    if name in _RESERVED_NAMESPACES or name.startswith(_RESERVED_PREFIXES):
        raise AidcError(f"{name!r} belongs to the platform (reserved: "
                        f"{', '.join(_RESERVED_NAMESPACES)}, and names starting "
                        f"{', '.join(_RESERVED_PREFIXES)}); give the team a namespace of its own")
    return name


def _check_teams(tenants: dict[str, TenantConfig]) -> dict[str, TenantConfig]:
    """Team names are Kubernetes names (they name the team's queues, and its namespace by
    default), and no two teams share a namespace."""
    problems = []
    teams_in: dict[str, list[str]] = {}
    for team in sorted(tenants):
        try:
            check_dns_label(team)
            if tenants[team].namespace is None:
                check_tenant_namespace(team)
        except AidcError as exc:
            problems.append(Problem((team,), f"team name (and default namespace): {exc.message}"))
            continue
        teams_in.setdefault(tenants[team].namespace_of(team), []).append(team)
    problems += [Problem((teams[-1], "namespace"),
                         f"{ns!r} is also the namespace of {', '.join(teams[:-1])}; a namespace "
                         "holds one team's queue, identity and access")
                 for ns, teams in teams_in.items() if len(teams) > 1]
    raise_problems(problems)
    return tenants


Tenants = Annotated[dict[str, TenantConfig], AfterValidator(_check_teams)]
"""The `aidc:tenants` section: teams by name."""


# ---------------------------------------------------------------------------------------------
# what the pools offer, and whether the claims fit


@dataclass(frozen=True)
class PoolCapacity:
    """What one pool offers to quotas: the resource its nodes advertise to Kubernetes, the
    whole unit a quota is counted in, and the total at the pool's maximum size."""

    resource: str
    unit: int
    capacity: int
    unit_name: Literal["node", "slice"]

    def __post_init__(self) -> None:
        if self.unit < 1 or self.capacity < 0 or self.capacity % self.unit:
            raise ValueError(f"capacity {self.capacity} is not whole units of {self.unit}")

    @property
    def units(self) -> int:
        return self.capacity // self.unit

    def describe(self) -> str:
        """`128 nvidia.com/gpu (16 nodes x 8)`."""
        return f"{self.capacity} {self.resource} ({self.units} {self.unit_name}s x {self.unit})"


def pool_key(section: str, name: str) -> str:
    """`gpu_pools.h100` : the one spelling of a pool in tenants' claims and in reports."""
    return f"{section}.{name}"


_FLAVOR_PREFIXES = {"gpu_pools": "gpu", "tpu_pools": "tpu"}


def flavor_name(section: str, name: str) -> str:
    """`gpu-h100`, `tpu-v5p-slice`: the pool's Kueue ResourceFlavor, named as the stack names
    the pool's component (a Kubernetes name, unlike the pool key)."""
    return f"{_FLAVOR_PREFIXES[section]}-{name}"


def pool_capacities(gpu_pools: Mapping[str, GpuPoolConfig],
                    tpu_pools: Mapping[str, TpuPoolConfig]) -> dict[str, PoolCapacity]:
    """Every accelerator pool's capacity at its maximum size, by pool key.

    A GPU pool's unit is one node's GPUs (`autoscaling.max_nodes` nodes in all). A TPU pool's
    unit is one slice's chips: `slices` multi-host slices, or for single-host slices up to
    `max_nodes` one-VM slices per node pool.
    """
    out = {}
    for name, gpu in gpu_pools.items():
        per_node = gpu.resolved().accelerator_count
        out[pool_key("gpu_pools", name)] = PoolCapacity(
            GPU_RESOURCE, per_node, per_node * gpu.autoscaling.max_nodes, "node")
    for name, tpu in tpu_pools.items():
        chips = tpu.slice().chips
        slices = tpu.slices * (tpu.max_nodes_per_slice // tpu.nodes_per_slice)
        out[pool_key("tpu_pools", name)] = PoolCapacity(TPU_RESOURCE, chips, chips * slices, "slice")
    return out


def _whole_units(amount: int, pool: str, cap: PoolCapacity) -> str:
    low = amount - amount % cap.unit
    options = f"{low} or {low + cap.unit}" if low else f"{cap.unit}"
    return (f"{amount} {cap.resource} is not whole {cap.unit_name}s of {cap.unit} in {pool}; "
            f"use {options}")


def quota_problems(tenants: Mapping[str, TenantConfig],
                   pools: Mapping[str, PoolCapacity]) -> list[Problem]:
    """Every claim the pools cannot honour: a pool that does not exist, an amount that is not
    whole units, a guarantee above the team's own max or the pool's capacity, and guarantees
    that together exceed a pool. Located at the claim (`tenants.<team>.guaranteed.<pool>`)."""
    return list(_quota_problems(tenants, pools))


def _quota_problems(tenants: Mapping[str, TenantConfig],
                    pools: Mapping[str, PoolCapacity]) -> Iterator[Problem]:
    known = ", ".join(sorted(pools)) or "none"
    for team in sorted(tenants):
        t = tenants[team]
        for kind in ("guaranteed", "max"):
            for pool, amount in getattr(t, kind).items():
                where = ("tenants", team, kind, pool)
                cap = pools.get(pool)
                if cap is None:
                    yield Problem(where, f"no such pool; this stack's accelerator pools: {known}")
                elif amount % cap.unit:
                    yield Problem(where, _whole_units(amount, pool, cap))
                elif kind == "guaranteed" and amount > cap.capacity:
                    yield Problem(where, f"{team} is guaranteed {amount} {cap.resource}, more "
                                         f"than {pool} holds at its maximum size: "
                                         f"{cap.describe()}; lower it or raise the pool's "
                                         "maximum size")
        for pool, amount in t.guaranteed.items():
            if pool in t.max and amount > t.max[pool]:
                yield Problem(("tenants", team, "guaranteed", pool),
                              f"{team} is guaranteed {amount} in {pool} but capped at "
                              f"{t.max[pool]} (max); raise the max or lower the guarantee")
    for pool, cap in sorted(pools.items()):
        claims = {team: tenants[team].guaranteed[pool] for team in sorted(tenants)
                  if tenants[team].guaranteed.get(pool)}
        total = sum(claims.values())
        if total > cap.capacity and all(g <= cap.capacity for g in claims.values()):
            first = next(iter(claims))
            yield Problem(("tenants", first, "guaranteed", pool),
                          f"the guarantees in {pool} add up to {total} {cap.resource} ("
                          + ", ".join(f"{team} {g}" for team, g in claims.items())
                          + f"), more than it holds at its maximum size: {cap.describe()}; "
                            "lower them or raise the pool's maximum size")


def bucket_problems(tenants: Mapping[str, TenantConfig], purposes: Collection[str]) -> list[Problem]:
    """Bucket grants that name no bucket of the stack (`aidc:storage.buckets`)."""
    known = ", ".join(sorted(purposes)) or "none"
    return [Problem(("tenants", team, "buckets", purpose),
                    f"no such bucket; aidc:storage.buckets declares: {known}")
            for team in sorted(tenants) for purpose in tenants[team].buckets
            if purpose not in purposes]
