"""Run a Python policy pack over a Plan through the Pulumi analyzer protocol, as the engine does.

The pack is started the way `pulumi preview --policy-pack DIR` starts it,
`python -u -m pulumi.policy <engineAddress> .` in the pack directory; it prints its gRPC port.
We then call GetAnalyzerInfo, Configure (the pack config reconciled with the pack's defaults
exactly as the engine reconciles it), ConfigureStack, Analyze once per custom resource and
AnalyzeStack once, and turn the diagnostics into a `CheckResult`. So a pack that passes here
passes under the Pulumi CLI, unchanged, and vice versa.

    with PolicyAnalyzer(project=..., stack=...) as analyzer:
        analyzer.begin(project=..., stack=..., pack_config=settings.to_pack_config())
        plan = plan_stack(..., on_resource=analyzer.submit)   # Analyze as resources register
        result = analyzer.check(plan)                        # the rest, AnalyzeStack, verdict

Like the engine during a preview, `aidc check` sends each resource to Analyze as soon as it is
registered, so the pack works while the plan is still being built; the calls go out through a
forwarder process (infra/check/forward.py) so that the plan does not pay for them. `check(plan)`
alone (or `check_plan(plan)`, which also starts and stops the pack) analyzes a finished plan.
The pack process is always stopped (terminate, then kill), on errors and on Ctrl-C too.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from google.protobuf.message import DecodeError
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc

from infra.check import forward
from infra.engine.plan import STACK_TYPE, UNKNOWN_PLACEHOLDER, Plan, PlanResource
from infra.check.results import CheckResult, Diagnostic, PolicyInfo, Violation
from infra.errors import AidcError
from policies.protocol import CIS_PREFIX, REFERENCE_PREFIXES, decode_waived

DEFAULT_PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 5.0
CALL_TIMEOUT_SECONDS = forward.CALL_TIMEOUT_SECONDS
# Requests in flight at once: enough to keep the pack's 4 worker threads busy while we encode
# the next ones, few enough that a failure is reported promptly.
MAX_IN_FLIGHT = 8

# What the engine sends for a value unknown at preview (pulumi's UnknownStringValue).
ENGINE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
NOT_VERIFIABLE = "not verifiable at preview"

_GRPC_OPTIONS = forward.GRPC_OPTIONS
_ENFORCEMENT_TO_PROTO = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_ENFORCEMENT_FROM_PROTO = {v: k for k, v in _ENFORCEMENT_TO_PROTO.items()}
_SEVERITY_FROM_PROTO = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


# --- what the pack says about itself -----------------------------------------------------------

@dataclass(frozen=True)
class PackPolicy:
    """One policy as GetAnalyzerInfo describes it (built-in enforcement, before config)."""

    name: str
    description: str
    severity: str
    enforcement: str
    stack: bool
    remediation: str = ""
    url: str = ""
    tags: tuple[str, ...] = ()
    display_name: str = ""
    framework: Mapping[str, str] = field(default_factory=dict)
    config_schema: Mapping[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @property
    def references(self) -> tuple[str, ...]:
        """CIS items, Checkov ids, policy-library templates, Pulumi policies, from the tags."""
        refs = [t for t in self.tags if t.startswith(REFERENCE_PREFIXES)]
        if self.framework.get("name") and not any(t.startswith(CIS_PREFIX) for t in refs):
            refs.insert(0, " ".join(filter(None, (self.framework.get("name"),
                                                  self.framework.get("version"),
                                                  self.framework.get("reference")))))
        return tuple(refs)

    def info(self, enforcement: str | None = None) -> PolicyInfo:
        return PolicyInfo(name=self.name, description=self.description, severity=self.severity,
                          enforcement=enforcement or self.enforcement, references=self.references,
                          remediation=self.remediation, url=self.url)


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    description: str
    policies: tuple[PackPolicy, ...]
    initial_config: Mapping[str, tuple[str | None, Mapping[str, Any]]]

    def by_name(self) -> dict[str, PackPolicy]:
        return {p.name: p for p in self.policies}


def _pack_info(resp: Any) -> PackInfo:
    policies = []
    for p in resp.policies:
        schema = json_format.MessageToDict(p.configSchema.properties) if p.HasField(
            "configSchema") else {}
        policies.append(PackPolicy(
            name=p.name,
            description=p.description,
            severity=_SEVERITY_FROM_PROTO.get(p.severity, "medium"),
            enforcement=_ENFORCEMENT_FROM_PROTO.get(p.enforcementLevel, "advisory"),
            stack=p.policy_type == analyzer_pb2.POLICY_TYPE_STACK,
            remediation=p.remediation_steps,
            url=p.url,
            tags=tuple(p.tags),
            display_name=p.displayName,
            framework={k: v for k, v in (("name", p.framework.name),
                                         ("version", p.framework.version),
                                         ("reference", p.framework.reference)) if v},
            config_schema=schema,
            required=tuple(p.configSchema.required),
        ))
    initial = {}
    for name, cfg in resp.initialConfig.items():
        level = _ENFORCEMENT_FROM_PROTO.get(cfg.enforcementLevel)
        # proto3 cannot tell "advisory" (0) from "not given"; the engine reads it the same way.
        initial[name] = (level, json_format.MessageToDict(cfg.properties))
    return PackInfo(name=resp.name, version=resp.version, description=resp.description,
                    policies=tuple(policies), initial_config=initial)


# --- the engine's side: a Log sink so a pack that logs does not fail --------------------------

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


# --- building requests -------------------------------------------------------------------------

def _engine_value(value: Any) -> Any:
    """The value as the engine marshals it: the plan's unknown placeholder → pulumi's sentinel.
    Returns the same object when nothing changes (the common case), so no copy is made."""
    if isinstance(value, str):
        return ENGINE_UNKNOWN if value == UNKNOWN_PLACEHOLDER else value
    if isinstance(value, dict):
        changed = None
        for k, v in value.items():
            new = _engine_value(v)
            if new is not v:
                if changed is None:
                    changed = dict(value)
                changed[k] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items = [_engine_value(v) for v in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    return value


def _struct(inputs: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    if inputs:
        try:
            out.update(_engine_value(dict(inputs)))
        except (TypeError, ValueError):  # values Struct.update cannot take: go through JSON
            json_format.ParseDict(json.loads(json.dumps(_engine_value(dict(inputs)),
                                                        default=str)), out)
    return out


def _split_provider_ref(ref: str) -> str:
    """A provider reference is '<urn>::<id>'; a URN alone has three '::' separators."""
    return ref.rsplit("::", 1)[0] if ref.count("::") >= 4 else ref


def _urn_type_name(urn: str) -> tuple[str, str]:
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], "::".join(parts[3:])


class _Encoded:
    """Each resource encoded once, shared by Analyze and AnalyzeStack. Resources can be added
    as they are registered: a provider is always registered before the resources using it."""

    def __init__(self, resources: Iterable[PlanResource] = ()) -> None:
        self.by_urn: dict[str, PlanResource] = {}
        self.structs: dict[str, struct_pb2.Struct] = {}
        self._providers: dict[str, analyzer_pb2.AnalyzerProviderResource | None] = {}
        for r in resources:
            self.add(r)

    def add(self, r: PlanResource) -> struct_pb2.Struct:
        self.by_urn[r.urn] = r
        return self.struct(r)

    def struct(self, r: PlanResource) -> struct_pb2.Struct:
        if r.urn not in self.structs:
            self.structs[r.urn] = _struct(r.inputs)
        return self.structs[r.urn]

    def options(self, r: PlanResource) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=r.protect, parent=r.parent or "",
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts())

    def provider(self, r: PlanResource) -> analyzer_pb2.AnalyzerProviderResource | None:
        if not r.provider:
            return None
        if r.provider not in self._providers:
            urn = _split_provider_ref(r.provider)
            found = self.by_urn.get(urn)
            ptype, pname = (found.type, found.name) if found else _urn_type_name(urn)
            self._providers[r.provider] = analyzer_pb2.AnalyzerProviderResource(
                type=ptype, urn=urn, name=pname,
                properties=_struct(found.inputs if found else {}))
        return self._providers[r.provider]

    def request(self, r: PlanResource, props: struct_pb2.Struct) -> analyzer_pb2.AnalyzeRequest:
        return analyzer_pb2.AnalyzeRequest(type=r.type, properties=props, urn=r.urn, name=r.name,
                                           options=self.options(r), provider=self.provider(r))

    def stack_resource(self, r: PlanResource, props: struct_pb2.Struct) -> Any:
        deps = {k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                for k, v in r.property_dependencies.items() if v}
        return analyzer_pb2.AnalyzerResource(
            type=r.type, properties=props, urn=r.urn, name=r.name, options=self.options(r),
            provider=self.provider(r), parent=r.parent or "", dependencies=list(r.dependencies),
            propertyDependencies=deps)


# --- config: the engine's reconciliation --------------------------------------------------------

def _normalize_entry(key: str, value: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(value, str):
        level, props = value, {}
    elif isinstance(value, Mapping):
        props = dict(value)
        level = props.pop("enforcementLevel", None)
    else:
        raise AidcError(f"policy pack config {key!r}: {value!r} is not valid; give an "
                        "enforcement level or an object of properties")
    if level is not None and level not in _ENFORCEMENT_TO_PROTO:
        raise AidcError(f"policy pack config {key!r}: enforcement level {level!r} is not one of "
                        f"{', '.join(_ENFORCEMENT_TO_PROTO)}")
    return level, props


def _waiver_fields(waiver: Any) -> tuple[str, str, str]:
    if isinstance(waiver, Mapping):
        policy, resource, reason = (waiver.get("policy"), waiver.get("resource"),
                                    waiver.get("reason"))
    else:
        policy, resource, reason = (getattr(waiver, "policy", None),
                                    getattr(waiver, "resource", None),
                                    getattr(waiver, "reason", None))
    if not policy or not resource or not str(reason or "").strip():
        raise AidcError(f"waiver {waiver!r}: needs a policy, a resource and a non-empty reason")
    return str(policy), str(resource), str(reason).strip()


def reconcile_config(info: PackInfo, pack_config: Mapping[str, Any] | None,
                     waivers: Iterable[Any] = ()) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each policy's (enforcement, properties), as `pulumi preview` computes it.

    Schema defaults and built-in levels first, then the pack's initial config, then the given
    config (`"all"` first, then per policy), then `waivers` appended to each policy's `waivers`
    property. Unknown policy names and properties the schema rejects raise AidcError.
    """
    policies = info.by_name()
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    for p in info.policies:
        defaults = {k: v["default"] for k, v in p.config_schema.items()
                    if isinstance(v, Mapping) and "default" in v}
        result[p.name] = (p.enforcement, defaults)

    def apply(config: Mapping[str, tuple[str | None, dict[str, Any]]]) -> None:
        if "all" in config and config["all"][0]:
            for name, (_, props) in result.items():
                result[name] = (config["all"][0] or "advisory", props)
        for name, (level, props) in config.items():
            if name == "all":
                continue
            old_level, old_props = result[name]
            result[name] = (level or old_level, {**old_props, **props})

    apply({k: v for k, v in info.initial_config.items() if k in result})
    given = {str(k): _normalize_entry(str(k), v) for k, v in (pack_config or {}).items()}
    unknown = sorted(set(given) - set(policies) - {"all"})
    if unknown:
        raise AidcError(f"policy pack config names unknown policies {', '.join(unknown)}; "
                        f"{info.name} has: {', '.join(sorted(policies))}")
    apply(given)

    for waiver in waivers:
        policy, resource, reason = _waiver_fields(waiver)
        if policy not in policies:
            raise AidcError(f"waiver for unknown policy {policy!r}; {info.name} has: "
                            f"{', '.join(sorted(policies))}")
        if "waivers" in policies[policy].config_schema:
            level, props = result[policy]
            entries = list(props.get("waivers") or [])
            entries.append({"resource": resource, "reason": reason})
            result[policy] = (level, {**props, "waivers": entries})

    errors = []
    for name, (_, props) in result.items():
        p = policies[name]
        if not p.config_schema and not p.required:
            continue
        schema = {"type": "object", "properties": dict(p.config_schema)}
        if p.required:
            schema["required"] = list(p.required)
        for err in jsonschema.Draft7Validator(schema).iter_errors(props):
            where = ".".join(str(x) for x in err.absolute_path)
            errors.append(f"{name}{'.' + where if where else ''}: {err.message}")
    if errors:
        raise AidcError("policy pack config is invalid: " + "; ".join(errors))
    return result


def _configure_request(config: Mapping[str, tuple[str, dict[str, Any]]]) -> Any:
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, (level, props) in config.items():
        entry = request.policyConfig[name]
        entry.enforcementLevel = _ENFORCEMENT_TO_PROTO[level]
        if props:
            entry.properties.update(props)
    return request


# --- the analyzer -------------------------------------------------------------------------------

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


@dataclass
class _Session:
    """One check in progress: the reconciled config, and the resources sent to Analyze while
    the plan was being built (through the forwarder process, see infra/check/forward.py)."""

    config: dict[str, tuple[str, dict[str, Any]]]
    waivers: list[Any]
    logs_before: int
    configure_seconds: float
    forwarder: subprocess.Popen[bytes] | None = None
    encoded: _Encoded = field(default_factory=_Encoded)
    sent: list[str] = field(default_factory=list)  # URNs, by forwarder key

    def collect(self) -> dict[str, Any]:
        """The AnalyzeResponse of each resource sent and answered; failed calls are left out
        (`check` asks those again itself, and reports the error if it recurs)."""
        proc, self.forwarder = self.forwarder, None
        if proc is None:
            return {}
        answers: dict[str, Any] = {}
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            for key, status, payload in forward.read_frames(proc.stdout):
                if status == 0 and key < len(self.sent):
                    answers[self.sent[key]] = analyzer_pb2.AnalyzeResponse.FromString(payload)
        except (OSError, ValueError, DecodeError):  # a broken forwarder: `check` asks itself
            answers.clear()
        finally:
            _stop(proc)
        return answers

    def abandon(self) -> None:
        proc, self.forwarder = self.forwarder, None
        if proc is not None:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=STOP_TIMEOUT_SECONDS)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


class PolicyAnalyzer:
    """A running policy pack: start once, check many plans, always stopped on exit."""

    def __init__(self, pack_dir: Path = DEFAULT_PACK_DIR, *, project: str = "",
                 stack: str = "", stack_config: Mapping[str, str] | None = None,
                 start_timeout: float = START_TIMEOUT_SECONDS) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.stack_config = dict(stack_config or {})
        self.start_timeout = start_timeout
        self.info: PackInfo | None = None
        self.start_seconds = 0.0
        # (policy, urn, reason) of every "not applicable" in the last check ("" urn: the stack).
        self.last_not_applicable: list[tuple[str, str, str]] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: Any = None
        self._engine = _Engine()
        self._engine_server: grpc.Server | None = None
        self._stderr: deque[str] = deque(maxlen=200)
        self._stdout: deque[str] = deque(maxlen=200)
        self._threads: list[threading.Thread] = []
        self._session: _Session | None = None
        self._address = ""
        self._beginner: threading.Thread | None = None
        self._begin_error: BaseException | None = None
        self._early: list[PlanResource] | None = None
        self._submit_lock = threading.Lock()

    # -- lifecycle --

    def __enter__(self) -> PolicyAnalyzer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def engine_logs(self) -> list[tuple[int, str, str]]:
        """(severity, message, urn) of everything the pack logged to the engine."""
        return list(self._engine.logs)

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
                                          options=_GRPC_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self._engine, self._engine_server)
        engine_port = self._engine_server.add_insecure_port("127.0.0.1:0")
        self._engine_server.start()

        env = dict(os.environ)
        env["PULUMI_DRY_RUN"] = "true"
        if self.project and self.stack:
            env["PULUMI_PROJECT"], env["PULUMI_STACK"] = self.project, self.stack
        if self.stack_config:
            env["PULUMI_CONFIG"] = json.dumps(self.stack_config)
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.policy", f"127.0.0.1:{engine_port}", "."],
            cwd=self.pack_dir, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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

        self._address = f"127.0.0.1:{port}"
        self._channel = grpc.insecure_channel(self._address, options=_GRPC_OPTIONS)
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
                raise self._rpc_error("Handshake", exc) from None
        self.info = _pack_info(self._call("GetAnalyzerInfo", empty_pb2.Empty()))

    def close(self) -> None:
        """Stop the pack: terminate, then kill; idempotent."""
        beginner = self._beginner
        if beginner is not None and beginner is not threading.current_thread():
            beginner.join()  # let a start in progress finish, then stop it all
            self._beginner = None
        if self._session is not None:  # a plan that failed: stop its forwarder
            session, self._session = self._session, None
            session.abandon()
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=STOP_TIMEOUT_SECONDS)
                    except subprocess.TimeoutExpired:
                        proc.kill()
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

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self._stub, method)(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            raise self._rpc_error(method, exc) from None

    def _rpc_error(self, what: str, exc: grpc.RpcError) -> AidcError:
        details = exc.details() if hasattr(exc, "details") else str(exc)  # type: ignore[attr-defined]
        name = self.info.name if self.info else str(self.pack_dir)
        return AidcError(f"policy pack {name} failed in {what}: {details}" + (
            self._stderr_tail() if self._proc is not None and self._proc.poll() is not None
            else ""))

    # -- checking --

    def begin(self, *, project: str, stack: str, pack_config: Mapping[str, Any] | None = None,
              waivers: Iterable[Any] = (), stream: bool = True) -> None:
        """Configure the pack for one check before the plan exists; with `stream`, `submit`
        then sends each resource to Analyze as it is registered (as the engine does during a
        preview) while the rest of the plan is still being built."""
        info = self.start()
        t0 = time.perf_counter()
        waivers = list(waivers)
        config = reconcile_config(info, pack_config, waivers)
        self._call("Configure", _configure_request(config))
        self._configure_stack(project, stack)
        forwarder = subprocess.Popen(
            [sys.executable, "-m", "infra.check.forward", self._address],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL) if stream else None
        self._session = _Session(config=config, waivers=waivers, forwarder=forwarder,
                                 logs_before=len(self._engine.logs),
                                 configure_seconds=time.perf_counter() - t0)

    def begin_in_background(self, *, project: str, stack: str,
                            pack_config: Mapping[str, Any] | None = None) -> None:
        """`start` and `begin` on a thread of their own, so the pack starts while the plan
        does; what is submitted meanwhile is sent as soon as the pack is ready. A failure to
        start is raised by `check`; `close` waits for a start in progress and stops it."""
        self._early = []

        def run() -> None:
            try:
                self.begin(project=project, stack=stack, pack_config=pack_config)
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                self._begin_error = exc
            with self._submit_lock:
                early, self._early = self._early, None
                for resource in early or ():
                    self._submit(resource)

        self._beginner = threading.Thread(target=run, daemon=True, name="policy-pack-start")
        self._beginner.start()

    def _wait_for_beginner(self) -> None:
        beginner, self._beginner = self._beginner, None
        if beginner is not None:
            beginner.join()
        error, self._begin_error = self._begin_error, None
        if error is not None:
            raise error

    def submit(self, resource: PlanResource) -> None:
        """Send one registered resource to Analyze now (through the forwarder process, so the
        plan does not pay for the call); `check` collects the answers."""
        with self._submit_lock:
            if self._early is not None:  # the pack is still starting
                self._early.append(resource)
            else:
                self._submit(resource)

    def _submit(self, resource: PlanResource) -> None:
        session = self._session
        if session is None:
            return
        session.encoded.by_urn[resource.urn] = resource
        proc = session.forwarder
        if not resource.custom or proc is None or proc.stdin is None:
            return
        request = session.encoded.request(resource, session.encoded.struct(resource))
        try:
            forward.write_frame(proc.stdin, len(session.sent), 0, request.SerializeToString())
        except OSError:  # the forwarder is gone: `check` asks for everything itself
            session.abandon()
            return
        session.sent.append(resource.urn)

    def check(self, plan: Plan, *, pack_config: Mapping[str, Any] | None = None,
              waivers: Iterable[Any] = ()) -> CheckResult:
        """Analyze every resource and the stack; the verdict on `plan`. Configures the pack
        first unless `begin` did (then `pack_config` and `waivers` are those given there)."""
        self._wait_for_beginner()
        info = self.start()
        t0 = time.perf_counter()
        begun_earlier = self._session is not None
        if not begun_earlier:
            self.begin(project=plan.project, stack=plan.stack, pack_config=pack_config,
                       waivers=waivers, stream=False)
        session, self._session = self._session, None
        assert session is not None
        earlier = session.configure_seconds if begun_earlier else 0.0
        t_config = time.perf_counter()
        answers = session.collect()

        encoded = session.encoded
        for r in plan.resources:
            encoded.add(r)
        customs = [r for r in plan.resources if r.custom]
        responses = self._analyze_all(encoded, customs, answers)
        t_analyze = time.perf_counter()
        stack_response = self._call("AnalyzeStack", analyzer_pb2.AnalyzeStackRequest(
            resources=[encoded.stack_resource(r, encoded.structs[r.urn]) for r in plan.resources]))
        t_stack = time.perf_counter()

        config = session.config
        self.last_not_applicable = []
        violations, diagnostics = _interpret(
            plan, info, config, [(r.urn, resp) for r, resp in zip(customs, responses)]
            + [("", stack_response)], self.last_not_applicable)
        violations = _mark_waivers(violations, config, session.waivers, plan)
        diagnostics += [  # what the pack logged as a warning or error while judging this plan
            Diagnostic(policy="", urn=urn, message=f"{info.name} logged: {message}")
            for severity, message, urn in self._engine.since(session.logs_before)
            if severity >= engine_pb2.WARNING]
        effective = {name: level for name, (level, _) in config.items()}
        policies = [p.info(effective.get(p.name)) for p in info.policies]
        t_end = time.perf_counter()
        return CheckResult(
            plan=plan, pack_name=info.name, policies=policies, violations=violations,
            diagnostics=diagnostics,
            timings={"policy_seconds": t_end - t0 + earlier,
                     "policy_configure_seconds": t_config - t0 + earlier,
                     "policy_analyze_seconds": t_analyze - t_config,
                     "policy_stack_seconds": t_stack - t_analyze,
                     "policy_start_seconds": self.start_seconds,
                     "policy_analyzed_during_plan": float(len(answers))})

    def _configure_stack(self, project: str, stack: str) -> None:
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, dry_run=True)
        try:
            self._stub.ConfigureStack(request, timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:  # type: ignore[attr-defined]
                raise self._rpc_error("ConfigureStack", exc) from None

    def _analyze_all(self, encoded: _Encoded, resources: Sequence[PlanResource],
                     answered: Mapping[str, Any]) -> list[Any]:
        """Every resource's AnalyzeResponse: those answered during the plan, the rest asked now
        with a few in flight at once."""
        out: list[Any] = [None] * len(resources)
        pending: deque[tuple[int, Any]] = deque()

        def collect() -> None:
            i, fut = pending.popleft()
            try:
                out[i] = fut.result()
            except grpc.RpcError as exc:
                for _, other in pending:
                    other.cancel()
                raise self._rpc_error(f"Analyze({resources[i].urn})", exc) from None

        for i, r in enumerate(resources):
            if r.urn in answered:
                out[i] = answered[r.urn]
                continue
            pending.append((i, self._stub.Analyze.future(encoded.request(r, encoded.structs[r.urn]),
                                                         timeout=CALL_TIMEOUT_SECONDS)))
            if len(pending) >= MAX_IN_FLIGHT:
                collect()
        while pending:
            collect()
        return out


# --- interpreting responses ---------------------------------------------------------------------

def _strip_description(message: str, description: str) -> str:
    if description and message.startswith(description):
        rest = message[len(description):].lstrip("\n")
        return rest or message
    return message


def _interpret(plan: Plan, info: PackInfo, config: Mapping[str, tuple[str, dict[str, Any]]],
               responses: Iterable[tuple[str, Any]],
               not_applicable: list[tuple[str, str, str]] | None = None,
               ) -> tuple[list[Violation], list[Diagnostic]]:
    """Violations and diagnostics; `not_applicable` (if given) collects (policy, urn, reason)."""
    by_urn = plan.by_urn()
    policies = info.by_name()
    stack_name = f"{plan.project}-{plan.stack}".strip("-")
    violations: list[Violation] = []
    diagnostics: list[Diagnostic] = []

    def make(policy: str, urn: str, severity: str, enforcement: str, message: str,
             waiver: str | None = None) -> Violation:
        resource = by_urn.get(urn)
        p = policies.get(policy)
        return Violation(
            policy=policy, urn=urn,
            resource_type=resource.type if resource else STACK_TYPE,
            resource_name=resource.name if resource else stack_name,
            severity=severity or (p.severity if p else "medium"),
            enforcement=enforcement, message=message,
            remediation=p.remediation if p else "", waiver=waiver)

    for request_urn, response in responses:
        for d in response.diagnostics:
            urn = d.urn or request_urn
            marker = f"can't run policy '{d.policyName}'"
            if d.message.startswith(marker) and "during preview" in d.message:
                detail = d.message.split("during preview: ", 1)[-1]
                diagnostics.append(Diagnostic(policy=d.policyName, urn=urn,
                                              message=f"{NOT_VERIFIABLE}: {detail}"))
                continue
            level = _ENFORCEMENT_FROM_PROTO.get(d.enforcementLevel, "advisory")
            violations.append(make(
                d.policyName, urn, _SEVERITY_FROM_PROTO.get(d.severity, ""),
                "mandatory" if level == "remediate" else level,
                _strip_description(d.message, d.description)))
        for na in response.not_applicable:
            waived = decode_waived(na.reason)
            if waived is None:
                if not_applicable is not None:
                    not_applicable.append((na.policy_name, request_urn, na.reason))
                continue
            level = config.get(na.policy_name, ("advisory", {}))[0]
            for urn, reason, message in waived:
                violations.append(make(na.policy_name, urn or request_urn, "",
                                       "mandatory" if level == "remediate" else level,
                                       message, waiver=reason))
    return violations, diagnostics


def _mark_waivers(violations: list[Violation], config: Mapping[str, tuple[str, dict[str, Any]]],
                  waivers: Sequence[Any], plan: Plan) -> list[Violation]:
    """Waive what a pack without waiver support still reported (ours waives them itself)."""
    table: dict[tuple[str, str], str] = {}
    for name, (_, props) in config.items():
        for w in props.get("waivers") or ():
            if isinstance(w, Mapping) and w.get("resource") and str(w.get("reason", "")).strip():
                table.setdefault((name, str(w["resource"])), str(w["reason"]).strip())
    for w in waivers:
        policy, resource, reason = _waiver_fields(w)
        table.setdefault((policy, resource), reason)
    if not table:
        return violations
    out = []
    for v in violations:
        reason = None if v.waiver else (table.get((v.policy, v.urn))
                                        or table.get((v.policy, v.resource_name)))
        out.append(v if reason is None else Violation(**{**v.as_dict(), "waiver": reason}))
    return out


def check_plan(plan: Plan, *, pack_dir: Path = DEFAULT_PACK_DIR,
               pack_config: Mapping[str, Any] | None = None,
               waivers: Iterable[Any] = ()) -> CheckResult:
    """Start the pack, judge `plan`, stop the pack. `timings["policy_seconds"]` includes start."""
    t0 = time.perf_counter()
    with PolicyAnalyzer(pack_dir, project=plan.project, stack=plan.stack) as analyzer:
        result = analyzer.check(plan, pack_config=pack_config, waivers=waivers)
    result.timings["policy_seconds"] = time.perf_counter() - t0
    return result
