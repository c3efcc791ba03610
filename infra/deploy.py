"""Which Pulumi programs of the repository CI checks, and their stacks.

The deploy workflow (`.github/workflows/deploy.yml`) judges every program on every pull request
without credentials: `python -m infra.deploy` prints one `PROGRAM STACK` line per stack file,
and the workflow runs `aidc check --program PROGRAM STACK` for each. A program is the
repository's own project (`Pulumi.yaml` at the root, whose `main:` is stacks/) and every
directory under stacks/ with a `Pulumi.yaml` of its own, except stacks/examples/ (examples that
fail on purpose). So a new layer is checked the day it lands, with nothing to list by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra.plan import PROJECT_FILE_NAMES, find_project, stack_name_of

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = "stacks/examples"


def programs(root: Path = REPO) -> list[str]:
    """Program directories relative to `root`, sorted: the root project's, then the others."""
    found = []
    if any((root / n).is_file() for n in PROJECT_FILE_NAMES):
        found.append(find_project(root).program_dir.relative_to(root.resolve()).as_posix())
    for name in PROJECT_FILE_NAMES:
        for path in (root / "stacks").rglob(name):
            rel = path.parent.relative_to(root).as_posix()
            if not (rel + "/").startswith(EXAMPLES + "/") and rel not in found:
                found.append(rel)
    return found[:1] + sorted(found[1:])


def stacks_of(program: str, root: Path = REPO) -> list[str]:
    """The stacks a program has stack files for, where its project keeps them."""
    project = find_project(root / program)
    return sorted(stack_name_of(p) for p in project.stack_dir.glob("Pulumi.*.yaml"))


def check_lines(root: Path = REPO) -> list[str]:
    """`PROGRAM STACK` for every stack of every program CI checks."""
    return [f"{p} {s}" for p in programs(root) for s in stacks_of(p, root)]


def stack_file(program: str, stack: str, root: Path = REPO) -> Path:
    """Where a program's stack file is (its project's `stackConfigDir`), for `pulumi up`'s
    `--policy-pack-config` (`aidc policy config --stack-file`)."""
    return find_project(root / program).stack_dir / f"Pulumi.{stack}.yaml"


def main(argv: list[str]) -> int:
    """No arguments: the check lines. `stack-file PROGRAM STACK`: that stack file's path."""
    if not argv:
        sys.stdout.write("".join(line + "\n" for line in check_lines()))
        return 0
    if len(argv) == 3 and argv[0] == "stack-file":
        sys.stdout.write(f"{stack_file(argv[1], argv[2])}\n")
        return 0
    sys.stderr.write("usage: python -m infra.deploy [stack-file PROGRAM STACK]\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
