"""Fixtures for the driver's tests."""

from __future__ import annotations

import subprocess

import pytest

from infra.check import pack as driver


@pytest.fixture
def spawned(monkeypatch) -> list[subprocess.Popen]:
    """Every pack process the driver starts, to check that it was stopped."""
    started: list[subprocess.Popen] = []
    real = subprocess.Popen

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(driver.subprocess, "Popen", Recording)
    return started
