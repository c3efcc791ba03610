"""Forward Analyze requests to a policy pack from a process of its own.

    python -m infra.check.forward 127.0.0.1:PORT      (started by infra.check.analyzer)

`aidc check` sends each resource to the pack while the plan is still being built. Making those
gRPC calls costs the caller Python time per call; in the planning process that time is taken
under the plan's GIL and slows the plan down. Here it is spent in another process: the planner
only writes each serialized AnalyzeRequest to this process's stdin. Frames both ways are
`!IiI` (key, status, length) + payload; status 0 is an AnalyzeResponse, anything else the gRPC
status code with the error's details. Answers are written once stdin ends, in request order.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator
from typing import BinaryIO

import grpc

HEADER = struct.Struct("!IiI")
ANALYZE = "/pulumirpc.Analyzer/Analyze"
CALL_TIMEOUT_SECONDS = 120.0
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
    channel = grpc.insecure_channel(sys.argv[1], options=GRPC_OPTIONS)
    analyze = channel.unary_unary(ANALYZE)  # bytes in, bytes out: no re-encoding here
    pending = [(key, analyze.future(payload, timeout=CALL_TIMEOUT_SECONDS))
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
