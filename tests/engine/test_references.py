"""Stack reference names and the resolver's cache and cycle detection, without any program."""

from __future__ import annotations

import pytest

from infra.engine.plan import Plan
from infra.engine.references import (
    MissingReference,
    Resolver,
    StackName,
    parse_stack_name,
    read_state,
)


@pytest.mark.parametrize(("name", "expected"), [
    ("organization/aidc-foundation/prod", StackName("aidc-foundation", "prod")),
    ("acme/aidc-foundation/prod", StackName("aidc-foundation", "prod")),
    ("aidc-cluster/dev", StackName("aidc-cluster", "dev")),
    ("staging", StackName("current", "staging")),
])
def test_parses_every_accepted_form(name: str, expected: StackName) -> None:
    assert parse_stack_name(name, "current") == expected


@pytest.mark.parametrize("name", ["", "a//b", "o/p/s/x", "/p/s"])
def test_rejects_malformed_names(name: str) -> None:
    with pytest.raises(MissingReference, match="expected organization/<project>/<stack>"):
        parse_stack_name(name, "current")


def test_plans_each_stack_once() -> None:
    planned: list[StackName] = []

    def plan_of(name: StackName) -> tuple[Plan, str]:
        planned.append(name)
        return Plan(project=name.project, stack=name.stack, outputs={"x": 1}), "test"

    resolver = Resolver(plan_of)
    for _ in range(3):
        assert resolver.outputs(StackName("p", "s")) == {"x": 1}
    assert planned == [StackName("p", "s")]


def test_rejects_a_cycle_naming_it() -> None:
    resolver: Resolver

    def plan_of(name: StackName) -> tuple[Plan, str]:
        following = StackName("b", "s") if name.project == "a" else StackName("a", "s")
        resolver.outputs(following)
        raise AssertionError("unreachable: the cycle is refused first")

    resolver = Resolver(plan_of)
    with resolver.planning(StackName("a", "s")):
        with pytest.raises(MissingReference, match=r"cycle: a/s -> b/s -> a/s"):
            resolver.outputs(StackName("b", "s"))


def test_rejects_a_plan_without_outputs() -> None:
    resolver = Resolver(lambda name: (Plan(project="p", stack="s"), "old.json"))
    with pytest.raises(MissingReference, match="old.json records no stack outputs"):
        resolver.outputs(StackName("p", "s"))


def test_secret_outputs_are_named_as_secret() -> None:
    state = read_state("p/s", {"key": "[secret]", "name": "n"})
    assert state["secretOutputNames"] == ["key"] and state["outputs"]["name"] == "n"
