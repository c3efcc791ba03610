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
from typing import Annotated, Any, Union, get_args, get_origin

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


def _model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that owns the field at `loc[-1]`, following dict/list/optional types."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(part, str) \
                and part in model.model_fields:
            model = model.model_fields[part].annotation
        model = _unwrap(model)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            tp = next((a for a in get_args(tp) if a is not type(None)), tp)
        elif origin in (dict, list):
            tp = get_args(tp)[-1]
        elif origin is Annotated:
            tp = get_args(tp)[0]
        else:
            return tp


def validation_problems(exc: ValidationError, root: type[BaseModel], base: Loc = ()) -> list[Problem]:
    """Every error pydantic collected, located from `root` (under `base`, for a section
    validated on its own): the bad value and what is accepted, an unknown key with the closest
    known one. Values of secret-bearing sections are never echoed."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(base) + tuple(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            owner = _model_at(root, tuple(err["loc"]))
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
            out.append(Problem(loc, f"{msg} (got {err.get('input')!r})"))
    return out
