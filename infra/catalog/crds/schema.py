"""The vocabulary the CRD schemas are written in: JSON Schema (draft 2020-12) for the structural
OpenAPI v3 schemas Kubernetes CRDs declare, and Kubernetes quantities.

A structural schema prunes, and with strict field validation rejects, every field it does not
declare, so every object here is closed (`additionalProperties: false`) unless it is a map.
`int-or-string` (`x-kubernetes-int-or-string`) is `type: [integer, string]`. Kubernetes'
`format: int32/int64/date-time` annotations are not enforced (jsonschema ignores formats).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

Schema = dict[str, Any]

# The patterns the upstream CRDs use, as they spell them.
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
QUANTITY = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?"
            r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")


def python_pattern(pattern: str) -> str:
    """An upstream (Go RE2) pattern as Python's re writes it: RE2 takes a flag group after `^`,
    Python only at the very start."""
    return "(?i)^" + pattern[len("^(?i)"):] if pattern.startswith("^(?i)") else pattern


def obj(properties: Mapping[str, Schema], *required: str, **keywords: Any) -> Schema:
    """A closed object."""
    out: Schema = {"type": "object", "properties": dict(properties),
                   "additionalProperties": False, **keywords}
    if required:
        out["required"] = list(required)
    return out


def string(**keywords: Any) -> Schema:
    return {"type": "string", **keywords}


def integer(**keywords: Any) -> Schema:
    return {"type": "integer", **keywords}


def boolean() -> Schema:
    return {"type": "boolean"}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def array(items: Schema, **keywords: Any) -> Schema:
    return {"type": "array", "items": items, **keywords}


def string_map(**keywords: Any) -> Schema:
    return {"type": "object", "additionalProperties": {"type": "string"}, **keywords}


def quantity() -> Schema:
    """A resource.Quantity: an integer or a string like '64', '1.5', '500m', '16Gi'."""
    return {"type": ["integer", "string"], "pattern": QUANTITY}


def name_ref(**keywords: Any) -> Schema:
    """The name of another object (a DNS subdomain)."""
    return string(maxLength=253, pattern=DNS_SUBDOMAIN, **keywords)


def open_object() -> Schema:
    """An object whose content another validator checks (an embedded core object)."""
    return {"type": "object"}


LABEL_SELECTOR = obj({
    "matchExpressions": array(obj({"key": string(), "operator": string(),
                                   "values": array(string())}, "key", "operator")),
    "matchLabels": string_map(),
})


def metadata(namespaced: bool) -> Schema:
    """What aidc sets in an object's metadata: a name, the namespace of a namespaced kind (and
    none for a cluster-scoped one), labels and annotations."""
    fields: Schema = {"name": name_ref(minLength=1), "labels": string_map(),
                      "annotations": string_map()}
    if namespaced:
        fields["namespace"] = string(maxLength=63, pattern=DNS_LABEL)
        return obj(fields, "name", "namespace")
    return obj(fields, "name")


def resource(api_version: str, kind: str, namespaced: bool, properties: Mapping[str, Schema],
             *required: str) -> Schema:
    """A whole object of one kind: apiVersion, kind, metadata and the kind's own fields."""
    return obj({"apiVersion": {"const": api_version}, "kind": {"const": kind},
                "metadata": metadata(namespaced), **properties},
               "apiVersion", "kind", "metadata", *required)


_SUFFIX = {"": 1, "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000),
           "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]|"
                       r"(?:[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)))?")


def parse_quantity(value: int | str) -> Fraction:
    """A Kubernetes quantity's value, exactly; ValueError when it is not one."""
    if isinstance(value, int):
        return Fraction(value)
    match = _QUANTITY.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix[:1] in ("e", "E"):
        return number * 10 ** Fraction(suffix[1:])
    return number * _SUFFIX[suffix]

