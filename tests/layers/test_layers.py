"""The platform as layers (stacks/layers/foundation, stacks/layers/cluster) declares what the
one-stack platform declares, and each layer plans and checks offline in every environment.

The comparison: a resource is (type, URN after `<stack>::<project>::`), which is its qualified
type chain (its parents' types) and its logical name, with the project, which differs by design,
left out; and its inputs must be equal too. The union of the two layers' sets must equal the
one-stack set except for what layering itself adds or removes (INHERENT). A resource in both
layers is allowed only where both layers enable an API their own resources call (each layer
waits for the APIs it needs; enabling an API twice is idempotent, and disable_on_destroy is off).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.engine.plan import STACK_TYPE, Plan
from infra.engine.references import REFERENCE_TYPE
from tests.helpers import REPO, run_aidc

LAYERS = REPO / "stacks" / "layers"
FOUNDATION_REF = "organization/aidc-foundation/prod"
# Layering's own: each stack's root, and the cluster layer's reference to the foundation.
INHERENT_ONE_STACK = {(STACK_TYPE, f"{STACK_TYPE}::aidc-prod")}
INHERENT_LAYERS = {(STACK_TYPE, f"{STACK_TYPE}::aidc-foundation-prod"),
                   (STACK_TYPE, f"{STACK_TYPE}::aidc-cluster-prod"),
                   (REFERENCE_TYPE, f"{REFERENCE_TYPE}::foundation")}
SERVICE = "gcp:projects/service:Service"
SERVICES = "aidc:services:ProjectServices"


def declared(plan: Plan) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.type, r.urn.split("::", 2)[2]): r.inputs for r in plan.resources}


@pytest.fixture(scope="module")
def layer_plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Plan]:
    """The prod layers' plans: the foundation's, then the cluster's reading it by --ref."""
    out = tmp_path_factory.mktemp("layers")
    foundation, cluster = out / "foundation.json", out / "cluster.json"
    result = run_aidc("plan", "--program", LAYERS / "foundation", "prod", "--json", foundation)
    assert result.returncode == 0, result.stderr
    result = run_aidc("plan", "--program", LAYERS / "cluster", "prod", "--json", cluster,
                      "--ref", f"{FOUNDATION_REF}={foundation}")
    assert result.returncode == 0, result.stderr
    return Plan.read(foundation), Plan.read(cluster)


def test_union_of_layers_declares_the_one_stack_prod_plan(
        layer_plans: tuple[Plan, Plan], prod_plan_run: tuple[Path, str]) -> None:
    one_stack = declared(Plan.read(prod_plan_run[0]))
    foundation, cluster = (declared(p) for p in layer_plans)
    union = {**foundation, **cluster}
    assert set(one_stack) - set(union) == INHERENT_ONE_STACK
    assert set(union) - set(one_stack) == INHERENT_LAYERS
    different = sorted(k for k in set(one_stack) & set(union) if one_stack[k] != union[k])
    assert different == [], different
    for key in set(foundation) & set(cluster):
        assert key[0] in (SERVICE, SERVICES), f"{key} is declared by both layers"
    assert len(union) > 150  # the whole prod platform, not two empty programs


def test_cluster_layer_reads_no_unknowns_from_the_foundation(
        layer_plans: tuple[Plan, Plan]) -> None:
    """What comes from the reference is the foundation's planned value, never `[unknown]`."""
    foundation, cluster = layer_plans
    ref = next(r.urn for r in cluster.resources if r.type == REFERENCE_TYPE)
    readers = [r for r in cluster.resources if ref in r.dependencies]
    assert {"gke-cluster", "gpu-h100-mega-pool", "gke-system"} <= {r.name for r in readers}
    for r in cluster.resources:
        assert "[unknown]" not in json.dumps(r.inputs), r.urn
    gke = next(r for r in readers if r.name == "gke-cluster")
    assert gke.inputs["network"] == foundation.outputs["network_id"]
    assert gke.inputs["databaseEncryption"]["keyName"] == foundation.outputs["kms_keys"]["gke"]


def test_one_stack_platform_publishes_both_contracts(prod_plan_run: tuple[Path, str]) -> None:
    from infra.layers.contracts import ClusterContract, FoundationContract, parse_contract

    outputs = Plan.read(prod_plan_run[0]).outputs or {}
    assert parse_contract(FoundationContract, outputs, "aidc/prod").project == "acme-ai-prod"
    cluster = parse_contract(ClusterContract, outputs, "aidc/prod")
    assert cluster.node_service_account == "aidc-prod-nodes@acme-ai-prod.iam.gserviceaccount.com"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("layer", ["foundation", "cluster"])
def test_each_layer_checks_offline(layer: str, env: str) -> None:
    """`aidc check --program stacks/layers/<layer> <env>` (the cluster layer plans the
    foundation first) passes as the one-stack platform does."""
    result = run_aidc("check", "--program", LAYERS / layer, env, "--format", "json",
                      timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["resources"] > 10
