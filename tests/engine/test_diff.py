"""`aidc diff` between a saved dev plan and a changed dev stack: which changes replace.

A GPU pool's machine type and a Filestore tier are immutable in GCP (ForceNew in the provider
schema), so changing either destroys and recreates the NodePool / Instance, and the diff must
say so in JSON (`replaces`) and in text ("forces replacement"). Scaling a pool's maximum or
growing a share is an in-place update and must not be flagged.

Every plan and diff goes through the real CLI: `aidc plan dev --json BASE`, then per variant
`aidc plan --stack-file <tmp>/Pulumi.dev.yaml --json TARGET` (same stack name, so URNs match)
and `aidc diff BASE TARGET [--json]`. The base is planned once per module, each variant once.
"""

from __future__ import annotations

import re

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import STACKS_DIR, run_aidc

NODE_POOL = "gcp:container/nodePool:NodePool"
FILESTORE = "gcp:filestore/instance:Instance"
DEV = yaml.safe_load((STACKS_DIR / "Pulumi.dev.yaml").read_text())


def _gpu_machine_type(cfg: dict[str, Any]) -> None:
    cfg["aidc:gpu_pools"]["l4"]["machine_type"] = "g2-standard-12"   # still 1 x L4


def _gpu_max_nodes(cfg: dict[str, Any]) -> None:
    cfg["aidc:gpu_pools"]["l4"]["autoscaling"]["max_nodes"] = 3


def _filestore_tier(cfg: dict[str, Any]) -> None:
    cfg["aidc:storage"]["filestore"]["tier"] = "ZONAL"               # cmek stays false


def _filestore_capacity(cfg: dict[str, Any]) -> None:
    cfg["aidc:storage"]["filestore"]["capacity_gib"] = 2048


VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "gpu-machine-type": _gpu_machine_type,
    "gpu-max-nodes": _gpu_max_nodes,
    "filestore-tier": _filestore_tier,
    "filestore-capacity": _filestore_capacity,
}


class Diffs:
    """Plans the dev stack once, and each variant on first use: variant -> (JSON, text)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = root / "base.json"
        result = run_aidc("plan", "dev", "--json", self.base)
        assert result.returncode == 0, result.stderr
        self._cache: dict[str, tuple[dict[str, Any], str]] = {}

    def diff(self, base: Path, target: str | Path) -> tuple[dict[str, Any], str]:
        as_json = run_aidc("diff", base, target, "--json")
        as_text = run_aidc("diff", base, target)
        for result in (as_json, as_text):
            assert result.returncode == 0, result.stderr
            assert "Traceback" not in result.stderr
        return json.loads(as_json.stdout), as_text.stdout

    def __getitem__(self, variant: str) -> tuple[dict[str, Any], str]:
        if variant not in self._cache:
            doc = copy.deepcopy(DEV)
            VARIANTS[variant](doc["config"])
            directory = self.root / variant
            directory.mkdir()
            stack = directory / "Pulumi.dev.yaml"
            stack.write_text(yaml.safe_dump(doc, sort_keys=False))
            target = directory / "plan.json"
            result = run_aidc("plan", "--stack-file", stack, "--json", target)
            assert result.returncode == 0, result.stderr
            self._cache[variant] = self.diff(self.base, target)
        return self._cache[variant]


@pytest.fixture(scope="module")
def diffs(tmp_path_factory: pytest.TempPathFactory) -> Diffs:
    return Diffs(tmp_path_factory.mktemp("diffs"))


def only_change(diff: dict[str, Any], type_token: str, name: str) -> dict[str, Any]:
    """The diff changes exactly this one resource and adds or removes nothing."""
    assert diff["added"] == [] and diff["removed"] == [], diff
    assert [(c["type"], c["name"]) for c in diff["changed"]] == [(type_token, name)], diff["changed"]
    return diff["changed"][0]


def test_unchanged_stack_has_no_differences(diffs: Diffs) -> None:
    """The saved plan against the same stack (by name) is empty: nothing is spuriously flagged."""
    diff, text = diffs.diff(diffs.base, "dev")
    assert diff == {"added": [], "removed": [], "changed": []}
    assert "no differences" in text
    assert "forces replacement" not in text


def test_gpu_machine_type_forces_replacement(diffs: Diffs) -> None:
    """A new machine type means a new NodePool: `replaces` names nodeConfig.machineType and the
    text marks the pool +- and the path [forces replacement]."""
    diff, text = diffs["gpu-machine-type"]
    change = only_change(diff, NODE_POOL, "gpu-l4-pool")
    assert change["paths"] == ["nodeConfig.machineType"]
    assert change["replaces"] == ["nodeConfig.machineType"]
    assert "+- gpu-l4-pool" in text
    assert re.search(r'nodeConfig\.machineType: "[^"]+" -> "[^"]+"  \[forces replacement\]', text)
    assert "would be REPLACED" in text and "gpu-l4-pool" in text.splitlines()[-1]


def test_filestore_tier_forces_replacement(diffs: Diffs) -> None:
    """A Filestore tier cannot change in place: the Instance is replaced, and says so."""
    diff, text = diffs["filestore-tier"]
    change = only_change(diff, FILESTORE, "share-instance")
    assert "tier" in change["paths"]
    assert change["replaces"] == ["tier"]
    assert "+- share-instance" in text
    assert 'tier: "BASIC_HDD" -> "ZONAL"  [forces replacement]' in text
    assert change["values"] == [{"path": "tier", "old": "BASIC_HDD", "new": "ZONAL"}]
    assert "would be REPLACED" in text


def test_gpu_max_nodes_updates_in_place(diffs: Diffs) -> None:
    """Raising a pool's autoscaling maximum is an update of the same NodePool, not a replacement;
    the pool's Kueue flavour states the larger capacity and the team's queue the larger quota."""
    diff, text = diffs["gpu-max-nodes"]
    assert diff["added"] == [] and diff["removed"] == [], diff
    changed = {(c["type"], c["name"]): c for c in diff["changed"]}
    change = changed.pop((NODE_POOL, "gpu-l4-pool"))
    assert change["paths"] == ["autoscaling.totalMaxNodeCount"]
    assert change["replaces"] == []
    kueue = "kubernetes:kueue.x-k8s.io/v1beta2:"
    assert set(changed) == {(f"{kueue}ResourceFlavor", "tenancy-flavor-gpu-l4"),
                            (f"{kueue}ClusterQueue", "tenancy-research-queue")}
    assert changed[(f"{kueue}ResourceFlavor", "tenancy-flavor-gpu-l4")]["paths"] == [
        "metadata.annotations.aidc.dev/capacity"]
    assert all(c["replaces"] == [] for c in changed.values())
    assert "~  gpu-l4-pool" in text
    assert "forces replacement" not in text and "REPLACED" not in text


def test_filestore_capacity_updates_in_place(diffs: Diffs) -> None:
    """Growing a share's capacity is an in-place update of the Instance."""
    diff, text = diffs["filestore-capacity"]
    change = only_change(diff, FILESTORE, "share-instance")
    assert change["paths"] == ["fileShares.capacityGb"]
    assert change["replaces"] == []
    assert "~  share-instance" in text
    assert "forces replacement" not in text and "REPLACED" not in text


def test_a_secret_stays_secret_on_both_sides() -> None:
    """A value that is a secret on either side is shown as [secret] on both, in JSON and text."""
    from infra.engine.diff import changed_values
    from infra.report.plan_text import value_change_text

    [change] = changed_values({"token": "[secret]"}, {"token": "s3cr3t-in-clear"})
    assert change.as_dict() == {"path": "token", "old": "[secret]", "new": "[secret]"}
    assert value_change_text(change) == "[secret] -> [secret]"
    [added] = changed_values({}, {"labels": {"team": "ml"}})
    assert added.as_dict() == {"path": "labels", "new": {"team": "ml"}}
    assert value_change_text(added) == '(absent) -> {"team": "ml"}'
