"""``aidc transfer plan``: the typer app in-process, and the real command against a moto server."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from rich.console import Console
from typer.testing import CliRunner

from infra.cli import transfer as cli
from infra.transfer import plan as transfer_plan
from infra.transfer import inventory as inv
from infra.transfer.s3url import S3Url, S3UrlError, bucket_name_problem, parse_s3_url

REPO = Path(__file__).resolve().parents[2]


def aidc_command() -> list[str]:
    """The installed `aidc` entry point, as a user runs it (next to the interpreter under test)."""
    return [str(Path(sys.executable).with_name("aidc")), "transfer"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------
# s3:// URLs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://my-data", S3Url("my-data", "")),
        ("s3://my-data/", S3Url("my-data", "")),
        ("s3://my-data/train/2024/", S3Url("my-data", "train/2024/")),
        ("S3://my.data.v2/a b?c#d", S3Url("my.data.v2", "a b?c#d")),
    ],
)
def test_parses_bucket_and_prefix(url: str, expected: S3Url) -> None:
    """The bucket is the first path element; the rest, verbatim, is the prefix."""
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("gs://my-data", "expected an s3://BUCKET"),
        ("https://my-data.s3.amazonaws.com/x", "expected an s3://BUCKET"),
        ("my-data/train", "no scheme"),
        ("s3://", "bucket name is empty"),
        ("s3:///train", "bucket name is empty"),
        ("s3://ab", "3 to 63 characters"),
        ("s3://" + "a" * 64, "3 to 63 characters"),
        ("s3://My_Bucket", "lowercase letters"),
        ("s3://-data", "begin and end"),
        ("s3://data-", "begin and end"),
        ("s3://my..data", "adjacent periods"),
        ("s3://192.168.5.4", "IP address"),
        ("s3://xn--data", "reserved prefix"),
        ("s3://data-s3alias", "reserved suffix"),
        ("s3://data/" + "k" * 1025, "1024-byte"),
    ],
)
def test_rejects_malformed_s3_urls(url: str, message: str) -> None:
    """A URL S3 would reject fails before any request, naming what is wrong."""
    with pytest.raises(S3UrlError, match=message):
        parse_s3_url(url)


def test_valid_bucket_names_pass() -> None:
    """Names within the rules have no problem."""
    for name in ("abc", "a" * 63, "my.bucket-01", "123bucket"):
        assert bucket_name_problem(name) is None


# --------------------------------------------------------------------------------------------
# The typer app in-process, against moto's mock
# --------------------------------------------------------------------------------------------


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


def _invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner(env=env).invoke(cli.app, list(args))


def _assert_user_error(result: Any, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.stderr and "Traceback" not in result.output
    text = _one_line(result.stderr)
    assert text.startswith("error:"), text
    for fragment in fragments:
        assert fragment in text, text


def test_json_report_of_a_small_bucket(s3: Any) -> None:
    """--json prints the documented keys with the inventory's numbers."""
    s3.create_bucket(Bucket="cli-small")
    for i in range(12):
        s3.put_object(Bucket="cli-small", Key=f"data/{i}", Body=b"d" * (100 * i))
    s3.put_object(Bucket="cli-small", Key="cold/x", Body=b"c" * 50, StorageClass="DEEP_ARCHIVE")
    result = _invoke("plan", "s3://cli-small", "--json", "--top", "3", "--bandwidth-gbps", "2.5")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # not a TTY: no progress indicator
    doc = json.loads(result.stdout)
    expected_bytes = sum(100 * i for i in range(12)) + 50
    assert (doc["objects"], doc["bytes"]) == (13, expected_bytes)
    assert (doc["glacier_objects"], doc["glacier_bytes"]) == (1, 50)
    assert doc["public_access_block"] is False and doc["default_encryption"] is None and doc["public_policy"] is False
    assert doc["estimated_seconds"] == pytest.approx(expected_bytes * 8 / 2.5e9, abs=1e-3)
    assert doc["egress_cost_usd"] == pytest.approx(expected_bytes / 2**30 * 0.09, abs=1e-6)
    assert [o["bytes"] for o in doc["largest"]] == [1100, 1000, 900]
    assert doc["bandwidth_gbps"] == 2.5
    assert doc["assumptions"][0] == {"what": "bandwidth_gbps", "value": 2.5, "published": True, "source": None}


def test_text_report_names_sections(s3: Any) -> None:
    """The default output is a readable report with totals, posture, estimates and sources."""
    s3.create_bucket(Bucket="cli-text")
    s3.put_object(Bucket="cli-text", Key="a", Body=b"x" * 2048)
    result = _invoke("plan", "s3://cli-text", "--storage-class", "coldline", "--gcs-location", "europe-west1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for fragment in ("Transfer plan s3://cli-text", "objects: 1", "Size distribution", "Storage classes",
                     "Source security", "COLDLINE in europe-west1", "https://aws.amazon.com/s3/pricing/",
                     "not a published figure"):
        assert fragment in out, fragment


def test_defaults_come_from_the_catalog(s3: Any) -> None:
    """Without options, bandwidth, location and class are the catalog's documented defaults."""
    s3.create_bucket(Bucket="cli-defaults")
    doc = json.loads(_invoke("plan", "s3://cli-defaults", "--json").stdout)
    assert doc["bandwidth_gbps"] == cli.prices.STS_PLANNING_BANDWIDTH.gbps
    assert (doc["gcs_location"], doc["gcs_storage_class"]) == ("us-central1", "STANDARD")
    assert doc["assumptions"][0]["published"] is False
    assert doc["assumptions"][0]["source"]["as_of"] == "2026-11-29"
    assert "no objects matched the source and filters" in doc["warnings"]


def test_include_exclude_options(s3: Any) -> None:
    """--include/--exclude select exactly the keys the transfer job would take."""
    s3.create_bucket(Bucket="cli-filter")
    for key in ("a/1", "a/2", "a/skip/3", "b/4", "c/5"):
        s3.put_object(Bucket="cli-filter", Key=key, Body=b"1234")
    result = _invoke("plan", "s3://cli-filter", "--include", "a/", "--include", "b/", "--exclude", "a/skip/", "--json")
    doc = json.loads(result.stdout)
    assert (doc["objects"], doc["bytes"]) == (3, 12)
    assert doc["include_prefixes"] == ["a/", "b/"] and doc["exclude_prefixes"] == ["a/skip/"]


def test_posture_in_json(s3: Any) -> None:
    """Public access block, default encryption and a public-read policy reach the JSON."""
    s3.create_bucket(Bucket="cli-posture")
    s3.put_public_access_block(
        Bucket="cli-posture",
        PublicAccessBlockConfiguration={k: True for k in inv.PUBLIC_ACCESS_BLOCK_SETTINGS},
    )
    s3.put_bucket_encryption(
        Bucket="cli-posture",
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    )
    doc = json.loads(_invoke("plan", "s3://cli-posture", "--json").stdout)
    assert (doc["public_access_block"], doc["default_encryption"], doc["public_policy"]) == (True, "AES256", False)


def test_progress_indicator_reports_counts(s3: Any) -> None:
    """On a terminal, the progress line shows objects and bytes listed so far."""
    s3.create_bucket(Bucket="cli-progress")
    s3.put_object(Bucket="cli-progress", Key="k", Body=b"x")
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with cli._progress(console, "s3://cli-progress") as on_page:
        plan = transfer_plan.build_plan("s3://cli-progress", on_page=on_page)
    assert plan.inventory.objects == 1
    assert "listing" in buffer.getvalue()


def test_help_renders() -> None:
    """--help shows the URL form literally (brackets are not taken as markup)."""
    result = _invoke("plan", "--help")
    assert result.exit_code == 0
    assert "s3://BUCKET[/PREFIX]" in result.output


def test_intelligent_tiering_archive_warning() -> None:
    """INTELLIGENT_TIERING objects warn when archive tiers are enabled or unknown, not when absent."""
    acc = inv.InventoryAccumulator()
    acc.add("k", 10, "INTELLIGENT_TIERING")
    listing = acc.result()
    posture = inv.SecurityPosture(True, None, "AES256", None, False, False, None)
    assert any("Archive/Deep Archive" in w for w in transfer_plan._warnings(listing, posture, True))
    assert any("Archive/Deep Archive" in w for w in transfer_plan._warnings(listing, posture, None))
    assert not any("Archive/Deep Archive" in w for w in transfer_plan._warnings(listing, posture, False))


def test_rejects_missing_bucket(s3: Any) -> None:
    """A bucket that does not exist is named in a one-line error, exit 2."""
    _assert_user_error(_invoke("plan", "s3://no-such-dataset"), "'no-such-dataset' does not exist", "NoSuchBucket")


@set_initial_no_auth_action_count(3)
def test_rejects_access_denied(s3: Any) -> None:
    """Credentials without s3:ListBucket get an access-denied message naming the bucket, exit 2."""
    s3.create_bucket(Bucket="locked-dataset")
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="no-perms")
    key = iam.create_access_key(UserName="no-perms")["AccessKey"]
    env = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    _assert_user_error(
        _invoke("plan", "s3://locked-dataset", env=env), "access denied to s3://locked-dataset", "s3:ListBucket"
    )


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["gs://bucket-a"], ["expected an s3://BUCKET"]),
        (["s3://"], ["bucket name is empty"]),
        (["s3://Bad_Bucket"], ["invalid S3 bucket name 'Bad_Bucket'"]),
        (["s3://bucket-a", "--bandwidth-gbps", "0"], ["bandwidth must be a positive number"]),
        (["s3://bucket-a", "--gcs-location", "mars-north1"], ["no Cloud Storage prices for location 'mars-north1'"]),
        (["s3://bucket-a", "--include", "a/", "--exclude", "b/"], ["does not start with any --include"]),
        (["s3://bucket-a", "--endpoint-url", "not a url"], ["--endpoint-url 'not a url'"]),
    ],
)
def test_rejects_bad_arguments_before_any_request(args: list[str], fragments: list[str]) -> None:
    """Bad URLs and options fail offline (no credentials, no mock needed), exit 2, no traceback."""
    _assert_user_error(_invoke("plan", *args), *fragments)


# --------------------------------------------------------------------------------------------
# The real command against moto's server
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's S3 server in its own process (so in-process mocks cannot reset it), stopped after."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def _creds(tmp_path: Path) -> dict[str, str]:
    return _clean_env(tmp_path, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(aidc_command() + args, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_end_to_end_against_moto_server(moto_server: str, tmp_path: Path) -> None:
    """The real command lists a served bucket and prints JSON whose numbers match the seed."""
    s3 = boto3.client(
        "s3", endpoint_url=moto_server, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="e2e-dataset")
    seeded = {f"shards/{i:04d}.tar": 10 * i + 1 for i in range(1200)}
    seeded.update({f"cold/{i}.tar": 500 for i in range(5)})
    for key, size in seeded.items():
        extra = {"StorageClass": "GLACIER"} if key.startswith("cold/") else {}
        s3.put_object(Bucket="e2e-dataset", Key=key, Body=b"e" * size, **extra)
    s3.put_bucket_policy(
        Bucket="e2e-dataset",
        Policy=json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
                                          "Resource": "arn:aws:s3:::e2e-dataset/*"}]}),
    )

    proc = _run(["plan", "s3://e2e-dataset", "--endpoint-url", moto_server, "--json"], _creds(tmp_path))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    total = sum(seeded.values())
    assert (doc["objects"], doc["bytes"]) == (len(seeded), total)
    assert (doc["glacier_objects"], doc["glacier_bytes"]) == (5, 2500)
    assert doc["list_requests"] == 2
    assert doc["public_access_block"] is False
    assert doc["default_encryption"] is None
    assert doc["public_policy"] is True
    assert doc["estimated_seconds"] == pytest.approx(total * 8 / 1e9, abs=1e-3)
    assert doc["egress_cost_usd"] == pytest.approx(total / 2**30 * 0.09, abs=1e-6)
    assert doc["largest"][0] == {"key": "shards/1199.tar", "bytes": 11991, "storage_class": "STANDARD"}
    assert any(moto_server in w for w in doc["warnings"])  # AWS prices may not apply off AWS


def test_end_to_end_text_report(moto_server: str, tmp_path: Path) -> None:
    """Without --json the real command prints the text report to stdout and nothing to stderr."""
    s3 = boto3.client(
        "s3", endpoint_url=moto_server, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket="e2e-text")
    s3.put_object(Bucket="e2e-text", Key="only", Body=b"1")
    proc = _run(["plan", "s3://e2e-text", "--endpoint-url", moto_server, "--quiet"], _creds(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "Transfer plan s3://e2e-text" in proc.stdout and proc.stderr == ""


def test_rejects_missing_bucket_end_to_end(moto_server: str, tmp_path: Path) -> None:
    """The installed command exits 2 with a one-line NoSuchBucket message and no traceback."""
    proc = _run(["plan", "s3://not-there-e2e", "--endpoint-url", moto_server], _creds(tmp_path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert _one_line(proc.stderr) == f"error: bucket 'not-there-e2e' does not exist at {moto_server} (NoSuchBucket)"


def test_rejects_missing_credentials(moto_server: str, tmp_path: Path) -> None:
    """With no credentials anywhere in the chain, the message says so; exit 2, no traceback."""
    proc = _run(["plan", "s3://any-bucket", "--endpoint-url", moto_server], _clean_env(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no AWS credentials found" in proc.stderr


def test_rejects_unknown_profile(tmp_path: Path) -> None:
    """A --profile that is not configured is named; exit 2, no traceback."""
    proc = _run(["plan", "s3://any-bucket", "--profile", "ghost"], _clean_env(tmp_path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "AWS profile 'ghost' not found" in proc.stderr


def test_rejects_unreachable_endpoint(tmp_path: Path) -> None:
    """A closed port fails fast with 'cannot reach', exit 2, no traceback."""
    closed = f"http://127.0.0.1:{_free_port()}"
    proc = _run(["plan", "s3://any-bucket", "--endpoint-url", closed], _creds(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"cannot reach the S3 endpoint {closed}" in _one_line(proc.stderr)
