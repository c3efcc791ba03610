"""Benchmark: streaming S3 inventory, objects listed per second and memory held.

    .venv/bin/python bench/transfer_inventory.py [--objects 100000] [--baseline 10000]

Starts moto's S3 server on 127.0.0.1 in a child process, seeds a bucket of ``--objects`` and
one of ``--baseline`` objects, then inventories each through the real S3 API (boto3 paginator
over HTTP) and prints:

- seeding time (separately: it is setup, not the thing measured);
- objects listed per second end to end (moto's server is most of that time: it sorts every key
  in the bucket for each 1,000-key page, so its per-page cost grows with the bucket);
- the client-side rate alone, the same inventory fed pre-built pages, no server;
- tracemalloc peak during each inventory, and the ratio large/baseline: the inventory keeps
  counters and a top-N heap, so the ratio should stay near 1 while the object count grows 10x.

The server runs in its own process so tracemalloc in this process sees only the client.
No assertions: this prints figures.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.transfer import inventory as inv  # noqa: E402

STORAGE_CLASSES = ("STANDARD", "STANDARD", "STANDARD", "STANDARD_IA", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR")


def _key(i: int) -> str:
    return f"shard-{i % 16:02d}/part-{i:07d}.tar"


def _size(i: int) -> int:
    return (i * 7919) % 4096


# --------------------------------------------------------------------------------------------
# Child process: moto server plus direct seeding
# --------------------------------------------------------------------------------------------


def serve(port: int, buckets: list[tuple[str, int]]) -> None:
    """Run moto's server and seed its backend in the same process, then wait to be stopped.

    Seeding 100,000 objects through the server's HTTP API measured ~450 PUT/s with an 8-thread
    pool on 2 cores (about 4 minutes); writing them into moto's in-memory S3 backend directly,
    in the process that serves them, takes about two seconds and yields the same keys, sizes
    and storage classes that ListObjectsV2 then returns over HTTP.
    """
    import logging

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request log lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    for name, count in buckets:
        started = time.perf_counter()
        backend.create_bucket(name, "us-east-1")
        for i in range(count):
            sc = STORAGE_CLASSES[i % len(STORAGE_CLASSES)]
            backend.put_object(name, _key(i), b"b" * _size(i), storage=None if sc == "STANDARD" else sc)
        print(f"SEEDED {name} {count} {time.perf_counter() - started:.3f}", flush=True)
    print("READY", flush=True)
    sys.stdin.read()  # the parent closes stdin to stop us
    server.stop()


# --------------------------------------------------------------------------------------------
# Parent: measure
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(endpoint: str) -> Any:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    return inv.s3_client(endpoint_url=endpoint, region="us-east-1")


def measure(client: Any, bucket: str) -> tuple[inv.Inventory, float, int]:
    """Inventory ``bucket``; return it, wall seconds, and the tracemalloc peak in bytes."""
    client.list_objects_v2(Bucket=bucket, MaxKeys=1)  # load botocore's models before measuring
    tracemalloc.start()
    started = time.perf_counter()
    result = inv.inventory(client, bucket)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


class _PagesClient:
    """Stands in for boto3: a paginator that yields pre-built 1,000-object pages."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self._pages = pages

    def get_paginator(self, _: str) -> Any:
        pages = self._pages

        class _Paginator:
            def paginate(self, **_: Any) -> Any:
                return ({"Contents": p} for p in pages)

        return _Paginator()


def client_side_rate(n: int) -> float:
    """Objects per second through iter_objects + the accumulator alone, no HTTP, no XML."""
    pages = [
        [{"Key": _key(i), "Size": _size(i), "StorageClass": STORAGE_CLASSES[i % 7]} for i in range(s, min(s + 1000, n))]
        for s in range(0, n, 1000)
    ]
    started = time.perf_counter()
    inv.inventory(_PagesClient(pages), "x")
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bucket", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, [(b.split(":")[0], int(b.split(":")[1])) for b in args.bucket])
        return

    port = _free_port()
    large, base = f"bench-{args.objects}", f"bench-{args.baseline}"
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--bucket", f"{large}:{args.objects}", "--bucket", f"{base}:{args.baseline}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        seeded: dict[str, tuple[int, float]] = {}
        for line in child.stdout:
            if line.startswith("SEEDED"):
                _, name, count, secs = line.split()
                seeded[name] = (int(count), float(secs))
            elif line.startswith("READY"):
                break
        else:
            raise SystemExit("moto server exited before it was ready")
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)

        print(f"moto server {endpoint} (child process {child.pid})")
        for name, (count, secs) in seeded.items():
            print(f"seeding {name}: {count:,} objects in {secs:.2f} s (direct to moto's backend)")

        client = _client(endpoint)
        rows = []
        for bucket in (base, large):
            result, seconds, peak = measure(client, bucket)
            rows.append((bucket, result, seconds, peak))
            print(
                f"inventory {bucket}: {result.objects:,} objects, {result.bytes:,} bytes, "
                f"{result.list_requests} ListObjectsV2 calls, {seconds:.2f} s, "
                f"{result.objects / seconds:,.0f} objects/s, tracemalloc peak {peak / 1024:,.1f} KiB"
            )
        (_, small_res, _, small_peak), (_, large_res, _, large_peak) = rows
        print(
            f"memory: {large_res.objects // max(small_res.objects, 1)}x the objects -> peak ratio "
            f"{large_peak / small_peak:.2f} ({small_peak / 1024:,.1f} KiB -> {large_peak / 1024:,.1f} KiB)"
        )
        print(f"client side alone (pre-built pages, no server): {client_side_rate(args.objects):,.0f} objects/s")
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
