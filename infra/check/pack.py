"""The policy pack process: started the way the Pulumi engine starts it, handshaken, stopped.

`pulumi preview --policy-pack DIR` runs `python -u -m pulumi.policy <engineAddress> .` in the pack
directory and reads the gRPC port the pack prints; so do we. We serve the engine address too (a
Log sink), so a pack that logs does not fail. The process is always stopped (terminate, then
kill), on errors and on Ctrl-C too, and the pack exits by itself if we are killed outright.
What is said over the connection is `infra.check.protocol`'s business.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from infra.check import forward
from infra.check.protocol import PackInfo, pack_info
from infra.errors import AidcError
from policies.protocol import SPEEDUPS_ENV

DEFAULT_PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
STOP_TIMEOUT_SECONDS = 5.0
# Requests in flight at once: enough to keep the pack's 4 worker threads busy while we encode
# the next ones, few enough that a failure is reported promptly.
MAX_IN_FLIGHT = 8


class _Engine(engine_pb2_grpc.EngineServicer):
    """What the pack may call back on: Log (captured), Get/SetRootResource (no-ops)."""

    def __init__(self) -> None:
        self.logs: list[tuple[int, str, str]] = []
        self._lock = threading.Lock()

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
        with self._lock:
            if len(self.logs) < 10_000:
                self.logs.append((request.severity, request.message, request.urn))
        return empty_pb2.Empty()

    def since(self, start: int) -> list[tuple[int, str, str]]:
        with self._lock:
            return self.logs[start:]

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.SetRootResourceResponse()


def _drain(stream: Any, sink: deque[str], first_line: queue.Queue[str | None] | None) -> None:
    """Read a pipe to its end (so the pack never blocks on a full pipe); hand over line one."""
    try:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if first_line is not None:
                first_line.put(line)
                first_line = None
            else:
                sink.append(line)
    except (OSError, ValueError):
        pass
    finally:
        if first_line is not None:
            first_line.put(None)


class _StartFailure(Exception):
    """Raised inside `_start`; `start` stops the pack first, then adds its stderr tail."""


def pack_environment(base: Mapping[str, str], *, project: str = "", stack: str = "",
                     stack_config: Mapping[str, str] | None = None,
                     speedups: bool = True) -> dict[str, str]:
    """The pack's environment, as the engine sets it for a preview, plus our speed-up opt-in
    (the pack runs the stock pulumi-policy SDK unless asked; see policies/pack.py)."""
    env = dict(base)
    env["PULUMI_DRY_RUN"] = "true"
    if project and stack:
        env["PULUMI_PROJECT"], env["PULUMI_STACK"] = project, stack
    if stack_config:
        env["PULUMI_CONFIG"] = json.dumps(dict(stack_config))
    if speedups:
        env[SPEEDUPS_ENV] = "1"
    else:
        env.pop(SPEEDUPS_ENV, None)
    return env


class PackProcess:
    """One running pack: `start` (process, port, handshake, GetAnalyzerInfo), calls, `close`."""

    def __init__(self, pack_dir: Path = DEFAULT_PACK_DIR, *, project: str = "",
                 stack: str = "", stack_config: Mapping[str, str] | None = None,
                 start_timeout: float | None = None, speedups: bool = True) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.stack_config = dict(stack_config or {})
        try:
            self.call_timeout = forward.pack_timeout()
        except ValueError as exc:
            raise AidcError(str(exc)) from None
        self.start_timeout = self.call_timeout if start_timeout is None else start_timeout
        self.speedups = speedups
        self.info: PackInfo | None = None
        self.start_seconds = 0.0
        self.address = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: Any = None
        self._engine = _Engine()
        self._engine_server: grpc.Server | None = None
        self._stderr: deque[str] = deque(maxlen=200)
        self._stdout: deque[str] = deque(maxlen=200)
        self._threads: list[threading.Thread] = []

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def logs(self) -> list[tuple[int, str, str]]:
        """(severity, message, urn) of everything the pack logged to the engine."""
        return list(self._engine.logs)

    def logs_since(self, start: int) -> list[tuple[int, str, str]]:
        return self._engine.since(start)

    @property
    def output(self) -> list[str]:
        """The last lines the pack wrote to stdout (after its port) and stderr."""
        return [*self._stdout, *self._stderr]

    def _label(self) -> str:
        return f"policy pack {self.pack_dir}"

    def _stderr_tail(self, lines: int = 12) -> str:
        tail = [line for line in self._stderr if line.strip()][-lines:]
        return ("; its stderr ends with:\n  " + "\n  ".join(tail)) if tail else (
            "; it wrote nothing to stderr")

    def start(self) -> PackInfo:
        """Start the pack and read its metadata; AidcError (process stopped) if it cannot."""
        if self.info is not None:
            return self.info
        t0 = time.perf_counter()
        if not self.pack_dir.is_dir():
            raise AidcError(f"{self._label()}: no such directory")
        if not (self.pack_dir / "PulumiPolicy.yaml").is_file():
            raise AidcError(f"{self._label()}: no PulumiPolicy.yaml, so it is not a policy pack")
        try:
            self._start()
        except _StartFailure as failure:
            self.close()
            raise AidcError(f"{self._label()} {failure}{self._stderr_tail()}") from None
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.perf_counter() - t0
        assert self.info is not None
        return self.info

    def _start(self) -> None:
        self._engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2),
                                          options=forward.GRPC_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self._engine, self._engine_server)
        engine_port = self._engine_server.add_insecure_port("127.0.0.1:0")
        self._engine_server.start()

        env = pack_environment(os.environ, project=self.project, stack=self.stack,
                               stack_config=self.stack_config, speedups=self.speedups)
        # A session (and process group) of its own: stopping the pack stops whatever it started,
        # so no child of it can keep our pipes open or outlive the check.
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", f"127.0.0.1:{engine_port}", "."],
            cwd=self.pack_dir, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        first: queue.Queue[str | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=_drain, args=(self._proc.stdout, self._stdout, first),
                             daemon=True, name="policy-pack-stdout"),
            threading.Thread(target=_drain, args=(self._proc.stderr, self._stderr, None),
                             daemon=True, name="policy-pack-stderr"),
        ]
        for t in self._threads:
            t.start()

        deadline = time.monotonic() + self.start_timeout
        try:
            line = first.get(timeout=self.start_timeout)
        except queue.Empty:
            raise _StartFailure(f"did not print its port within {self.start_timeout:g}s") from None
        if line is None:
            code = self._proc.wait(timeout=STOP_TIMEOUT_SECONDS)
            raise _StartFailure(f"failed to start (exit code {code})")
        try:
            port = int(line.strip())
            if not 0 < port < 65536:
                raise ValueError(line)
        except ValueError:
            raise _StartFailure(f"printed {line[:120]!r} instead of its gRPC port") from None

        self.address = f"127.0.0.1:{port}"
        self._channel = grpc.insecure_channel(self.address, options=forward.GRPC_OPTIONS)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        # The engine's first call. wait_for_ready (not channel_ready_future, whose polling thread
        # makes channel.close() take 200 ms) also waits for the server to accept connections.
        handshake = analyzer_pb2.AnalyzerHandshakeRequest(
            engine_address=f"127.0.0.1:{engine_port}", root_directory=str(self.pack_dir),
            program_directory=str(self.pack_dir))
        try:
            self._stub.Handshake(handshake, wait_for_ready=True,
                                 timeout=max(1.0, deadline - time.monotonic()))
        except grpc.RpcError as exc:
            code = exc.code()  # type: ignore[attr-defined]
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise _StartFailure(f"printed port {port} but does not accept "
                                    "connections") from None
            if code != grpc.StatusCode.UNIMPLEMENTED:  # Python packs do not implement it
                raise self.rpc_error("Handshake", exc) from None
        self.info = pack_info(self.call("GetAnalyzerInfo", empty_pb2.Empty()))

    def close(self) -> None:
        """Stop the pack: terminate, then kill; idempotent."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                _signal_group(proc, signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    pass
                _signal_group(proc, signal.SIGKILL)  # and anything it started, still running
                proc.wait(timeout=STOP_TIMEOUT_SECONDS)
            finally:
                for t in self._threads:  # the pipes hit EOF now; keep the last stderr lines
                    t.join(timeout=STOP_TIMEOUT_SECONDS)
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        stream.close()
        if self._engine_server is not None:
            self._engine_server.stop(grace=None)
            self._engine_server = None
        self._stub = None
        self.info = None  # a later start() starts a fresh process

    # -- calls --

    def call(self, method: str, request: Any) -> Any:
        """One unary call; a failure is an AidcError naming the pack and the method."""
        try:
            return getattr(self._stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as exc:
            raise self.rpc_error(method, exc) from None

    def call_if_implemented(self, method: str, request: Any) -> Any | None:
        """`call` for a method older packs lack (ConfigureStack): None if unimplemented."""
        try:
            return getattr(self._stub, method)(request, timeout=self.call_timeout)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                raise self.rpc_error(method, exc) from None
            return None

    def analyze_all(self, requests: Iterable[tuple[str, Any]]) -> list[Any]:
        """The AnalyzeResponse to each (urn, AnalyzeRequest), in order, asked with a few in
        flight; `requests` may be a generator, so the next is encoded while the pack works."""
        out: list[Any] = []
        urns: list[str] = []
        pending: deque[tuple[int, Any]] = deque()

        def collect() -> None:
            i, fut = pending.popleft()
            try:
                out[i] = fut.result()
            except grpc.RpcError as exc:
                for _, other in pending:
                    other.cancel()
                raise self.rpc_error(f"Analyze({urns[i]})", exc) from None

        for i, (urn, request) in enumerate(requests):
            out.append(None)
            urns.append(urn)
            pending.append((i, self._stub.Analyze.future(request, timeout=self.call_timeout)))
            if len(pending) >= MAX_IN_FLIGHT:
                collect()
        while pending:
            collect()
        return out

    def rpc_error(self, what: str, exc: grpc.RpcError) -> AidcError:
        details = exc.details() if hasattr(exc, "details") else str(exc)  # type: ignore[attr-defined]
        if getattr(exc, "code", lambda: None)() == grpc.StatusCode.DEADLINE_EXCEEDED:
            details = (f"no answer within {self.call_timeout:g} s (set ${forward.PACK_TIMEOUT_ENV} "
                       "for a slower pack)")
        name = self.info.name if self.info else str(self.pack_dir)
        return AidcError(f"policy pack {name} failed in {what}: {details}" + (
            self._stderr_tail() if self._proc is not None and self._proc.poll() is not None
            else ""))


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the pack's whole process group (it leads its own session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
