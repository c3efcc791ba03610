"""The GitHub Actions workflows, checked offline: valid against SchemaStore's workflow schema
(vendored by check-jsonschema, so no network), on supported action versions, with the least
permissions each job needs, no SARIF upload or comment where the token cannot write (a fork's
pull request), a workflow that runs the test suite as developers do (`make test`), no secret
in plain text, and the deploy path (deploy.yml, deploy-environment.yml): every program checked,
environments in order behind `needs`, OIDC only where a job authenticates, one run per
environment, a drift check that fails visibly and opens an issue."""

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
             "actions/download-artifact": 7, "marocchino/sticky-pull-request-comment": 2,
             "pulumi/actions": 6, "google-github-actions/auth": 2}
# Permissions a job may ask for, and only with a reason in this table: security-events (SARIF
# upload), pull-requests (the report comment), id-token (Workload Identity Federation: only in
# jobs that authenticate, see test_oidc_only_where_a_job_authenticates), issues (the drift
# issue).
ALLOWED_WRITES = {"security-events", "pull-requests", "id-token", "issues"}
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


def load(path: Path) -> dict[Any, Any]:
    # PyYAML reads the key `on` as True; the workflow schema check below reads it as GitHub does.
    return yaml.safe_load(path.read_text())


def steps(doc: dict[Any, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(name, job, step) for name, job in doc["jobs"].items()
            for step in job.get("steps", [])]


def test_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} >= {"policy-check.yml", "tests.yml", "deploy.yml",
                                           "deploy-environment.yml"}


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


# ---------------------------------------------------------------------------------------------
# no secrets in plain text, OIDC only where needed

# Key material and long-lived tokens that must never sit in a workflow; credentials come from
# Workload Identity Federation.
PLAINTEXT_SECRETS = re.compile(
    r"-----BEGIN|private_key|credentials_json|PULUMI_CONFIG_PASSPHRASE|PULUMI_ACCESS_TOKEN|"
    r"AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{20,}|\bsecrets\.", re.I)
AUTH = "google-github-actions/auth@"
DEPLOY = REPO / ".github" / "workflows" / "deploy.yml"
ENVIRONMENT_WORKFLOW = REPO / ".github" / "workflows" / "deploy-environment.yml"
CALLED = "./.github/workflows/deploy-environment.yml"
ENVIRONMENTS = ["dev", "staging", "prod"]
# The layer programs, by directory, with their Pulumi project names (issue 14, item 1).
LAYERS = {"stacks/layers/foundation": "aidc-foundation", "stacks/layers/cluster": "aidc-cluster"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_secret_in_plain_text(path: Path) -> None:
    """No key, passphrase, token or `secrets.` reference: nothing to leak, nothing to rotate."""
    found = PLAINTEXT_SECRETS.findall(path.read_text())
    assert found == [], f"{path.name}: {found}"


def test_the_plaintext_rule_can_fail() -> None:
    assert PLAINTEXT_SECRETS.search("with:\n  credentials_json: ${{ secrets.GCP_SA_KEY }}\n")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_oidc_only_where_a_job_authenticates(path: Path) -> None:
    """`id-token: write` only in jobs that exchange the token (google-github-actions/auth, with
    a provider and a service account, never a key) or call the workflow that does."""
    for name, job in load(path)["jobs"].items():
        auth = [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(AUTH)]
        wants = job.get("permissions", {}).get("id-token") == "write"
        assert wants == bool(auth or job.get("uses") == CALLED), f"{path.name}:{name}"
        for step in auth:
            assert set(step["with"]) == {"workload_identity_provider", "service_account"}
            assert "vars.AIDC_WIF_PROVIDER" in step["with"]["workload_identity_provider"]


# ---------------------------------------------------------------------------------------------
# the deploy path


def triggers(doc: dict[Any, Any]) -> dict[str, Any]:
    return doc.get(True) or doc.get("on")


def programs_on_disk() -> set[str]:
    """Every Pulumi program CI must check, from the filesystem: the root project's program
    (its `main:`), and every directory under stacks/ with a Pulumi.yaml, except examples."""
    root = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    found = {root["main"].rstrip("/")}
    found |= {p.parent.relative_to(REPO).as_posix() for p in (REPO / "stacks").rglob("Pulumi.yaml")
              if "examples" not in p.relative_to(REPO / "stacks").parts}
    return found


def test_every_program_and_stack_is_checked_on_pull_requests() -> None:
    """The check job runs `aidc check --program P S` for each line `python -m infra.deploy`
    prints, which is every stack file of every program on disk (layers included once they
    land), without credentials."""
    from infra.deploy import check_lines

    doc = load(DEPLOY)
    assert {"pull_request", "push", "schedule"} <= set(triggers(doc))
    assert triggers(doc)["push"]["branches"] == ["main"]
    job = doc["jobs"]["check"]
    assert job["permissions"] == {"contents": "read"}
    run = "\n".join(s.get("run", "") for s in job["steps"])
    assert "python -m infra.deploy" in run and 'aidc check --program "$program" "$stack"' in run
    lines = [line.split() for line in check_lines()]
    assert {p for p, _ in lines} == programs_on_disk()
    for program in programs_on_disk():
        from infra.plan import find_project

        stacks = {p.name[len("Pulumi."):-len(".yaml")]
                  for p in find_project(REPO / program).stack_dir.glob("Pulumi.*.yaml")}
        assert {s for p, s in lines if p == program} == stacks, program
    assert ["stacks", "prod"] in lines and ["stacks/bootstrap", "bootstrap"] in lines


def deploy_programs() -> list[str]:
    """The default of DEPLOY_PROGRAMS (the expression's fallback)."""
    value = load(DEPLOY)["env"]["DEPLOY_PROGRAMS"]
    return re.search(r"\|\|\s*'([^']+)'", value).group(1).split()


def test_deploy_programs_are_the_layers_in_dependency_order() -> None:
    """Foundation, then cluster; every layer on disk is deployed; a named layer that exists
    is the Pulumi project its name says."""
    order = deploy_programs()
    assert order == list(LAYERS)
    on_disk = {p for p in programs_on_disk() if p.startswith("stacks/layers/")}
    assert on_disk <= set(order), f"layers not deployed: {on_disk - set(order)}"
    for program, project in LAYERS.items():
        path = REPO / program / "Pulumi.yaml"
        if path.exists():
            assert yaml.safe_load(path.read_text())["name"] == project


def test_environments_deploy_in_order_behind_needs() -> None:
    """dev after the check, staging after dev, prod after staging, each through the reusable
    workflow with its GitHub environment; only on a push to main."""
    jobs = load(DEPLOY)["jobs"]
    previous = "check"
    for env in ENVIRONMENTS:
        job = jobs[f"deploy-{env}"]
        assert job["uses"] == CALLED
        assert job["with"]["environment"] == env
        needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
        assert previous in needs
        previous = f"deploy-{env}"
    assert "github.event_name == 'push'" in jobs["settings"]["if"]
    assert "refs/heads/main" in jobs["settings"]["if"]
    assert "settings" in jobs["deploy-dev"]["needs"]


def test_environment_job_runs_pulumi_up_once_per_environment_with_its_deployer() -> None:
    doc = load(ENVIRONMENT_WORKFLOW)
    assert set(triggers(doc)) == {"workflow_call"}
    [job] = doc["jobs"].values()
    assert job["environment"] == "${{ inputs.environment }}"
    assert "inputs.environment" in job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] is False
    uses = [str(s.get("uses", "")) for s in job["steps"]]
    assert any(u.startswith("pulumi/actions@") for u in uses)
    [auth] = [s for s in job["steps"] if str(s.get("uses", "")).startswith(AUTH)]
    assert auth["with"]["service_account"].startswith("deploy-${{ inputs.environment }}@")
    run = job["steps"][-1]["run"]
    assert "for program in $DEPLOY_PROGRAMS" in run
    assert "aidc check --program" in run and "pulumi up" in run
    assert "--policy-pack policies" in run
    assert 'pulumi login "gs://' in run


def test_preview_only_where_federation_is_configured_and_not_from_forks() -> None:
    job = load(DEPLOY)["jobs"]["preview"]
    assert "github.event_name == 'pull_request'" in job["if"]
    assert "vars.AIDC_WIF_PROVIDER != ''" in job["if"]
    assert FORK_GUARD in job["if"]
    assert job["needs"] == "check"
    [auth] = [s for s in job["steps"] if str(s.get("uses", "")).startswith(AUTH)]
    assert auth["with"]["service_account"].startswith("preview@")
    run = job["steps"][-1]["run"]
    assert "pulumi preview" in run and "--policy-pack policies" in run and "pulumi up" not in run
    assert job["strategy"]["matrix"]["environment"] == ENVIRONMENTS


def test_drift_check_fails_visibly_and_opens_an_issue() -> None:
    doc = load(DEPLOY)
    job = doc["jobs"]["drift"]
    assert "schedule" in job["if"] and triggers(doc)["schedule"][0]["cron"]
    assert job["permissions"]["issues"] == "write"
    assert job["concurrency"]["cancel-in-progress"] is False
    [auth] = [s for s in job["steps"] if str(s.get("uses", "")).startswith(AUTH)]
    assert auth["with"]["service_account"].startswith("preview@")
    drift = next(s for s in job["steps"] if s.get("id") == "drift")
    assert "--expect-no-changes" in drift["run"] and "--refresh" in drift["run"]
    assert drift["run"].rstrip().endswith('test -z "$drifted"')  # the job fails on drift
    issue = job["steps"][-1]
    assert issue["if"].startswith("failure()")
    assert "gh issue create" in issue["run"] and "gh issue comment" in issue["run"]


def test_only_deploy_jobs_hold_a_deployer() -> None:
    """The deployer service accounts appear only in the environment workflow; pull requests
    and the drift check use the preview account."""
    for path in WORKFLOWS:
        text = path.read_text()
        if path != ENVIRONMENT_WORKFLOW:
            assert "service_account: deploy-" not in text, path.name
