"""A program from a pull request cannot pass the gate by leaving early, crashing or hanging:
`aidc check --program` / `aidc plan --program` end with exit 2 and a message saying what
happened, never 0, and never leave a report behind (issue 12, findings 1 and 5)."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from tests.cli.test_hostile_input import assert_no_verdict
from tests.helpers import run_aidc

# A restricted, public bucket: 7 mandatory violations when the program runs to its end.
PUBLIC_BUCKET = """
import pulumi
import pulumi_gcp as gcp

bucket = gcp.storage.Bucket("corpus", name="acme-corpus", location="us-central1",
                            labels={"data-classification": "restricted"})
gcp.storage.BucketIAMMember("public", bucket=bucket.name, role="roles/storage.objectViewer",
                            member="allUsers")
"""
STACK = "config:\n  gcp:project: acme-ai-dev\n  gcp:region: us-central1\n"


def program(tmp_path: Path, tail: str) -> Path:
    directory = tmp_path / "prog"
    directory.mkdir()
    (directory / "__main__.py").write_text(PUBLIC_BUCKET + textwrap.dedent(tail))
    (directory / "Pulumi.dev.yaml").write_text(STACK)
    (directory / "Pulumi.yaml").write_text("name: prog\nruntime: python\n")
    return directory


def check(directory: Path, *extra: str | Path) -> object:
    return run_aidc("check", "--program", directory, "--stack-file",
                    directory / "Pulumi.dev.yaml", "dev", *extra, timeout=120)


def test_the_program_run_to_its_end_fails_the_gate(tmp_path: Path) -> None:
    result = check(program(tmp_path, ""))
    assert result.returncode == 1, result.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize(("tail", "needle"), [
    ("import sys\nsys.exit(0)\n", "called sys.exit(0) before its plan was complete"),
    ("import sys\nsys.exit(3)\n", "called sys.exit(3) before its plan was complete"),
    ("import os\nos._exit(0)\n", "ended (exit status 0) before its plan was complete"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "killed by signal SIGKILL"),
    ("import os\nos.execv('/bin/true', ['true'])\n", "ended (exit status 0)"),
    ("raise RuntimeError('boom')\n", "the program failed at "),
])
def test_leaving_early_is_no_verdict(tmp_path: Path, tail: str, needle: str) -> None:
    directory = program(tmp_path, tail)
    report = tmp_path / "report.json"
    result = check(directory, "--format", "json", "--output", report)
    assert_no_verdict(result, needle)
    assert not report.exists()


def test_a_wrong_argument_names_the_program_line_not_a_dump(tmp_path: Path) -> None:
    """A bad spec for an aidc component: pydantic's error, without the value, at the line."""
    directory = program(tmp_path, """
        from infra.config.storage import BucketSpec
        BucketSpec(classification="top-secret-value")
    """)
    result = run_aidc("plan", "--program", directory, "--stack-file",
                      directory / "Pulumi.dev.yaml", "dev")
    line = PUBLIC_BUCKET.count("\n") + 3
    assert_no_verdict(result, f"the program failed at {directory / '__main__.py'}:{line}",
                      "ValidationError", "classification: Input should be")
    assert "top-secret-value" not in result.stdout + result.stderr


def test_a_program_that_never_ends_is_stopped(tmp_path: Path) -> None:
    directory = program(tmp_path, "while True:\n    pass\n")
    started = time.monotonic()
    result = check(directory, "--timeout", "3")
    assert time.monotonic() - started < 60
    assert_no_verdict(result, "did not finish within 3 s", "--timeout")


def test_a_bad_timeout_is_a_usage_error(tmp_path: Path) -> None:
    assert_no_verdict(run_aidc("plan", "dev", "--timeout", "0"), "timeout 0.0")
