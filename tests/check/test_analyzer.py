"""The analyzer driver: starting and stopping a pack, the engine's config reconciliation, request
encoding and response interpretation. Small throwaway packs exercise the failure paths."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from infra.check import analyzer as driver
from infra.check.analyzer import ENGINE_UNKNOWN, PolicyAnalyzer, check_plan, reconcile_config
from infra.errors import AidcError
from infra.config.policy import PolicySettings
from policies.metadata import POLICY_NAMES
from tests.policy_fixtures import FIREWALL, golden_plan, plan_of, resource

_YAML = "runtime: python\nversion: 0.0.1\n"
_ALWAYS = textwrap.dedent('''
    import sys
    import grpc
    from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc
    from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

    def always(args, report_violation):
        if args.resource_type == "gcp:compute/firewall:Firewall":
            # Log through the engine address the driver serves (argv: engineAddress, pack dir).
            with grpc.insecure_channel(sys.argv[1]) as channel:
                engine_pb2_grpc.EngineStub(channel).Log(engine_pb2.LogRequest(
                    severity=engine_pb2.INFO, message="judging " + args.name, urn=args.urn))
                engine_pb2_grpc.EngineStub(channel).Log(engine_pb2.LogRequest(
                    severity=engine_pb2.WARNING, message="odd firewall", urn=args.urn))
            report_violation("always fails", None)
        if args.resource_type == "boom":
            raise RuntimeError("policy bug")

    PolicyPack(name="tiny", enforcement_level=EnforcementLevel.MANDATORY, policies=[
        ResourceValidationPolicy(name="always", description="Always fails.", validate=always)])
''')


def _pack(tmp_path: Path, main: str, yaml: str = _YAML) -> Path:
    (tmp_path / "PulumiPolicy.yaml").write_text(yaml)
    (tmp_path / "__main__.py").write_text(main)
    return tmp_path


@pytest.fixture
def spawned(monkeypatch) -> list[subprocess.Popen]:
    """Every pack process the driver starts, to check that it was stopped."""
    started: list[subprocess.Popen] = []
    real = subprocess.Popen

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(driver.subprocess, "Popen", Recording)
    return started


# --- starting and stopping ---------------------------------------------------------------------

def test_rejects_pack_whose_main_raises(tmp_path, spawned) -> None:
    """A pack that fails to start is an AidcError naming the pack and quoting its stderr; the
    process is gone."""
    pack = _pack(tmp_path, "raise RuntimeError('boom: missing dependency')\n")
    with pytest.raises(AidcError) as err:
        PolicyAnalyzer(pack).start()
    assert str(pack) in str(err.value) and "boom: missing dependency" in str(err.value)
    assert spawned and all(p.poll() is not None for p in spawned)


def test_rejects_pack_that_prints_garbage_and_stops_it(tmp_path, spawned) -> None:
    """Output other than a port is an error, and the still-running pack is terminated."""
    pack = _pack(tmp_path, "import time\nprint('hello world', flush=True)\ntime.sleep(600)\n")
    with pytest.raises(AidcError, match="printed 'hello world' instead of its gRPC port"):
        PolicyAnalyzer(pack).start()
    assert spawned and all(p.poll() is not None for p in spawned)


def test_rejects_pack_that_never_prints_its_port(tmp_path, spawned) -> None:
    """A pack that hangs is given up on after the start timeout, and terminated."""
    pack = _pack(tmp_path, "import sys, time\nprint('loading', file=sys.stderr, flush=True)\n"
                           "time.sleep(600)\n")
    with pytest.raises(AidcError, match="(?s)did not print its port within 1s.*loading"):
        PolicyAnalyzer(pack, start_timeout=1).start()
    assert spawned and all(p.poll() is not None for p in spawned)


def test_rejects_directory_that_is_not_a_pack(tmp_path) -> None:
    """Without PulumiPolicy.yaml there is no pack to start (as with `pulumi preview`)."""
    with pytest.raises(AidcError, match="PulumiPolicy.yaml"):
        PolicyAnalyzer(tmp_path).start()
    with pytest.raises(AidcError, match="no such directory"):
        PolicyAnalyzer(tmp_path / "missing").start()


def test_stops_the_pack_on_keyboard_interrupt(spawned) -> None:
    """Ctrl-C inside a check still stops the pack process."""
    with pytest.raises(KeyboardInterrupt):
        with PolicyAnalyzer():
            raise KeyboardInterrupt
    assert len(spawned) == 1 and spawned[0].poll() is not None


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
    with PolicyAnalyzer(_pack(tmp_path, _ALWAYS)) as running:
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
    with PolicyAnalyzer(_pack(tmp_path, _ALWAYS)) as running:
        result = running.check(plan_of(fw), waivers=[
            {"policy": "always", "resource": "fw", "reason": "known"}])
    [violation] = result.violations
    assert violation.waiver == "known" and result.exit_code == 0


def test_rejects_policy_that_crashes(tmp_path) -> None:
    """A policy raising an exception is reported as a pack failure on that resource."""
    crash = resource("boom", "x", inputs={})
    with PolicyAnalyzer(_pack(tmp_path, _ALWAYS)) as running:
        with pytest.raises(AidcError, match=r"failed in Analyze\(.*::boom::x\).*policy bug"):
            running.check(plan_of(crash))


# --- config reconciliation (what `pulumi preview` does with --policy-pack-config) ---------------

@pytest.fixture(scope="module")
def info():
    with PolicyAnalyzer() as running:
        yield running.info


def test_reconcile_starts_from_builtin_levels_and_schema_defaults(info) -> None:
    """No config: built-in levels, and every property at its declared default."""
    config = reconcile_config(info, None)
    assert set(config) == set(POLICY_NAMES)
    assert config["no-world-ssh-rdp"][0] == "mandatory"
    assert config["bucket-access-logging"][0] == "advisory"
    assert config["kms-rotation-max"][1]["maxRotationDays"] == 90
    assert config["no-world-ssh-rdp"][1]["waivers"] == []


def test_reconcile_applies_all_then_per_policy(info) -> None:
    """"all" sets every level first; a policy's own entry then wins; properties merge."""
    config = reconcile_config(info, {
        "all": "advisory",
        "kms-rotation-max": {"enforcementLevel": "mandatory", "maxRotationDays": 30},
        "bucket-uniform-access": {"enforcementLevel": "disabled"},
    })
    assert config["no-world-ssh-rdp"][0] == "advisory"
    assert config["kms-rotation-max"] == ("mandatory", {"maxRotationDays": 30, "waivers": []})
    assert config["bucket-uniform-access"][0] == "disabled"


def test_reconcile_settings_round_trip(info) -> None:
    """PolicySettings.to_pack_config() is accepted as is and sets what it says."""
    settings = PolicySettings(enforcement="mandatory", kms_max_rotation_days=30,
                              overrides={"subnet-flow-logs": "disabled"})
    config = reconcile_config(info, settings.to_pack_config())
    assert {level for name, (level, _) in config.items() if name != "subnet-flow-logs"} == {
        "mandatory"}
    assert config["subnet-flow-logs"][0] == "disabled"
    assert config["restricted-bucket-key-rotation"][1]["maxRotationDays"] == 30


@pytest.mark.parametrize("bad, message", [
    ({"no-such-policy": "advisory"}, "unknown policies no-such-policy"),
    ({"all": "strict"}, "not one of advisory, mandatory"),
    ({"kms-rotation-max": {"maxRotationDays": "ninety"}}, "kms-rotation-max.maxRotationDays"),
    ({"kms-rotation-max": 3}, "not valid"),
])
def test_rejects_invalid_pack_config(info, bad, message) -> None:
    """Typos, bad levels and values the policy's schema refuses are errors, as in the CLI."""
    with pytest.raises(AidcError, match=message):
        reconcile_config(info, bad)


# --- encoding -----------------------------------------------------------------------------------

def test_unknown_placeholder_becomes_the_engine_sentinel() -> None:
    """'[unknown]' anywhere in the inputs is sent as pulumi's unknown value; other values are
    passed through untouched (same objects, no copy)."""
    inputs = {"a": "[unknown]", "b": [{"c": "[unknown]"}, "x"], "d": {"e": 1}}
    out = driver._engine_value(inputs)
    assert out == {"a": ENGINE_UNKNOWN, "b": [{"c": ENGINE_UNKNOWN}, "x"], "d": {"e": 1}}
    assert out["d"] is inputs["d"]
    same = {"a": [1, {"b": "y"}]}
    assert driver._engine_value(same) is same


def test_provider_reference_splits_urn_and_id() -> None:
    """A provider reference is '<urn>::<id>'; a bare URN is kept whole."""
    urn = "urn:pulumi:dev::aidc::pulumi:providers:gcp::default"
    assert driver._split_provider_ref(f"{urn}::abc-123") == urn
    assert driver._split_provider_ref(urn) == urn
    assert driver._urn_type_name(urn) == ("pulumi:providers:gcp", "default")


def test_pack_speedups_do_not_change_any_verdict(monkeypatch) -> None:
    """The pack's speed-ups (decode once per request, run only the policies of the resource's
    type) are invisible: with and without them, a plan holding every failing case (and an
    unknown value) gets the same violations, diagnostics and "not applicable" answers."""
    from tests.policies import test_pack as test_policies

    cases = [c for m in test_policies.CASE_MODULES for c in m.CASES if c.config is None]
    subjects = [resource(c.type, f"case-{i}", c.changes, inputs=c.inputs,
                         property_dependencies=c.deps) for i, c in enumerate(cases)]
    unknown = resource(FIREWALL, "unknown", {"sourceRanges": "[unknown]"})
    plan = plan_of(*subjects, unknown)

    def verdict() -> tuple[list, list, list]:
        with PolicyAnalyzer() as running:
            result = running.check(plan)
            not_applicable = sorted(running.last_not_applicable)
        return (sorted(map(repr, result.violations)), sorted(map(repr, result.diagnostics)),
                not_applicable)

    fast = verdict()
    monkeypatch.setenv("AIDC_POLICY_SPEEDUPS", "0")
    assert verdict() == fast
    # not vacuous: every policy with a failing case has findings, the unknown a diagnostic
    judged = {c.policy for c in cases if c.fails}
    assert {p for p in judged if any(f"policy='{p}'" in v for v in fast[0])} == judged
    assert fast[1]


# ---------------------------------------------------------------------------------------------
# streaming: Analyze while the plan is built, through the forwarder process


def test_forwarder_frames_round_trip() -> None:
    """Frames carry key, status and payload; a truncated last frame is dropped, not misread."""
    import io

    from infra.check import forward

    buf = io.BytesIO()
    forward.write_frame(buf, 0, 0, b"first")
    forward.write_frame(buf, 7, 14, b"")
    forward.write_frame(buf, 2, 0, b"cut short")
    whole = buf.getvalue()
    assert list(forward.read_frames(io.BytesIO(whole[:-3]))) == [(0, 0, b"first"), (7, 14, b"")]
    assert list(forward.read_frames(io.BytesIO(whole)))[-1] == (2, 0, b"cut short")


def test_streamed_resources_get_the_same_verdict(monkeypatch) -> None:
    """Resources submitted as they register are judged exactly as a finished plan is, and a
    forwarder that dies mid-plan only means `check` asks the pack itself."""
    from tests.policies import test_pack as test_policies

    cases = [c for m in test_policies.CASE_MODULES for c in m.CASES if c.config is None]
    plan = plan_of(*(resource(c.type, f"case-{i}", c.changes, inputs=c.inputs,
                              property_dependencies=c.deps) for i, c in enumerate(cases)))

    def verdict(result) -> list[str]:
        return sorted(map(repr, result.violations))

    with PolicyAnalyzer(project=plan.project, stack=plan.stack) as running:
        after = running.check(plan)
        running.begin(project=plan.project, stack=plan.stack)
        for r in plan.resources:
            running.submit(r)
        streamed = running.check(plan)
        running.begin(project=plan.project, stack=plan.stack)
        half = len(plan.resources) // 2
        for r in plan.resources[:half]:
            running.submit(r)
        running._session.forwarder.kill()  # noqa: SLF001
        for r in plan.resources[half:]:
            running.submit(r)
        broken = running.check(plan)
    customs = sum(r.custom for r in plan.resources)
    assert streamed.timings["policy_analyzed_during_plan"] == customs
    assert after.timings["policy_analyzed_during_plan"] == 0
    assert verdict(streamed) == verdict(after) == verdict(broken) and verdict(after)


def test_pack_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A parent killed outright (SIGKILL: no cleanup runs) does not leave the pack serving."""
    import os
    import signal
    import sys
    import time

    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from infra.check.analyzer import PolicyAnalyzer
        analyzer = PolicyAnalyzer()
        analyzer.start()
        print(analyzer.pid, flush=True)
        time.sleep(600)
    """))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pack_pid = int(parent.stdout.readline())
        os.kill(pack_pid, 0)  # the pack is running
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pack_pid):
            time.sleep(0.1)
        if _alive(pack_pid):
            os.kill(pack_pid, signal.SIGKILL)
            raise AssertionError("the pack outlived its killed parent")
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    """Running, i.e. neither gone nor a zombie waiting for whoever inherited it."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
