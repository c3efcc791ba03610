"""Running a check: `check_plan`, and any Python pack's verdict, logs and failures."""

from __future__ import annotations

import pytest

from infra.check.run import PolicyAnalyzer, check_plan
from infra.errors import AidcError
from tests.check.packs import ALWAYS, write_pack
from tests.policy_fixtures import FIREWALL, golden_plan, plan_of, resource


def test_check_plan_starts_judges_and_stops(spawned) -> None:
    """`check_plan` is one call: a result with timings, and no pack left running."""
    result = check_plan(golden_plan())
    assert result.pack_name == "aidc-policies" and result.exit_code == 0
    assert result.timings["policy_seconds"] >= result.timings["policy_start_seconds"] > 0
    assert {"policy_analyze_seconds", "policy_stack_seconds"} <= set(result.timings)
    assert len(spawned) == 1 and spawned[0].poll() is not None


# --- a foreign pack: generic behaviour -----------------------------------------------------------

def test_flags_violations_of_any_pack_and_serves_its_engine_log(tmp_path) -> None:
    """The driver runs any Python pack: violations come back at the pack's level, and a pack
    that logs to the engine address is served (its messages are captured; warnings and errors
    become diagnostics)."""
    fw = resource(FIREWALL, "fw")
    with PolicyAnalyzer(write_pack(tmp_path, ALWAYS)) as running:
        result = running.check(plan_of(fw))
        logs = running.engine_logs
    [violation] = result.violations
    assert (violation.policy, violation.urn, violation.message) == ("always", fw.urn,
                                                                    "always fails")
    assert violation.enforcement == "mandatory" and result.exit_code == 1
    assert any(message == "judging fw" and urn == fw.urn for _, message, urn in logs)
    assert [(d.urn, d.message) for d in result.diagnostics] == [
        (fw.urn, "tiny logged: odd firewall")]


def test_marks_waivers_for_a_pack_without_waiver_support(tmp_path) -> None:
    """A pack that knows nothing of waivers still gets its findings marked by the driver."""
    fw = resource(FIREWALL, "fw")
    with PolicyAnalyzer(write_pack(tmp_path, ALWAYS)) as running:
        result = running.check(plan_of(fw), waivers=[
            {"policy": "always", "resource": "fw", "reason": "known"}])
    [violation] = result.violations
    assert violation.waiver == "known" and result.exit_code == 0


def test_rejects_policy_that_crashes(tmp_path) -> None:
    """A policy raising an exception is reported as a pack failure on that resource."""
    crash = resource("boom", "x", inputs={})
    with PolicyAnalyzer(write_pack(tmp_path, ALWAYS)) as running:
        with pytest.raises(AidcError, match=r"failed in Analyze\(.*::boom::x\).*policy bug"):
            running.check(plan_of(crash))
