"""The policy pack judges DatasetTransfer's job: static AWS keys are flagged, a role ARN passes.

The plans are built by the real component under mocks and judged by the real pack through the
analyzer protocol (`infra.check.run.check_plan`), as `aidc check` and `pulumi preview
--policy-pack policies/` would judge them.
"""

from __future__ import annotations

import pytest

from infra.check.run import check_plan
from infra.engine.plan import Plan
from infra.check.results import CheckResult
from tests.helpers import by_name, plan_of
from tests.components.test_transfer import (
    ACCESS_KEY_ID,
    NAME,
    SECRET_ACCESS_KEY,
    spec,
    static_keys,
    transfer_program,
)

NO_STATIC_KEYS = "transfer-job-no-static-keys"
LOGGING = "transfer-job-logging"


def job_violations(plan: Plan, result: CheckResult) -> dict[str, list]:
    urn = by_name(plan, f"{NAME}-job").urn
    out: dict[str, list] = {}
    for v in result.violations:
        if v.urn == urn:
            out.setdefault(v.policy, []).append(v)
    return out


@pytest.fixture(scope="module")
def keys_checked() -> tuple[Plan, CheckResult]:
    plan = plan_of(transfer_program(static_keys()))
    return plan, check_plan(plan)


@pytest.fixture(scope="module")
def role_checked() -> tuple[Plan, CheckResult]:
    plan = plan_of(transfer_program(spec()))
    return plan, check_plan(plan)


def test_pack_has_the_transfer_policies(role_checked: tuple[Plan, CheckResult]) -> None:
    _, result = role_checked
    names = {p.name for p in result.policies}
    assert {NO_STATIC_KEYS, LOGGING} <= names


def test_static_keys_are_flagged_and_block(keys_checked: tuple[Plan, CheckResult]) -> None:
    """A job with awsAccessKey fails I7 at its default (high severity: mandatory) enforcement."""
    plan, result = keys_checked
    found = job_violations(plan, result).get(NO_STATIC_KEYS, [])
    assert len(found) == 1
    violation = found[0]
    assert violation.severity == "high"
    assert violation.blocking
    assert "awsAccessKey" in violation.message
    assert result.exit_code == 1


def test_flagged_report_never_shows_the_keys(keys_checked: tuple[Plan, CheckResult]) -> None:
    _, result = keys_checked
    text = repr(result.as_dict())
    assert ACCESS_KEY_ID not in text and SECRET_ACCESS_KEY not in text


def test_role_arn_job_passes_the_transfer_policies(role_checked: tuple[Plan, CheckResult]) -> None:
    """Federated identity, logging of copies and deletions: neither transfer policy fires."""
    plan, result = role_checked
    fired = job_violations(plan, result)
    assert NO_STATIC_KEYS not in fired
    assert LOGGING not in fired
    assert not [d for d in result.diagnostics if d.urn == by_name(plan, f"{NAME}-job").urn]
