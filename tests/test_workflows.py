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
             "github/codeql-action/upload-sarif": 4, "actions/upload-artifact": 6,
             "actions/download-artifact": 7}
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


POLICY_CHECK = REPO / ".github" / "workflows" / "policy-check.yml"


def test_policy_check_uploads_only_where_the_token_can_write() -> None:
    """The job that runs the pull request's code uploads SARIF (not from forks) and cannot
    write to the pull request."""
    job = load(POLICY_CHECK)["jobs"]["check"]
    assert job["permissions"]["security-events"] == "write"
    assert job["permissions"]["actions"] == "read"  # upload-sarif in private repositories
    assert "pull-requests" not in job["permissions"]
    assert FORK_GUARD in job["env"]["CAN_WRITE"]
    [sarif] = [step for step in job["steps"]
               if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif")]
    assert "env.CAN_WRITE == 'true'" in sarif["if"]


def test_policy_check_plans_base_and_head_and_reports_the_cost_diff() -> None:
    """Base and head are planned to JSON; the Markdown report gets --base (the cost section and
    the resource changes) and a size that lets every stack's report share one comment."""
    job = load(POLICY_CHECK)["jobs"]["check"]
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert '--stack-file "base-Pulumi.$STACK.yaml"' in runs and '--json "base-$STACK.json"' in runs
    assert 'aidc plan "$STACK" --json "plan-$STACK.json"' in runs
    assert "--format markdown" in runs and '--base "base-$STACK.json"' in runs
    size = int(re.search(r"--comment-bytes (\d+)", runs).group(1))  # type: ignore[union-attr]
    stacks = job["strategy"]["matrix"]["stack"]
    assert stacks == ["dev", "staging", "prod"]
    assert len(stacks) * size + 1_000 <= 65_536  # GitHub's limit, with room for the separators


def test_one_sticky_comment_from_a_job_that_runs_no_pull_request_code() -> None:
    """Only the comment job may write to the pull request; it checks out nothing, runs after
    every stack (even failed ones), not on forks, and posts one comment for all stacks."""
    jobs = load(POLICY_CHECK)["jobs"]
    writers = [name for name, job in jobs.items()
               if job["permissions"].get("pull-requests") == "write"]
    assert writers == ["comment"]
    comment = jobs["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    assert comment["needs"] == "check"
    assert "always()" in comment["if"] and FORK_GUARD in comment["if"]
    uses = [step.get("uses", "") for step in comment["steps"]]
    assert not any(u.startswith("actions/checkout") for u in uses)
    assert any(u.startswith("actions/download-artifact") for u in uses)


def _comment_script() -> str:
    [step] = [s for s in load(POLICY_CHECK)["jobs"]["comment"]["steps"] if "run" in s]
    return step["run"]


FAKE_GH = """#!/bin/sh
# Records each call; answers the comment listing with $EXISTING (an id, or nothing).
echo "$*" >> calls.log
case "$*" in
  *"/comments --paginate"*) [ -n "$EXISTING" ] && echo "$EXISTING" ;;
esac
exit 0
"""


@pytest.mark.parametrize("existing", ["", "4242"])
def test_comment_script_creates_then_updates_one_comment(tmp_path: Path, existing: str) -> None:
    """The job's script, run with a stand-in `gh`: every stack's report in one body behind one
    marker, POSTed the first time and PATCHed (the same comment) after."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(0o755)
    for stack in ("dev", "prod"):  # staging produced no report
        (tmp_path / f"aidc-{stack}.md").write_text(f"<!-- aidc-policy-report -->\nreport {stack}\n")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "EXISTING": existing, "GH_REPO": "acme/aidc",
           "PR": "7"}
    proc = subprocess.run([bash, "-e", "-o", "pipefail", "-c", _comment_script()],  # as Actions
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    body = (tmp_path / "comment.md").read_text()
    assert body.startswith("<!-- aidc-pr-report -->\n")
    assert body.count("<!-- aidc-pr-report -->") == 1
    assert body.index("report dev") < body.index("report prod") and "staging" not in body
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls[0].startswith("api repos/acme/aidc/issues/7/comments --paginate")
    if existing:
        assert calls[1] == ("api --method PATCH repos/acme/aidc/issues/comments/4242 "
                            "-F body=@comment.md")
    else:
        assert calls[1] == "api --method POST repos/acme/aidc/issues/7/comments -F body=@comment.md"
    assert len(calls) == 2


def test_a_workflow_runs_the_test_suite() -> None:
    doc = load(REPO / ".github" / "workflows" / "tests.yml")
    runs = [step.get("run", "") for _, _, step in steps(doc)]
    assert any(run.strip() == "make test" for run in runs)
    triggers = doc.get(True) or doc.get("on")
    assert {"push", "pull_request"} <= set(triggers)
