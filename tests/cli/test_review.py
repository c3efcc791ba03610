"""What a reviewer acts on, driven as a user drives it (`aidc` in a subprocess, exit code,
output): SARIF and JUnit that place each finding on the line that produced it, a saved plan
judged exactly as its stack, a program planned as its own project, suppressions as other
scanners have them (expiring waivers, --skip-policy/--only-policy, --baseline), diffs with old
and new values, and accelerator pools that Google's requirements exempt by name."""

from __future__ import annotations

import copy
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from infra.files import load_yaml_with_lines
from tests.helpers import BASE_STACK, REPO, run_aidc, stack_config, write_stack

SARIF_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
INSECURE = REPO / "stacks" / "examples" / "insecure"


def key_lines(path: Path) -> dict[tuple[Any, ...], int]:
    lines: dict[tuple[Any, ...], int] = {}
    load_yaml_with_lines(path.read_text(), str(path), lines)
    return lines


def report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def insecure_copy(tmp_path: Path, policy: dict[str, Any] | None = None, extra: str = "") -> Path:
    """The insecure example as a project of its own in tmp_path, with `aidc:policy` settings
    and extra program lines."""
    program = tmp_path / "insecure"
    program.mkdir()
    (program / "__main__.py").write_text((INSECURE / "__main__.py").read_text()
                                         + textwrap.dedent(extra))
    # the same project as the example: a pull request changing it
    (program / "Pulumi.yaml").write_text((INSECURE / "Pulumi.yaml").read_text())
    flat: dict[str, Any] = {"gcp:project": "acme-ai-sandbox", "gcp:region": "us-central1"}
    if policy is not None:
        flat["aidc:policy"] = policy
    write_stack(program, flat, "insecure")
    return program


# --- 1. SARIF and JUnit on the right line ----------------------------------------------------

def test_sarif_points_at_the_config_key_that_built_each_resource(tmp_path: Path) -> None:
    """`aidc check dev --format sarif`: every result sits on the stack file's line of the key
    its resource came from (not line 1), the URI is relative to the repository root, each
    result has its own fingerprint, and each rule's help carries the remediation."""
    out = tmp_path / "dev.sarif"
    proc = run_aidc("check", "dev", "--format", "sarif", "--output", out)
    assert proc.returncode == 0, proc.stderr
    log = report(out)
    if SARIF_SCHEMA.is_file():
        jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    run = log["runs"][0]
    assert run["results"], "dev has advisory findings to place"
    lines = key_lines(REPO / "stacks" / "Pulumi.dev.yaml")
    for result in run["results"]:
        physical = result["locations"][0]["physicalLocation"]
        artifact = physical["artifactLocation"]
        assert artifact == {"uri": "stacks/Pulumi.dev.yaml", "uriBaseId": "%SRCROOT%",
                            "index": 0}
        key = result["properties"]["configKey"]
        head, *rest = key.split(".")
        assert physical["region"]["startLine"] == lines[("config", head, *rest)] > 1
        assert result["partialFingerprints"]["aidcViolation/v1"]
    assert len({r["partialFingerprints"]["aidcViolation/v1"] for r in run["results"]}) == \
        len(run["results"])
    assert all("Remediation" in rule["help"]["markdown"] for rule in run["tool"]["driver"]["rules"])
    assert "/work/" not in out.read_text() and str(REPO) not in out.read_text()


def test_sarif_and_junit_point_at_the_program_line_that_registered_it(tmp_path: Path) -> None:
    """A program's resources are placed at the program line that registered them, relative to
    the repository root; the JUnit report fails exactly the mandatory findings, there too."""
    sarif, junit = tmp_path / "r.sarif", tmp_path / "r.xml"
    assert run_aidc("check", "--program", INSECURE, "insecure", "--format", "sarif",
                    "--output", sarif).returncode == 1
    source = (INSECURE / "__main__.py").read_text().splitlines()
    # the line of the call that registered it (where the constructor's call begins)
    line_of = {}
    for name in ("ssh-from-anywhere", "robot-editor", "public-corpus"):
        at = next(i for i, text in enumerate(source, 1) if f'"{name}"' in text)
        line_of[name] = at if "(" in source[at - 1].split(f'"{name}"')[0] else at - 1
    placed = {}
    for result in report(sarif)["runs"][0]["results"]:
        name = result["properties"]["resourceName"]
        physical = result["locations"][0]["physicalLocation"]
        placed[name] = (physical["artifactLocation"]["uri"], physical["region"]["startLine"])
    for name, line in line_of.items():
        assert placed[name] == ("stacks/examples/insecure/__main__.py", line)

    proc = run_aidc("check", "--program", INSECURE, "insecure", "--format", "junit",
                    "--output", junit)
    assert proc.returncode == 1 and "FAIL:" in proc.stderr
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and int(root.get("failures")) > 0
    cases = root.findall("testsuite/testcase")
    assert int(root.get("tests")) == len(cases)
    ssh = [c for c in root.findall("testsuite[@name='no-world-ssh-rdp']/testcase")
           if "ssh-from-anywhere" in c.get("name")]
    assert ssh and ssh[0].find("failure") is not None
    assert ssh[0].get("file") == "stacks/examples/insecure/__main__.py"
    assert ssh[0].get("line") == str(line_of["ssh-from-anywhere"])
    passing = root.find("testsuite[@name='gke-no-alpha']/testcase")
    assert passing is not None and passing.find("failure") is None


# --- 2. a saved plan is judged as its stack --------------------------------------------------

def test_saved_plan_is_judged_exactly_as_the_stack(tmp_path: Path) -> None:
    """`aidc plan --json` records the stack's policy settings (enforcement, waivers), so
    `aidc check --plan` alone reaches the verdict `aidc check --stack-file` reaches."""
    flat = copy.deepcopy(BASE_STACK)
    flat["aidc:policy"] = {"enforcement": "mandatory", "waivers": [
        {"policy": "data-access-audit-logs", "resource": "stack",
         "reason": "audit logs at the organisation, ticket SEC-1"}]}
    flat["aidc:storage"]["buckets"]["datasets"] = {"classification": "confidential"}
    stack = write_stack(tmp_path, flat, "review")
    plan, direct, saved = tmp_path / "plan.json", tmp_path / "a.json", tmp_path / "b.json"
    assert run_aidc("plan", "--stack-file", stack, "--json", plan, "-q").returncode == 0
    recorded = report(plan)
    assert recorded["policy"]["settings"]["enforcement"] == "mandatory"
    assert recorded["stackFile"].endswith("Pulumi.review.yaml")
    first = run_aidc("check", "--stack-file", stack, "--format", "json", "--output", direct)
    second = run_aidc("check", "--plan", plan, "--format", "json", "--output", saved)
    assert first.returncode == second.returncode, first.stderr + second.stderr
    a, b = report(direct), report(saved)
    key = lambda v: json.dumps(v, sort_keys=True)  # noqa: E731
    assert sorted(map(key, a["violations"])) == sorted(map(key, b["violations"]))
    assert a["summary"] == b["summary"] and a["summary"]["waived"] == 1
    assert {p["enforcement"] for p in b["policies"]} == {"mandatory"}


# --- 3. --program is its own project ---------------------------------------------------------

def test_program_is_planned_as_its_own_project(tmp_path: Path) -> None:
    """Project name (URNs) and config namespace (`pulumi.Config()`, keys without a namespace)
    come from the program's Pulumi.yaml; the stack file is found in the program's directory."""
    program = tmp_path / "lab"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: lab\nruntime: python\n")
    (program / "__main__.py").write_text(textwrap.dedent("""
        import pulumi
        import pulumi_gcp as gcp

        cfg = pulumi.Config()
        gcp.storage.Bucket("scratch", name=cfg.require("bucket"), location="US",
                           labels={"team": cfg.require("team")})
    """))
    (program / "Pulumi.dev.yaml").write_text(
        "config:\n  gcp:project: lab-dev\n  lab:bucket: lab-scratch\n  team: research\n")
    proc = run_aidc("plan", "--program", program, "dev", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["project"] == "lab"
    bucket = next(r for r in plan["resources"] if r["name"] == "scratch")
    assert bucket["urn"].startswith("urn:pulumi:dev::lab::")
    assert bucket["inputs"]["name"] == "lab-scratch"
    assert bucket["inputs"]["labels"] == {"team": "research"}
    assert bucket["source"]["line"] == 6

    (program / "Pulumi.yaml").unlink()
    missing = run_aidc("plan", "--program", program, "dev")
    assert missing.returncode == 2 and "no Pulumi.yaml" in missing.stderr


# --- 4. suppressions -------------------------------------------------------------------------

def test_an_expired_waiver_stops_waiving_and_says_so(tmp_path: Path) -> None:
    program = insecure_copy(tmp_path, {"waivers": [
        {"policy": "no-world-ssh-rdp", "resource": "ssh-from-anywhere",
         "reason": "bastion until the VPN lands, SEC-7", "expires": "2020-01-31"},
        {"policy": "no-world-all-ports", "resource": "all-from-anywhere",
         "reason": "honeypot, SEC-9", "expires": "2999-12-31"}]})
    out = tmp_path / "r.json"
    proc = run_aidc("check", "--program", program, "insecure", "--format", "json", "--output", out)
    assert proc.returncode == 1, proc.stderr
    found = {(v["resource_name"], v["policy"]): v for v in report(out)["violations"]}
    ssh = found[("ssh-from-anywhere", "no-world-ssh-rdp")]
    assert ssh["waiver"] is None and ssh["waiver_expired"] == "2020-01-31"
    assert "expired on 2020-01-31" in ssh["message"]
    assert found[("all-from-anywhere", "no-world-all-ports")]["waiver"] == "honeypot, SEC-9"
    text = run_aidc("check", "--program", program, "insecure")
    assert "expired on 2020-01-31" in text.stdout and "[WAIVED]" in text.stdout


def test_skip_and_only_policy(tmp_path: Path) -> None:
    """--only-policy judges only the named policies, --skip-policy leaves them out, and an
    unknown name is a usage error (exit 2) naming the closest policy."""
    out = tmp_path / "r.json"
    proc = run_aidc("check", "--program", INSECURE, "insecure", "--only-policy",
                    "no-world-ssh-rdp", "--format", "json", "--output", out)
    assert proc.returncode == 1
    doc = report(out)
    assert {v["policy"] for v in doc["violations"]} == {"no-world-ssh-rdp"}
    assert "no-world-all-ports" in doc["skipped_policies"]
    mandatory = sorted({v["policy"] for v in report(_full_report(tmp_path))["violations"]
                        if v["enforcement"] == "mandatory"})
    skipped = run_aidc("check", "--program", INSECURE, "insecure",
                       *[arg for p in mandatory for arg in ("--skip-policy", p)])
    assert skipped.returncode == 0, skipped.stdout[-2000:]
    assert "Skipped policies" in skipped.stdout
    typo = run_aidc("check", "--program", INSECURE, "insecure", "--skip-policy", "no-world-ssh")
    assert typo.returncode == 2 and "did you mean 'no-world-ssh-rdp'" in typo.stderr


def _full_report(tmp_path: Path) -> Path:
    out = tmp_path / "full.json"
    if not out.exists():
        run_aidc("check", "--program", INSECURE, "insecure", "--format", "json", "--output", out)
    return out


def test_baseline_fails_only_on_new_findings(tmp_path: Path) -> None:
    """With --baseline (an earlier JSON report), known findings no longer fail the check; a
    new one does, and reports say which is which."""
    baseline = _full_report(tmp_path)
    again = run_aidc("check", "--program", INSECURE, "insecure", "--baseline", baseline)
    assert again.returncode == 0, again.stdout[-2000:]
    assert "in baseline" in again.stdout
    program = insecure_copy(tmp_path, extra="""
        gcp.compute.Firewall(
            "rdp-from-anywhere", network=vpc.id, source_ranges=["::/0"],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["3389"])])
    """)
    out, sarif = tmp_path / "new.json", tmp_path / "new.sarif"
    proc = run_aidc("check", "--program", program, "insecure", "--baseline", baseline,
                    "--format", "json", "--output", out)
    assert proc.returncode == 1
    blocking = {(v["resource_name"], v["policy"]) for v in report(out)["violations"]
                if v["enforcement"] == "mandatory" and not v["baseline"]}
    assert blocking == {("rdp-from-anywhere", "no-world-ssh-rdp")}
    run_aidc("check", "--program", program, "insecure", "--baseline", baseline,
             "--format", "sarif", "--output", sarif)
    states = {r["properties"]["resourceName"]: r["baselineState"]
              for r in report(sarif)["runs"][0]["results"]}
    assert states["rdp-from-anywhere"] == "new" and states["ssh-from-anywhere"] == "unchanged"


# --- 5. diffs with values ----------------------------------------------------------------------

def test_diff_shows_old_and_new_values_and_the_markdown_report_includes_it(tmp_path: Path) -> None:
    base_flat = copy.deepcopy(BASE_STACK)
    head_flat = copy.deepcopy(BASE_STACK)
    head_flat["aidc:network"] = {**head_flat["aidc:network"], "max_pods_per_node": 32}
    base_plan, head_plan = tmp_path / "base.json", tmp_path / "head.json"
    head = write_stack(tmp_path, head_flat, "head")
    assert run_aidc("plan", "--stack-file", write_stack(tmp_path, base_flat, "base"),
                    "--json", base_plan, "-q").returncode == 0
    assert run_aidc("plan", "--stack-file", head, "--json", head_plan, "-q").returncode == 0
    text = run_aidc("diff", base_plan, head_plan)
    assert text.returncode == 0
    # fewer pods per node: a smaller pods range, so the subnet is carved elsewhere
    assert 'ipCidrRange: "10.16.52.0/25" -> "10.16.36.0/25"' in text.stdout
    as_json = json.loads(run_aidc("diff", base_plan, head_plan, "--json").stdout)
    values = [v for c in as_json["changed"] for v in c["values"]]
    assert {"path": "ipCidrRange", "old": "10.16.52.0/25", "new": "10.16.36.0/25"} in values

    comment = tmp_path / "comment.md"
    proc = run_aidc("check", "--stack-file", head, "--format", "markdown", "--base", base_plan,
                    "--output", comment)
    assert proc.returncode == 0, proc.stderr
    md = comment.read_text()
    assert "#### Changes against the base plan" in md
    assert "#### Monthly cost against the base plan" in md  # `aidc cost diff`'s figures
    assert "| **Change** | **+$0.00** | **+$0.00** |" in md  # fewer pods per node cost nothing
    assert '`ipCidrRange`: "10.16.52.0/25" -&gt; "10.16.36.0/25"' in md
    usage = run_aidc("check", "--stack-file", head, "--base", base_plan)
    assert usage.returncode == 2 and "--format markdown" in usage.stderr


def test_comment_bytes_fits_the_markdown_report_and_rejects_other_sizes(tmp_path: Path) -> None:
    """--comment-bytes cuts the Markdown report to a share of GitHub's limit (the workflow puts
    three stacks in one comment); a size outside the range, or another format, is exit 2."""
    plan = tmp_path / "plan.json"
    assert run_aidc("plan", "--program", INSECURE, "insecure", "--json", plan, "-q").returncode == 0
    full, small = tmp_path / "full.md", tmp_path / "small.md"
    assert run_aidc("check", "--plan", plan, "--format", "markdown", "--output",
                    full).returncode == 1
    assert run_aidc("check", "--plan", plan, "--format", "markdown", "--comment-bytes", "9000",
                    "--output", small).returncode == 1
    assert len(full.read_bytes()) > 9000 >= len(small.read_bytes())
    assert "Not shown:" in small.read_text()
    for args, needle in ((("--format", "markdown", "--comment-bytes", "100"), "8,192 to 65,536"),
                         (("--format", "json", "--comment-bytes", "9000"), "--format markdown")):
        proc = run_aidc("check", "--plan", plan, *args)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr


# --- 7. accelerator-aware exemptions ---------------------------------------------------------

@pytest.mark.parametrize(("capacity", "exit_code"), [("flex_start", 0), ("on_demand", 1)])
def test_flex_start_pool_without_auto_repair_passes_prod(tmp_path: Path, capacity: str,
                                                         exit_code: int) -> None:
    """The prod stack (every policy mandatory) with a GPU pool that runs without auto-repair:
    a flex-start pool passes, its finding shown as exempt by the named rule; the same setting
    on an on-demand pool fails."""
    flat = stack_config("prod")
    flat["aidc:gpu_pools"] = {**flat["aidc:gpu_pools"], "dws": {
        "machine_type": "a2-ultragpu-8g", "capacity": capacity, "auto_repair": False,
        "autoscaling": {"min_nodes": 0, "max_nodes": 4}}}
    out = tmp_path / "r.json"
    proc = run_aidc("check", "--stack-file", write_stack(tmp_path, flat, "prod"),
                    "--format", "json", "--output", out)
    assert proc.returncode == exit_code, proc.stderr
    [finding] = [v for v in report(out)["violations"]
                 if v["policy"] == "gke-release-channel-autoupgrade"
                 and v["resource_name"] == "gpu-dws-pool"]
    assert "management.autoRepair is false" in finding["message"]
    if capacity == "flex_start":
        assert finding["exemption"] == "flex-start-no-auto-repair"
    else:
        assert finding["exemption"] is None and finding["enforcement"] == "mandatory"
