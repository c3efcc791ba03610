"""Where in a stack file a problem is, and the one way a config's problems are written.

Every complaint a validator makes ends up as a `Problem(loc, message)`: `loc` is where in the
config it is, as pydantic locates fields (`("storage", "buckets", "datasets", "soft_delete_days")`),
and the message says what is wrong and what is accepted, without naming the field again.
`config_path` writes a location the way a stack file spells it
(`aidc:storage.buckets.datasets.soft_delete_days`, `gcp:project`, `aidc:zones[0]`), and
`format_problems` writes a list of them; nothing else formats a config problem.

Validators say where a problem is relative to the model they run in: a field validator's
location is its field; an `AidcError(message, field=...)` adds a sub-path; `AidcError.of(...)`
(or `raise_problems`) carries several `Problem`s at once (see `infra.errors`).
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from infra.errors import AidcError, Loc, Problem, relative_path

# Config keys outside the aidc: namespace that aidc reads, and the model field each becomes.
PROVIDER_KEYS = {"gcp:project": "project", "gcp:region": "region"}
# Sections whose values may be decrypted secrets: a bad value there is never echoed.
SECRET_BEARING = ("monitoring", "transfers")


def problems_of(exc: AidcError, loc: Loc = ()) -> list[Problem]:
    """An AidcError raised by a rule, as problems under `loc`."""
    return [p.under(loc) for p in exc.problems]


def config_path(loc: Loc) -> str:
    """`("storage", "buckets", "datasets")` -> `aidc:storage.buckets.datasets`; `()` -> `config`.
    A first part that is already a full key (`gcp:zone`, `aidcc:x`) is written as it is."""
    if not loc:
        return "config"
    head = str(loc[0])
    key = next((k for k, f in PROVIDER_KEYS.items() if f == head),
               head if ":" in head else f"aidc:{head}")
    rest = relative_path(loc[1:])
    return key + ("" if not rest else rest if rest.startswith("[") else f".{rest}")


def problem_line(problem: Problem) -> str:
    return f"{config_path(problem.loc)}: {problem.message}"


def format_problems(source: str, problems: Iterable[Problem]) -> str:
    """The one rendering of a config's problems: the source, then one line per problem."""
    return f"{source}: invalid config\n  - " + "\n  - ".join(map(problem_line, problems))


def _walk(root: type[BaseModel], loc: Loc) -> tuple[Loc, type[BaseModel] | None]:
    """`loc` as the stack file spells it (pydantic adds the tag of a discriminated union's
    member, e.g. `channels.hook.webhook.url`, which is no key of the file) and the model that
    owns its last part."""
    tp: Any = root
    out: list[str | int] = []
    owner: type[BaseModel] | None = None
    for part in loc:
        tp = _strip(tp)
        members = _tagged_members(tp)
        if isinstance(part, str) and part in members:
            tp = members[part]
            continue
        owner = tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None
        if owner is not None:
            field = owner.model_fields.get(str(part))
            tp = field.annotation if field is not None else None
        elif get_origin(tp) in (dict, list):
            tp = get_args(tp)[-1]
        else:
            tp = None
        out.append(part)
    return tuple(out), owner


def _strip(tp: Any) -> Any:
    """Optional[X] -> X, Annotated[X, ...] -> X."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType) and type(None) in get_args(tp):
            rest = [a for a in get_args(tp) if a is not type(None)]
            tp = rest[0] if len(rest) == 1 else Union[tuple(rest)]
        else:
            return tp


def _tagged_members(tp: Any) -> dict[str, type[BaseModel]]:
    """A union of models, by the Literal tag values that select each member."""
    if get_origin(tp) not in (Union, types.UnionType):
        return {}
    members: dict[str, type[BaseModel]] = {}
    for member in get_args(tp):
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            return {}
        for field in member.model_fields.values():
            if get_origin(field.annotation) is Literal:
                members.update({str(v): member for v in get_args(field.annotation)})
    return members


def validation_problems(exc: ValidationError, root: type[BaseModel], base: Loc = ()) -> list[Problem]:
    """Every error pydantic collected, located from `root` (under `base`, for a section
    validated on its own): the bad value and what is accepted, an unknown key with the closest
    known one. Values of secret-bearing sections are never echoed."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        where, owner = _walk(root, tuple(err["loc"]))
        loc = tuple(base) + where
        kind = err["type"]
        if kind == "extra_forbidden":
            accepted = sorted(owner.model_fields) if owner else []
            hint = difflib.get_close_matches(str(loc[-1]), accepted, n=1)
            out.append(Problem(loc, "unknown key" + (f" (did you mean {hint[0]}?)" if hint else "")
                               + (f". Accepted: {', '.join(accepted)}" if accepted else "")))
            continue
        if kind == "missing":
            out.append(Problem(loc, "required value is missing"))
            continue
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, AidcError):
            out.extend(problems_of(cause, loc))
            continue
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if kind in ("value_error", "assertion_error") or (loc and loc[0] in SECRET_BEARING):
            out.extend(Problem(loc, part) for part in msg.split("\n"))
        else:
            got = repr(err.get("input"))
            got = got if len(got) <= 60 else f"{got[:57]}..."
            out.append(Problem(loc, f"{msg} (got {got})"))
    return out
