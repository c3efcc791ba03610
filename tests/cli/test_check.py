"""`aidc check` end to end: our stacks pass, the insecure example fails naming each problem."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import REPO, run_aidc

SARIF_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
INSECURE = REPO / "stacks" / "examples" / "insecure"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_our_stacks_have_no_mandatory_violation(stack: str, tmp_path: Path) -> None:
    """Every shipped stack passes its own pack at its own enforcement level (exit 0)."""
    out = tmp_path / "r.json"
    proc = run_aidc("check", stack, "--format", "json", "--output", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert report["passed"] and report["summary"]["mandatory"] == 0
    assert len(report["policies"]) >= 40
    assert all({"name", "severity", "enforcement", "references"} <= set(p) for p in report["policies"])


def test_flags_every_problem_of_the_insecure_example(tmp_path: Path) -> None:
    """The deliberately insecure stack fails (exit 1) and each planted problem is named."""
    out = tmp_path / "r.json"
    proc = run_aidc("check", "--program", INSECURE, "insecure", "--format", "json", "--output", out)
    assert proc.returncode == 1, proc.stderr
    found = {(v["resource_name"], v["policy"]) for v in json.loads(out.read_text())["violations"]
             if v["enforcement"] == "mandatory"}
    expected = {
        ("corpus-public-read", "no-public-members"),
        ("public-corpus", "bucket-public-access-prevention"),
        ("public-corpus", "cmek-required-by-classification"),
        ("public-corpus", "bucket-uniform-access"),
        ("ssh-from-anywhere", "no-world-ssh-rdp"),
        ("all-from-anywhere", "no-world-all-ports"),
        ("open-cluster", "gke-control-plane-not-public"),
        ("open-cluster", "gke-no-legacy-auth"),
        ("default-sa-gpus", "node-sa-not-default"),
        ("never-rotated", "kms-rotation-max"),
        ("robot-key", "no-user-managed-sa-keys"),
        ("robot-editor", "no-primitive-roles-for-sa"),
    }
    assert expected <= found, expected - found


def test_saved_plan_checks_the_same_and_sarif_validates(tmp_path: Path) -> None:
    """`--plan` judges a saved Plan; SARIF output is valid SARIF 2.1.0 with a rule per policy."""
    plan = tmp_path / "plan.json"
    assert run_aidc("plan", "--program", INSECURE, "insecure", "--json", plan, "-q").returncode == 0
    sarif = tmp_path / "r.sarif"
    proc = run_aidc("check", "--plan", plan, "--format", "sarif", "--output", sarif)
    assert proc.returncode == 1
    log = json.loads(sarif.read_text())
    if SARIF_SCHEMA.is_file():
        jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    run = log["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) >= 40 and run["results"]


def test_streamed_check_judges_as_the_saved_plan_does(tmp_path: Path) -> None:
    """`aidc check STACK` sends resources to the pack while planning; the verdict is exactly
    that of `aidc check --plan` on the same plan, analyzed after the fact."""
    plan = tmp_path / "plan.json"
    assert run_aidc("plan", "--program", INSECURE, "insecure", "--json", plan, "-q").returncode == 0
    streamed, saved = tmp_path / "streamed.json", tmp_path / "saved.json"
    assert run_aidc("check", "--program", INSECURE, "insecure", "--format", "json",
                    "--output", streamed).returncode == 1
    assert run_aidc("check", "--plan", plan, "--stack-file", INSECURE / "Pulumi.insecure.yaml",
                    "--format", "json", "--output", saved).returncode == 1
    a, b = json.loads(streamed.read_text()), json.loads(saved.read_text())
    key = lambda v: json.dumps(v, sort_keys=True)  # noqa: E731
    assert sorted(map(key, a["violations"])) == sorted(map(key, b["violations"]))
    assert sorted(map(key, a["diagnostics"])) == sorted(map(key, b["diagnostics"]))
    assert a["timings"]["policy_analyzed_during_plan"] > 0
    assert b["timings"]["policy_analyzed_during_plan"] == 0


def test_markdown_report_for_a_pull_request(tmp_path: Path) -> None:
    """Markdown has the verdict, a severity table and a Mermaid diagram of the components."""
    out = tmp_path / "r.md"
    assert run_aidc("check", "prod", "--format", "markdown", "--output", out).returncode == 0
    text = out.read_text()
    assert "```mermaid" in text and "| " in text and "prod" in text


@pytest.mark.parametrize("args, needle", [
    (["check", "dev", "--format", "yaml"], "--format"),
    (["check", "--plan", "/nonexistent/plan.json"], "/nonexistent/plan.json"),
    (["check", "dev", "--policy-pack", "/tmp"], "PulumiPolicy.yaml"),
    (["check", "nosuchstack"], "stacks here"),
])
def test_rejects_bad_check_input_with_exit_2(args: list[str], needle: str) -> None:
    """Bad input to `aidc check` exits 2 with a message naming it and no traceback."""
    proc = run_aidc(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_rejects_a_pack_that_fails_to_start(tmp_path: Path) -> None:
    """A policy pack whose program crashes is reported (exit 2), and nothing is left running."""
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('boom')\n")
    proc = run_aidc("check", "dev", "--policy-pack", tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_policy_config_is_what_check_uses(tmp_path: Path) -> None:
    """`aidc policy config prod` writes the pack config for the real CLI: prod's settings."""
    out = tmp_path / "prod-policy.json"
    assert run_aidc("policy", "config", "prod", "--output", out).returncode == 0
    config = json.loads(out.read_text())
    assert config["all"] == "mandatory"
    assert config["alerts-have-channels"]["requireNotificationChannels"] is True


def test_policy_list_has_the_whole_roster() -> None:
    """The roster lists every policy with its references (CIS items, Checkov ids)."""
    proc = run_aidc("policy", "list", "--json")
    rows = json.loads(proc.stdout)
    assert len(rows) >= 40 and any("CKV_GCP_29" in r["references"] for r in rows)
