"""``aidc transfer plan s3://BUCKET[/PREFIX]``: a preflight before moving a dataset to Cloud Storage.

It lists the source (streaming), reads its security posture, and estimates duration, AWS egress
and GCS storage cost from dated, sourced price tables (`infra.transfer.plan`). User-facing
failures (a bad URL, no such bucket, denied access, missing credentials, an unreachable endpoint)
print one clear message on stderr and exit 2, without a traceback.

boto3/botocore are imported lazily, so mounting this app under ``aidc`` adds nothing to the
start-up of the other commands.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from infra.catalog import cloud_prices as prices
from infra.errors import AidcError
from infra.report.transfer import plan_to_json, render_text
from infra.transfer import inventory as inv
from infra.transfer.plan import build_plan, describe_error
from infra.transfer.units import human_bytes

EXIT_USER_ERROR = 2
DEFAULT_TIMEOUT_SECONDS = 1800.0
T = TypeVar("T")

app = typer.Typer(
    help="Plan dataset transfers from Amazon S3 (or S3-compatible storage) to Cloud Storage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class GcsStorageClass(str, Enum):
    STANDARD = "STANDARD"
    NEARLINE = "NEARLINE"
    COLDLINE = "COLDLINE"
    ARCHIVE = "ARCHIVE"


@app.callback()
def _transfer() -> None:
    """Plan S3 -> Cloud Storage dataset transfers."""


@app.command()
def plan(
    source: Annotated[str, typer.Argument(metavar="S3_URL", help="s3://BUCKET\\[/PREFIX] to inventory.", show_default=False)],
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Only keys starting with this prefix (whole key from the bucket root); repeatable."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip keys starting with this prefix; repeatable."),
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="S3-compatible endpoint, e.g. http://127.0.0.1:9000.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region for the S3 client.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS named profile (default: the usual chain).")] = None,
    bandwidth_gbps: Annotated[
        float | None,
        typer.Option(
            "--bandwidth-gbps",
            help=f"Sustained transfer rate. Default {prices.STS_PLANNING_BANDWIDTH.gbps:g} Gbps: a planning "
            "figure, since Google publishes none for Storage Transfer Service.",
            show_default=False,
        ),
    ] = None,
    storage_class: Annotated[
        GcsStorageClass, typer.Option("--storage-class", case_sensitive=False, help="Destination GCS storage class.")
    ] = GcsStorageClass.STANDARD,
    gcs_location: Annotated[
        str, typer.Option("--gcs-location", help=f"Destination location ({', '.join(sorted(prices.GCS_STORAGE_PRICES))}).")
    ] = prices.DEFAULT_GCS_LOCATION,
    top: Annotated[int, typer.Option("--top", min=0, max=1000, help="How many of the largest objects to show.")] = inv.DEFAULT_TOP_N,
    free_tier: Annotated[
        bool, typer.Option("--free-tier", help="Deduct AWS's 100 GB/month free egress (only if nothing else uses it).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of the text report.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress indicator.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=1, max=86_400,
        help="Seconds the whole plan may take before it is abandoned (exit 2).")] = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    """Inventory the source, check its security posture, estimate time and cost."""
    err = Console(stderr=True, highlight=False)
    bar = _progress(err, source) if not quiet and sys.stderr.isatty() else contextlib.nullcontext()
    try:
        with bar as on_page:
            result = _within(timeout, lambda: build_plan(
                source,
                include=include or (),
                exclude=exclude or (),
                endpoint_url=endpoint_url,
                region=region,
                profile=profile,
                bandwidth_gbps=bandwidth_gbps,
                storage_class=storage_class.value,
                gcs_location=gcs_location,
                top_n=top,
                apply_free_tier=free_tier,
                on_page=on_page,
            ))
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - only user-facing kinds are caught; the rest re-raise
        message = describe_error(exc, source=source, endpoint_url=endpoint_url, profile=profile)
        if message is None:
            raise
        err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
        raise typer.Exit(EXIT_USER_ERROR) from None
    if as_json:
        typer.echo(json.dumps(plan_to_json(result), indent=2))
    else:
        render_text(result, Console(highlight=False))


def _within(seconds: float, work: Callable[[], T]) -> T:
    """`work()` on a daemon thread, abandoned after `seconds`: botocore's timeouts bound each
    read, not an endpoint that trickles bytes or hands out page after page forever."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="aidc-transfer-plan", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise AidcError(f"the S3 source did not finish answering within {seconds:g} s; the plan "
                        "was abandoned (raise --timeout for a very large bucket)")
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


@contextlib.contextmanager
def _progress(err: Console, source: str) -> Iterator[Callable[[int, int], None]]:
    """A transient progress line on stderr while the source is listed."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("listing {task.description}"),
               TextColumn("{task.fields[status]}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(escape(source), status="")
        yield lambda objects, size: bar.update(task, status=f"{objects:,} objects, {human_bytes(size)}")
