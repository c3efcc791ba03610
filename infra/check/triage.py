"""What a reviewer decides about a check's findings, for any finding in a CheckResult (the
pack's, or another check's merged into it): the stack's waivers and their expiry
(`apply_stack_waivers`), which policies to judge at all (`--skip-policy`, `--only-policy`), and
which findings are already known and accepted (`--baseline`, a JSON report of an earlier run:
only new findings can fail the gate)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from infra.check.protocol import apply_waivers
from infra.check.results import CheckResult
from infra.engine.diff import resource_key
from infra.errors import AidcError
from infra.files import MAX_PLAN_FILE_BYTES, parse_json, read_text

if TYPE_CHECKING:
    from infra.config.policy import PolicySettings


def check_policy_names(names: Iterable[str], known: Sequence[str], option: str) -> None:
    """Every name is a known policy, or an AidcError naming the closest one."""
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise AidcError(f"{option} {name!r}: no such policy{hint}; `aidc policy list` "
                            "names them all")


def select_policies(result: CheckResult, *, skip: Sequence[str] = (),
                    only: Sequence[str] = ()) -> CheckResult:
    """The result with only the selected policies judged: the others' findings and
    diagnostics dropped, and the policies listed as disabled and in `skipped`."""
    if not skip and not only:
        return result
    known = [p.name for p in result.policies]
    known += [v.policy for v in result.violations if v.policy not in known]
    check_policy_names(skip, known, "--skip-policy")
    check_policy_names(only, known, "--only-policy")
    dropped = {name for name in known if name in skip or (only and name not in only)}
    return replace(
        result,
        policies=[replace(p, enforcement="disabled") if p.name in dropped else p
                  for p in result.policies],
        violations=[v for v in result.violations if v.policy not in dropped],
        diagnostics=[d for d in result.diagnostics if d.policy not in dropped],
        skipped=sorted(dropped | set(result.skipped)))


@dataclass(frozen=True)
class Baseline:
    """The findings of an earlier report, by (policy, resource key)."""

    path: str
    stack: str
    keys: frozenset[tuple[str, str]]


def load_baseline(path: Path) -> Baseline:
    """A JSON report written by `aidc check --format json`, read as untrusted input."""
    raw = parse_json(read_text(path, "baseline report", max_bytes=MAX_PLAN_FILE_BYTES), str(path))
    violations = raw.get("violations") if isinstance(raw, dict) else None
    if not isinstance(violations, list) or not all(
            isinstance(v, dict) and isinstance(v.get("policy"), str)
            and isinstance(v.get("urn"), str) for v in violations):
        raise AidcError(f"--baseline {path}: expected a JSON report as `aidc check --format json` "
                        "writes it (an object whose violations each have a policy and a urn)")
    stack = raw.get("stack") if isinstance(raw.get("stack"), str) else ""
    return Baseline(path=str(path), stack=stack,
                    keys=frozenset((v["policy"], v["urn"]) for v in violations))


def apply_baseline(result: CheckResult, baseline: Baseline | None) -> CheckResult:
    """Violations found in the baseline no longer block (and say so); new ones still do."""
    if baseline is None:
        return result
    stack = result.plan.stack
    keyed = {(p, resource_key(u, baseline.stack != stack) if u else "") for p, u in baseline.keys}
    marked = [replace(v, baseline=True)
              if (v.policy, resource_key(v.urn, baseline.stack != stack) if v.urn else "") in keyed
              else v for v in result.violations]
    return replace(result, violations=marked)


def apply_stack_waivers(result: CheckResult, settings: PolicySettings | None) -> CheckResult:
    """The stack's waivers, with their expiry, on every finding not yet waived or exempt: the
    pack waives its own, and a finding another check merged into the result gets the same."""
    if settings is None or not settings.waivers:
        return result
    table: dict[str, list[dict[str, str]]] = {}
    for waiver in settings.waivers:
        table.setdefault(waiver.policy, []).append(waiver.pack_entry())
    return replace(result, violations=apply_waivers(result.violations, table))
