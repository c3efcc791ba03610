"""The plain-text report: worst first, every field spelled out, waivers with reasons, a verdict."""

from __future__ import annotations

import dataclasses
import random

import pytest

from infra.check.results import Violation
from infra.errors import AidcError
from infra.report import FORMATS, render
from infra.report.text import render_rich, render_text, split_urn, tally, verdict
from tests.report_fixtures import WAIVER_REASON, make_result


def test_verdict_line_fails_with_counts_of_each_status() -> None:
    """The last line is the verdict: FAIL with mandatory, advisory and waived counts."""
    out = render_text(make_result())
    assert out.endswith("\n")
    assert out.rstrip("\n").splitlines()[-1] == (
        "FAIL: 1 mandatory, 3 advisory, 1 waived (1 not verifiable at preview)")


def test_verdict_passes_when_only_advisory_and_waived_remain() -> None:
    """Advisory and waived violations are listed but do not fail the verdict."""
    result = make_result()
    result.violations = [v for v in result.violations if not v.blocking]
    assert result.exit_code == 0
    assert verdict(result) == "PASS: 0 mandatory, 3 advisory, 1 waived (1 not verifiable at preview)"
    assert "gcp:storage/bucket:Bucket data-scratch  [WAIVED]" in render_text(result)


def test_clean_result_says_so() -> None:
    out = render_text(make_result(violations=False))
    assert "No violations." in out
    assert out.rstrip().endswith("PASS: 0 mandatory, 0 advisory, 0 waived")


def test_grouped_by_severity_then_policy() -> None:
    """Severity headings in order of gravity, each policy once under its severity."""
    lines = render_text(make_result()).splitlines()
    headings = [line for line in lines if line and not line.startswith(" ") and "(" in line
                and line.split(" (")[0].isupper()]
    assert headings == ["CRITICAL (2)", "MEDIUM (2)", "LOW (1)", "NOT VERIFIABLE AT PREVIEW (1)"]
    policies = [line.strip() for line in lines if line.startswith("  ") and not
                line.startswith("   ")]
    assert policies == ["storage-cmek (2 violations)", "bucket-versioning (2 violations)",
                        "project-labels (1 violation)"]


def test_each_violation_spells_out_every_field() -> None:
    out = render_text(make_result())
    block = out.split("- gcp:storage/bucket:Bucket data-datasets\n", 1)[1].split("\n    -")[0]
    assert "policy:      storage-cmek" in block
    assert "severity:    critical" in block
    assert "enforcement: mandatory" in block
    assert "message:     Bucket has no encryption.defaultKmsKeyName | uses Google keys" in block
    assert "remediation: Set encryption.defaultKmsKeyName to a key from KmsKeys." in block
    assert "urn:         urn:pulumi:dev::aidc::" in block


def test_waived_violation_shows_its_reason() -> None:
    out = render_text(make_result())
    block = out.split("data-scratch  [WAIVED]\n", 1)[1].split("\n    -")[0]
    assert f"waived:      {WAIVER_REASON}" in block


def test_stack_level_violation_and_diagnostic_are_named() -> None:
    out = render_text(make_result())
    assert "    - stack\n        policy:      project-labels" in out
    assert "    - gcp:container/cluster:Cluster train-cluster" in out
    assert "message:     privateClusterConfig is unknown at preview" in out


def test_multiline_values_stay_aligned() -> None:
    result = make_result()
    result.violations = [dataclasses.replace(result.violations[0], message="first\nsecond")]
    out = render_text(result)
    assert "message:     first\n" + " " * 21 + "second\n" in out


def test_plain_text_has_no_ansi_codes() -> None:
    assert "\x1b" not in render_text(make_result())


def test_independent_of_violation_order() -> None:
    """Same result in any order -> the same bytes."""
    result = make_result()
    expected = render_text(result)
    for seed in range(5):
        shuffled = list(result.violations)
        random.Random(seed).shuffle(shuffled)
        result.violations = shuffled
        assert render_text(result) == expected


def test_rich_variant_has_the_same_text_with_styles() -> None:
    result = make_result()
    rich_text = render_rich(result)
    assert rich_text.plain == render_text(result)
    assert any("red" in str(span.style) for span in rich_text.spans)


def test_tally_counts_disabled_apart() -> None:
    v = make_result().violations[0]
    t = tally([v, dataclasses.replace(v, enforcement="disabled"),
               dataclasses.replace(v, severity="weird")])
    assert (t.total.mandatory, t.total.disabled) == (2, 1)
    assert list(t.by_severity) == ["critical", "high", "medium", "low", "weird"]


def test_split_urn() -> None:
    assert split_urn("urn:pulumi:dev::aidc::pulumi:pulumi:Stack$gcp:storage/bucket:Bucket::a::b") \
        == ("gcp:storage/bucket:Bucket", "a::b")
    assert split_urn("garbage") == ("", "garbage")


def test_render_dispatches_every_format() -> None:
    result = make_result()
    assert FORMATS == ("text", "json", "sarif", "junit", "markdown")
    assert render(result, "text") == render_text(result)
    outputs = {fmt: render(result, fmt) for fmt in FORMATS}
    assert len(set(outputs.values())) == len(FORMATS)


def test_rejects_unknown_format() -> None:
    with pytest.raises(AidcError, match="'html' is not one of text, json, sarif, junit, markdown"):
        render(make_result(), "html")  # type: ignore[arg-type]


def test_violation_contract_is_what_the_report_reads() -> None:
    """Guard: the fixture's waived violation is not blocking (the verdict depends on it)."""
    waived = [v for v in make_result().violations if v.waiver]
    assert waived and all(isinstance(v, Violation) and not v.blocking for v in waived)
