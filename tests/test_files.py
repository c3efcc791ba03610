"""Reading untrusted files and writing outputs (infra/files.py): every refusal fires, nothing
hangs, nothing is followed or clobbered, and a failed write leaves nothing behind."""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from infra.errors import AidcError
from infra.files import (
    MAX_DEPTH,
    MAX_YAML_NODES,
    check_output,
    load_yaml,
    parse_json,
    read_text,
    write_text,
)


def alias_bomb(levels: int, width: int = 9) -> str:
    """The classic 'billion laughs': each level lists the previous one `width` times."""
    lines = ["config:", '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


# --- reading ------------------------------------------------------------------------------------


def test_reads_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("config: {é: 1}\n", encoding="utf-8")
    assert read_text(path, "stack file", max_bytes=100) == "config: {é: 1}\n"


def test_rejects_a_fifo_without_blocking(tmp_path: Path) -> None:
    """A FIFO with no writer would block a plain open() forever."""
    fifo = tmp_path / "Pulumi.fifo.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(AidcError, match="not a regular file"):
        read_text(fifo, "stack file", max_bytes=100)
    assert time.monotonic() - started < 5


def test_rejects_a_directory(tmp_path: Path) -> None:
    with pytest.raises(AidcError, match="cannot read stack file|not a regular file"):
        read_text(tmp_path, "stack file", max_bytes=100)


def test_rejects_a_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text("x" * 101)
    with pytest.raises(AidcError, match="101 bytes; a plan file is at most 100 bytes"):
        read_text(path, "plan file", max_bytes=100)


@pytest.mark.parametrize(("data", "needle"), [
    (b"config:\n  a: \x00\x01\x02\n", "binary data"),
    ("config: {a: 1}\n".encode("utf-16"), "binary data"),  # UTF-16 carries NUL bytes
    (b"config: {a: \xe9t\xe9}\n", "not UTF-8 text (byte 12)"),  # Latin-1
])
def test_rejects_what_is_not_utf8_text(tmp_path: Path, data: bytes, needle: str) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(data)
    with pytest.raises(AidcError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        read_text(path, "stack file", max_bytes=1000)


# --- YAML -------------------------------------------------------------------------------------


def test_loads_plain_yaml_and_small_aliases() -> None:
    doc = load_yaml("a: &x [1, 2]\nb: *x\nc: {d: 1}\n", "f")
    assert doc == {"a": [1, 2], "b": [1, 2], "c": {"d": 1}}


def test_rejects_an_alias_bomb_fast_and_small() -> None:
    """Nine levels expand to 9**9 values; the loader refuses after counting the graph, which
    stays linear in the document: well under a second and a few MB."""
    text = alias_bomb(9)
    assert len(text) < 700
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(AidcError, match=f"expand to more than {MAX_YAML_NODES:,} values"):
        load_yaml(text, "Pulumi.bomb.yaml")
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 10 and peak < 50 * 2**20, (elapsed, peak)


def test_rejects_a_self_referencing_alias() -> None:
    with pytest.raises(AidcError, match="refers to itself"):
        load_yaml("a: &a [*a]\n", "f")


@pytest.mark.parametrize("text", ["a: 1\nb: 2\na: 3\n", "x: {a: 1, a: 2}\n",
                                  "config:\n  aidc:zones: [a]\n  aidc:zones: [b]\n"])
def test_rejects_a_duplicate_key(text: str) -> None:
    with pytest.raises(AidcError, match="is given twice"):
        load_yaml(text, "f")


def test_merge_keys_are_not_duplicates() -> None:
    assert load_yaml("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n", "f")["c"] == {"x": 1, "y": 2}


def test_rejects_deep_nesting() -> None:
    text = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    with pytest.raises(AidcError, match=f"nested deeper than {MAX_DEPTH}"):
        load_yaml(text, "f")


def test_unprintable_characters_are_a_yaml_error() -> None:
    with pytest.raises(AidcError, match="YAML does not parse"):
        load_yaml("a: \x07\n", "f")


# --- JSON -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "needle"), [
    ('{"a": NaN}', "NaN is not a JSON number"),
    ('{"a": -Infinity}', "-Infinity is not a JSON number"),
    ('{"a": 1e999}', "is out of range"),
    ('{"a": ' + "9" * 400 + "}", "is out of range"),
    ("[" * 200 + "]" * 200, "nested deeper"),
    ("[" * 100_000 + "]" * 100_000, "nested deeper"),
])
def test_rejects_json_other_parsers_refuse(text: str, needle: str) -> None:
    with pytest.raises(AidcError, match=needle):
        parse_json(text, "p.json")


def test_parses_ordinary_json() -> None:
    assert parse_json('{"a": [1, 2.5, "x", null, true]}', "p") == {"a": [1, 2.5, "x", None, True]}


# --- writing ----------------------------------------------------------------------------------


def test_writes_atomically_with_no_temporary_left(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_text(target, '{"a": 1}')
    assert target.read_text() == '{"a": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_never_follows_a_planted_link(tmp_path: Path) -> None:
    """A link at the old fixed temporary name, or at the target itself, is replaced, never
    written through."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "out.json.tmp").symlink_to(victim)
    link = tmp_path / "linked.json"
    link.symlink_to(victim)
    write_text(tmp_path / "out.json", "{}")
    write_text(link, "{}")
    assert victim.read_text() == "precious\n"
    assert not link.is_symlink() and link.read_text() == "{}\n"


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(AidcError, match="out.json: cannot write \\(No space left on device\\)"):
        write_text(target, "{}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["", "."])
def test_rejects_an_empty_output(bad: str) -> None:
    with pytest.raises(AidcError, match="output path is empty"):
        check_output(Path(bad))


def test_rejects_a_directory_output(tmp_path: Path) -> None:
    with pytest.raises(AidcError, match="is a directory"):
        write_text(tmp_path, "{}")
    assert list(tmp_path.parent.glob(f"{tmp_path.name}*.tmp")) == []


def test_rejects_an_output_that_is_an_input(tmp_path: Path) -> None:
    plan = tmp_path / "p.json"
    plan.write_text("{}\n")
    with pytest.raises(AidcError, match="is also an input of this command"):
        write_text(tmp_path / "." / "p.json", "x", inputs=[plan])
    assert plan.read_text() == "{}\n"


def test_dash_is_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    write_text("-", "hello")
    assert capsys.readouterr().out == "hello\n"
    assert sys.stdout is not None
