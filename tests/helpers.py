"""Shared helpers for the foundation tests: build Plans under mocks, write stack files, run the CLI.

Not a test module: nothing here is collected. Fixtures that wrap these live in conftest.py.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml

from infra.engine.mocks import project_number
from infra.engine.plan import STACK_TYPE, Plan, PlanResource
from infra.engine.runner import run_program

REPO = Path(__file__).resolve().parents[1]
STACKS_DIR = REPO / "stacks"
STACKS = ("dev", "staging", "prod")
AIDC = REPO / ".venv" / "bin" / "aidc"

PROJECT = "acme-ai-test"
REGION = "us-central1"
# The provider config a component test runs with: what a stack passes as gcp:project / gcp:region.
PROVIDER_CONFIG: dict[str, Any] = {"gcp:project": PROJECT, "gcp:region": REGION}

# A small, valid stack: the base that each bad-input case changes in one place.
BASE_STACK: dict[str, Any] = {
    "gcp:project": "acme-ai-dev",
    "gcp:region": "us-central1",
    "aidc:environment": "dev",
    "aidc:zones": ["us-central1-a", "us-central1-b"],
    "aidc:labels": {"team": "ml-platform"},
    "aidc:network": {"base_cidr": "10.16.0.0/16", "max_nodes": 64, "max_pods_per_node": 64},
    "aidc:storage": {
        "buckets": {"datasets": {"classification": "internal"},
                    "checkpoints": {"classification": "confidential"}},
        "filestore": {"tier": "ZONAL", "capacity_gib": 1024, "classification": "internal"},
    },
}


# Wiring for a component built alone: what the cluster and the keys would hand it.
CLUSTER_ID = f"projects/{PROJECT}/locations/{REGION}/clusters/aidc-test-ai"
NODE_SA = f"aidc-test-nodes@{PROJECT}.iam.gserviceaccount.com"
KEY_RING_ID = f"projects/{PROJECT}/locations/{REGION}/keyRings/aidc-test"
DISKS_KEY = f"{KEY_RING_ID}/cryptoKeys/disks"
GKE_KEY = f"{KEY_RING_ID}/cryptoKeys/gke"


def stack_config(env: str, *, offline: bool = False) -> dict[str, Any]:
    """The flat config (`gcp:*`, `aidc:*` keys) of a shipped stack file: as written (to edit
    and write back), or `offline` as aidc plans it (secrets as placeholders, the ones the file
    does not set yet too), to build the model in-process."""
    if offline:
        from infra.config.load import read_stack_file

        return read_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml")[0]
    return yaml.safe_load((STACKS_DIR / f"Pulumi.{env}.yaml").read_text())["config"]


def base_stack(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE_STACK with top-level keys replaced (value None removes the key)."""
    flat = copy.deepcopy(BASE_STACK)
    for key, value in changes.items():
        if value is None:
            flat.pop(key, None)
        else:
            flat[key] = value
    return flat


# ---------------------------------------------------------------------------------------------
# plans


def plan_of(program: Callable[[], Any], *, config: Mapping[str, Any] | None = None,
            project: str = "aidc", stack: str = "test",
            secret_keys: Iterable[str] = ()) -> Plan:
    """Run `program` under the offline engine's mocks, as `aidc plan` would, and return the Plan."""
    return run_program(program, project=project, stack=stack,
                       config=dict(PROVIDER_CONFIG if config is None else config),
                       secret_keys=secret_keys)


def plan_stack_file(path: Path, stack: str | None = None) -> Plan:
    """The Plan of a stack file through the same path as the CLI (validate, then run stacks/)."""
    from infra.plan import plan_stack, stack_name_of

    return plan_stack(stack or stack_name_of(path), path)


def last_segment(urn: str | None) -> str | None:
    """A URN's logical name (what follows the last '::')."""
    return urn.rsplit("::", 1)[-1] if urn else None


def by_name(plan: Plan, name: str) -> PlanResource:
    """The one resource with this logical name; fails loudly if absent or ambiguous."""
    found = [r for r in plan.resources if r.name == name]
    assert len(found) == 1, f"expected one resource named {name!r}, found {len(found)}"
    return found[0]


def children_of(plan: Plan, component: str) -> list[PlanResource]:
    """Direct children of the component with this logical name."""
    urn = by_name(plan, component).urn
    return [r for r in plan.resources if r.parent == urn]


def contract(plan: Plan, component: str) -> set[tuple[str, str, str]]:
    """(type, logical name, parent's logical name) of every direct child of a component."""
    return {(r.type, r.name, last_segment(r.parent) or "") for r in children_of(plan, component)}


def inputs(plan: Plan, name: str) -> dict[str, Any]:
    return by_name(plan, name).inputs


def of_type(plan: Plan, type_token: str) -> list[PlanResource]:
    return [r for r in plan.resources if r.type == type_token]


def components(plan: Plan) -> list[PlanResource]:
    return [r for r in plan.resources if not r.custom and r.type != STACK_TYPE]


class Captured(dict):
    """Resolved values of Outputs, filled in while the program runs under mocks.

    `captured.keep("key", output)` inside a program; `captured["key"]` after the run.
    """

    def keep(self, key: str, value: pulumi.Input[Any]) -> None:
        pulumi.Output.from_input(value).apply(lambda v: self.__setitem__(key, v))


def agent(domain: str, project: str = PROJECT) -> str:
    """The IAM member of a Google-managed service agent for the mocked project number."""
    return f"serviceAccount:service-{project_number(project)}@{domain}"


# ---------------------------------------------------------------------------------------------
# stack files and the CLI


def write_stack(directory: Path, flat: Mapping[str, Any], name: str = "test") -> Path:
    """Write `Pulumi.<name>.yaml` holding `config: flat` and return its path."""
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": dict(flat)}, sort_keys=False))
    return path


def aidc_command() -> list[str]:
    """The installed `aidc` entry point, or the module when the venv script is absent."""
    return [str(AIDC)] if AIDC.exists() else [sys.executable, "-m", "infra.cli"]


def run_aidc(*args: str | Path, cwd: Path | None = None,
             timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `aidc ARGS` in a fresh process, as a user would, capturing text output."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([*aidc_command(), *map(str, args)], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
