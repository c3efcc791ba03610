"""Running a check: `check_plan`, and any Python pack's verdict, logs and failures."""

from __future__ import annotations

import textwrap

import pytest

from infra.check.run import PolicyAnalyzer, check_plan, policy_settings
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


# --- the stack's settings ------------------------------------------------------------------------

def test_rejects_stack_policy_settings_naming_each_bad_field(tmp_path) -> None:
    """Generated settings validate like hand-written ones: each problem names its field in the
    stack file, with the bad value and what is accepted."""
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(textwrap.dedent("""
        config:
          aidc:policy:
            kms_max_rotation_days: 0
            sensitive_ports: [22, 70000]
            kms_max_rotaton_days: 30
    """))
    with pytest.raises(AidcError) as err:
        policy_settings(stack_file)
    message = str(err.value)
    assert ("aidc:policy.kms_max_rotation_days: Input should be greater than or equal to 1"
            in message)
    assert "aidc:policy.sensitive_ports[1]: Input should be less than or equal to 65535" in message
    assert "kms_max_rotaton_days: unknown key (did you mean kms_max_rotation_days?)" in message


def test_stack_policy_settings_reach_the_pack_config(tmp_path) -> None:
    """A threshold set in the stack file is what the pack is configured with."""
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  aidc:policy:\n    kms_max_rotation_days: 30\n")
    config = policy_settings(stack_file).to_pack_config()
    assert config["kms-rotation-max"]["kmsMaxRotationDays"] == 30
    assert config["restricted-bucket-key-rotation"]["kmsMaxRotationDays"] == 30
