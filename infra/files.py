"""Reading the files a pull request controls, and writing outputs, without being fooled.

aidc is a gate in pull requests: the stack files and plans it reads and the paths it writes to
may be hostile. Reads are bounded (a regular file, at most a documented size, UTF-8 text);
writes go to a temporary file created exclusively beside the target (a fresh name, so no link
is ever followed) and renamed into place, so a failed write leaves neither half a file nor a
temporary one behind, and an output never replaces one of the command's own inputs.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from infra.errors import AidcError

MIB = 2**20
# A stack file is a few KiB; a plan of 5,000 resources about 10 MiB.
MAX_STACK_FILE_BYTES = 1 * MIB
MAX_PLAN_FILE_BYTES = 256 * MIB
STDOUT = "-"
_UMASK = os.umask(0o022)  # read once, at import, while nothing else runs
os.umask(_UMASK)


def read_text(path: Path, what: str, *, max_bytes: int) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes`, or an error naming `path` and
    what is wrong. Never blocks on a FIFO or a device: those are refused before they are read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise AidcError(f"{path}: cannot read {what} ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise AidcError(f"{path}: not a regular file; a {what} is a file")
    with os.fdopen(fd, "rb") as stream:
        if info.st_size > max_bytes:
            raise AidcError(f"{path}: {info.st_size:,} bytes; a {what} is at most "
                            f"{max_bytes:,} bytes")
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AidcError(f"{path}: more than {max_bytes:,} bytes; a {what} is at most "
                        f"{max_bytes:,} bytes")
    if b"\0" in data:
        raise AidcError(f"{path}: binary data (NUL bytes); a {what} is UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AidcError(f"{path}: not UTF-8 text (byte {exc.start}); a {what} is UTF-8 text, "
                        "e.g. save it again as UTF-8 without a byte-order mark") from None


def is_stdout(output: Path | str | None) -> bool:
    return output is None or str(output) == STDOUT


def check_output(output: Path, inputs: Iterable[Path | None] = ()) -> None:
    """Refuse an output path that cannot be written safely, before any work is done."""
    if str(output) in ("", "."):
        raise AidcError("output path is empty; give a file name, or - for standard output")
    if output.is_dir():
        raise AidcError(f"{output}: is a directory; give a file name inside it")
    for source in inputs:
        if source is not None and _same_file(output, source):
            raise AidcError(f"{output}: is also an input of this command ({source}); write the "
                            "output to another file")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def write_text(output: Path | str | None, text: str, *, inputs: Iterable[Path | None] = ()) -> None:
    """`text` (newline-terminated) to standard output (None or "-") or, atomically, to a file."""
    if not text.endswith("\n"):
        text += "\n"
    if is_stdout(output):
        sys.stdout.write(text)
        return
    target = Path(output)  # type: ignore[arg-type]
    check_output(target, inputs)
    directory = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise AidcError(f"{target}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o666 & ~_UMASK)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)  # replaces a link at `target` itself, never what it points to
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise AidcError(f"{target}: cannot write ({exc.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- structured text ---------------------------------------------------------------------------

MAX_DEPTH = 64  # nesting of mappings and lists; real stack files and plans stay under 20
MAX_YAML_NODES = 100_000  # after alias expansion; a stack file has a few hundred
MAX_YAML_ALIASES = 100


KeyPath = tuple[Any, ...]


def load_yaml(text: str, where: str) -> Any:
    """YAML as PyYAML's safe loader reads it, except that a key given twice, nesting deeper than
    MAX_DEPTH, and aliases that expand to more than MAX_YAML_NODES nodes (a "billion laughs"
    bomb of a few hundred bytes) are errors naming `where` and the line."""
    return load_yaml_with_lines(text, where, lines=None)


def load_yaml_with_lines(text: str, where: str, lines: dict[KeyPath, int] | None) -> Any:
    """`load_yaml`, also filling `lines` (when given) with the 1-based line of every mapping
    key and sequence item by its path from the document root: ("config", "aidc:gpu_pools",
    "h100-mega") -> 52, ("config", "aidc:zones", 0) -> 5. The walk stays within the same
    bounds (each node once per path, at most MAX_YAML_NODES paths after alias expansion)."""
    loader = None
    try:
        loader = _BoundedLoader(text, where, lines)
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise AidcError(f"{where}: YAML does not parse{at}: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, text: str, where: str, lines: dict[KeyPath, int] | None = None) -> None:
        super().__init__(text)
        self._where = where
        self._depth = 0
        self._aliases = 0
        self._lines = lines

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise AidcError(f"{self._where}: more than {MAX_YAML_ALIASES} YAML aliases; "
                                "write the values out instead")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise AidcError(f"{self._where}: line {line}: YAML nested deeper than "
                                f"{MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        _expanded_size(node, self._where, {}, set())
        if self._lines is not None:
            _key_lines(node, (), self._lines)
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: the constructor reports it as PyYAML does
                if first is not None:
                    raise AidcError(f"{self._where}: line {line}: key {str(key)[:80]!r} is given "
                                    f"twice (first at line {first}); YAML keeps only the last, "
                                    "so remove one")
                seen[key] = line
        return super().construct_mapping(node, deep)


def _expanded_size(node: Any, where: str, sizes: dict[int, int], path: set[int]) -> int:
    """How many nodes `node` becomes once every alias is expanded (memoised per node, so the
    walk itself stays linear in the document)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in path:
        raise AidcError(f"{where}: line {node.start_mark.line + 1}: a YAML alias refers to "
                        "itself (a value contains its own anchor, e.g. `&a [*a]`); replace the "
                        "alias with a plain value")
    path.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, where, sizes, path) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, where, sizes, path) + _expanded_size(v, where, sizes, path)
                    for k, v in node.value)
    path.discard(key)
    if size > MAX_YAML_NODES:
        raise AidcError(f"{where}: YAML aliases expand to more than {MAX_YAML_NODES:,} values "
                        f"(line {node.start_mark.line + 1}); write the values out instead")
    sizes[key] = size
    return size


def _key_lines(node: Any, path: KeyPath, out: dict[KeyPath, int]) -> None:
    """Line of each key and item under `node` (scalar keys only; the first wins)."""
    stack = [(node, path)]
    while stack:
        current, at = stack.pop()
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                child = (*at, key_node.value)
                out.setdefault(child, key_node.start_mark.line + 1)
                stack.append((value_node, child))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                child = (*at, i)
                out.setdefault(child, item.start_mark.line + 1)
                stack.append((item, child))


def parse_json(text: str, where: str) -> Any:
    """JSON with what other parsers refuse refused here too: NaN and Infinity, numbers no
    double can hold (a 400-digit integer, 1e400), nesting deeper than MAX_DEPTH."""
    def number(literal: str) -> float | int:
        try:
            value: float | int = float(literal) if any(c in literal for c in ".eE") else int(literal)
            finite = math.isfinite(float(value))
        except (OverflowError, ValueError):
            finite = False
        if not finite:
            raise ValueError(f"number {literal[:40]}{'...' if len(literal) > 40 else ''} "
                             "is out of range")
        return value

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        value = json.loads(text, parse_int=number, parse_float=number, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise AidcError(f"{where}: not valid JSON at line {exc.lineno}, column {exc.colno}: "
                        f"{exc.msg}") from None
    except (ValueError, OverflowError) as exc:
        raise AidcError(f"{where}: {exc}") from None
    except RecursionError:
        raise AidcError(f"{where}: JSON nested deeper than {MAX_DEPTH} levels") from None
    if _depth(value) > MAX_DEPTH:
        raise AidcError(f"{where}: JSON nested deeper than {MAX_DEPTH} levels")
    return value


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
    return depth - 1
