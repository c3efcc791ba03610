"""`aidc:tenants` as a pure model: the issue's example parses with its defaults, every validator
fires and names its field, and `quota_problems` names the pool, the teams and the numbers of
every claim the pools cannot honour.

The section is validated inside a stand-in for PlatformConfig (`Stack`), so locations read as
they will in a stack file (`tenants.nlp.namespace`).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import Field

from infra.config.base import Spec
from infra.config.compute import GpuPoolConfig, TpuPoolConfig
from infra.config.tenants import (
    PoolCapacity,
    TenantConfig,
    Tenants,
    bucket_problems,
    pool_capacities,
    quota_problems,
)
from tests.config.test_compute import assert_names, rejection

ISSUE_EXAMPLE = """
nlp:
  namespace: nlp
  group: nlp-eng@acme.example
  weight: 2
  guaranteed:
    gpu_pools.h100-mega: 64
    tpu_pools.v5p-slice: 64
  max: {gpu_pools.h100-mega: 128}
  buckets: {datasets: read, checkpoints: write}
vision: {weight: 1, group: vision@acme.example, buckets: {datasets: read}}
"""

H100 = "gpu_pools.h100-mega"
V5P = "tpu_pools.v5p-slice"
POOLS = {H100: PoolCapacity("nvidia.com/gpu", 8, 128, "node"),
         V5P: PoolCapacity("google.com/tpu", 16, 128, "slice")}


class Stack(Spec):
    tenants: Tenants = Field(default_factory=dict)


def tenants(**teams: dict[str, Any]) -> dict[str, TenantConfig]:
    return Stack.model_validate({"tenants": teams}).tenants


def team(**fields: Any) -> dict[str, Any]:
    return {"group": "team@acme.example", **fields}


def problems(found: list[Any]) -> list[str]:
    return [str(p) for p in found]


def test_issue_example_parses_with_defaults() -> None:
    """The issue's YAML is valid as written; namespace defaults to the team name, weight to 1."""
    parsed = Stack.model_validate({"tenants": yaml.safe_load(ISSUE_EXAMPLE)}).tenants
    assert parsed["nlp"].weight == 2
    assert parsed["nlp"].guaranteed == {H100: 64, V5P: 64}
    assert parsed["nlp"].max == {H100: 128}
    assert parsed["nlp"].buckets == {"datasets": "read", "checkpoints": "write"}
    assert parsed["vision"].namespace_of("vision") == "vision"
    assert TenantConfig(group="a@b.example").weight == 1
    assert quota_problems(parsed, POOLS) == []


@pytest.mark.parametrize(("data", "path", "needles"), [
    ({"Bad_Team": team()}, "tenants.Bad_Team", ("not a Kubernetes name", "RFC 1123")),
    ({"nlp": team(namespace="NLP")}, "tenants.nlp.namespace", ("'NLP'", "RFC 1123")),
    ({"nlp": team(namespace="kube-system")}, "tenants.nlp.namespace", ("belongs to the platform",)),
    ({"nlp": team(namespace="kueue-system")}, "tenants.nlp.namespace", ("kueue-system",)),
    ({"default": team()}, "tenants.default", ("default namespace", "platform")),
    ({"nlp": team(group="nlp-eng")}, "tenants.nlp.group", ("'nlp-eng'", "e-mail")),
    ({"nlp": team(weight=0)}, "tenants.nlp.weight", ("greater than or equal to 1",)),
    ({"nlp": team(weight=1.5)}, "tenants.nlp.weight", ("valid integer",)),
    ({"nlp": team(weight=101)}, "tenants.nlp.weight", ("less than or equal to 100",)),
    ({"nlp": team(guaranteed={"h100": 8})}, "tenants.nlp.guaranteed.h100",
     ("'h100' is not a pool", "gpu_pools.<name>")),
    ({"nlp": team(max={"cpu_pools.x": 8})}, "tenants.nlp.max.cpu_pools.x", ("is not a pool",)),
    ({"nlp": team(guaranteed={H100: -8})}, f"tenants.nlp.guaranteed.{H100}",
     ("greater than or equal to 0",)),
    ({"nlp": team(buckets={"datasets": "admin"})}, "tenants.nlp.buckets.datasets",
     ("'read' or 'write'",)),
    ({"nlp": {"weight": 1}}, "tenants.nlp.group", ("required",)),
    ({"nlp": team(quota=1)}, "tenants.nlp.quota", ("unknown key",)),
])
def test_rejects_invalid_tenant(data: dict[str, Any], path: str, needles: tuple[str, ...]) -> None:
    """Each field's rule fires, located at the field, with the bad value and what is accepted."""
    assert_names(rejection(Stack, {"tenants": data}), path, *needles)


def test_rejects_two_teams_in_one_namespace() -> None:
    """A namespace holds one team; the second team (by name) is the one told."""
    lines = rejection(Stack, {"tenants": {"nlp": team(), "speech": team(namespace="nlp")}})
    assert_names(lines, "tenants.speech.namespace", "'nlp' is also the namespace of nlp")


def test_quota_problems_name_pool_team_and_numbers() -> None:
    """Unknown pools, amounts that are not whole units, guarantees above the pool, above the
    team's own max, and guarantees that together exceed a pool: each at the claim."""
    found = problems(quota_problems(tenants(
        nlp=team(guaranteed={H100: 60, "gpu_pools.a100": 8}, max={V5P: 40}),
        speech=team(guaranteed={V5P: 160}),
        vision=team(guaranteed={H100: 64}, max={H100: 32}),
    ), POOLS))
    assert_names(found, "tenants.nlp.guaranteed.gpu_pools.a100", "no such pool",
                 "gpu_pools.h100-mega, tpu_pools.v5p-slice")
    assert_names(found, f"tenants.nlp.guaranteed.{H100}", "60 nvidia.com/gpu",
                 "not whole nodes of 8", "use 56 or 64")
    assert_names(found, f"tenants.nlp.max.{V5P}", "40 google.com/tpu", "slices of 16",
                 "use 32 or 48")
    assert_names(found, f"tenants.speech.guaranteed.{V5P}", "speech is guaranteed 160",
                 "128 google.com/tpu (8 slices x 16)")
    assert_names(found, f"tenants.vision.guaranteed.{H100}", "guaranteed 64", "capped at 32")


def test_quota_problems_sum_of_guarantees() -> None:
    """Guarantees that fit one by one but not together are one problem naming every team."""
    found = problems(quota_problems(tenants(
        nlp=team(guaranteed={H100: 96}), vision=team(guaranteed={H100: 64}), ops=team()), POOLS))
    assert found == [
        f"tenants.nlp.guaranteed.{H100}: the guarantees in {H100} add up to 160 nvidia.com/gpu "
        "(nlp 96, vision 64), more than it holds at its maximum size: 128 nvidia.com/gpu "
        "(16 nodes x 8); lower them or raise the pool's maximum size"]


def test_quota_problems_without_pools() -> None:
    found = problems(quota_problems(tenants(nlp=team(max={H100: 8})), {}))
    assert found == [f"tenants.nlp.max.{H100}: no such pool; this stack's accelerator pools: none"]


def test_pool_capacities_from_pool_config() -> None:
    """A GPU pool's unit is a node's GPUs; a TPU pool's a slice's chips, multi-host slices
    counted per slice and single-host node pools per node."""
    caps = pool_capacities(
        {"h100": GpuPoolConfig(machine_type="a3-megagpu-8g", autoscaling={"max_nodes": 16})},
        {"v5p": TpuPoolConfig(generation="v5p", topology="2x2x4", slices=2),
         "v5e": TpuPoolConfig(generation="v5e", topology="2x2", max_nodes=3)})
    assert caps == {
        "gpu_pools.h100": PoolCapacity("nvidia.com/gpu", 8, 128, "node"),
        "tpu_pools.v5p": PoolCapacity("google.com/tpu", 16, 32, "slice"),
        "tpu_pools.v5e": PoolCapacity("google.com/tpu", 4, 12, "slice"),
    }
    assert caps["gpu_pools.h100"].describe() == "128 nvidia.com/gpu (16 nodes x 8)"


def test_rejects_capacity_that_is_not_whole_units() -> None:
    with pytest.raises(ValueError, match="not whole units of 8"):
        PoolCapacity("nvidia.com/gpu", 8, 12, "node")


def test_bucket_problems() -> None:
    """A grant on a bucket the stack does not declare is named with the buckets that exist."""
    found = problems(bucket_problems(tenants(nlp=team(buckets={"datasets": "read",
                                                                "scratch": "write"})),
                                     {"datasets", "checkpoints"}))
    assert found == ["tenants.nlp.buckets.scratch: no such bucket; aidc:storage.buckets "
                     "declares: checkpoints, datasets"]


# ---------------------------------------------------------------------------------------------
# aidc:tenants in a stack: the rules across sections (PlatformConfig)


def stack_with(tenants_: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """BASE_STACK with a cluster (Google Groups for RBAC on), an 8-GPU pool of 2 nodes, and
    `tenants_` as aidc:tenants; `changes` replace further keys."""
    from tests.helpers import base_stack

    return base_stack(**{
        "aidc:cluster": {"master_authorized_networks": {"corp-vpn": "203.0.113.0/24"},
                         "security_group": "gke-security-groups@acme.example"},
        "aidc:gpu_pools": {"h100": {"machine_type": "a2-highgpu-8g",
                                    "autoscaling": {"max_nodes": 2}}},
        "aidc:tenants": tenants_, **changes})


def stack_problems(flat: dict[str, Any]) -> list[str]:
    from infra.config.load import config_from_flat
    from infra.errors import AidcError

    with pytest.raises(AidcError) as err:
        config_from_flat(flat, source="test.yaml")
    return str(err.value).splitlines()[1:]


def test_stack_accepts_tenants_that_fit() -> None:
    """A stack's teams load with their claims; the section is `aidc:tenants`."""
    from infra.config.load import config_from_flat

    cfg = config_from_flat(stack_with({"nlp": team(guaranteed={"gpu_pools.h100": 8},
                                                   buckets={"datasets": "read"})}))
    assert cfg.tenants["nlp"].guaranteed == {"gpu_pools.h100": 8}


@pytest.mark.parametrize(("teams", "where", "needles"), [
    ({"nlp": team(guaranteed={"gpu_pools.h100": 24})}, "aidc:tenants.nlp.guaranteed.gpu_pools.h100",
     ("guaranteed 24", "16 nvidia.com/gpu (2 nodes x 8)")),
    ({"nlp": team(guaranteed={"gpu_pools.h100": 4})}, "aidc:tenants.nlp.guaranteed.gpu_pools.h100",
     ("not whole nodes of 8", "use 8")),
    ({"nlp": team(max={"tpu_pools.v5p": 16})}, "aidc:tenants.nlp.max.tpu_pools.v5p",
     ("no such pool", "gpu_pools.h100")),
    ({"nlp": team(buckets={"scratch": "write"})}, "aidc:tenants.nlp.buckets.scratch",
     ("no such bucket", "checkpoints, datasets")),
])
def test_rejects_claims_the_stack_cannot_honour(teams: dict[str, Any], where: str,
                                                needles: tuple[str, ...]) -> None:
    """The section's claims are checked against the stack's own pools and buckets: exit 2
    naming the pool, the team and the numbers."""
    assert_names(stack_problems(stack_with(teams)), f"  - {where}", *needles)


def test_rejects_tenants_without_google_groups_for_rbac() -> None:
    """A team's group binding works only through Google Groups for RBAC, so tenants need the
    cluster's security_group; the error names the groups."""
    flat = stack_with({"nlp": team()})
    flat["aidc:cluster"] = {"master_authorized_networks": {"corp-vpn": "203.0.113.0/24"}}
    assert_names(stack_problems(flat), "  - aidc:cluster.security_group", "team@acme.example",
                 "Google Groups for RBAC")


def test_rejects_tenants_without_a_cluster() -> None:
    flat = stack_with({"nlp": team()}, **{"aidc:cluster": None, "aidc:gpu_pools": None})
    assert_names(stack_problems(flat), "  - aidc:tenants", "need a cluster")


def test_schema_has_tenants() -> None:
    """`aidc config schema` describes aidc:tenants and a team's fields."""
    from infra.config.schema import config_schema

    schema = config_schema()
    tenants_ = schema["properties"]["config"]["properties"]["aidc:tenants"]
    text = str(tenants_) + str(schema.get("$defs", {}).get("TenantConfig", {}))
    assert "guaranteed" in text and "weight" in text
