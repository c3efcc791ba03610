"""The README's Cost section is what the commands print: every ```text block there that starts
with `$ ` is run, in order, in one scratch directory (so later commands use earlier files), and
each line it shows (`...` elides) must appear in the command's output, in the same order."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO, aidc_command
from tests.test_docs_examples import fenced_blocks

README = REPO / "README.md"


def cost_section() -> str:
    text = README.read_text()
    return text[text.index("\n## Cost\n"):text.index("\n## The CLI\n")]


def sessions() -> list[tuple[str, list[str]]]:
    """(command, lines it shows) for every `$ ` line of the section's text blocks."""
    out: list[tuple[str, list[str]]] = []
    for _, block in fenced_blocks(cost_section(), ("text",)):
        if not block.startswith("$ "):
            continue
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            else:
                out[-1][1].append(line.rstrip())
    return out


def test_the_cost_section_shows_the_commands_this_test_runs() -> None:
    commands = [command.split()[:3] for command, _ in sessions()]
    assert [".venv/bin/aidc", "cost", "staging"] in commands
    assert [".venv/bin/aidc", "cost", "diff"] in commands
    assert sum(1 for c in commands if c[:2] == [".venv/bin/aidc", "check"]) == 2


def test_readme_cost_commands_print_what_the_readme_shows(tmp_path: Path) -> None:
    (tmp_path / "stacks").symlink_to(REPO / "stacks")
    aidc = shlex.join(aidc_command())
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "NO_COLOR": "1", "COLUMNS": "200"}
    for command, shown in sessions():
        proc = subprocess.run(["bash", "-c", re.sub(r"^\.venv/bin/aidc", aidc, command)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1), f"{command}: {proc.stderr}"
        printed = [line.rstrip() for line in proc.stdout.splitlines()]
        position = 0
        for line in shown:
            if not line.strip() or line.strip() == "...":
                continue
            try:
                position = printed.index(line, position) + 1
            except ValueError:
                pytest.fail(f"`{command}` does not print, in this order:\n{line}")
