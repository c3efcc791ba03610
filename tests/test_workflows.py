"""The GitHub Actions workflows, checked offline: valid against SchemaStore's workflow schema
(vendored by check-jsonschema, so no network), on supported action versions, with the least
permissions each job needs, no SARIF upload or comment where the token cannot write (a fork's
pull request), and a workflow that runs the test suite as developers do (`make test`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
# The oldest major of each action still supported (older ones run on retired Node versions or
# are deprecated: CodeQL Action v3 in December 2026).
MIN_MAJOR = {"actions/checkout": 5, "actions/setup-python": 6,
             "github/codeql-action/upload-sarif": 4, "marocchino/sticky-pull-request-comment": 2}
# Permissions a job may ask for, and only with a reason in this table.
ALLOWED_WRITES = {"security-events", "pull-requests"}
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


def load(path: Path) -> dict[Any, Any]:
    # PyYAML reads the key `on` as True; the workflow schema check below reads it as GitHub does.
    return yaml.safe_load(path.read_text())


def steps(doc: dict[Any, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(name, job, step) for name, job in doc["jobs"].items() for step in job["steps"]]


def test_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} >= {"policy-check.yml", "tests.yml"}


def test_workflows_validate_against_the_workflow_schema() -> None:
    """check-jsonschema with its vendored copy of SchemaStore's github-workflow schema."""
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or \
        shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip("check-jsonschema is not installed (make test installs it)")
    proc = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_broken_workflow_fails_the_schema_check(tmp_path: Path) -> None:
    """The check above can fail: a job without runs-on or steps is refused."""
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("check-jsonschema is not installed")
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    permissions: {contents: read}\n")
    proc = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_on_supported_majors(path: Path) -> None:
    for _, _, step in steps(load(path)):
        uses = step.get("uses")
        if not uses:
            continue
        action, _, ref = uses.partition("@")
        assert action in MIN_MAJOR, f"{path.name}: {action} is not a reviewed action"
        major = re.fullmatch(r"v(\d+)(\.\d+)*", ref)
        assert major and int(major.group(1)) >= MIN_MAJOR[action], f"{path.name}: {uses}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege(path: Path) -> None:
    """Nothing at the workflow level; each job lists its own permissions, reads by default,
    writes only from the allow list; checkout keeps no credentials."""
    doc = load(path)
    assert doc.get("permissions") == {}, f"{path.name}: workflow-level permissions"
    for name, job in doc["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict), f"{path.name}:{name} lists no permissions"
        writes = {k for k, v in perms.items() if v == "write"}
        assert writes <= ALLOWED_WRITES, f"{path.name}:{name} writes {writes - ALLOWED_WRITES}"
    for name, _, step in steps(doc):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, name


def test_policy_check_uploads_only_where_the_token_can_write() -> None:
    doc = load(REPO / ".github" / "workflows" / "policy-check.yml")
    [job] = doc["jobs"].values()
    assert job["permissions"]["security-events"] == "write"
    assert job["permissions"]["actions"] == "read"  # upload-sarif in private repositories
    assert FORK_GUARD in job["env"]["CAN_WRITE"]
    writers = [step for _, _, step in steps(doc)
               if str(step.get("uses", "")).startswith(("github/codeql-action/upload-sarif",
                                                       "marocchino/"))]
    assert len(writers) == 2
    for step in writers:
        assert "env.CAN_WRITE == 'true'" in step["if"]


def test_a_workflow_runs_the_test_suite() -> None:
    doc = load(REPO / ".github" / "workflows" / "tests.yml")
    runs = [step.get("run", "") for _, _, step in steps(doc)]
    assert any(run.strip() == "make test" for run in runs)
    triggers = doc.get(True) or doc.get("on")
    assert {"push", "pull_request"} <= set(triggers)
