"""The benchmark's floor registers the very resources aidc planned, so its ratio is fair.

bench/floor.py replays a Plan in two ways (generic CustomResource, and the provider SDK's own
classes); replayed here under the offline engine's recording monitor, both must register every
custom resource of the dev and prod plans with exactly the URN, inputs, dependencies and
protection aidc recorded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from infra.config.load import stack_file
from infra.plan import plan_stack
from infra.engine.runner import run_program

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.floor import EchoMocks, register  # noqa: E402
from bench.synthetic import floor_data, provider_class  # noqa: E402
from policies.protocol import KUEUE_TYPE_PREFIX  # noqa: E402

CUSTOM_KINDS = (KUEUE_TYPE_PREFIX,)


@pytest.mark.parametrize("type_token, expected", [
    ("gcp:storage/bucket:Bucket", ("pulumi_gcp.storage", "Bucket")),
    ("gcp:projects/iAMMember:IAMMember", ("pulumi_gcp.projects", "IAMMember")),
    ("kubernetes:core/v1:Namespace", ("pulumi_kubernetes.core.v1", "Namespace")),
    ("kubernetes:helm.sh/v3:Release", ("pulumi_kubernetes.helm.v3", "Release")),
    ("pulumi:providers:kubernetes", ("pulumi_kubernetes", "Provider")),
    ("gcp:storage/bucket:NoSuchThing", None),
    ("aidc:storage:DataBuckets", None),
    ("not-a-type", None),
])
def test_provider_class_of_a_type_token(type_token: str, expected: tuple[str, str] | None) -> None:
    assert provider_class(type_token) == expected


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("typed", [False, True])
def test_floor_registers_what_aidc_planned(stack: str, typed: bool) -> None:
    planned = plan_stack(stack, stack_file(stack)).as_dict()
    data = floor_data(planned)
    customs = [r for r in planned["resources"] if r["custom"]]
    if typed:
        # Every custom resource has its SDK class, but for custom-resource kinds (Kueue's),
        # which no SDK ships: a program registers those generically, as the floor does.
        assert all(r["class"] for r in data["resources"]
                   if r["custom"] and not r["type"].startswith(CUSTOM_KINDS))

    replay = run_program(lambda: register(data["resources"], typed), project=planned["project"],
                         stack=planned["stack"], config={}, mocks=EchoMocks())
    replayed = {(r.type, r.name): r for r in replay.resources}
    assert len(replay.resources) == len(planned["resources"])
    for res in customs:
        again = replayed[(res["type"], res["name"])]
        set_inputs = {k: v for k, v in again.inputs.items() if v is not None}
        assert set_inputs == res["inputs"], res["urn"]
        assert bool(again.protect) == bool(res["protect"]), res["urn"]
        assert again.dependencies == res["dependencies"], res["urn"]
        assert again.urn == res["urn"]
