"""Run a policy pack over a Plan through the Pulumi analyzer protocol, as the engine does.

The pack process (`infra.check.pack`) is started as `pulumi preview --policy-pack DIR` starts
it; we then call GetAnalyzerInfo, Configure (the pack config reconciled with the pack's defaults
exactly as the engine reconciles it, `infra.check.protocol`), ConfigureStack, Analyze once per
custom resource and AnalyzeStack once, and turn the diagnostics into a `CheckResult`. So a pack
that passes here passes under the Pulumi CLI, unchanged, and vice versa.

    with PolicyAnalyzer(project=..., stack=...) as analyzer:
        analyzer.begin(project=..., stack=..., pack_config=settings.to_pack_config())
        plan = plan_stack(..., on_resource=analyzer.submit)   # Analyze as resources register
        result = analyzer.check(plan)                        # the rest, AnalyzeStack, verdict

Like the engine during a preview, `aidc check` (`run_check`) sends each resource to Analyze as
soon as it is registered, so the pack works while the plan is still being built
(`infra.check.streaming`). `check(plan)` alone (or `check_plan(plan)`, which also starts and
stops the pack) analyzes a finished plan.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime.proto import analyzer_pb2, engine_pb2

from infra.check.pack import DEFAULT_PACK_DIR, PackProcess
from infra.check.protocol import (
    PackInfo,
    configure_request,
    interpret,
    mark_waivers,
    reconcile_config,
)
from infra.check.plan_checks import run_plan_checks, with_plan_checks
from infra.check.results import CheckResult, Diagnostic
from infra.check.streaming import Session, start_forwarder
from infra.config.load import read_stack_file
from infra.config.policy import PolicySettings, policy_settings_of, validate_policy_settings
from infra.engine.plan import Plan, PlanResource
from infra.errors import AidcError


class PolicyAnalyzer:
    """A running policy pack: start once, check many plans, always stopped on exit.

    `speedups` asks our pack to install its pulumi-policy speed-ups (policies/pack.py); other
    packs ignore it, and False runs the stock SDK, as `pulumi preview` does."""

    def __init__(self, pack_dir: Path = DEFAULT_PACK_DIR, *, project: str = "",
                 stack: str = "", stack_config: Mapping[str, str] | None = None,
                 start_timeout: float | None = None, speedups: bool = True) -> None:
        self._pack = PackProcess(pack_dir, project=project, stack=stack,
                                 stack_config=stack_config, start_timeout=start_timeout,
                                 speedups=speedups)
        # (policy, urn, reason) of every "not applicable" in the last check ("" urn: the stack).
        self.last_not_applicable: list[tuple[str, str, str]] = []
        self._session: Session | None = None
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
    def info(self) -> PackInfo | None:
        return self._pack.info

    @property
    def pid(self) -> int | None:
        return self._pack.pid

    @property
    def start_seconds(self) -> float:
        return self._pack.start_seconds

    @property
    def engine_logs(self) -> list[tuple[int, str, str]]:
        """(severity, message, urn) of everything the pack logged to the engine."""
        return self._pack.logs

    @property
    def pack_output(self) -> list[str]:
        """The last lines the pack process wrote to stdout and stderr."""
        return self._pack.output

    def start(self) -> PackInfo:
        """Start the pack and read its metadata; AidcError (process stopped) if it cannot."""
        return self._pack.start()

    def close(self) -> None:
        """Stop the pack (and a forwarder left by a failed plan); idempotent."""
        beginner = self._beginner
        if beginner is not None and beginner is not threading.current_thread():
            beginner.join()  # let a start in progress finish, then stop it all
            self._beginner = None
        if self._session is not None:
            session, self._session = self._session, None
            session.abandon()
        self._pack.close()

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
        self._pack.call("Configure", configure_request(config))
        self._pack.call_if_implemented("ConfigureStack", analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, dry_run=True))
        self._session = Session(config=config, waivers=waivers,
                                forwarder=start_forwarder(self._pack.address) if stream else None,
                                logs_before=len(self._pack.logs),
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
                    self._send(resource)

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
                self._send(resource)

    def _send(self, resource: PlanResource) -> None:
        if self._session is not None:
            self._session.send(resource)

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
        missing = [r for r in customs if r.urn not in answers]
        asked = self._pack.analyze_all(
            (r.urn, encoded.request(r, encoded.structs[r.urn])) for r in missing)
        responses = {**answers, **{r.urn: resp for r, resp in zip(missing, asked)}}
        t_analyze = time.perf_counter()
        stack_response = self._pack.call("AnalyzeStack", analyzer_pb2.AnalyzeStackRequest(
            resources=[encoded.stack_resource(r, encoded.structs[r.urn]) for r in plan.resources]))
        t_stack = time.perf_counter()

        config = session.config
        self.last_not_applicable = []
        violations, diagnostics = interpret(
            plan, info, config, [(r.urn, responses[r.urn]) for r in customs]
            + [("", stack_response)], self.last_not_applicable)
        violations = mark_waivers(violations, config, session.waivers, plan)
        diagnostics += [  # what the pack logged as a warning or error while judging this plan
            Diagnostic(policy="", urn=urn, message=f"{info.name} logged: {message}")
            for severity, message, urn in self._pack.logs_since(session.logs_before)
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


def check_plan(plan: Plan, *, pack_dir: Path = DEFAULT_PACK_DIR,
               pack_config: Mapping[str, Any] | None = None,
               waivers: Iterable[Any] = ()) -> CheckResult:
    """Start the pack, judge `plan`, stop the pack. `timings["policy_seconds"]` includes start."""
    t0 = time.perf_counter()
    with PolicyAnalyzer(pack_dir, project=plan.project, stack=plan.stack) as analyzer:
        result = analyzer.check(plan, pack_config=pack_config, waivers=waivers)
    result.timings["policy_seconds"] = time.perf_counter() - t0
    return result


# --- `aidc check` --------------------------------------------------------------------------------

def policy_settings(stack_file: Path | None) -> PolicySettings:
    """The stack's `aidc:policy` section; the pack's built-in defaults without one."""
    if stack_file is None:
        return PolicySettings()
    flat, _ = read_stack_file(stack_file)
    return policy_settings_of(flat, str(stack_file))


def plan_policy_settings(plan: Plan, where: str) -> PolicySettings | None:
    """The policy settings a plan recorded (`aidc plan --json` writes the stack's), if any."""
    recorded = plan.extras.get("policy")
    if not isinstance(recorded, dict) or not isinstance(recorded.get("settings"), dict):
        return None
    return validate_policy_settings(recorded["settings"], f"{where} (policy settings)")


def run_check(make_plan: Callable[[Callable[[PlanResource], None]], Plan], *, project: str,
              stack: str, settings: PolicySettings | None, pack_dir: Path | None) -> CheckResult:
    """Start the pack and plan at once: `make_plan` gets the function that sends each resource
    to the pack as it is registered, so the pack judges resources while the plan is still being
    built, as the engine's analyzers do during `pulumi preview`. Our pack gets `settings` (the
    stack's; None: the pack's defaults); another pack gets none (its config is its own). aidc's
    plan checks (`infra.check.plan_checks`: apply order and preconditions) then judge the
    finished plan under the same settings, whatever the pack, and join the result.

    Timings: plan_seconds is the plan; policy_seconds everything else `aidc check` spends
    here (waiting for the pack, the analysis the plan did not cover, AnalyzeStack, stopping)."""
    pack = pack_dir or DEFAULT_PACK_DIR
    if not (pack / "PulumiPolicy.yaml").is_file():
        raise AidcError(f"--policy-pack {pack}: no PulumiPolicy.yaml there; a Pulumi policy pack "
                        "directory is needed")
    ours = pack.resolve() == DEFAULT_PACK_DIR.resolve()
    settings = settings or PolicySettings()
    pack_config: dict[str, Any] | None = settings.to_pack_config() if ours else None
    started = time.perf_counter()
    analyzer = PolicyAnalyzer(pack, project=project, stack=stack)
    try:
        analyzer.begin_in_background(project=project, stack=stack, pack_config=pack_config)
        plan_started = time.perf_counter()
        plan = make_plan(analyzer.submit)
        plan_seconds = time.perf_counter() - plan_started
        result = analyzer.check(plan)
    finally:
        analyzer.close()
    result = with_plan_checks(result, run_plan_checks(plan, settings))
    result.timings["plan_seconds"] = plan_seconds
    result.timings["policy_seconds"] = time.perf_counter() - started - plan_seconds
    return result
