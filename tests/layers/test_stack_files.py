"""A layer's stack file is the one-stack platform's stack file for the same environment: every
layer parses the whole platform config (the cross-section rules need it all) and builds its
half, so the config the layers and the one-stack platform deploy cannot drift apart. The one
allowed differences: a layer's own waivers (a finding only the layer's plan has, such as the
foundation's stack having no notification channel, because monitoring is the cluster layer's),
and the ciphertext of a secret (each stack encrypts its own copy: `secure:` values compare by
where they are, not by their bytes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO

LAYERS = ("foundation", "cluster")
ENVS = ("dev", "staging", "prod")


def config(path: Path) -> dict:
    return _secrets_by_place(yaml.safe_load(path.read_text())["config"])


def _secrets_by_place(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return "[secret]"
        return {k: _secrets_by_place(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets_by_place(v) for v in value]
    return value


def test_secrets_compare_by_place_not_ciphertext() -> None:
    one = {"aidc:monitoring": {"channels": {"oncall": {"service_key": {"secure": "v1:AAA"}}}}}
    other = {"aidc:monitoring": {"channels": {"oncall": {"service_key": {"secure": "v1:BBB"}}}}}
    assert _secrets_by_place(one) == _secrets_by_place(other)
    assert _secrets_by_place(one) != _secrets_by_place({"aidc:monitoring": {"channels": {}}})


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
