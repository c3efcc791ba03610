"""Issue 12, finding 6, through the real CLI: every config GCP would refuse is refused by
`aidc config validate --stack-file F` with exit 2, naming the file and the field, no traceback;
and the configs that used to validate and then fail at plan are refused (or now plan).

Each case is `stacks/Pulumi.dev.yaml` with one thing changed (tests.cli.test_compute_errors'
`dev_with`); the model-level cases, with the accepted neighbours, are in
tests/config/test_gcp_limits.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.test_compute_errors import DEV, L4, assert_user_error, dev_with
from tests.helpers import run_aidc

STORAGE = DEV["aidc:storage"]


def storage(**fields: Any) -> dict[str, Any]:
    return {"storage": {**copy.deepcopy(STORAGE), **fields}}


def bucket(**fields: Any) -> dict[str, Any]:
    buckets = copy.deepcopy(STORAGE["buckets"])
    buckets["datasets"].update(fields)
    return storage(buckets=buckets)


def exclusion(start: str, end: str) -> dict[str, Any]:
    return {"cluster": {"maintenance": {"exclusions": {"launch": [start, end]}}}}


# id -> (sections to change, what stderr must hold after the file name)
CASES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "cluster-name-over-40": (
        {"cluster": {"name": "c" * 35}},
        ("aidc:cluster.name: cluster name 'aidc-dev-" + "c" * 35 + "' (44 characters)",
         "1-40 characters")),
    "node-pool-name-over-40": (
        {"gpu_pools": {"p" * 41: L4}},
        (f"aidc:gpu_pools.{'p' * 41}: node pool name", "(41 characters)", "1-40 characters")),
    "node-pool-name-with-underscore-and-bang": (
        {"gpu_pools": {"my_pool!": L4}},
        ("aidc:gpu_pools.my_pool!: node pool name 'my_pool!' is not accepted by GKE",)),
    "system-pool-min-over-max": (
        {"cluster": {"system_pool": {"min_nodes": 5, "max_nodes": 2}}},
        ("aidc:cluster.system_pool.min_nodes: 5 exceeds max_nodes 2",)),
    "retention-8.6e16-seconds": (
        bucket(retention_days=86_000_000_000_000_000 // 86_400),
        ("aidc:storage.buckets.datasets.retention_days: 995370370370 days",
         "less than 100 years (3,155,760,000 s)")),
    "exclusion-starting-soon": (
        exclusion("soon", "2027-01-10T00:00:00Z"),
        ("aidc:cluster.maintenance.exclusions.launch[0]: 'soon' is not an RFC 3339 date-time",)),
    "exclusion-ending-before-it-starts": (
        exclusion("2027-01-24T00:00:00Z", "2027-01-10T00:00:00Z"),
        ("aidc:cluster.maintenance.exclusions.launch[1]: 2027-01-10T00:00:00Z is not after",)),
    "duplicate-zones": (
        {"zones": ["us-central1-a", "us-central1-a"]},
        ("aidc:zones[1]: 'us-central1-a' is listed twice",)),
    "zone-us-central1-z": (
        {"zones": ["us-central1-a", "us-central1-z"]},
        ("aidc:zones[1]: 'us-central1-z' is not a zone of us-central1; its zones are "
         "us-central1-a",)),
    "region-us-moon1": (
        {"gcp:region": "us-moon1"},
        ("gcp:region: 'us-moon1' is not a Google Cloud region; did you mean us-south1",)),
    "bucket-location-mars-central9": (
        storage(location="mars-central9"),
        ("aidc:storage.location: 'mars-central9' is not a Cloud Storage location",)),
    "api-not-a-service": (
        {"apis": ["not a service!"]},
        ("aidc:apis[0]: 'not a service!' is not a Google service name",)),
    # Three configs that validated and then failed at plan naming neither file nor field:
    "plan-gap-labels-over-64": (
        {"labels": {f"k{i}": "v" for i in range(63)}},
        ("aidc:labels: 67 labels on the resource", "at most 64")),
    "plan-gap-api-short-names": (
        {"apis": ["ml-x.googleapis.com", "ml.x.googleapis.com"]},
        ("aidc:apis[0]: 'ml-x.googleapis.com' goes by the short name 'ml-x'",)),
    "plan-gap-self-managed-monitoring-without-cluster": (
        {"monitoring": {"mode": "self-managed", "dashboards": ["storage"]}, "cluster": None,
         "gpu_pools": None, "tpu_pools": None},
        ("aidc:monitoring.mode: self-managed runs Prometheus in the cluster",)),
}


def write(root: Path, case: str, sections: dict[str, Any]) -> Path:
    path = root / f"Pulumi.{case}.yaml"
    path.write_text(yaml.safe_dump({"config": dev_with(**sections)}, sort_keys=False))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_rejects_through_config_validate(case: str, tmp_path: Path) -> None:
    """Exit 2, the file, the field and what is accepted; nothing else."""
    sections, needles = CASES[case]
    path = write(tmp_path, case, sections)
    assert_user_error(run_aidc("config", "validate", "--stack-file", path), (str(path), *needles))


def test_self_managed_monitoring_plans(tmp_path: Path) -> None:
    """Self-managed monitoring with a cluster used to validate and then fail at plan (GKE's
    DCGM and aidc's exporter both on); now the plan turns GKE's DCGM component off."""
    path = write(tmp_path, "self-managed",
                 {"monitoring": {**DEV["aidc:monitoring"], "mode": "self-managed",
                                 "dashboards": ["tpu", "storage"]}})
    out = tmp_path / "plan.json"
    result = run_aidc("plan", "--stack-file", path, "--json", out)
    assert result.returncode == 0, result.stderr
    resources = json.loads(out.read_text())["resources"]
    [cluster] = [r for r in resources if r["type"] == "gcp:container/cluster:Cluster"]
    components = cluster["inputs"]["monitoringConfig"]["enableComponents"]
    assert "DCGM" not in components and "SYSTEM_COMPONENTS" in components
