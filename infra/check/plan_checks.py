"""Checks aidc runs on a Plan itself, next to the policy pack: a check is metadata and one pure
function `Plan -> findings`.

The pack judges each resource's inputs, as `pulumi preview --policy-pack` would. Some mistakes
only show in the graph: a resource that does not wait for the API it calls, a grant to a
service agent that does not exist yet, a setting the API refuses together with another. Those
are plan checks (`infra.check.apply_order`), and so is what the plan may cost against the
stack's budget (`infra.check.budget`).

Their findings become `Violation`s under their own `PolicyInfo`, merged into the `CheckResult`
(`with_plan_checks`), so every report format shows them as it shows the pack's, and they honour
the stack's `aidc:policy` like the pack's policies: `enforcement` (advisory / mandatory for all),
`overrides` by name, and `waivers` by (name, resource). Without settings each check runs at its
built-in level: mandatory.

    PLAN_CHECK = PlanCheck(name="my-check", description=..., severity="high", remediation=...,
                           references=(...,), url=...,
                           run=lambda plan, settings: [Finding(urn, message)])

`run` gets the stack's settings too, for a check they parametrise (the budget); a check of the
plan alone wraps its function with `plan_only`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from infra.check.results import CheckResult, PolicyInfo, Violation
from infra.engine.plan import STACK_TYPE, Plan

if TYPE_CHECKING:
    from infra.config.policy import PolicySettings

STACK_RESOURCE = "stack"  # a waiver's `resource` for a finding on the stack as a whole


@dataclass(frozen=True)
class Finding:
    """One problem a check found: the resource (`""` for the stack) and what is wrong, naming
    what it must wait for or what to choose."""

    urn: str
    message: str


@dataclass(frozen=True)
class PlanCheck:
    """A check over a whole plan: its metadata (as a policy's) and its pure function."""

    name: str
    description: str
    severity: str
    remediation: str
    run: Callable[[Plan, PolicySettings], Iterable[Finding]]
    references: tuple[str, ...] = ()
    url: str = ""
    enforcement: str = "mandatory"

    def info(self, enforcement: str | None = None) -> PolicyInfo:
        return PolicyInfo(name=self.name, description=self.description, severity=self.severity,
                          enforcement=enforcement or self.enforcement,
                          references=self.references, remediation=self.remediation,
                          url=self.url)


def plan_only(check: Callable[[Plan], Iterable[Finding]]
              ) -> Callable[[Plan, PolicySettings], Iterable[Finding]]:
    """A check of the plan alone as a `PlanCheck.run`, which also gets the stack's settings."""
    def run(plan: Plan, settings: PolicySettings) -> Iterable[Finding]:
        return check(plan)

    return run


def registered() -> tuple[PlanCheck, ...]:
    """Every plan check aidc runs, in report order. A new check module adds its tuple here."""
    from infra.check.apply_order import CHECKS as APPLY_ORDER
    from infra.check.budget import CHECKS as BUDGET

    return (*APPLY_ORDER, *BUDGET)


def plan_check_names() -> tuple[str, ...]:
    return tuple(check.name for check in registered())


def levels(checks: Sequence[PlanCheck], settings: PolicySettings | None) -> dict[str, str]:
    """Each check's enforcement under a stack's settings, as the pack's config would set it:
    the built-in level, then `enforcement` for all, then the check's own override."""
    out = {}
    for check in checks:
        level = check.enforcement
        if settings is not None:
            if settings.enforcement != "default":
                level = settings.enforcement
            level = settings.overrides.get(check.name, level)
        out[check.name] = level
    return out


def _waivers(settings: PolicySettings | None) -> dict[tuple[str, str], str]:
    return {(w.policy, w.resource): w.reason for w in (settings.waivers if settings else ())}


@dataclass
class PlanCheckResult:
    """The checks as policies (with the level each ran at) and what they found."""

    policies: list[PolicyInfo]
    violations: list[Violation]
    seconds: float = 0.0
    by_check: dict[str, list[Violation]] = field(default_factory=dict)


def run_plan_checks(plan: Plan, settings: PolicySettings | None = None,
                    checks: Sequence[PlanCheck] | None = None) -> PlanCheckResult:
    """Run `checks` (default: every registered one) on `plan` under the stack's settings."""
    from infra.config.policy import PolicySettings

    t0 = time.perf_counter()
    checks = registered() if checks is None else tuple(checks)
    level_of = levels(checks, settings)
    waived = _waivers(settings)
    by_urn = plan.by_urn()
    stack_name = f"{plan.project}-{plan.stack}".strip("-")
    result = PlanCheckResult(policies=[c.info(level_of[c.name]) for c in checks], violations=[])
    for check in checks:
        level = level_of[check.name]
        found: list[Violation] = []
        if level != "disabled":
            for finding in check.run(plan, settings or PolicySettings()):
                resource = by_urn.get(finding.urn)
                name = resource.name if resource else stack_name
                reason = (waived.get((check.name, finding.urn))
                          or waived.get((check.name, name if resource else STACK_RESOURCE)))
                found.append(Violation(
                    policy=check.name, urn=finding.urn,
                    resource_type=resource.type if resource else STACK_TYPE,
                    resource_name=name, severity=check.severity, enforcement=level,
                    message=finding.message, remediation=check.remediation, waiver=reason))
        result.by_check[check.name] = found
        result.violations.extend(found)
    result.seconds = time.perf_counter() - t0
    return result


def with_plan_checks(result: CheckResult, checked: PlanCheckResult) -> CheckResult:
    """The pack's verdict and the plan checks' as one result (reports show both alike)."""
    result.policies = [*result.policies, *checked.policies]
    result.violations = [*result.violations, *checked.violations]
    result.timings["plan_checks_seconds"] = checked.seconds
    return result


def summary_lines(checked: PlanCheckResult) -> list[str]:
    """The plan checks for `aidc plan`: one line per check, then one per finding."""
    found = len(checked.violations)
    lines = [f"Plan checks (apply order, preconditions, budget): {len(checked.policies)} checks, "
             f"{found} problem{'s' if found != 1 else ''} (`aidc check` judges them)"]
    for policy in checked.policies:
        violations = checked.by_check.get(policy.name, [])
        mark = "ok" if not violations else f"{len(violations)} problem(s)"
        if policy.enforcement == "disabled":
            mark = "disabled"
        lines.append(f"  {policy.name:<36} {mark}")
        for v in violations:
            tag = " [waived]" if v.waiver else ""
            lines.append(f"    - {v.resource_type} {v.resource_name}{tag}: {v.message}")
    return lines
