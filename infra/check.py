"""`aidc check`: plan a stack (or read a saved Plan), then judge it with a policy pack through
the Pulumi analyzer protocol, with the stack's own `aidc:policy` settings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.config import decode_config_value, read_stack_file, validation_problems
from infra.engine.analyzer import DEFAULT_PACK_DIR, check_plan
from infra.engine.plan import Plan
from infra.engine.results import CheckResult
from infra.errors import AidcError
from infra.policy_config import PolicySettings


def policy_settings(stack_file: Path | None) -> PolicySettings:
    """The stack's `aidc:policy` section; the pack's built-in defaults without one."""
    if stack_file is None:
        return PolicySettings()
    flat, _ = read_stack_file(stack_file)
    raw = decode_config_value(flat.get("aidc:policy", {}))
    try:
        return PolicySettings.model_validate(raw or {})
    except ValidationError as exc:
        problems = [p.replace("aidc:", "aidc:policy.", 1) if p.startswith("aidc:") else p
                    for p in validation_problems(exc)]
        raise AidcError(f"{stack_file}: aidc:policy is invalid\n  - " + "\n  - ".join(problems)) from None


def run_check(plan: Plan, *, stack_file: Path | None, pack_dir: Path | None,
              plan_seconds: float = 0.0) -> CheckResult:
    """Our pack gets the stack's settings; another pack gets none (its config is its own)."""
    pack = pack_dir or DEFAULT_PACK_DIR
    if not (pack / "PulumiPolicy.yaml").is_file():
        raise AidcError(f"--policy-pack {pack}: no PulumiPolicy.yaml there; a Pulumi policy pack "
                        "directory is needed")
    ours = pack.resolve() == DEFAULT_PACK_DIR.resolve()
    pack_config: dict[str, Any] | None = policy_settings(stack_file).to_pack_config() if ours else None
    result = check_plan(plan, pack_dir=pack, pack_config=pack_config)
    result.timings["plan_seconds"] = plan_seconds
    return result


def timed_plan(plan_fn) -> tuple[Plan, float]:
    start = time.perf_counter()
    plan = plan_fn()
    return plan, time.perf_counter() - start
