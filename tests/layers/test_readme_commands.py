"""The README's layer, stack-reference and team walkthroughs are commands that work: each
`aidc` command of their shell blocks runs here as written (a file it writes goes to a
temporary directory) and exits 0."""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.helpers import REPO, run_aidc
from tests.test_docs_examples import fenced_blocks

AIDC = ".venv/bin/aidc"


def walkthrough_commands() -> list[list[str]]:
    """The aidc commands (continuations joined) of the README from "## Layers" to the next
    top-level section after "## A team's own program"."""
    readme = (REPO / "README.md").read_text()
    start = readme.index("\n## Layers\n")
    end = readme.index("\n## ", readme.index("\n## A team's own program\n") + 1)
    commands = []
    for _, code in fenced_blocks(readme[start:end], ("sh",)):
        for line in code.replace("\\\n", " ").splitlines():
            if line.strip().startswith(AIDC):
                commands.append(shlex.split(line.strip())[1:])
    return commands


def test_walkthrough_has_the_commands_the_issue_names() -> None:
    text = [" ".join(c) for c in walkthrough_commands()]
    assert "check --program stacks/examples/team prod" in text
    assert "check --program stacks/layers/cluster prod" in text
    assert any("--ref organization/aidc-foundation/prod=foundation.json" in c for c in text)


def test_walkthrough_commands_exit_0(tmp_path: Path) -> None:
    for command in walkthrough_commands():
        args = [str(tmp_path / a) if a == "foundation.json" else
                a.replace("=foundation.json", f"={tmp_path / 'foundation.json'}")
                for a in command]
        result = run_aidc(*args, timeout=600)
        assert result.returncode == 0, f"aidc {' '.join(command)}\n{result.stdout[-2000:]}{result.stderr}"
