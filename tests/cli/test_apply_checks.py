"""The apply-order and precondition checks through the real CLI, on the example program that has
one mistake per check (stacks/examples/unordered): `aidc plan` lists them (and exits 0),
`aidc check` fails on them in every report format, as it fails on mandatory policies, and the
stack's policy settings (overrides, waivers) apply to them as to the pack's policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, run_aidc

EXAMPLE = REPO / "stacks" / "examples" / "unordered"
CHECKS = ("apply-api-enabled-first", "apply-agent-grant-after-identity",
          "apply-workload-identity-after-cluster", "apply-refused-settings",
          "apply-gpudirect-in-cluster")


@pytest.fixture(scope="module")
def saved_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`aidc plan --program stacks/examples/unordered unordered --json FILE`, once."""
    path = tmp_path_factory.mktemp("unordered") / "plan.json"
    result = run_aidc("plan", "--program", EXAMPLE, "unordered", "--json", path)
    assert result.returncode == 0, result.stderr
    return path


def test_plan_lists_each_apply_order_problem_and_exits_0() -> None:
    result = run_aidc("plan", "--program", EXAMPLE, "unordered", "--quiet")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Plan checks (apply order, preconditions, budget): 6 checks, 15 problems" in out
    for check in CHECKS:
        line = next(line for line in out.splitlines() if line.strip().startswith(check))
        assert "problem" in line, line
    assert "trainer-wi: does not wait for cluster" in out


def test_check_fails_on_each_check_in_json_and_sarif(saved_plan: Path, tmp_path: Path) -> None:
    """Every check fires, mandatory by default, with its own policy entry (description,
    remediation, references); SARIF carries them as rules and results like the pack's."""
    result = run_aidc("check", "--plan", saved_plan, "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    fired = {v["policy"] for v in report["violations"] if v["policy"].startswith("apply-")}
    assert fired == set(CHECKS)
    assert all(v["enforcement"] == "mandatory" for v in report["violations"]
               if v["policy"] in CHECKS)
    policies = {p["name"]: p for p in report["policies"]}
    for check in CHECKS:
        assert policies[check]["remediation"] and policies[check]["references"]
    sarif_path = tmp_path / "check.sarif"
    result = run_aidc("check", "--plan", saved_plan, "--format", "sarif", "--output", sarif_path)
    assert result.returncode == 1
    run = json.loads(sarif_path.read_text())["runs"][0]
    rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert set(CHECKS) <= rules
    assert {r["ruleId"] for r in run["results"]} >= set(CHECKS)


def test_stack_settings_apply_to_the_checks(saved_plan: Path, tmp_path: Path) -> None:
    """An override makes a check advisory, a waiver (by logical name) waives a finding with its
    reason, exactly as for the pack's policies."""
    stack = tmp_path / "Pulumi.unordered.yaml"
    stack.write_text(yaml.safe_dump({"config": {"aidc:policy": {
        "overrides": {"apply-gpudirect-in-cluster": "advisory"},
        "waivers": [{"policy": "apply-refused-settings", "resource": "models",
                     "reason": "demo bucket, recreated without versioning in TICKET-1"}]}}}))
    result = run_aidc("check", "--plan", saved_plan, "--stack-file", stack, "--format", "json")
    report = json.loads(result.stdout)
    gpudirect = [v for v in report["violations"] if v["policy"] == "apply-gpudirect-in-cluster"]
    assert gpudirect and {v["enforcement"] for v in gpudirect} == {"advisory"}
    (refused,) = [v for v in report["violations"] if v["policy"] == "apply-refused-settings"]
    assert refused["waiver"] == "demo bucket, recreated without versioning in TICKET-1"
