"""Hostile inputs against the real `aidc` CLI: exit code, wall time and peak memory of each.

    .venv/bin/python bench/hostile.py [--only SUBSTRING]

Prints one row per case. The contract (README, "Exit codes, limits and timeouts"): every case
ends in 0, 1 or 2 with no traceback and no "internal error", well within a minute. The tests
(tests/cli/test_hostile_*.py, tests/cli/test_fuzz_contract.py) hold the CLI to it; this script
shows the figures for a closing note or a regression hunt.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AIDC = REPO / ".venv" / "bin" / "aidc"
DEV = (REPO / "stacks" / "Pulumi.dev.yaml").read_text()
SECRET = "v1:c2VjcmV0LWNpcGhlcnRleHQ="


def bomb(levels: int) -> str:
    lines = ["config:", '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def dev_set(key: str, value: object) -> str:
    """The dev stack with one config key replaced."""
    import yaml

    doc = yaml.safe_load(DEV)
    doc["config"][key] = value
    return yaml.safe_dump(doc, sort_keys=False)


def dev_with(old: str, new: str) -> str:
    assert old in DEV, old
    return DEV.replace(old, new, 1)


def program(tail: str) -> dict[str, str]:
    body = textwrap.dedent("""
        import pulumi_gcp as gcp
        b = gcp.storage.Bucket("corpus", name="acme-corpus", location="us-central1",
                               labels={"data-classification": "restricted"})
        gcp.storage.BucketIAMMember("pub", bucket=b.name, role="roles/storage.objectViewer",
                                    member="allUsers")
    """) + textwrap.dedent(tail)
    return {"prog/__main__.py": body,
            "prog/Pulumi.dev.yaml": "config:\n  gcp:project: acme-ai-dev\n  gcp:region: us-central1\n"}


PLAN_OK = json.dumps({"project": "p", "stack": "s", "resources": []})
CHECK_PROG = ["check", "--program", "prog", "--stack-file", "prog/Pulumi.dev.yaml", "dev"]

# name -> (files to write (str or bytes), aidc arguments)
CASES: dict[str, tuple[dict[str, str | bytes], list[str]]] = {
    "usage: --version": ({}, ["--version"]),
    "usage: -h": ({}, ["-h"]),
    "usage: unknown option": ({}, ["plan", "dev", "--nope"]),
    "usage: unknown command": ({}, ["nope"]),
    "usage: missing argument": ({}, ["diff"]),
    "usage: option without value": ({}, ["catalog", "tpu", "--generation"]),
    "usage: bad --format": ({}, ["check", "dev", "--format", "xml"]),
    "usage: --output ''": ({}, ["policy", "config", "dev", "--output", ""]),
    "usage: --timeout 0": ({}, ["plan", "dev", "--timeout", "0"]),
    "usage: --timeout nan": ({}, ["plan", "dev", "--timeout", "nan"]),
    "usage: --top -1": ({}, ["transfer", "plan", "s3://b/", "--top", "-1"]),
    "usage: no stack": ({}, ["plan"]),
    "usage: stack not found": ({}, ["plan", "qa"]),
    "file: missing stack file": ({}, ["config", "validate", "--stack-file", "none.yaml"]),
    "file: directory as stack file": ({"d/x": ""}, ["config", "validate", "--stack-file", "d"]),
    "file: /dev/zero as stack file": ({}, ["config", "validate", "--stack-file", "/dev/zero"]),
    "file: binary": ({"s.yaml": b"config:\n  a: \x00\x01\xff\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "file: UTF-16": ({"s.yaml": DEV.encode("utf-16")}, ["config", "validate", "--stack-file", "s.yaml"]),
    "file: Latin-1": ({"s.yaml": b"config:\n  gcp:project: caf\xe9\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "file: 2 MiB": ({"s.yaml": "config: {}\n" + "#" * 2**21}, ["config", "validate", "--stack-file", "s.yaml"]),
    "file: empty": ({"s.yaml": ""}, ["config", "validate", "--stack-file", "s.yaml"]),
    "yaml: alias bomb 8": ({"s.yaml": bomb(8)}, ["config", "validate", "--stack-file", "s.yaml"]),
    "yaml: alias bomb 9": ({"s.yaml": bomb(9)}, ["config", "validate", "--stack-file", "s.yaml"]),
    "yaml: alias bomb 9 via plan": ({"s.yaml": bomb(9)}, ["plan", "--stack-file", "s.yaml"]),
    "yaml: alias bomb 9 via check": ({"s.yaml": bomb(9)}, ["check", "--stack-file", "s.yaml"]),
    "yaml: self alias": ({"s.yaml": "config: &a {x: *a}\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "yaml: duplicate key": ({"s.yaml": DEV + "  gcp:project: other\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "yaml: 500 levels": ({"s.yaml": "config: " + "[" * 500 + "]" * 500}, ["config", "validate", "--stack-file", "s.yaml"]),
    "yaml: not a mapping": ({"s.yaml": "- a\n- b\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "yaml: tab indent": ({"s.yaml": "config:\n\tgcp:project: x\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "yaml: python tag": ({"s.yaml": "config: !!python/object/apply:os.system ['true']\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "config: secure with extra": ({"s.yaml": dev_with("gcp:project: acme-ai-dev", f"gcp:project: {{secure: {SECRET}, x: 1}}")}, ["config", "validate", "--stack-file", "s.yaml"]),
    "config: clear PagerDuty key": ({"s.yaml": dev_set("aidc:monitoring", {"channels": {"p": {"type": "pagerduty", "service_key": "R0123456789"}}})}, ["config", "validate", "--stack-file", "s.yaml"]),
    "config: token in webhook URL": ({"s.yaml": dev_set("aidc:monitoring", {"channels": {"w": {"type": "webhook", "url": "http://h/T0/sekrit", "token": {"secure": SECRET}}}})}, ["config", "validate", "--stack-file", "s.yaml"]),
    "config: region us-moon1": ({"s.yaml": dev_with("gcp:region: us-central1", "gcp:region: us-moon1")}, ["config", "validate", "--stack-file", "s.yaml"]),
    "config: 400-digit max_nodes": ({"s.yaml": dev_set("aidc:network", {"base_cidr": "10.16.0.0/16", "max_nodes": int("9" * 400)})}, ["config", "validate", "--stack-file", "s.yaml"]),
    "config: unknown key": ({"s.yaml": DEV + "  aidc:netwrk: {}\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "config: wrong type": ({"s.yaml": DEV + "  aidc:apis: 7\n"}, ["config", "validate", "--stack-file", "s.yaml"]),
    "plan: not JSON": ({"p.json": "{nope"}, ["check", "--plan", "p.json"]),
    "plan: a list": ({"p.json": "[]"}, ["check", "--plan", "p.json"]),
    "plan: resources a dict": ({"p.json": '{"resources": {}}'}, ["check", "--plan", "p.json"]),
    "plan: urn a number": ({"p.json": '{"resources": [{"urn": 1, "type": "t", "name": "n"}]}'}, ["check", "--plan", "p.json"]),
    "plan: inputs a list": ({"p.json": '{"resources": [{"urn": "u", "type": "t", "name": "n", "inputs": []}]}'}, ["check", "--plan", "p.json"]),
    "plan: 400-digit number": ({"p.json": '{"resources": [], "x": ' + "9" * 400 + "}"}, ["check", "--plan", "p.json"]),
    "plan: NaN": ({"p.json": '{"resources": [], "x": NaN}'}, ["check", "--plan", "p.json"]),
    "plan: 1e999": ({"p.json": '{"resources": [], "x": 1e999}'}, ["check", "--plan", "p.json"]),
    "plan: 100k nesting": ({"p.json": '{"resources": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}"}, ["check", "--plan", "p.json"]),
    "plan: binary": ({"p.json": b"\x00\x01"}, ["check", "--plan", "p.json"]),
    "plan: diff of garbage": ({"p.json": "[]"}, ["diff", "p.json", "p.json"]),
    "output: is the plan": ({"p.json": PLAN_OK}, ["check", "--plan", "p.json", "--output", "p.json"]),
    "output: is the stack file": ({"s.yaml": DEV}, ["plan", "--stack-file", "s.yaml", "--json", "s.yaml"]),
    "output: a directory": ({"out/x": ""}, ["policy", "config", "dev", "--output", "out"]),
    "output: planted link": ({"victim": "precious\n", "sym.json.tmp@": "victim"}, ["policy", "config", "dev", "--output", "sym.json"]),
    "output: missing directory": ({}, ["policy", "config", "dev", "--output", "no/such/dir/x.json"]),
    "program: sys.exit(0)": (program("import sys; sys.exit(0)\n"), CHECK_PROG),
    "program: sys.exit(3)": (program("import sys; sys.exit(3)\n"), CHECK_PROG),
    "program: os._exit(0)": (program("import os; os._exit(0)\n"), CHECK_PROG),
    "program: SIGKILL itself": (program("import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n"), CHECK_PROG),
    "program: exec /bin/true": (program("import os; os.execv('/bin/true', ['true'])\n"), CHECK_PROG),
    "program: raises": (program("raise RuntimeError('boom')\n"), CHECK_PROG),
    "program: infinite loop (--timeout 5)": (program("while True: pass\n"), [*CHECK_PROG, "--timeout", "5"]),
    "program: no __main__.py": ({"prog/x.py": ""}, ["plan", "--program", "prog", "--stack-file", "none.yaml"]),
    "program: runs to its end": (program(""), CHECK_PROG),
    "pack: not a pack": ({"pack/x": ""}, ["check", "dev", "--policy-pack", "pack"]),
    "s3: bad url": ({}, ["transfer", "plan", "gs://x/"]),
    "s3: unreachable endpoint": ({}, ["transfer", "plan", "s3://b/", "--endpoint-url", "http://127.0.0.1:9", "-q"]),
}


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        if name.endswith("@"):
            (root / name[:-1]).symlink_to(root / str(content))
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def run(args: list[str], cwd: Path) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak RSS in MiB of the command and what it waited for, output)."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "x" * 40, "NO_COLOR": "1"}
    started = time.monotonic()
    proc = subprocess.Popen([str(AIDC), *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    timer = threading.Timer(300, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)  # wait4, not wait: it reports the peak memory
    timer.cancel()
    reader.join()
    elapsed = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    return code, elapsed, usage.ru_maxrss / 1024, b"".join(chunks).decode(errors="replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="Run the cases whose name holds this.")
    parser.add_argument("--show", action="store_true", help="Print each case's last line.")
    opts = parser.parse_args(argv)
    broken = 0
    print(f"{'case':<42} {'exit':>4} {'seconds':>8} {'peak MiB':>9}  verdict")
    for name, (files, args) in CASES.items():
        if opts.only not in name:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write(root, files)
            code, seconds, peak, text = run(args, root)
        clean = code in (0, 1, 2) and "Traceback" not in text and "internal error" not in text
        broken += not clean
        print(f"{name:<42} {code:>4} {seconds:>8.2f} {peak:>9.0f}  "
              f"{'ok' if clean else 'BROKEN: ' + text.strip().splitlines()[-1][:80]}")
        if opts.show and text.strip():
            print(f"    {text.strip().splitlines()[-1][:150]}")
    print(f"{len([n for n in CASES if opts.only in n])} cases, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
