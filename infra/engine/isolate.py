"""Run a program in a child process that cannot end the gate's run on its behalf.

A program is code from the pull request. Run in-process, it could call `sys.exit(0)` or
`os._exit(0)` (or exec something else) and the CLI would end with 0 and no report; it could
loop forever. Here the program runs in a forked child (copy-on-write: nothing is imported
again), which streams what it registers to the parent over a pipe and ends with a "done"
record. The parent alone decides the verdict: no "done" record means no plan, whatever the
child's exit status, and a child that outlives the deadline is killed.

The child can also ask the parent a question and wait for its answer (`ask`): how a program's
`pulumi.StackReference` gets the referenced stack's outputs, which the parent plans in a child
of its own (never inside the running program, whose Pulumi runtime state is global). An error
the parent raises while answering ends the run with that error.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

from infra.errors import AidcError

DEFAULT_TIMEOUT_SECONDS = 180.0
TIMEOUT_ENV = "AIDC_PROGRAM_TIMEOUT"
_HEADER = struct.Struct("!cI")  # kind, payload length
_ITEM, _DONE, _FAILED, _ASK = b"i", b"d", b"f", b"a"
# In a child: (fd to the parent, fd of its answers); in the parent process: None.
_channel: tuple[int, int] | None = None


class ProgramFailed(AidcError):
    """The program raised, exited or was killed before its plan was complete."""


def timeout_seconds(given: float | None = None) -> float:
    """The deadline for a program run: `given`, else $AIDC_PROGRAM_TIMEOUT, else the default."""
    if given is None:
        raw = os.environ.get(TIMEOUT_ENV)
        if raw is None:
            return DEFAULT_TIMEOUT_SECONDS
        try:
            given = float(raw)
        except ValueError:
            raise AidcError(f"${TIMEOUT_ENV}={raw!r}: expected a number of seconds") from None
    if not 0 < given <= 86_400:
        raise AidcError(f"timeout {given!r}: give a number of seconds between 0 and 86400")
    return given


def ask(question: Any, answer: Callable[[Any], Any]) -> Any:
    """In a child of `run_isolated`: the parent's `on_ask(question)` (the run ends if it raises).
    Anywhere else: `answer(question)`, in this process."""
    if _channel is None:
        return answer(question)
    to_parent, answers = _channel
    _send(to_parent, _ASK, question)
    frame = _Reader(answers, DEFAULT_TIMEOUT_SECONDS * 100).frame()
    if frame is None:  # the parent is gone: nothing left to plan for
        os._exit(70)
    return frame[1]


def run_isolated(work: Callable[[Callable[[Any], None]], Any], *, timeout: float,
                 on_item: Callable[[Any], None] | None = None,
                 describe: Callable[[BaseException], str] = repr,
                 on_ask: Callable[[Any], Any] | None = None) -> Any:
    """`work(send)` in a forked child; each `send(item)` reaches `on_item` in this process, and
    what `work` returns is returned here. An exception in the child (SystemExit included) is a
    ProgramFailed carrying `describe(exc)`; so is a child that ends without finishing. A
    question the child `ask`s is answered by `on_ask` here; the time that takes does not count
    against `timeout`."""
    if not hasattr(os, "fork"):  # pragma: no cover - aidc runs on Linux and macOS
        return work(on_item or (lambda _: None))
    read_fd, write_fd = os.pipe()
    answer_read, answer_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        global _channel
        os.close(read_fd)
        os.close(answer_write)
        _channel = (write_fd, answer_read)
        _child(work, write_fd, describe)
    os.close(write_fd)
    os.close(answer_read)
    try:
        os.setpgid(pid, pid)  # also here, so _reap finds the group even if the child is slow
    except OSError:
        pass
    try:
        return _parent(pid, read_fd, timeout, on_item, on_ask, answer_write)
    finally:
        os.close(read_fd)
        os.close(answer_write)
        _reap(pid)


def _child(work: Callable[[Callable[[Any], None]], Any], fd: int,
           describe: Callable[[BaseException], str]) -> None:
    try:
        os.setpgid(0, 0)  # its own process group: whatever it starts ends with it
    except OSError:
        pass
    status = 0
    try:
        result = work(lambda item: _send(fd, _ITEM, item))
        _send(fd, _DONE, result)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        try:
            _send(fd, _FAILED, describe(exc))
        except BaseException:  # noqa: BLE001
            status = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)  # no interpreter shutdown: the parent owns the process's end


def _send(fd: int, kind: bytes, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(kind, len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _parent(pid: int, fd: int, timeout: float, on_item: Callable[[Any], None] | None,
            on_ask: Callable[[Any], Any] | None, answers: int) -> Any:
    reader = _Reader(fd, timeout)
    while True:
        frame = reader.frame()
        if frame is None:
            raise ProgramFailed(f"the program ended ({_exit_status(pid)}) before its plan was "
                                "complete: no plan, no verdict")
        kind, payload = frame
        if kind == _ITEM:
            if on_item is not None:
                on_item(payload)
        elif kind == _DONE:
            return payload
        elif kind == _ASK:
            if on_ask is None:
                raise ProgramFailed("the program asked a question this run cannot answer")
            started = time.monotonic()
            _send(answers, _ASK, on_ask(payload))
            reader.deadline += time.monotonic() - started
        else:
            raise ProgramFailed(payload)


class _Reader:
    """Length-prefixed frames from the child, each read by the deadline."""

    def __init__(self, fd: int, timeout: float) -> None:
        self.fd, self.timeout, self.buffer = fd, timeout, bytearray()
        self.deadline = time.monotonic() + timeout

    def _fill(self, size: int) -> bool:
        while len(self.buffer) < size:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise ProgramFailed(f"the program did not finish within {self.timeout:g} s; it "
                                    f"was stopped (raise the limit with --timeout or "
                                    f"${TIMEOUT_ENV})")
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return False
            self.buffer += chunk
        return True

    def frame(self) -> tuple[bytes, Any] | None:
        if not self._fill(_HEADER.size):
            return None
        kind, size = _HEADER.unpack(self.buffer[:_HEADER.size])
        if not self._fill(_HEADER.size + size):
            return None
        payload = pickle.loads(self.buffer[_HEADER.size:_HEADER.size + size])
        del self.buffer[:_HEADER.size + size]
        return kind, payload


def _exit_status(pid: int) -> str:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "exit status unknown"
    if os.WIFSIGNALED(status):
        return f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _reap(pid: int) -> None:
    """End the child's process group if anything is left of it, and collect the child."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
