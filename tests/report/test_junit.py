"""JUnit XML: one suite per policy, mandatory findings fail, suppressed ones are skipped,
advisory ones pass, every policy is counted, and hostile text stays well-formed XML."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from infra.report import render
from tests.report_fixtures import make_result


def test_counts_and_outcomes_follow_the_verdict() -> None:
    result = make_result()
    root = ET.fromstring(render(result, "junit"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites][: len(result.policies)] == [
        p.name for p in result.policies]
    failures = root.findall(".//failure")
    assert len(failures) == int(root.get("failures")) == len(result.blocking)
    waived = [v for v in result.violations if v.waiver is not None]
    skipped_messages = [s.get("message") for s in root.iter("skipped")]
    assert any(m.startswith("waived: ") for m in skipped_messages) and waived
    assert int(root.get("tests")) == len(root.findall(".//testcase"))


def test_control_characters_are_dropped() -> None:
    result = make_result()
    bad = dataclasses.replace(result.violations[0], message="bell\x07 and nul\x00 end")
    result.violations[0] = bad
    ET.fromstring(render(result, "junit"))  # parses: well-formed
