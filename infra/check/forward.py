"""The forwarder process: Analyze calls to a policy pack, made from a process of its own.

    python -m infra.check.forward 127.0.0.1:PORT      (started by infra.check.streaming)

The planner writes each serialized AnalyzeRequest to this process's stdin and goes on planning;
the calls, and the Python time they cost, are spent here (infra.check.streaming says why).
Frames both ways are `!IiI` (key, status, length) + payload; status 0 is an AnalyzeResponse,
anything else the gRPC status code with the error's details. Answers are written once stdin
ends, in request order. Imports only grpc, so that it starts fast.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator
from typing import BinaryIO

import grpc

HEADER = struct.Struct("!IiI")
ANALYZE = "/pulumirpc.Analyzer/Analyze"
PACK_TIMEOUT_ENV = "AIDC_PACK_TIMEOUT"
DEFAULT_PACK_TIMEOUT_SECONDS = 30.0


def pack_timeout() -> float:
    """Seconds the pack may take to start, and to answer each call: $AIDC_PACK_TIMEOUT or 30.
    The shipped stacks need well under a second a call; a hung pack ends the check (exit 2)."""
    raw = os.environ.get(PACK_TIMEOUT_ENV)
    try:
        value = DEFAULT_PACK_TIMEOUT_SECONDS if raw is None else float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise ValueError(f"${PACK_TIMEOUT_ENV}={raw!r}: expected seconds between 0 and 3600")
    return value


GRPC_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024),
                ("grpc.max_send_message_length", 400 * 1024 * 1024)]


def write_frame(out: BinaryIO, key: int, status: int, payload: bytes) -> None:
    out.write(HEADER.pack(key, status, len(payload)))
    out.write(payload)


def read_frames(stream: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """(key, status, payload) until the stream ends; a truncated last frame is dropped."""
    while len(header := stream.read(HEADER.size)) == HEADER.size:
        key, status, length = HEADER.unpack(header)
        payload = stream.read(length)
        if len(payload) != length:
            return
        yield key, status, payload


def main() -> None:
    timeout = pack_timeout()
    channel = grpc.insecure_channel(sys.argv[1], options=GRPC_OPTIONS)
    analyze = channel.unary_unary(ANALYZE)  # bytes in, bytes out: no re-encoding here
    pending = [(key, analyze.future(payload, timeout=timeout))
               for key, _, payload in read_frames(sys.stdin.buffer)]
    out = sys.stdout.buffer
    for key, call in pending:
        try:
            write_frame(out, key, 0, call.result())
        except grpc.RpcError as exc:
            code = exc.code()  # type: ignore[attr-defined]
            write_frame(out, key, code.value[0] if code else -1,
                        (exc.details() or "").encode())  # type: ignore[attr-defined]
    out.flush()
    channel.close()


if __name__ == "__main__":
    main()
