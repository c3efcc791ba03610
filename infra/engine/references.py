"""`pulumi.StackReference` offline: a referenced stack's real planned outputs, or an error.

The Pulumi SDK reads a stack reference as a resource of type `pulumi:pulumi:StackReference`
(`ReadResource`, id = the stack's name) whose `outputs` property carries the referenced stack's
outputs. Offline, the mock runtime answers that read (`infra.engine.mocks`) with what a
`Resolver` returns: the outputs recorded in the referenced stack's own Plan, planned first.

A reference is never a silent unknown: a stack that cannot be found, a cycle of references and
an output that the stack does not export are each an error naming it (`MissingReference`, exit
2). Real Pulumi returns None from `get_output` of a missing name; offline that read is an error
too (`strict_outputs`), since a None where a contract's value should be is exactly what a plan
exists to catch. A program that means an optional output reads `ref.outputs` and `.get()`s it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra.engine.plan import SECRET_PLACEHOLDER, Plan
from infra.errors import AidcError

REFERENCE_TYPE = "pulumi:pulumi:StackReference"


class MissingReference(AidcError):
    """A referenced stack or output that does not exist, or a cycle of references."""


@dataclass(frozen=True, order=True)
class StackName:
    """A referenced stack: its project (the `name:` of a Pulumi.yaml) and its stack name."""

    project: str
    stack: str

    def __str__(self) -> str:
        return f"{self.project}/{self.stack}"


def parse_stack_name(name: str, current_project: str) -> StackName:
    """The self-managed backend's `organization/<project>/<stack>`, `<project>/<stack>`, or a
    bare `<stack>` of the current project. The organisation part names no project and is not
    used (the self-managed backend always says `organization`; a Pulumi Cloud organisation
    holds the same project names)."""
    parts = name.split("/")
    if len(parts) > 3 or not all(p.strip() for p in parts):
        raise MissingReference(
            f"stack reference {name!r}: expected organization/<project>/<stack>, "
            "<project>/<stack> or <stack> (of this project)")
    if len(parts) == 1:
        return StackName(current_project, parts[0])
    return StackName(parts[-2], parts[-1])


def reference_outputs(plan: Plan, name: StackName, source: str) -> dict[str, Any]:
    """The outputs a plan recorded, refusing a plan that records none or is another stack's."""
    if plan.outputs is None:
        raise MissingReference(
            f"stack reference {name}: {source} records no stack outputs (a plan written by an "
            "older aidc); write it again with `aidc plan --json`")
    if (plan.project, plan.stack) != (name.project, name.stack) and plan.project:
        raise MissingReference(
            f"stack reference {name}: {source} is the plan of {plan.project}/{plan.stack}, "
            "not of the referenced stack")
    return plan.outputs


@dataclass
class Resolver:
    """One invocation's stack references: each referenced stack planned once (`plan_of`),
    with cycle detection. `plan_of(name)` plans a stack and may itself resolve references
    through this resolver (the referenced program's own); it raises MissingReference for a
    stack it cannot find."""

    plan_of: Callable[[StackName], tuple[Plan, str]]
    _done: dict[StackName, dict[str, Any]] = field(default_factory=dict)
    _active: list[StackName] = field(default_factory=list)

    def outputs(self, name: StackName) -> dict[str, Any]:
        """The planned outputs of `name` (planned on first use, then cached)."""
        if name in self._done:
            return self._done[name]
        if name in self._active:
            chain = " -> ".join(map(str, [*self._active[self._active.index(name):], name]))
            raise MissingReference(f"stack references form a cycle: {chain}; a stack cannot "
                                   "depend on itself through others")
        self._active.append(name)
        try:
            plan, source = self.plan_of(name)
            self._done[name] = reference_outputs(plan, name, source)
        finally:
            self._active.pop()
        return self._done[name]

    @contextlib.contextmanager
    def planning(self, name: StackName) -> Iterator[None]:
        """While `name` is planned (the top-level stack, or one `outputs` plans), a reference
        back to it is a cycle rather than a second plan."""
        fresh = not self._active or self._active[-1] != name
        if fresh:
            self._active.append(name)
        try:
            yield
        finally:
            if fresh:
                self._active.pop()


def read_state(name: str, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The StackReference resource's state as the engine returns it: `secretOutputNames` are
    the outputs the referenced plan recorded as secret (their values are placeholders)."""
    return {"name": name, "outputs": dict(outputs),
            "secretOutputNames": sorted(k for k, v in outputs.items() if v == SECRET_PLACEHOLDER)}


def _missing(stack: str, outputs: Mapping[str, Any], key: str) -> MissingReference:
    exported = ", ".join(sorted(outputs)) or "none"
    return MissingReference(f"stack reference {stack}: the stack exports no output {key!r} "
                            f"(it exports: {exported})")


def _checked(stack: str, outputs: Mapping[str, Any] | None, key: str) -> None:
    if outputs is not None and key not in outputs:
        raise _missing(stack, outputs, key)


@contextlib.contextmanager
def strict_outputs() -> Iterator[None]:
    """While a program runs offline, `get_output` and `require_output` of a name the referenced
    stack does not export fail, naming it (real Pulumi: None, or a KeyError without the stack)."""
    cls = pulumi.StackReference
    get, require = cls.get_output, cls.require_output

    def strict(original: Callable[..., pulumi.Output[Any]]) -> Callable[..., pulumi.Output[Any]]:
        def read(self: pulumi.StackReference, name: pulumi.Input[str]) -> pulumi.Output[Any]:
            checked = pulumi.Output.all(self.name, self.outputs, pulumi.Output.from_input(name)
                                        ).apply(lambda a: _checked(*a))
            return pulumi.Output.all(checked, original(self, name)).apply(lambda a: a[1])
        read.__doc__ = original.__doc__
        return read

    cls.get_output, cls.require_output = strict(get), strict(require)  # type: ignore[method-assign]
    try:
        yield
    finally:
        cls.get_output, cls.require_output = get, require  # type: ignore[method-assign]
