"""Importing a component loads what it needs and no more: not the policy pack's roster, not the
whole-stack config (PlatformConfig and the policy settings it carries). A user composing their
own stack from two components must not pay for, or depend on, the rest."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import components
from tests.helpers import REPO

# Modules that only the composition, the CLI or the policy pack may load.
FORBIDDEN = ("policies.metadata", "policies.pack", "infra.config.platform", "infra.config.policy",
             "infra.platform")


def component_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(components.__path__, "components."))


def test_component_modules_are_all_listed() -> None:
    assert {"components.gpu_pool", "components.storage", "components.monitoring.stack",
            "components.node_config"} <= set(component_modules())


def test_importing_components_loads_no_policy_roster() -> None:
    """In a fresh interpreter, importing every component module leaves the forbidden ones
    unloaded (transitively: whatever the components import counts)."""
    code = (f"import {', '.join(component_modules())}; import sys; "
            f"loaded = [m for m in {FORBIDDEN!r} if m in sys.modules]; "
            "assert not loaded, loaded")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
