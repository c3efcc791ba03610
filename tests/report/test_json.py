"""The JSON report is `CheckResult.as_dict()`: the contract's keys, in a stable order."""

from __future__ import annotations

import json

from infra.report import render
from infra.report.json_report import render_json
from tests.report_fixtures import POLICIES, WAIVER_REASON, make_result


def test_has_the_contract_keys() -> None:
    doc = json.loads(render_json(make_result()))
    assert list(doc)[:4] == ["project", "stack", "pack", "passed"]
    assert {"policies", "violations", "summary", "diagnostics"} <= set(doc)
    for p in doc["policies"]:
        assert {"name", "severity", "enforcement", "references"} <= set(p)
        assert isinstance(p["references"], list)
    for v in doc["violations"]:
        assert {"policy", "urn", "resource_type", "resource_name", "severity", "enforcement",
                "message"} <= set(v)


def test_content_matches_the_result() -> None:
    result = make_result()
    doc = json.loads(render(result, "json"))
    assert doc["project"] == "aidc" and doc["stack"] == "dev"
    assert doc["passed"] is False
    assert doc["summary"] == {"resources": 13, "policies": 5, "violations": 5, "mandatory": 1,
                              "waived": 1, "exempt": 0, "baseline": 0}
    assert [p["name"] for p in doc["policies"]] == [p.name for p in POLICIES]
    assert doc["policies"][0]["references"] == ["CIS GCP 5.3", "CKV_GCP_81"]
    waived = [v for v in doc["violations"] if v["waiver"]]
    assert [v["waiver"] for v in waived] == [WAIVER_REASON]


def test_indent_two_and_stable_bytes() -> None:
    out = render_json(make_result())
    assert out.splitlines()[1].startswith('  "project"')
    assert out.endswith("}\n")
    assert out == render_json(make_result())
    assert json.loads(out) == make_result().as_dict()


def test_non_ascii_stays_readable() -> None:
    result = make_result()
    result.pack_name = "aidc-politiques-é"
    assert "aidc-politiques-é" in render_json(result)
