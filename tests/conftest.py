"""Shared fixtures. Plan-building and CLI helpers live in tests/helpers.py; keep this file small."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import STACKS_DIR


@pytest.fixture(scope="session")
def stacks_dir() -> Path:
    """The repository's stacks/ directory (Pulumi.<env>.yaml files)."""
    return STACKS_DIR


@pytest.fixture(scope="session")
def prod_plan_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`aidc plan prod --json FILE`, run once per session (per xdist worker): (FILE, stdout)."""
    from tests.helpers import run_aidc

    path = tmp_path_factory.mktemp("plans") / "plan-prod.json"
    result = run_aidc("plan", "prod", "--json", path)
    assert result.returncode == 0, result.stderr
    return path, result.stdout
