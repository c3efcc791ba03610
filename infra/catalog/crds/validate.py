"""Validate a Kueue or JobSet object offline, as the API server with the pinned CRDs (and
Kueue's webhook) would: the structural schema (strict: an unknown field is an error), then the
CRDs' own CEL rules and Kueue's webhook rules. The core objects a JobSet inlines go to the core
validator separately (`jobset.embedded_objects`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema

from infra.catalog.crds import jobset, kueue
from infra.errors import AidcError, relative_path

SCHEMAS = {(kueue.API_VERSION, kind): schema for kind, schema in kueue.SCHEMAS.items()} | \
          {(jobset.API_VERSION, kind): schema for kind, schema in jobset.SCHEMAS.items()}
_RULES = {(kueue.API_VERSION, kind): rule for kind, rule in kueue.RULES.items()} | \
         {(jobset.API_VERSION, kind): rule for kind, rule in jobset.RULES.items()}


@cache
def _validator(key: tuple[str, str]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCHEMAS[key])


def crd_problems(obj: Mapping[str, Any]) -> list[str]:
    """Every problem with `obj`, each `path: message`; empty when the API server would accept it."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    if key not in SCHEMAS:
        known = ", ".join(f"{kind} ({version})" for version, kind in sorted(SCHEMAS))
        return [f"{key[1]} {key[0]} is not a kind aidc validates; it writes {known}"]
    errors = sorted(_validator(key).iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        return [f"{relative_path(tuple(e.absolute_path)) or '(root)'}: {e.message}"
                for e in errors]
    rule = _RULES.get(key)
    return list(rule(obj)) if rule else []


def validate_crd_object(obj: Mapping[str, Any]) -> None:
    """Raise AidcError naming the object and every problem, unless the object is valid."""
    problems = crd_problems(obj)
    if problems:
        meta = obj.get("metadata") or {}
        where = f"{obj.get('kind', '?')}/{meta.get('name', '?')}"
        raise AidcError(f"{where}: " + "; ".join(problems))
