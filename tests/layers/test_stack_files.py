"""A layer's stack file is the one-stack platform's stack file for the same environment: every
layer parses the whole platform config (the cross-section rules need it all) and builds its
half, so the config the layers and the one-stack platform deploy cannot drift apart. The one
allowed difference: a layer's own waivers (a finding only the layer's plan has, such as the
foundation's stack having no notification channel, because monitoring is the cluster layer's)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO

LAYERS = ("foundation", "cluster")
ENVS = ("dev", "staging", "prod")


def config(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["config"]


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("env", ENVS)
def test_layer_config_is_the_one_stack_config(layer: str, env: str) -> None:
    one_stack = config(REPO / "stacks" / f"Pulumi.{env}.yaml")
    layered = config(REPO / "stacks" / "layers" / layer / f"Pulumi.{env}.yaml")
    own = f"aidc-{layer}:"  # a layer's own keys (none shipped) are its project's namespace
    shared = {k: v for k, v in layered.items() if not k.startswith(own)}
    # A layer may waive a finding of its own plan (with its reason); the platform's waivers
    # all stay.
    waivers = shared.get("aidc:policy", {}).pop("waivers", [])
    expected = one_stack.get("aidc:policy", {}).pop("waivers", [])
    assert all(w in waivers for w in expected), f"{layer}/{env} lost a waiver of the platform"
    assert shared == one_stack, (
        f"stacks/layers/{layer}/Pulumi.{env}.yaml drifted from stacks/Pulumi.{env}.yaml: "
        f"{sorted(k for k in set(shared) | set(one_stack) if shared.get(k) != one_stack.get(k))}")


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_is_a_project_of_its_own(layer: str) -> None:
    project = yaml.safe_load((REPO / "stacks" / "layers" / layer / "Pulumi.yaml").read_text())
    assert project["name"] == f"aidc-{layer}"
    assert project["runtime"]["name"] == "python"
    venv = REPO / "stacks" / "layers" / layer / project["runtime"]["options"]["virtualenv"]
    assert venv.resolve() == (REPO / ".venv").resolve()
