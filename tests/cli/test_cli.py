"""The `aidc` command end to end, in fresh processes, on the three stacks and on bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.helpers import BASE_STACK, STACKS, STACKS_DIR, base_stack, run_aidc, write_stack

SUMMARY = re.compile(r"^Plan (?P<project>[\w-]+)/(?P<stack>[\w-]+): (?P<resources>\d+) resources "
                     r"in (?P<components>\d+) components$", re.M)
PLAN_KEYS = {"urn", "type", "name", "parent", "dependencies", "provider", "component", "inputs"}


def assert_clean_failure(result: Any, *needles: str) -> None:
    """Exit 2, the message names what is wrong, and no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    for needle in needles:
        assert needle in result.stderr, f"{needle!r} not in:\n{result.stderr}"


# ---------------------------------------------------------------------------------------------
# plan


@pytest.mark.parametrize("env", STACKS)
def test_plan_prints_the_tree(env: str) -> None:
    """`aidc plan <env>` exits 0 and prints the summary, the resource tree grouped by
    component (protected resources marked), and counts by type; stderr stays clean."""
    result = run_aidc("plan", env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    summary = SUMMARY.search(result.stdout)
    assert summary and summary["stack"] == env and int(summary["resources"]) > 0
    out = result.stdout
    assert "kms  <aidc:kms:KmsKeys>" in out
    assert "net  <aidc:network:VpcFabric>" in out
    assert "  kms-storage  (gcp:kms/cryptoKey:CryptoKey) [protected]" in out
    assert "  net-vpc  (gcp:compute/network:Network)" in out
    assert "  data-datasets  (gcp:storage/bucket:Bucket)" in out
    assert "Resources by type:" in out


def test_plan_quiet_prints_only_the_summary() -> None:
    """`-q` keeps the summary and the counts, not the tree."""
    result = run_aidc("plan", "dev", "-q")
    assert result.returncode == 0, result.stderr
    assert SUMMARY.search(result.stdout)
    assert "<aidc:kms:KmsKeys>" not in result.stdout
    assert "gcp:kms/cryptoKey:CryptoKey" in result.stdout


def test_plan_json_shape(prod_plan_run: tuple[Path, str]) -> None:
    """`plan prod --json FILE` writes the Plan contract: project, stack and every custom and
    component resource with urn, type, name, parent, dependencies, provider, component and
    inputs; all references resolve inside the plan; counts match the printed summary."""
    path, stdout = prod_plan_run
    plan = json.loads(path.read_text())
    assert (plan["project"], plan["stack"]) == ("aidc", "prod")
    resources = plan["resources"]
    for res in resources:
        assert PLAN_KEYS <= set(res), res.get("urn")
        assert isinstance(res["inputs"], dict) and isinstance(res["dependencies"], list)
    urns = {r["urn"] for r in resources}
    assert len(urns) == len(resources)
    for res in resources:
        assert res["parent"] is None or res["parent"] in urns
        assert res["component"] is None or res["component"] in urns
        assert set(res["dependencies"]) <= urns
    summary = SUMMARY.search(stdout)
    custom = [r for r in resources if r["custom"]]
    comps = [r for r in resources if not r["custom"] and r["type"] != "pulumi:pulumi:Stack"]
    assert len(custom) == int(summary["resources"])
    assert len(comps) == int(summary["components"])
    for res in custom + comps:
        assert f"{res['name']}  " in stdout, res["name"]
    types = {r["type"] for r in resources}
    assert {"aidc:kms:KmsKeys", "aidc:network:VpcFabric", "aidc:storage:DataBuckets",
            "aidc:filestore:FilestoreShare", "aidc:services:ProjectServices",
            "gcp:storage/bucket:Bucket"} <= types


def test_plan_stack_file_option(tmp_path: Path) -> None:
    """`--stack-file` plans any stack file, named after it, with its own project."""
    path = write_stack(tmp_path, BASE_STACK, name="mine")
    out = tmp_path / "mine.json"
    result = run_aidc("plan", "--stack-file", path, "--json", out)
    assert result.returncode == 0, result.stderr
    assert SUMMARY.search(result.stdout)["stack"] == "mine"
    plan = json.loads(out.read_text())
    buckets = [r for r in plan["resources"] if r["type"] == "gcp:storage/bucket:Bucket"]
    assert {b["inputs"]["name"] for b in buckets} >= {"acme-ai-dev-dev-datasets",
                                                      "acme-ai-dev-dev-checkpoints"}


def test_secure_values_never_appear(tmp_path: Path) -> None:
    """A `secure:` value stays out of the plan JSON, stdout and stderr, whether the plan
    succeeds or the config fails validation."""
    cipher = "v1:AAABBBsupersecretcipherTEXT=="
    ok = write_stack(tmp_path, base_stack(**{"gcp:credentials": {"secure": cipher}}), name="ok")
    out = tmp_path / "ok.json"
    result = run_aidc("plan", "--stack-file", ok, "--json", out)
    assert result.returncode == 0, result.stderr
    assert cipher not in out.read_text()
    assert "supersecret" not in result.stdout + result.stderr + out.read_text()
    bad = write_stack(tmp_path, base_stack(**{"aidc:labels": {"team": {"secure": cipher}}}),
                      name="bad")
    failed = run_aidc("plan", "--stack-file", bad)
    assert failed.returncode == 2
    assert "supersecret" not in failed.stdout + failed.stderr


# ---------------------------------------------------------------------------------------------
# config


def test_config_validate() -> None:
    """`config validate staging` exits 0 and says what it validated."""
    result = run_aidc("config", "validate", "staging")
    assert result.returncode == 0, result.stderr
    assert "Pulumi.staging.yaml: valid" in result.stdout
    assert "project acme-ai-staging" in result.stdout


def test_config_validate_rejects_typo(tmp_path: Path) -> None:
    """`config validate` on a bad file exits 2 naming the key."""
    path = write_stack(tmp_path, base_stack(**{"aidc:netwrk": {}}))
    assert_clean_failure(run_aidc("config", "validate", "--stack-file", path), "aidc:netwrk")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result = run_aidc("config", "schema")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("env", STACKS)
def test_schema_validates_stack_files(schema: dict[str, Any], env: str) -> None:
    """The printed JSON Schema accepts each shipped stack file as it is."""
    doc = yaml.safe_load((STACKS_DIR / f"Pulumi.{env}.yaml").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("aidc:netwrk", {}, "aidc:netwrk"),
    ("aidc:network", {"base_cidr": "10.0.0.0/8", "max_node": 3}, "max_node"),
    ("aidc:storage", {"buckets": {"x": {"clasification": "internal"}}}, "clasification"),
])
def test_schema_rejects_typos(schema: dict[str, Any], key: str, value: Any, needle: str) -> None:
    """A typo'd key, at the top or nested, fails the schema, as it fails `aidc`."""
    doc = yaml.safe_load((STACKS_DIR / "Pulumi.dev.yaml").read_text())
    doc["config"][key] = value
    messages = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
    assert any(needle in m for m in messages), messages


# ---------------------------------------------------------------------------------------------
# diff and catalog


def test_diff_plan_against_stack(prod_plan_run: tuple[Path, str]) -> None:
    """`diff plan-prod.json staging` exits 0 and lists what is added, removed and changed."""
    path, _ = prod_plan_run
    result = run_aidc("diff", path, "staging")
    assert result.returncode == 0, result.stderr
    header = re.search(r"^Diff aidc/prod -> aidc/staging: (\d+) added, (\d+) removed, "
                       r"(\d+) changed$", result.stdout, re.M)
    assert header, result.stdout
    added, removed, changed = map(int, header.groups())
    assert changed > 0
    lines = result.stdout.splitlines()
    assert sum(line.startswith("+ ") for line in lines) == added
    assert sum(line.startswith("- ") for line in lines) == removed
    assert sum(line.startswith(("~ ", "+- ")) for line in lines) == changed
    # prod's HSM keys become software keys in staging: the key's input path is listed
    assert "versionTemplate.protectionLevel" in result.stdout


def test_diff_json(prod_plan_run: tuple[Path, str]) -> None:
    """`diff --json` gives added/removed/changed with URNs, and paths for changes."""
    path, _ = prod_plan_run
    result = run_aidc("diff", path, "staging", "--json")
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    assert set(diff) == {"added", "removed", "changed"}
    assert all({"urn", "type", "name", "paths"} <= set(c) for c in diff["changed"])


def test_diff_plan_against_itself(prod_plan_run: tuple[Path, str]) -> None:
    """A plan diffed against itself has no differences."""
    path, _ = prod_plan_run
    result = run_aidc("diff", path, path)
    assert result.returncode == 0, result.stderr
    assert "0 added, 0 removed, 0 changed" in result.stdout
    assert "no differences" in result.stdout


def test_rejects_diff_of_bad_plan_file(tmp_path: Path) -> None:
    """A plan file that is not JSON is named, with the line; exit 2."""
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert_clean_failure(run_aidc("diff", bad, bad), "bad.json: not valid JSON at line 1")


def test_catalog_filestore_json() -> None:
    """`catalog filestore --json` lists tiers with ranges (min, max, step GiB) and CMEK."""
    result = run_aidc("catalog", "filestore", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and all(set(r) == {"tier", "ranges", "cmek"} for r in rows)
    for row in rows:
        assert isinstance(row["cmek"], bool)
        assert row["ranges"] and all(set(x) == {"min_gib", "max_gib", "step_gib"}
                                     for x in row["ranges"])
    tiers = {r["tier"]: r for r in rows}
    assert tiers["BASIC_HDD"]["cmek"] is False and tiers["ZONAL"]["cmek"] is True


# ---------------------------------------------------------------------------------------------
# bad input


def _net(**fields: Any) -> dict[str, Any]:
    return {"aidc:network": {**BASE_STACK["aidc:network"], **fields}}


def _fs(**fields: Any) -> dict[str, Any]:
    return {"aidc:storage": {"filestore": {"tier": "ZONAL", "capacity_gib": 1024, **fields}}}


BAD_INPUT: dict[str, tuple[dict[str, Any] | str, list[str]]] = {
    "unknown-key": (base_stack(**{"aidc:netwrk": {}}),
                    ["aidc:netwrk: unknown key", "did you mean aidc:network?", "Accepted:"]),
    "unknown-nested-key": (base_stack(**_net(max_node=3)),
                           ["aidc:network.max_node: unknown key", "did you mean max_nodes?"]),
    "missing-project": (base_stack(**{"gcp:project": None}), ["gcp:project: required value is missing"]),
    "wrong-type": (base_stack(**{"aidc:encryption": {"rotation_days": "ninety"}}),
                   ["aidc:encryption.rotation_days", "valid integer", "'ninety'"]),
    "yaml-syntax": ("config:\n  gcp:project: acme-ai-dev\n  aidc:zones: [us-central1-a\n"
                    "  aidc:environment: dev\n", ["YAML does not parse at line 4"]),
    "overlapping-cidrs": (base_stack(**{"aidc:network": {
        "subnet_cidr": "10.0.0.0/20", "pods_cidr": "10.0.8.0/21", "services_cidr": "10.1.0.0/20",
        "psa_cidr": "10.2.0.0/22", "max_nodes": 8}}),
        ["network.subnet_cidr: 10.0.0.0/20 overlaps network.pods_cidr 10.0.8.0/21"]),
    "pods-too-small": (base_stack(**_net(pods_cidr="10.20.0.0/22")),
                       ["network.pods_cidr: 10.20.0.0/22 addresses 8 nodes", "64 nodes are declared",
                        "use a /19 or larger"]),
    "filestore-below": (base_stack(**_fs(capacity_gib=512)),
                        ["capacity_gib: 512 is below the ZONAL minimum", "ZONAL accepts 1024-9984 GiB"]),
    "filestore-above": (base_stack(**_fs(capacity_gib=204800)),
                        ["capacity_gib: 204800 is above the ZONAL maximum", "10240-102400 GiB"]),
    "filestore-step": (base_stack(**_fs(capacity_gib=1100)),
                       ["capacity_gib: 1100 is not on a 256 GiB step", "1024 and 1280 GiB"]),
    "filestore-cmek-basic": (base_stack(**_fs(tier="BASIC_HDD", cmek=True)),
                             ["cmek: tier BASIC_HDD cannot take a customer-managed key",
                              "set cmek: false"]),
    "label-key": (base_stack(**{"aidc:labels": {"Team": "ml"}}),
                  ["aidc:labels", "label key 'Team' is not accepted by GCP", "lowercase"]),
    "label-value": (base_stack(**{"aidc:labels": {"team": "ML Platform"}}),
                    ["aidc:labels", "label team='ML Platform'", "0-63 characters"]),
    "project-id": (base_stack(**{"gcp:project": "Acme_AI"}),
                   ["gcp:project", "'Acme_AI' is not a valid GCP project id", "6-30 characters"]),
    "bucket-name": (base_stack(**{"aidc:storage": {"buckets": {"google-data": {}}}}),
                    ["storage.buckets.google-data", "acme-ai-dev-dev-google-data",
                     "no 'google' inside"]),
    "zone-outside-region": (base_stack(**{"aidc:zones": ["us-central1-a", "us-east1-b"]}),
                            ["zones[1]: 'us-east1-b' is not in region 'us-central1'"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_rejects_bad_stack_file(tmp_path: Path, case: str) -> None:
    """Bad config through `aidc plan --stack-file F --json OUT`: one message naming the field
    (or file) and what is accepted, exit 2, no traceback, nothing on stdout, no OUT left."""
    content, needles = BAD_INPUT[case]
    if isinstance(content, str):
        path = tmp_path / "Pulumi.bad.yaml"
        path.write_text(content)
    else:
        path = write_stack(tmp_path, content, name="bad")
    out = tmp_path / "plan.json"
    result = run_aidc("plan", "--stack-file", path, "--json", out)
    assert_clean_failure(result, str(path), *needles)
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_rejects_stack_without_file(tmp_path: Path) -> None:
    """A stack name with no file names the path and lists the stacks that exist."""
    out = tmp_path / "plan.json"
    result = run_aidc("plan", "qa", "--json", out)
    assert_clean_failure(result, "no stack 'qa'", "Pulumi.qa.yaml does not exist",
                         "stacks here: dev, prod, staging")
    assert not out.exists()


def test_rejects_missing_stack_file(tmp_path: Path) -> None:
    """A --stack-file that does not exist is named, with the reason."""
    assert_clean_failure(run_aidc("plan", "--stack-file", tmp_path / "Pulumi.none.yaml"),
                         "Pulumi.none.yaml: cannot read stack file")


def test_rejects_no_stack() -> None:
    """Planning with neither a stack nor a file says what to give."""
    assert_clean_failure(run_aidc("plan"), "give a STACK name")


def test_rejects_unwritable_json_path(tmp_path: Path) -> None:
    """A --json path that cannot be written is named; exit 2, no traceback."""
    assert_clean_failure(run_aidc("plan", "dev", "--json", tmp_path / "no" / "such" / "p.json"),
                         "cannot write")
