"""What a hostile pull request can hand aidc, through the real CLI: every case ends in a clear
message and exit 2 (the code for "no verdict"), fast, with no traceback or "internal error",
no output file, and nothing it was given overwritten.

Exit codes are a contract: 0 pass, 1 a mandatory violation, 2 anything that kept aidc from a
verdict, 130 an interrupt.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import STACKS_DIR, run_aidc
from tests.test_files import alias_bomb

DEV = STACKS_DIR / "Pulumi.dev.yaml"
SECRET = "v1:c2VjcmV0LWNpcGhlcnRleHQtbmV2ZXItc2hvd24="


def assert_no_verdict(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    """Exit 2, one clear message, no traceback, no internal error."""
    out = result.stdout + result.stderr
    assert result.returncode == 2, (result.returncode, out)
    assert "Traceback" not in out and "internal error" not in out, out
    for needle in needles:
        assert needle in out, (needle, out)


# --- the command line itself ------------------------------------------------------------------


def test_version_and_short_help() -> None:
    version = run_aidc("--version")
    assert version.returncode == 0 and version.stdout.startswith("aidc "), version
    for args in (["-h"], ["plan", "-h"], ["policy", "list", "-h"]):
        result = run_aidc(*args)
        assert result.returncode == 0 and "Usage:" in result.stdout, (args, result)


@pytest.mark.parametrize("args", [
    ["plan", "dev", "--no-such-flag"],
    ["no-such-command"],
    ["diff"],  # a missing argument
    ["catalog", "tpu", "--generation"],  # an option without its value
    ["transfer", "plan", "s3://b/", "--top", "-1"],  # out of range
    ["check", "dev", "--format", "xml"],
])
def test_usage_errors_are_exit_2(args: list[str]) -> None:
    assert_no_verdict(run_aidc(*args))


# --- stack files ------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "needle"), [
    (b"config:\n  gcp:project: \x00\x01\n", "binary data"),
    ("config:\n  gcp:project: x\n".encode("utf-16"), "binary data"),
    (b"config:\n  gcp:project: caf\xe9\n", "not UTF-8 text"),
    (b"config:\n  aidc:zones: [a]\n  aidc:zones: [b]\n", "is given twice"),
    (("config:\n  aidc:labels: " + "[" * 80 + "]" * 80 + "\n").encode(), "nested deeper"),
    (alias_bomb(9).encode(), "YAML aliases expand to more than"),
    (b"config:\n  gcp:project: {secure: " + SECRET.encode() + b", extra: 1}\n",
     "a `secure:` value stands alone"),
])
def test_rejects_a_hostile_stack_file(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_bytes(content)
    for command in (["config", "validate"], ["plan"]):
        started = time.monotonic()
        result = run_aidc(*command, "--stack-file", path, timeout=60)
        assert time.monotonic() - started < 30
        assert_no_verdict(result, str(path), needle)
        assert SECRET not in result.stdout + result.stderr


def test_rejects_a_fifo_as_stack_file(tmp_path: Path) -> None:
    fifo = tmp_path / "Pulumi.fifo.yaml"
    os.mkfifo(fifo)
    assert_no_verdict(run_aidc("config", "validate", "--stack-file", fifo, timeout=30),
                      "not a regular file")


def with_channels(tmp_path: Path, channels: dict) -> Path:  # type: ignore[type-arg]
    doc = yaml.safe_load(DEV.read_text())
    doc["config"]["aidc:monitoring"] = {"channels": channels}
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(("channel", "field"), [
    ({"type": "pagerduty", "service_key": "R0123456789ABCDEF0123456789ABCDE"}, "service_key"),
    ({"type": "slack", "channel_name": "#alerts", "auth_token": "xoxb-1234-clear"}, "auth_token"),
    ({"type": "webhook", "url": "https://hooks.example.com/x", "token": "tok-clear"}, "token"),
])
def test_rejects_a_token_in_clear_text(tmp_path: Path, channel: dict, field: str) -> None:  # type: ignore[type-arg]
    """Tokens are `secure:` values or nothing; the clear one is named, never shown."""
    path = with_channels(tmp_path, {"oncall": channel})
    result = run_aidc("config", "validate", "--stack-file", path)
    assert_no_verdict(result, f"aidc:monitoring.channels.oncall.{field}: a secret in clear text")
    assert channel[field] not in result.stderr


def test_a_token_inside_a_webhook_url_is_not_echoed(tmp_path: Path) -> None:
    url = "http://hooks.example.com/services/T000/B000/sekrit-token-in-path"
    path = with_channels(tmp_path, {"hook": {"type": "webhook", "url": url,
                                             "token": {"secure": SECRET}}})
    result = run_aidc("config", "validate", "--stack-file", path)
    assert_no_verdict(result, "aidc:monitoring.channels.hook.url: expected an https:// URL")
    assert "sekrit" not in result.stderr and SECRET not in result.stderr


# --- outputs ----------------------------------------------------------------------------------


def test_refuses_to_overwrite_its_own_input(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(DEV.read_text())
    assert_no_verdict(run_aidc("plan", "--stack-file", stack, "--json", stack),
                      "is also an input of this command")
    assert stack.read_text() == DEV.read_text()
    plan = tmp_path / "p.json"
    plan.write_text(json.dumps({"project": "x", "stack": "y", "resources": []}))
    before = plan.read_text()
    assert_no_verdict(run_aidc("check", "--plan", plan, "--format", "sarif", "--output", plan),
                      "is also an input of this command")
    assert plan.read_text() == before


def test_an_output_that_is_a_directory_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    assert_no_verdict(run_aidc("policy", "config", "dev", "--output", out), "is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]
    assert list(out.iterdir()) == []


def test_a_planted_link_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "sym.json.tmp").symlink_to(victim)
    result = run_aidc("policy", "config", "dev", "--output", tmp_path / "sym.json")
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious\n"
    assert json.loads((tmp_path / "sym.json").read_text())


def test_json_to_standard_output_alone() -> None:
    result = run_aidc("plan", "dev", "--json", "-")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stack"] == "dev"
