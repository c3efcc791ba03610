"""Which config key a resource was built from, said by the program that builds it.

A composition that turns a stack file into components (aidc's `infra.platform`) notes each
component against the key it came from:

    provenance.config_source(pool, "aidc:gpu_pools", "h100-mega")

The offline engine reads the notes when the program has run and gives every resource the key of
its nearest noted ancestor (itself included); `aidc plan` then turns the key into the stack
file's line, so reports point a reviewer at `stacks/Pulumi.prod.yaml:52`, not at the component's
code. Under `pulumi up` a note is a list append and nothing reads it.
"""

from __future__ import annotations

from typing import Any

Key = tuple[str | int, ...]

_notes: list[tuple[Any, Key]] = []


def config_source(resource: Any, *key: str | int) -> None:
    """Note that `resource` (a Pulumi resource, its children with it) comes from config `key`,
    a path as the stack file spells it: ("aidc:gpu_pools", "h100-mega")."""
    if key:
        _notes.append((resource, tuple(key)))


def take_notes() -> list[tuple[Any, Key]]:
    """The notes made since the last call, and forget them (one run's worth)."""
    notes = list(_notes)
    _notes.clear()
    return notes


async def resolve_notes(notes: list[tuple[Any, Key]]) -> dict[str, Key]:
    """URN -> key of each noted resource (awaited once the program's outputs have settled)."""
    out: dict[str, Key] = {}
    for resource, key in notes:
        urn = await resource.urn.future()
        if isinstance(urn, str):
            out[urn] = key
    return out
