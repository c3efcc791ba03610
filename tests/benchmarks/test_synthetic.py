"""The benchmarks' synthetic stacks are stacks aidc accepts: a rule that refuses them breaks
the benchmark, not only a user's stack, so it must fail here first."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.synthetic import synthetic_config  # noqa: E402
from infra.config.load import config_from_flat  # noqa: E402


def test_synthetic_stack_validates() -> None:
    """Every combination the bucket rotation makes (classifications, lifecycles, retention,
    versioning) appears in 70 buckets, and the whole stack validates."""
    config = synthetic_config(70)["config"]
    cfg = config_from_flat(config, source="synthetic")
    buckets = cfg.storage.buckets
    assert len(buckets) >= 70
    assert any(b.retention_days for b in buckets.values())
    assert any(b.versioning for b in buckets.values())
