"""SARIF 2.1.0 output: schema-valid, one rule per policy, one result per violation, waivers as
suppressions, and what GitHub code scanning needs to rank, place and track each alert."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from infra.report import render
from infra.report.sarif import (
    FINGERPRINT_KEY,
    SECURITY_SEVERITY,
    build_sarif,
    fingerprint,
    render_sarif,
)
from tests.report_fixtures import POLICIES, ROOT, WAIVER_REASON, make_many, make_result

SCHEMA_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / \
    "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"SARIF 2.1.0 schema not found at {SCHEMA_PATH}; cannot validate")
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft7Validator(schema,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _run(out: str) -> dict[str, Any]:
    doc = json.loads(out)
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    return doc["runs"][0]


def _errors(validator: jsonschema.Draft7Validator, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc)]


def test_validates_against_the_oasis_schema(validator: jsonschema.Draft7Validator) -> None:
    assert _errors(validator, json.loads(render(make_result(), "sarif"))) == []


def test_empty_and_large_results_validate(validator: jsonschema.Draft7Validator) -> None:
    assert _errors(validator, build_sarif(make_result(violations=False))) == []
    assert _errors(validator, build_sarif(make_many(500))) == []


def test_one_rule_per_policy_with_github_metadata() -> None:
    run = _run(render_sarif(make_result()))
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == len(POLICIES)
    assert [r["id"] for r in rules] == [p.name for p in POLICIES]
    cmek = rules[0]
    assert cmek["shortDescription"]["text"] == "Buckets must use a customer-managed key."
    assert cmek["fullDescription"]["text"].endswith("cannot be revoked by the data owner.")
    assert "Set encryption.defaultKmsKeyName" in cmek["help"]["text"]
    assert "Set encryption.defaultKmsKeyName" in cmek["help"]["markdown"]
    assert cmek["helpUri"] == "https://example.com/policies/storage-cmek"
    assert {"CIS GCP 5.3", "CKV_GCP_81"} <= set(cmek["properties"]["tags"])
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert levels == {"storage-cmek": "error", "bucket-versioning": "warning",
                      "gke-private-nodes": "error", "project-labels": "warning",
                      "kms-rotation": "none"}


def test_security_severity_is_a_numeric_string_in_githubs_bands() -> None:
    rules = _run(render_sarif(make_result()))["tool"]["driver"]["rules"]
    scores = {r["properties"]["severity"]: float(r["properties"]["security-severity"])
              for r in rules}
    assert all(isinstance(r["properties"]["security-severity"], str) for r in rules)
    assert scores["critical"] >= 9.0
    assert 7.0 <= scores["high"] < 9.0
    assert 4.0 <= scores["medium"] < 7.0
    assert 0.0 < scores["low"] < 4.0
    assert set(SECURITY_SEVERITY) == {"critical", "high", "medium", "low"}


def test_one_result_per_violation_pointing_at_its_rule() -> None:
    result = make_result()
    run = _run(render_sarif(result))
    rules, results = run["tool"]["driver"]["rules"], run["results"]
    assert len(results) == len(result.violations)
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["message"]["text"]
    by_level = sorted((r["ruleId"], r["level"]) for r in results)
    assert by_level == [("bucket-versioning", "warning"), ("bucket-versioning", "warning"),
                        ("project-labels", "warning"), ("storage-cmek", "error"),
                        ("storage-cmek", "error")]


def test_locations_show_the_stack_file_and_the_resource() -> None:
    result = make_result()
    run = _run(render_sarif(result))
    datasets = next(r for r in run["results"] if "data-datasets" in r["message"]["text"])
    loc = datasets["locations"][0]
    phys = loc["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "stacks/Pulumi.dev.yaml"
    assert phys["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert phys["region"]["startLine"] == 1
    logical = loc["logicalLocations"][0]
    assert logical["kind"] == "resource"
    assert logical["name"] == "data-datasets"
    assert logical["fullyQualifiedName"].endswith("gcp:storage/bucket:Bucket::data-datasets")
    # a violation on the stack as a whole is placed on the stack's URN
    stack_level = next(r for r in run["results"] if r["ruleId"] == "project-labels")
    assert stack_level["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == ROOT


def test_source_file_can_be_overridden() -> None:
    run = _run(render_sarif(make_result(), source_file="infra/stacks/prod.yaml"))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}
    assert uris == {"infra/stacks/prod.yaml"}
    assert run["artifacts"][0]["location"]["uri"] == "infra/stacks/prod.yaml"


def test_waived_violation_is_an_external_suppression_with_its_reason() -> None:
    run = _run(render_sarif(make_result()))
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(suppressed) == 1
    assert "data-scratch" in suppressed[0]["message"]["text"]
    assert suppressed[0]["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": WAIVER_REASON}]


def test_fingerprints_are_stable_per_policy_and_resource() -> None:
    """Same (policy, urn) -> same fingerprint whatever the order; different pairs differ."""
    result = make_result()
    first = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]):
             r["partialFingerprints"][FINGERPRINT_KEY] for r in _run(render_sarif(result))["results"]}
    assert len(set(first.values())) == len(first) == len(result.violations)
    shuffled = list(result.violations)
    random.Random(1).shuffle(shuffled)
    result.violations = [dataclasses.replace(v, message=v.message + " (reworded)")
                         for v in shuffled]
    again = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]):
             r["partialFingerprints"][FINGERPRINT_KEY] for r in _run(render_sarif(result))["results"]}
    assert again == first
    assert fingerprint("a", "urn:x") != fingerprint("b", "urn:x") != fingerprint("a", "urn:y")


def test_results_never_share_githubs_line_hash() -> None:
    """All results sit on line 1; without our own line hash GitHub would merge them."""
    results = _run(render_sarif(make_many(50)))["results"]
    hashes = {r["partialFingerprints"]["primaryLocationLineHash"] for r in results}
    assert len(hashes) == 50


def test_tool_driver_and_run_identity() -> None:
    run = _run(render_sarif(make_result()))
    driver = run["tool"]["driver"]
    assert driver["name"] == "aidc"
    assert driver["informationUri"].startswith("https://")
    assert driver["version"] and driver["semanticVersion"].count(".") == 2
    assert run["automationDetails"]["id"] == "aidc/dev/"


def test_diagnostics_are_notifications_not_results() -> None:
    run = _run(render_sarif(make_result()))
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 1
    assert notes[0]["associatedRule"] == {"id": "gke-private-nodes", "index": 2}
    assert "unknown at preview" in notes[0]["message"]["text"]


def test_violation_of_an_unlisted_policy_gets_a_rule(validator: jsonschema.Draft7Validator) -> None:
    result = make_result()
    result.violations.append(dataclasses.replace(result.violations[0], policy="ad-hoc"))
    doc = build_sarif(result)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[-1]["id"] == "ad-hoc" and len(rules) == len(POLICIES) + 1
    assert _errors(validator, doc) == []


def test_same_input_same_bytes() -> None:
    assert render_sarif(make_result()) == render_sarif(make_result())
