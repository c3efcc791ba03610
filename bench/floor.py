"""The floor of bench/plan.py: the bare Pulumi mock runtime registering a recorded plan's resources.

    python bench/floor.py FLOOR.json            # generic CustomResource + declared properties
    python bench/floor.py FLOOR.json --typed    # the provider SDKs' own classes (pulumi_gcp, ...)

FLOOR.json is written by bench/synthetic.py from an aidc Plan. This file imports nothing of
aidc: it is what any Pulumi Python program declaring the same resources costs.
"""

import importlib
import json
import sys
from typing import Any

import pulumi
from pulumi.runtime import Mocks, set_mocks, test as pulumi_test


class EchoMocks(Mocks):
    """Every resource's outputs are its inputs; every call returns its arguments."""

    def new_resource(self, args: Any) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: Any) -> dict:
        return dict(args.args)


def register(resources: list[dict[str, Any]], typed: bool) -> list[pulumi.Resource]:
    """Declare the recorded resources in order (parents and dependencies come first)."""
    made: list[pulumi.Resource] = []
    for res in resources:
        parent = made[res["parent"]] if res["parent"] is not None else None
        opts = pulumi.ResourceOptions(parent=parent, protect=res["protect"],
                                      depends_on=[made[i] for i in res["deps"]])
        if typed and res["class"]:
            module, name = res["class"]
            cls = getattr(importlib.import_module(module), name)
            made.append(cls(res["name"], opts=opts, **res["kwargs"]))
        elif res["custom"]:
            made.append(pulumi.CustomResource(res["type"], res["name"], res["props"], opts))
        elif res.get("remote"):
            # A provider-implemented component (e.g. kubernetes:yaml/v2:ConfigFile): the
            # provider makes its children, so it is registered, and depended on, as one.
            made.append(pulumi.ComponentResource(res["type"], res["name"], res["props"], opts,
                                                 remote=True))
        else:
            component = pulumi.ComponentResource(res["type"], res["name"], None, opts)
            component.register_outputs({})
            made.append(component)
    return made


def main() -> None:
    with open(sys.argv[1]) as fh:
        data = json.load(fh)
    typed = "--typed" in sys.argv[2:]
    set_mocks(EchoMocks(), project=data["project"], stack=data["stack"], preview=True)

    @pulumi_test
    def program() -> None:
        print(len(register(data["resources"], typed)))

    program()


if __name__ == "__main__":
    main()
