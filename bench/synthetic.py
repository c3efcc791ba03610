"""Synthetic stacks for bench/plan.py, and the "floor" program that replays a recorded plan.

The aidc side is an ordinary stack file: the dev stack (cluster, GPU and TPU pools, network,
KMS, Filestore) plus as many data buckets as it takes to reach a target resource count. It goes
through `aidc plan --stack-file`, i.e. config validation, then stacks/ under the offline engine,
exactly as a user's plan does. Every bucket brings its own children through the components
(the bucket, the workload's bucket grant, usage logging for confidential data), with a mix of
classifications, lifecycle rules and retention so the specs are not all alike.

The floor is the bare Pulumi mock runtime registering the same resources: the Plan JSON of the
aidc run gives each resource's type, name, parent, dependencies, protection and inputs; for
custom resources the declared properties of the pulumi_gcp class (inputs and outputs, the same
keys a typed resource hands the SDK) are added with None, so the SDK does the same work per
resource. It runs in a plain `python` process under `pulumi.runtime.set_mocks` with a trivial
Mocks that echoes inputs: no aidc import, no config, no validation.
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
    if i % 7 == 0:
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


def write_synthetic(directory: Path, name: str, buckets: int) -> Path:
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(synthetic_config(buckets), sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------------
# the floor


@functools.cache
def declared_properties(type_token: str) -> tuple[str, ...]:
    """The engine names of every property the pulumi_gcp class declares for this type (what a
    typed resource passes to the SDK, outputs as None); empty for types it does not know."""
    try:
        package, module_path, cls_name = type_token.split(":")
        if package != "gcp":
            return ()
        module = importlib.import_module(f"pulumi_gcp.{module_path.split('/')[0]}")
        cls = getattr(module, cls_name)
    except (ValueError, ImportError, AttributeError):
        return ()
    names = []
    for klass in reversed(cls.__mro__):
        for attr in vars(klass).values():
            if isinstance(attr, property) and hasattr(attr.fget, "_pulumi_name"):
                names.append(attr.fget._pulumi_name)
    return tuple(dict.fromkeys(names))


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
        props = None
        if res["custom"]:
            props = {name: None for name in declared_properties(res["type"])}
            props.update(res["inputs"])
        out.append({
            "type": res["type"], "name": res["name"], "custom": res["custom"],
            "parent": index.get(res["parent"]), "protect": bool(res.get("protect")),
            "deps": sorted(index[d] for d in res["dependencies"] if d in index),
            "props": props,
        })
    return {"project": plan["project"], "stack": plan["stack"], "resources": out}


FLOOR_PROGRAM = '''\
"""Floor: the bare Pulumi mock runtime registering a recorded plan's resources (no aidc)."""
import json
import sys

import pulumi
from pulumi.runtime import Mocks, set_mocks, test as pulumi_test


class EchoMocks(Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return dict(args.args)


with open(sys.argv[1]) as fh:
    data = json.load(fh)
set_mocks(EchoMocks(), project=data["project"], stack=data["stack"], preview=True)


@pulumi_test
def program():
    made = []
    for res in data["resources"]:
        parent = made[res["parent"]] if res["parent"] is not None else None
        opts = pulumi.ResourceOptions(parent=parent, protect=res["protect"],
                                      depends_on=[made[i] for i in res["deps"]])
        if res["custom"]:
            made.append(pulumi.CustomResource(res["type"], res["name"], res["props"], opts))
        else:
            component = pulumi.ComponentResource(res["type"], res["name"], None, opts)
            component.register_outputs({})
            made.append(component)
    print(len(made))


program()
'''


def write_floor(directory: Path, name: str, plan_json: Path) -> tuple[Path, Path]:
    """The floor program and its data file for a recorded plan."""
    program = directory / "floor.py"
    if not program.exists():
        program.write_text(FLOOR_PROGRAM)
    data = directory / f"floor-{name}.json"
    data.write_text(json.dumps(floor_data(json.loads(plan_json.read_text()))))
    return program, data
