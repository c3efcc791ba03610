"""The CLI's contract under generated hostile input (issue 12): whatever the stack file, plan or
arguments, aidc exits 0, 1 or 2, prints no traceback and no "internal error", writes an output
file only with a verdict (exit 0 or 1), and finishes within a time bound.

Each example is a real `aidc` process, so the example counts are small; the strategies aim at
the places that broke before (structure, types, encodings, nesting, numbers, options)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import STACKS_DIR, run_aidc

DEV_TEXT = (STACKS_DIR / "Pulumi.dev.yaml").read_text()
TIME_BOUND_SECONDS = 90
# More examples for a longer hunt: AIDC_FUZZ_EXAMPLES=200 make test
FUZZ = settings(max_examples=int(os.environ.get("AIDC_FUZZ_EXAMPLES", "12")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), st.just("0.0.0.0/0"), st.just({"secure": "v1:x"}))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)


def assert_contract(result: Any, started: float, output: Path | None = None) -> None:
    out = result.stdout + result.stderr
    assert result.returncode in (0, 1, 2), (result.returncode, out[-2000:])
    assert "Traceback" not in out and "internal error" not in out, out[-2000:]
    assert time.monotonic() - started < TIME_BOUND_SECONDS
    if output is not None and result.returncode == 2:
        assert not output.exists(), "an output file was written without a verdict"


@st.composite
def mutated_stack_text(draw: st.DrawFn) -> bytes:
    """The dev stack with a value replaced, a line duplicated or dropped, or bytes spliced in."""
    lines = DEV_TEXT.splitlines()
    kind = draw(st.sampled_from(["value", "duplicate", "drop", "bytes", "indent"]))
    i = draw(st.integers(1, len(lines) - 1))
    if kind == "value" and ":" in lines[i]:
        key = lines[i].split(":", 1)[0]
        lines[i] = f"{key}: {json.dumps(draw(values))}"
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "drop":
        del lines[i]
    elif kind == "indent":
        lines[i] = " " * draw(st.integers(0, 9)) + lines[i].lstrip()
    text = ("\n".join(lines) + "\n").encode()
    if kind == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=8)) + text[at:]
    return text


@FUZZ
@given(content=mutated_stack_text())
def test_stack_files(tmp_path_factory: Any, content: bytes) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    stack = directory / "Pulumi.dev.yaml"
    stack.write_bytes(content)
    started = time.monotonic()
    assert_contract(run_aidc("config", "validate", "--stack-file", stack, timeout=120), started)


resource_fields = st.fixed_dictionaries({}, optional={
    "urn": st.one_of(st.text(max_size=30), values), "type": st.one_of(
        st.sampled_from(["gcp:storage/bucket:Bucket", "gcp:compute/firewall:Firewall",
                         "gcp:container/nodePool:NodePool", "gcp:kms/cryptoKey:CryptoKey"]),
        values),
    "name": values, "parent": values, "dependencies": values, "inputs": values,
    "custom": values, "protect": values, "propertyDependencies": values})


@FUZZ
@given(resources=st.lists(resource_fields, max_size=4), extra=values)
def test_plans(tmp_path_factory: Any, resources: list[dict[str, Any]], extra: Any) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    plan = directory / "p.json"
    plan.write_text(json.dumps({"project": "p", "stack": "s", "resources": resources,
                                "x": extra}))
    report = directory / "report.json"
    started = time.monotonic()
    result = run_aidc("check", "--plan", plan, "--format", "json", "--output", report,
                      timeout=120)
    assert_contract(result, started, report)


WORDS = ["plan", "check", "diff", "config", "validate", "schema", "catalog", "gpu", "tpu",
         "policy", "list", "cost", "transfer", "dev", "nosuchstack", "--json", "--stack-file",
         "--plan", "--format", "sarif", "--output", "--timeout", "-1", "0", "1e999", "nan", "",
         "-", "-h", "--version", "--generation", "v5p", "--topology", "4x4x4", "--quiet",
         "/dev/null", "/etc/passwd", "\x00", "é", "--no-such-flag"]


@FUZZ
@given(args=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=5))
def test_arguments(tmp_path_factory: Any, args: list[str]) -> None:
    directory = tmp_path_factory.mktemp("fuzz")
    args = [a.replace("\x00", "") for a in args]  # argv cannot carry NUL
    args = [str(directory / "out") if a == "--output-target" else a for a in args]
    started = time.monotonic()
    assert_contract(run_aidc(*args, cwd=directory, timeout=120), started)
