"""Synthetic stacks for bench/plan.py, and the data the floor (bench/floor.py) replays.

The aidc side is an ordinary stack file: the dev stack (cluster, GPU and TPU pools, network,
KMS, Filestore) plus as many data buckets as it takes to reach a target resource count. It goes
through `aidc plan --stack-file`, i.e. config validation, then stacks/ under the offline engine,
exactly as a user's plan does. Every bucket brings its own children through the components
(the bucket, the workload's bucket grant, usage logging for confidential data), with a mix of
classifications, lifecycle rules and retention so the specs are not all alike.

The floor is the bare Pulumi mock runtime registering the same resources: the Plan JSON of the
aidc run gives each resource's type, name, parent, dependencies, protection and inputs. Two
floors replay it, each in a plain `python` process with a Mocks that echoes inputs (no aidc
import, no config, no validation):
- SDK floor: `pulumi.CustomResource` with the type token, the recorded inputs and, as None, the
  other properties the provider SDK class declares (the keys a typed resource hands the SDK).
- typed floor: the provider SDK's own class (pulumi_gcp.storage.Bucket, ...) built from the
  recorded inputs; it also pays for importing those classes, as every Pulumi program does.
"""

from __future__ import annotations

import functools
import importlib
import json
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
BASE_STACK_FILE = REPO / "stacks" / "Pulumi.dev.yaml"
STACK_TYPE = "pulumi:pulumi:Stack"

_CLASSES = ("internal", "confidential", "restricted", "public")
_LIFECYCLES = (
    [],
    [{"action": "Delete", "age_days": 30}],
    [{"action": "SetStorageClass", "age_days": 30, "storage_class": "NEARLINE"},
     {"action": "SetStorageClass", "age_days": 180, "storage_class": "COLDLINE"}],
)


def bucket_spec(i: int) -> dict[str, Any]:
    """The i-th synthetic bucket: classifications, lifecycles and retention in rotation."""
    spec: dict[str, Any] = {"classification": _CLASSES[i % len(_CLASSES)]}
    if _LIFECYCLES[i % len(_LIFECYCLES)]:
        spec["lifecycle"] = _LIFECYCLES[i % len(_LIFECYCLES)]
    if i % 5 == 0:
        spec["retention_days"] = 30
    if i % 7 == 0 and "retention_days" not in spec:  # Cloud Storage refuses the two together
        spec["versioning"] = True
    return spec


def synthetic_config(buckets: int, base: Path = BASE_STACK_FILE) -> dict[str, Any]:
    """The base stack's config with `buckets` more data buckets (b00000, b00001, ...)."""
    doc = yaml.safe_load(base.read_text())
    config = doc["config"]
    storage = dict(config.get("aidc:storage") or {})
    existing = dict(storage.get("buckets") or {})
    existing.update({f"b{i:05d}": bucket_spec(i) for i in range(buckets)})
    storage["buckets"] = existing
    config["aidc:storage"] = storage
    return doc


class _NoAliases(yaml.SafeDumper):
    """Writes shared values out: aidc refuses stack files with more than 100 aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_synthetic(directory: Path, name: str, buckets: int) -> Path:
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.dump(synthetic_config(buckets), Dumper=_NoAliases, sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------------
# the floor


@functools.cache
def provider_class(type_token: str) -> tuple[str, str] | None:
    """(module, class) of the provider SDK class behind a resource type, e.g.
    gcp:storage/bucket:Bucket -> (pulumi_gcp.storage, Bucket); None where there is none."""
    try:
        package, module_path, cls_name = type_token.split(":")
    except ValueError:
        return None
    if package == "pulumi" and module_path == "providers":
        package, module_path, cls_name = cls_name, "", "Provider"
    sdk = {"gcp": "pulumi_gcp", "kubernetes": "pulumi_kubernetes"}.get(package)
    if sdk is None:
        return None
    parts = [part.split(".")[0] for part in module_path.split("/") if part]
    if package == "gcp":
        parts = parts[:1]  # gcp:storage/bucket:Bucket: the second part names the file
    module = ".".join([sdk, *parts])
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError):
        # A Kubernetes kind of a CRD (its group has a dot and the SDK has no class for it) is
        # declared through the SDK's generic CustomResource, as programs declare it.
        if package == "kubernetes" and "." in module_path.split("/")[0]:
            return CUSTOM_RESOURCE
        return None
    return (module, cls_name) if isinstance(cls, type) else None


CUSTOM_RESOURCE = ("pulumi_kubernetes.apiextensions", "CustomResource")
_CUSTOM_RESOURCE_INPUTS = {"apiVersion": "api_version", "kind": "kind", "metadata": "metadata",
                           "spec": "spec"}


def _engine_names(cls: type) -> dict[str, str]:
    """Engine (camelCase) name -> Python name of every property the class declares."""
    names: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for py_name, attr in vars(klass).items():
            if isinstance(attr, property) and hasattr(attr.fget, "_pulumi_name"):
                names[attr.fget._pulumi_name] = py_name
    return names


def _resolve(type_token: str) -> type | None:
    found = provider_class(type_token)
    return getattr(importlib.import_module(found[0]), found[1]) if found else None


@functools.cache
def declared_properties(type_token: str) -> tuple[str, ...]:
    """The engine names of every property the provider SDK class declares for this type (what a
    typed resource passes to the SDK, outputs as None); empty for types it does not know."""
    cls = _resolve(type_token)
    return tuple(_engine_names(cls)) if cls is not None else ()


@functools.cache
def input_names(type_token: str) -> dict[str, str]:
    """Engine name -> keyword of the typed constructor, for the inputs its Args class takes."""
    found = provider_class(type_token)
    if found is None:
        return {}
    if found == CUSTOM_RESOURCE:
        return dict(_CUSTOM_RESOURCE_INPUTS)
    args_cls = getattr(importlib.import_module(found[0]), f"{found[1]}Args", None)
    return _engine_names(args_cls) if isinstance(args_cls, type) else {}


def floor_data(plan: dict[str, Any]) -> dict[str, Any]:
    """The recorded plan as the floor replays it: resources in an order where every parent
    and dependency comes first, with props = declared properties + recorded inputs."""
    resources = [r for r in plan["resources"] if r["type"] != STACK_TYPE]
    by_urn = {r["urn"]: r for r in resources}
    ordered: list[dict[str, Any]] = []
    state: dict[str, int] = {}

    def visit(urn: str) -> None:
        if urn not in by_urn or state.get(urn) == 2:
            return
        if state.get(urn) == 1:
            raise ValueError(f"dependency cycle at {urn}")
        state[urn] = 1
        res = by_urn[urn]
        for before in [res["parent"], *res["dependencies"]]:
            if before:
                visit(before)
        state[urn] = 2
        ordered.append(res)

    for res in resources:
        visit(res["urn"])
    index = {r["urn"]: i for i, r in enumerate(ordered)}
    out = []
    for res in ordered:
        props = kwargs = typed = None
        # A component registered with inputs is a provider's (remote) component; the program's
        # own components register none.
        remote = not res["custom"] and bool(res["inputs"])
        if remote:
            props = dict(res["inputs"])
        if res["custom"]:
            props = {name: None for name in declared_properties(res["type"])}
            props.update(res["inputs"])
            names = input_names(res["type"])
            if names and set(res["inputs"]) <= set(names):
                typed = provider_class(res["type"])
                kwargs = {names[key]: value for key, value in res["inputs"].items()}
        out.append({
            "type": res["type"], "name": res["name"], "custom": res["custom"], "remote": remote,
            "parent": index.get(res["parent"]), "protect": bool(res.get("protect")),
            "deps": sorted(index[d] for d in res["dependencies"] if d in index),
            "props": props, "class": typed, "kwargs": kwargs,
        })
    return {"project": plan["project"], "stack": plan["stack"], "resources": out}


def write_floor(directory: Path, name: str, plan_json: Path) -> Path:
    """The floor's data file (for bench/floor.py) for a recorded plan."""
    data = directory / f"floor-{name}.json"
    data.write_text(json.dumps(floor_data(json.loads(plan_json.read_text()))))
    return data
