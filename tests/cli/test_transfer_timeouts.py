"""`aidc transfer plan` against S3 endpoints that never answer or answer forever: each ends in
exit 2 naming what timed out, in seconds rather than minutes (issue 12, finding 5)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.cli.test_hostile_input import assert_no_verdict
from tests.helpers import run_aidc

AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x" * 40,
           "AWS_DEFAULT_REGION": "us-east-1"}


def serve(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that gives each connection to `handle`; yields its URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        server.close()


def silent(conn: socket.socket) -> None:
    time.sleep(120)
    conn.close()


def trickle(conn: socket.socket) -> None:
    """An HTTP response that never ends: one byte a second, forever."""
    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        for _ in range(300):
            conn.sendall(b"<")
            time.sleep(1)
    except OSError:
        pass
    finally:
        conn.close()


@pytest.fixture(params=[silent, trickle], ids=["never-answers", "trickles"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from serve(request.param)


def test_a_stuck_endpoint_is_abandoned(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    started = time.monotonic()
    result = run_aidc("transfer", "plan", "s3://stuck-bucket/", "--endpoint-url", endpoint,
                      "--timeout", "8", "-q", timeout=120)
    elapsed = time.monotonic() - started
    assert_no_verdict(result)
    assert "within 8 s" in result.stderr or "stopped answering" in result.stderr, result.stderr
    assert elapsed < 60, elapsed
    assert os.environ["AWS_ACCESS_KEY_ID"] not in result.stderr
