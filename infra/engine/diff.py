"""Differences between two Plans, by URN, down to the input paths that changed and their old
and new values (secrets stay `[secret]`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.engine.plan import SECRET_PLACEHOLDER, STACK_TYPE, Plan


class _Absent:
    """The side of a change where the input path does not exist."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class ValueChange:
    """One input path and its value before and after (ABSENT where it does not exist). A
    secret stays `[secret]` on both sides: when either side is a secret, neither is shown."""

    path: str
    old: Any
    new: Any

    @property
    def secret(self) -> bool:
        return SECRET_PLACEHOLDER in (self.old, self.new)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        for side, value in (("old", self.old), ("new", self.new)):
            if value is not ABSENT:
                out[side] = SECRET_PLACEHOLDER if self.secret else value
        return out


def changed_values(old: Any, new: Any, prefix: str = "") -> list[ValueChange]:
    """The input paths whose values differ (dotted, list items as `[i]`), with both values."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[ValueChange] = []
        for key in sorted(set(old) | set(new)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                out.append(ValueChange(path, old.get(key, ABSENT), new.get(key, ABSENT)))
            else:
                out.extend(changed_values(old[key], new[key], path))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out.extend(changed_values(a, b, f"{prefix}[{i}]"))
        return out
    return [] if old == new else [ValueChange(prefix or "(value)", old, new)]


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted input paths whose values differ (list items as `[i]`)."""
    return [c.path for c in changed_values(old, new, prefix)]


@dataclass
class Change:
    urn: str
    type: str
    name: str
    paths: list[str]
    replaces: list[str] = field(default_factory=list)
    values: list[ValueChange] = field(default_factory=list)


@dataclass
class PlanDiff:
    added: list[tuple[str, str, str]]
    removed: list[tuple[str, str, str]]
    changed: list[Change]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        row = lambda t: {"urn": t[0], "type": t[1], "name": t[2]}  # noqa: E731
        return {
            "added": [row(a) for a in self.added],
            "removed": [row(r) for r in self.removed],
            "changed": [{"urn": c.urn, "type": c.type, "name": c.name, "paths": c.paths,
                         "replaces": c.replaces, "values": [v.as_dict() for v in c.values]}
                        for c in self.changed],
        }


def resource_key(urn: str, across_stacks: bool) -> str:
    """What identifies a resource when two plans (or reports) are compared.

    Stacks differ in name, so URNs of two stacks never match literally: across stacks, compare
    the part after `urn:pulumi:<stack>::<project>::`. The root Stack is named
    `<project>-<stack>`, so it is matched by its type alone.
    """
    if urn.split("::")[2:3] == [STACK_TYPE]:
        return STACK_TYPE
    return urn.split("::", 2)[-1] if across_stacks else urn


def _key(urn: str, base: Plan, target: Plan) -> str:
    return resource_key(urn, base.stack != target.stack)


def diff_plans(base: Plan, target: Plan) -> PlanDiff:
    from infra.engine.replacements import replacing_paths

    old = {_key(r.urn, base, target): r for r in base.resources}
    new = {_key(r.urn, base, target): r for r in target.resources}
    added = [(r.urn, r.type, r.name) for k, r in new.items() if k not in old]
    removed = [(r.urn, r.type, r.name) for k, r in old.items() if k not in new]
    changed = []
    for key, r in new.items():
        if key in old:
            values = changed_values(old[key].inputs, r.inputs)
            if values:
                paths = [v.path for v in values]
                changed.append(Change(r.urn, r.type, r.name, paths,
                                      replacing_paths(r.type, paths), values))
    return PlanDiff(added, removed, changed)
