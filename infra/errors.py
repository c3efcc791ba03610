"""The one error type users see, and the located problems it carries.

`AidcError` subclasses `ValueError` so that a catalog lookup or a rule raised inside a pydantic
validator becomes a located validation error (pydantic only wraps ValueError/AssertionError),
and so that the CLI can turn any of them into a one-paragraph message and exit code 2.

A rule says where its problem is relative to what it was given (`field="capacity_gib"`, or a
`Problem(("autoscaling", "min_nodes"), ...)` per problem when it finds several); whoever knows
where that input sits in a stack file (`infra.config.problems`) prefixes the rest of the path.
Printed on its own, an error reads `field: message`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Loc = tuple[str | int, ...]


def relative_path(loc: Loc) -> str:
    """`("autoscaling", "min_nodes")` -> `autoscaling.min_nodes`; `("zones", 0)` -> `zones[0]`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


@dataclass(frozen=True)
class Problem:
    """Where an input is wrong (`loc`, as pydantic locates fields) and what is wrong there."""

    loc: Loc
    message: str

    def under(self, base: Loc) -> Problem:
        return Problem(tuple(base) + tuple(self.loc), self.message)

    def __str__(self) -> str:
        where = relative_path(self.loc)
        return f"{where}: {self.message}" if where else self.message


class AidcError(ValueError):
    """A problem with the user's input: printed without a traceback, exit code 2."""

    def __init__(self, message: str, *, field: str | Loc = ()) -> None:
        loc: Loc = (field,) if isinstance(field, str) else tuple(field)
        self.problems: tuple[Problem, ...] = (Problem(loc, message),)
        super().__init__(str(self.problems[0]))

    @property
    def message(self) -> str:
        return "\n".join(p.message for p in self.problems)

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> AidcError:
        """One error carrying several problems, found together."""
        found = tuple(problems)
        error = cls("\n".join(map(str, found)))
        error.problems = found
        return error


def raise_problems(problems: Sequence[Problem]) -> None:
    """Raise them together in one AidcError, or nothing when there are none."""
    if problems:
        raise AidcError.of(problems)


class CatalogLookupError(AidcError):
    """A catalog has no such entry; the message lists what exists."""
