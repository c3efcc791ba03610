"""The benchmarks' synthetic stacks are stack files aidc accepts: a rule or a reading limit
that refuses them breaks the benchmark, not only a user's stack, so it must fail here first."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.synthetic import write_synthetic  # noqa: E402
from infra.config.load import config_from_flat, read_stack_file  # noqa: E402


def test_largest_synthetic_stack_file_reads_and_validates(tmp_path: Path) -> None:
    """The 5,000-bucket stack file the benchmarks write reads within aidc's input limits (no
    YAML aliases), and every combination of its bucket rotation (classifications, lifecycles,
    retention, versioning) validates."""
    flat, _ = read_stack_file(write_synthetic(tmp_path, "synth", 5000))
    buckets = config_from_flat(flat, source="synthetic").storage.buckets
    assert len(buckets) >= 5000
    assert any(b.retention_days for b in buckets.values())
    assert any(b.versioning for b in buckets.values())
