"""The pack's entry point: `python -u -m pulumi.policy <engineAddress> <pack_dir>` runs this file.

The Pulumi CLI (`pulumi preview --policy-pack policies/`) and aidc's offline driver start it the
same way; it serves the analyzer protocol over gRPC and prints its port on stdout. Only the
offline driver sets the opt-in (`SPEEDUPS_ENV`) that patches pulumi-policy for speed.

The directory is loaded as a package under a fixed private name, so that the modules' relative
imports work whatever the directory is called and wherever it is copied.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from pulumi_policy import EnforcementLevel, PolicyPack

_PACKAGE = "aidc_policies"


def _load(module: str) -> ModuleType:
    if _PACKAGE not in sys.modules:
        here = Path(__file__).resolve().parent
        spec = importlib.util.spec_from_file_location(
            _PACKAGE, here / "__init__.py", submodule_search_locations=[str(here)])
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load the policy pack from {here}")
        package = importlib.util.module_from_spec(spec)
        sys.modules[_PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{_PACKAGE}.{module}")


pack = _load("pack")
pack.exit_with_parent()
# The stock SDK unless aidc's offline driver asks for the speed-ups (pulumi preview never does).
if os.environ.get(_load("protocol").SPEEDUPS_ENV) == "1":
    pack.install_speedups()

PolicyPack(
    name=pack.PACK_NAME,
    policies=pack.build_policies(),
    # Every policy pins its own level (mandatory for critical/high, advisory otherwise); this is
    # only the fallback for a policy that did not.
    enforcement_level=EnforcementLevel.ADVISORY,
    initial_config=pack.initial_config(),
    description=pack.PACK_DESCRIPTION,
    display_name="aidc policies",
    provider="gcp",
    tags=["gcp", "gke", "kubernetes", "security", "ai-infrastructure"],
)
