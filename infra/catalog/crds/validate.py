"""Validate a Kueue, JobSet or GKE multi-networking object offline, as the API server with the
pinned CRDs (and Kueue's webhook) would: the structural schema (strict: an unknown field is an
error), then the CRDs' own CEL rules, Kueue's webhook rules and the rules GKE's networking types
document. The core objects a JobSet inlines go to the core validator separately
(`jobset.embedded_objects`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema

from infra.catalog.crds import gke_networking, jobset, kueue
from infra.errors import AidcError, relative_path

_KINDS = (kueue, jobset, gke_networking)
SCHEMAS = {(m.API_VERSION, kind): schema for m in _KINDS for kind, schema in m.SCHEMAS.items()}
_RULES = {(m.API_VERSION, kind): rule for m in _KINDS for kind, rule in m.RULES.items()}


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
