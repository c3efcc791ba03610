"""Analyze while the plan is being built, as the engine does during a preview.

`aidc check` hands each resource to the pack as soon as it is registered. The gRPC calls cost
Python time per call, which in the planning process would be taken under the plan's GIL; so the
planner only serializes each AnalyzeRequest and writes it to a forwarder process
(`python -m infra.check.forward`), which makes the calls and returns the answers when the plan
is done. A forwarder that fails only means `check` asks the pack itself for what is missing.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from pulumi.runtime.proto import analyzer_pb2

from infra.check import forward
from infra.check.pack import STOP_TIMEOUT_SECONDS
from infra.check.protocol import Config, Encoded
from infra.engine.plan import PlanResource


def start_forwarder(address: str) -> subprocess.Popen[bytes]:
    """The forwarder process, calling Analyze on the pack at `address`."""
    return subprocess.Popen([sys.executable, "-m", "infra.check.forward", address],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)


@dataclass
class Session:
    """One check in progress: the reconciled config, and the resources sent to Analyze while
    the plan was being built (through the forwarder, when there is one)."""

    config: Config
    waivers: list[Any]
    logs_before: int
    configure_seconds: float
    forwarder: subprocess.Popen[bytes] | None = None
    encoded: Encoded = field(default_factory=Encoded)
    sent: list[str] = field(default_factory=list)  # URNs, by forwarder key

    def send(self, resource: PlanResource) -> None:
        """Record a registered resource; send a custom one to Analyze through the forwarder."""
        self.encoded.by_urn[resource.urn] = resource
        proc = self.forwarder
        if not resource.custom or proc is None or proc.stdin is None:
            return
        request = self.encoded.request(resource, self.encoded.struct(resource))
        try:
            forward.write_frame(proc.stdin, len(self.sent), 0, request.SerializeToString())
        except OSError:  # the forwarder is gone: `check` asks for everything itself
            self.abandon()
            return
        self.sent.append(resource.urn)

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
        """Stop the forwarder without waiting for its answers."""
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
