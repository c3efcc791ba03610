"""Streaming: Analyze while the plan is built, through the forwarder process."""

from __future__ import annotations

import io

from infra.check import forward
from infra.check.run import PolicyAnalyzer
from tests.policy_fixtures import plan_of, resource


def test_forwarder_frames_round_trip() -> None:
    """Frames carry key, status and payload; a truncated last frame is dropped, not misread."""
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
