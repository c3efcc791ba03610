"""What a policy check found: the contract between the analyzer driver and the reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from infra.engine.plan import Plan



@dataclass(frozen=True)
class PolicyInfo:
    """A policy as the pack describes it, with the enforcement it ran at."""

    name: str
    description: str
    severity: str
    enforcement: str
    references: tuple[str, ...] = ()
    remediation: str = ""
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["references"] = list(self.references)
        return out


@dataclass(frozen=True)
class Violation:
    """One failed policy on one resource (or on the stack, when `urn` is empty), from the
    policy pack or from any other check that reports into a CheckResult.

    Three things keep a mandatory violation from blocking, each shown in every report: a stack
    waiver (`waiver`, its reason), a named exemption of the policy (`exemption`, its id), and a
    baseline of accepted findings (`baseline`). `waiver_expired` is the date a waiver that
    covered it lapsed: it waives no more."""

    policy: str
    urn: str
    resource_type: str
    resource_name: str
    severity: str
    enforcement: str
    message: str
    remediation: str = ""
    waiver: str | None = None  # the reason, when a stack waiver covers this violation
    waiver_expired: str | None = None  # ISO date, when the waiver that covered it expired
    exemption: str | None = None  # the policy's named exemption that covers it
    baseline: bool = False  # in the baseline given to `aidc check --baseline`

    @property
    def status(self) -> str:
        """How it counts: waived, exempt, baseline, or its enforcement level."""
        if self.waiver is not None:
            return "waived"
        if self.exemption is not None:
            return "exempt"
        if self.baseline:
            return "baseline"
        return self.enforcement

    @property
    def blocking(self) -> bool:
        return self.status == "mandatory"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Diagnostic:
    """A policy that could not judge a resource, e.g. a value unknown at preview."""

    policy: str
    urn: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    """The verdict on one plan: every policy, every violation, and how long each part took."""

    plan: Plan
    pack_name: str
    policies: list[PolicyInfo]
    violations: list[Violation]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # policies left out by --skip/--only

    @property
    def blocking(self) -> list[Violation]:
        return [v for v in self.violations if v.blocking]

    @property
    def exit_code(self) -> int:
        """0 when nothing mandatory failed, 1 otherwise (2 is the CLI's, for bad input)."""
        return 1 if self.blocking else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": self.plan.project,
            "stack": self.plan.stack,
            "pack": self.pack_name,
            "passed": self.exit_code == 0,
            "summary": {
                "resources": len(self.plan.custom_resources()),
                "policies": len(self.policies),
                "violations": len(self.violations),
                "mandatory": len(self.blocking),
                "waived": sum(1 for v in self.violations if v.status == "waived"),
                "exempt": sum(1 for v in self.violations if v.status == "exempt"),
                "baseline": sum(1 for v in self.violations if v.status == "baseline"),
            },
            "skipped_policies": list(self.skipped),
            "policies": [p.as_dict() for p in self.policies],
            "violations": [v.as_dict() for v in self.violations],
            "diagnostics": [d.as_dict() for d in self.diagnostics],
            "timings": self.timings,
        }
