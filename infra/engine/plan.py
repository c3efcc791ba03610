"""The Plan: a stack's resource graph as the offline engine saw it.

Its JSON shape is a public contract (other tools and `aidc check --plan` read it):

    {"project", "stack", "resources": [{"urn", "type", "name", "parent", "dependencies",
     "provider", "component", "inputs", ...}], "outputs": {...}, ...}

`inputs` carries the engine's camelCase property names, exactly what the provider and the
policy analyzer see. `outputs` are the stack's outputs (`pulumi.export`), which a program that
references this stack reads (`aidc plan --ref NAME=PLAN.json`). Secret values are replaced by
`SECRET_PLACEHOLDER` before they get here.
Keys may be added; none may be renamed or removed.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.errors import AidcError
from infra.files import MAX_PLAN_FILE_BYTES, parse_json, read_text, write_text

SECRET_PLACEHOLDER = "[secret]"
UNKNOWN_PLACEHOLDER = "[unknown]"
STACK_TYPE = "pulumi:pulumi:Stack"
PLAN_FORMAT = 1


@dataclass(frozen=True)
class SourceLocation:
    """Where a resource comes from in files a reviewer can open: a program's file and line
    (where it was registered), or a stack file's line and the config `key` that produced it.
    `file` is relative to the repository root (POSIX), or absolute when outside it."""

    file: str
    line: int
    key: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line}
        if self.key:
            out["key"] = self.key
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> SourceLocation | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("file"), str):
            return None
        line = raw.get("line")
        return cls(file=raw["file"], line=line if isinstance(line, int) and line > 0 else 1,
                   key=str(raw.get("key") or ""))


def repo_relative(path: str | Path, root: Path) -> str:
    """`path` relative to `root` in POSIX form, or absolute (POSIX) when it lies outside."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def repository_root(start: Path) -> Path:
    """The nearest directory at or above `start` holding `.git` (a checkout or a worktree),
    else `start` itself (a project outside any repository): what report paths are relative
    to."""
    here = start.resolve()
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    return here


@dataclass
class PlanResource:
    """One registered resource: a custom resource, a component, or a provider.

    `source` is where the program registered it (captured at registration); `config_source`
    the stack-file line of the config key it was built from, when the program says so
    (`infra.engine.provenance`). Reports point a reviewer at the second, else the first."""

    urn: str
    type: str
    name: str
    parent: str | None = None
    dependencies: list[str] = field(default_factory=list)
    provider: str | None = None
    component: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    custom: bool = True
    protect: bool = False
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    source: SourceLocation | None = None
    config_source: SourceLocation | None = None
    # The config key path the program noted for it (in memory only; `config_source` is its
    # line once the stack file is known).
    config_key: tuple[str | int, ...] | None = None

    @property
    def is_component(self) -> bool:
        return not self.custom

    def as_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "dependencies": self.dependencies,
            "provider": self.provider,
            "component": self.component,
            "inputs": self.inputs,
            "custom": self.custom,
            "protect": self.protect,
            "propertyDependencies": self.property_dependencies,
            **({"source": self.source.as_dict()} if self.source else {}),
            **({"configSource": self.config_source.as_dict()} if self.config_source else {}),
        }

    @property
    def location(self) -> SourceLocation | None:
        """The most useful place to act on this resource: its config key, else its program
        line."""
        return self.config_source or self.source

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str) -> PlanResource:
        missing = [k for k in ("urn", "type", "name") if not isinstance(raw.get(k), str)]
        if missing:
            raise AidcError(f"{where}: missing or non-string {', '.join(missing)}; "
                            "each resource needs at least urn, type and name")
        inputs = raw.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise AidcError(f"{where}.inputs: expected an object, got {type(inputs).__name__}")
        return cls(
            urn=raw["urn"],
            type=raw["type"],
            name=raw["name"],
            parent=raw.get("parent"),
            dependencies=list(raw.get("dependencies") or []),
            provider=raw.get("provider"),
            component=raw.get("component"),
            inputs=inputs,
            custom=bool(raw.get("custom", not _looks_like_component(raw["type"]))),
            protect=bool(raw.get("protect", False)),
            property_dependencies=dict(raw.get("propertyDependencies") or {}),
            source=SourceLocation.from_dict(raw.get("source")),
            config_source=SourceLocation.from_dict(raw.get("configSource")),
        )


def _looks_like_component(type_token: str) -> bool:
    # A plan written by another tool may omit `custom`; aidc components and the stack are the
    # only components we know by name.
    return type_token.startswith("aidc:") or type_token == STACK_TYPE


@dataclass
class Plan:
    """A stack's resources in registration order, its outputs (None: not recorded, as in a
    plan another tool wrote), plus whatever reports attach."""

    project: str
    stack: str
    resources: list[PlanResource] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None

    def by_urn(self) -> dict[str, PlanResource]:
        return {r.urn: r for r in self.resources}

    def custom_resources(self) -> list[PlanResource]:
        return [r for r in self.resources if r.custom]

    def of_type(self, type_token: str) -> list[PlanResource]:
        return [r for r in self.resources if r.type == type_token]

    def counts_by_type(self) -> Counter[str]:
        return Counter(r.type for r in self.resources if r.custom)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": PLAN_FORMAT,
            "project": self.project,
            "stack": self.stack,
            "resources": [r.as_dict() for r in self.resources],
        }
        if self.outputs is not None:
            out["outputs"] = self.outputs
        out.update(self.extras)
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, sort_keys=False)

    def write(self, path: Path) -> None:
        """Write atomically, so a failed run never leaves half a plan behind."""
        write_text(path, self.to_json())

    @classmethod
    def from_dict(cls, raw: Any, where: str = "plan") -> Plan:
        if not isinstance(raw, dict):
            raise AidcError(f"{where}: expected a JSON object with project, stack and resources")
        resources = raw.get("resources")
        if not isinstance(resources, list):
            raise AidcError(f"{where}.resources: expected a list of resources")
        known = {"format", "project", "stack", "resources", "outputs"}
        outputs = raw.get("outputs")
        if outputs is not None and not isinstance(outputs, dict):
            raise AidcError(f"{where}.outputs: expected an object of stack outputs")
        return cls(
            project=str(raw.get("project", "")),
            stack=str(raw.get("stack", "")),
            resources=[
                PlanResource.from_dict(r if isinstance(r, dict) else {}, f"{where}.resources[{i}]")
                for i, r in enumerate(resources)
            ],
            extras={k: v for k, v in raw.items() if k not in known},
            outputs=outputs,
        )

    @classmethod
    def read(cls, path: Path) -> Plan:
        """A saved plan, read as untrusted input: bounded, strict JSON, checked against
        PLAN_SCHEMA (types included) before anything reads a field."""
        raw = parse_json(read_text(path, "plan file", max_bytes=MAX_PLAN_FILE_BYTES), str(path))
        problem = next(iter(_plan_validator().iter_errors(raw)), None)
        if problem is not None:
            at = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in problem.absolute_path)
            raise AidcError(f"{path}: plan{at}: {_describe(problem)}; this is not a Plan JSON "
                            "as `aidc plan --json` writes it")
        return cls.from_dict(raw, where=str(path))


def _describe(error: Any) -> str:
    """jsonschema's message without echoing a whole (possibly huge) instance."""
    if error.validator == "type":
        return f"expected {error.validator_value}, got {type(error.instance).__name__}"
    if error.validator == "required":
        return error.message.split(" is a required")[0] + " is required"
    return error.message[:200]


_STRING_OR_NULL = {"type": ["string", "null"]}
_LOCATION = {"type": "object", "required": ["file", "line"],
             "properties": {"file": {"type": "string"}, "line": {"type": "integer", "minimum": 1},
                            "key": {"type": "string"}}}
_STRINGS = {"type": "array", "items": {"type": "string"}}
PLAN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "aidc Plan JSON",
    "type": "object",
    "required": ["resources"],
    "properties": {
        "format": {"type": "integer"},
        "project": {"type": "string"},
        "stack": {"type": "string"},
        "resources": {"type": "array", "items": {
            "type": "object",
            "required": ["urn", "type", "name"],
            "properties": {
                "urn": {"type": "string", "minLength": 1},
                "type": {"type": "string", "minLength": 1},
                "name": {"type": "string"},
                "parent": _STRING_OR_NULL,
                "dependencies": _STRINGS,
                "provider": _STRING_OR_NULL,
                "component": _STRING_OR_NULL,
                "inputs": {"type": "object"},
                "custom": {"type": "boolean"},
                "protect": {"type": "boolean"},
                "propertyDependencies": {"type": "object", "additionalProperties": _STRINGS},
                "source": _LOCATION,
                "configSource": _LOCATION,
            },
        }},
        "outputs": {"type": "object"},
        # What `aidc check --plan` needs to judge the plan as `aidc check STACK` would.
        "policy": {"type": "object", "properties": {
            "stackFile": {"type": "string"},
            "settings": {"type": "object"},
        }},
        "stackFile": {"type": "string"},
        # Config paths of secrets the stack file does not set yet (planned as placeholders).
        "unsetSecrets": _STRINGS,
    },
}


@functools.cache
def _plan_validator() -> Any:
    import jsonschema  # only `aidc check --plan` and `aidc diff` read saved plans

    return jsonschema.Draft202012Validator(PLAN_SCHEMA)
