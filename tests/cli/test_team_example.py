"""The second team's program (stacks/examples/team), as the README walks through it: it builds
on the platform through its published contracts only, and passes the policy pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from infra.engine.plan import Plan
from tests.helpers import REPO, run_aidc

TEAM = REPO / "stacks" / "examples" / "team"


@pytest.fixture(scope="module")
def team_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """`aidc plan --program stacks/examples/team prod --json FILE` (plans both layers first)."""
    path = tmp_path_factory.mktemp("team") / "plan.json"
    result = run_aidc("plan", "--program", TEAM, "prod", "--json", path, timeout=600)
    assert result.returncode == 0, result.stderr
    return Plan.read(path)


def test_check_passes_with_no_violation() -> None:
    result = run_aidc("check", "--program", TEAM, "prod", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS: 0 mandatory, 0 advisory, 1 waived" in result.stdout
    assert "data-access-audit-logs" in result.stdout  # the one waiver, with its reason


def test_node_pool_runs_on_the_platforms_node_service_account(team_plan: Plan) -> None:
    pool = next(r for r in team_plan.resources if r.type == "gcp:container/nodePool:NodePool")
    node = pool.inputs["nodeConfig"]
    assert node["serviceAccount"] == "aidc-prod-nodes@acme-ai-prod.iam.gserviceaccount.com"
    assert "compute@developer" not in json.dumps(pool.inputs)
    assert pool.inputs["cluster"] == "projects/acme-ai-prod/locations/us-central1/clusters/aidc-prod-ai"
    ring = "projects/acme-ai-prod/locations/us-central1/keyRings/aidc-prod"
    assert node["bootDiskKmsKey"] == f"{ring}/cryptoKeys/disks"
    assert node["guestAccelerators"][0]["type"] == "nvidia-l4"


def test_bucket_is_encrypted_with_the_platforms_storage_key(team_plan: Plan) -> None:
    buckets = {r.name: r for r in team_plan.resources if r.type == "gcp:storage/bucket:Bucket"}
    assert set(buckets) == {"robotics-robotics-data", "robotics-access-logs"}
    for bucket in buckets.values():
        key = bucket.inputs["encryption"]["defaultKmsKeyName"]
        assert key.endswith("/keyRings/aidc-prod/cryptoKeys/storage")
    data = buckets["robotics-robotics-data"].inputs
    assert data["name"] == "acme-ai-prod-prod-robotics-data"
    assert data["labels"]["data-classification"] == "confidential"


def test_workload_identity_is_the_teams_own(team_plan: Plan) -> None:
    members = {r.name: r.inputs for r in team_plan.resources if "IAMMember" in r.type}
    assert members["robotics-workload-identity"]["member"] == (
        "serviceAccount:acme-ai-prod.svc.id.goog[robotics/robotics-trainer]")
    grant = members["robotics-robotics-data-workload"]
    assert grant["role"] == "roles/storage.objectUser"
    assert grant["member"] == "serviceAccount:robotics-workload@acme-ai-prod.iam.gserviceaccount.com"


def test_builds_on_the_one_stack_platform_too(tmp_path: Path) -> None:
    """The one-stack platform publishes both contracts: point both references at it."""
    doc = yaml.safe_load((TEAM / "Pulumi.prod.yaml").read_text())
    doc["config"]["team-robotics:foundation_stack"] = "organization/aidc/prod"
    doc["config"]["team-robotics:cluster_stack"] = "aidc/prod"
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(yaml.safe_dump(doc))
    result = run_aidc("plan", "--program", TEAM, "--stack-file", stack, "-q", timeout=600)
    assert result.returncode == 0, result.stderr


def test_rejects_a_stack_that_does_not_publish_the_contract(tmp_path: Path) -> None:
    """The contract model names what the referenced stack lacks: exit 2, never a None."""
    doc = yaml.safe_load((TEAM / "Pulumi.prod.yaml").read_text())
    doc["config"]["team-robotics:cluster_stack"] = "organization/aidc-foundation/prod"
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(yaml.safe_dump(doc))
    result = run_aidc("plan", "--program", TEAM, "--stack-file", stack, timeout=600)
    assert result.returncode == 2
    assert ("stack reference organization/aidc-foundation/prod: its cluster contract "
            "(version 1) is incomplete: cluster_contract_version: missing") in result.stderr
    assert "node_service_account: missing" in result.stderr
