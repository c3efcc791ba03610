"""Inventory and security posture of an S3 source, against moto's in-process S3 mock."""

from __future__ import annotations

import json
import math
import tracemalloc
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from infra.errors import AidcError
from infra.transfer import inventory as inv

BIG = "dataset-big"
REGION = "us-east-1"

# (prefix, count, storage class) of the seeded bucket: 10,590 objects across five prefixes.
LAYOUT = (
    ("train/", 6000, None),
    ("val/", 2500, None),
    ("test/", 1500, None),
    ("logs/", 500, None),
    ("archive/glacier/", 40, "GLACIER"),
    ("archive/deep/", 30, "DEEP_ARCHIVE"),
    ("archive/ir/", 20, "GLACIER_IR"),
)


def _size(i: int) -> int:
    """Small, varied bodies: the test must stay fast, sizes must still differ."""
    return (i * 37) % 301


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    """One moto mock for the module, so the 10k-object bucket is seeded once."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        mp.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield boto3.client("s3", region_name=REGION)


@pytest.fixture(scope="module")
def seeded(aws: Any) -> list[tuple[str, int, str]]:
    """Seed BIG through the S3 API; return what was seeded, for independent expectations."""
    aws.create_bucket(Bucket=BIG)
    seeded: list[tuple[str, int, str]] = []
    n = 0
    for prefix, count, storage_class in LAYOUT:
        for i in range(count):
            key, size = f"{prefix}part-{i:05d}.bin", _size(n)
            extra = {"StorageClass": storage_class} if storage_class else {}
            aws.put_object(Bucket=BIG, Key=key, Body=b"x" * size, **extra)
            seeded.append((key, size, storage_class or "STANDARD"))
            n += 1
    return seeded


def _expect(seeded: list[tuple[str, int, str]], keep: Any = lambda key: True) -> tuple[int, int]:
    chosen = [(k, s) for k, s, _ in seeded if keep(k)]
    return len(chosen), sum(s for _, s in chosen)


def test_counts_every_object_of_a_10k_bucket(aws: Any, seeded: list[tuple[str, int, str]]) -> None:
    """Object count and bytes equal what was seeded, across 11+ listing pages."""
    result = inv.inventory(aws, BIG)
    objects, size = _expect(seeded)
    assert objects > 10_000
    assert (result.objects, result.bytes) == (objects, size)
    assert result.list_requests == math.ceil(objects / 1000)
    assert sum(t.objects for _, t in result.size_histogram) == objects
    assert sum(t.bytes for _, t in result.size_histogram) == size


def test_tallies_storage_classes_and_restore_required(aws: Any, seeded: list[tuple[str, int, str]]) -> None:
    """Per-class tallies match the seed; only GLACIER and DEEP_ARCHIVE need a restore."""
    result = inv.inventory(aws, BIG)
    by_class: dict[str, list[int]] = {}
    for _, size, sc in seeded:
        t = by_class.setdefault(sc, [0, 0])
        t[0] += 1
        t[1] += size
    assert {sc: [t.objects, t.bytes] for sc, t in result.storage_classes} == by_class
    glacier = by_class["GLACIER"]
    deep = by_class["DEEP_ARCHIVE"]
    assert result.restore_required == inv.Tally(glacier[0] + deep[0], glacier[1] + deep[1])
    assert dict(result.restore_required_by_class).keys() == {"GLACIER", "DEEP_ARCHIVE"}
    assert result.storage_class("GLACIER_IR").objects == 20  # readable in real time: no restore


def test_include_prefixes_are_listed_separately(aws: Any, seeded: list[tuple[str, int, str]]) -> None:
    """Each include prefix is its own listing: only matching keys are fetched, and counted once."""
    sel = inv.make_selection("", include=["val/", "test/"])
    result = inv.inventory(aws, BIG, sel)
    objects, size = _expect(seeded, lambda k: k.startswith(("val/", "test/")))
    assert (result.objects, result.bytes) == (objects, size)
    # 2,500 + 1,500 keys in pages of 1,000: 3 + 2 requests. A full listing would need 11.
    assert result.list_requests == 5


def test_exclude_prefixes_filter_listed_keys(aws: Any, seeded: list[tuple[str, int, str]]) -> None:
    """Excluded keys are dropped from every tally."""
    sel = inv.make_selection("", exclude=["logs/", "archive/"])
    result = inv.inventory(aws, BIG, sel)
    objects, size = _expect(seeded, lambda k: not k.startswith(("logs/", "archive/")))
    assert (result.objects, result.bytes) == (objects, size)
    assert result.restore_required == inv.Tally()


def test_include_and_exclude_combine(aws: Any, seeded: list[tuple[str, int, str]]) -> None:
    """An exclude inside an include removes just that part of it."""
    sel = inv.make_selection("", include=["archive/"], exclude=["archive/ir/"])
    result = inv.inventory(aws, BIG, sel)
    objects, size = _expect(seeded, lambda k: k.startswith("archive/") and not k.startswith("archive/ir/"))
    assert (result.objects, result.bytes) == (objects, size) == (70, result.restore_required.bytes)


def test_url_prefix_limits_the_listing(aws: Any, seeded: list[tuple[str, int, str]]) -> None:
    """The s3:// URL's prefix is the root of the listing."""
    result = inv.inventory(aws, BIG, inv.make_selection("logs/"))
    assert (result.objects, result.bytes) == _expect(seeded, lambda k: k.startswith("logs/"))


def test_largest_objects_are_the_true_top_n(aws: Any, seeded: list[tuple[str, int, str]]) -> None:
    """The bounded heap returns exactly the N largest objects, largest first."""
    result = inv.inventory(aws, BIG, top_n=7)
    expected = sorted(((s, k) for k, s, _ in seeded), key=lambda x: (-x[0], x[1]))[:7]
    got = [(o.size, o.key) for o in result.largest]
    assert [s for s, _ in got] == [s for s, _ in expected]
    assert all(s == dict((k, s) for k, s, _ in seeded)[k] for s, k in got)


def test_size_histogram_of_real_objects(aws: Any) -> None:
    """Objects land in the band their size belongs to (lower bound inclusive)."""
    aws.create_bucket(Bucket="dataset-sizes")
    sizes = {"a": 0, "b": inv.MIB - 1, "c": inv.MIB, "d": 2 * inv.MIB, "e": 16 * inv.MIB + 1}
    for key, size in sizes.items():
        aws.put_object(Bucket="dataset-sizes", Key=key, Body=b"\0" * size)
    hist = dict(inv.inventory(aws, "dataset-sizes").size_histogram)
    assert hist["<1 MiB"] == inv.Tally(2, inv.MIB - 1)
    assert hist["1-16 MiB"] == inv.Tally(2, 3 * inv.MIB)
    assert hist["16-128 MiB"] == inv.Tally(1, 16 * inv.MIB + 1)
    assert hist[">16 GiB"] == inv.Tally()


def test_progress_callback_sees_running_totals(aws: Any, seeded: list[tuple[str, int, str]]) -> None:
    """The per-page callback reports monotonically growing totals ending at the result."""
    seen: list[tuple[int, int]] = []
    result = inv.inventory(aws, BIG, inv.make_selection("", include=["train/"]), on_page=lambda o, b: seen.append((o, b)))
    assert len(seen) == 6
    assert seen == sorted(seen)
    assert seen[-1] == (result.objects, result.bytes)


# --------------------------------------------------------------------------------------------
# The accumulator alone: bands, heap, memory
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "band"),
    [
        (0, "<1 MiB"),
        (inv.MIB - 1, "<1 MiB"),
        (inv.MIB, "1-16 MiB"),
        (16 * inv.MIB, "16-128 MiB"),
        (128 * inv.MIB, "128 MiB-1 GiB"),
        (inv.GIB, "1-16 GiB"),
        (16 * inv.GIB - 1, "1-16 GiB"),
        (16 * inv.GIB, ">16 GiB"),
        (5 * 2**40, ">16 GiB"),
    ],
)
def test_band_edges(size: int, band: str) -> None:
    """Each band holds [lower, upper): the boundaries fall into the upper band."""
    acc = inv.InventoryAccumulator()
    acc.add("k", size, None)
    assert dict(acc.result().size_histogram)[band] == inv.Tally(1, size)


@given(st.lists(st.tuples(st.text(min_size=1, max_size=8), st.integers(0, 2**45)), max_size=200), st.integers(0, 12))
def test_accumulator_matches_a_naive_summary(items: list[tuple[str, int]], top_n: int) -> None:
    """Totals, histogram sums and the top-N equal a computation that keeps everything."""
    acc = inv.InventoryAccumulator(top_n=top_n)
    for key, size in items:
        acc.add(key, size, "STANDARD")
    result = acc.result()
    assert result.objects == len(items)
    assert result.bytes == sum(s for _, s in items)
    assert sum(t.objects for _, t in result.size_histogram) == len(items)
    naive = sorted(items, key=lambda i: (-i[1], i[0]))
    assert sorted(o.size for o in result.largest) == sorted(s for _, s in naive[:top_n])
    assert result.too_large_for_gcs.objects == sum(1 for _, s in items if s > 5 * 2**40)


def _peak_bytes(n: int) -> int:
    tracemalloc.start()
    acc = inv.InventoryAccumulator(top_n=10)
    for i in range(n):
        acc.add(f"prefix/{i:09d}.bin", (i * 7919) % 10_000, "STANDARD" if i % 3 else "GLACIER")
    acc.result()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_does_not_grow_with_object_count() -> None:
    """Ten times the objects does not need more memory: the inventory keeps no key list."""
    small, large = _peak_bytes(10_000), _peak_bytes(100_000)
    assert large < small * 1.5 + 64 * 1024


def test_rejects_negative_top_n() -> None:
    """A negative top-N is a usage error, not an empty table."""
    with pytest.raises(AidcError, match="top-N"):
        inv.InventoryAccumulator(top_n=-1)


# --------------------------------------------------------------------------------------------
# Prefix selection rules (Storage Transfer Service's)
# --------------------------------------------------------------------------------------------


def test_selection_lists_each_include_once() -> None:
    """Duplicates collapse; an include wholly inside an exclude is not listed at all."""
    sel = inv.make_selection("", include=["b/", "a/", "b/"], exclude=["a/"])
    assert sel.list_prefixes() == ("b/",)


@pytest.mark.parametrize(
    ("prefix", "include", "exclude", "message"),
    [
        ("", [""], [], "empty prefix"),
        ("", ["/data/"], [], "starts with '/'"),
        ("", ["a/", "a/b/"], [], "is a prefix of"),
        ("", [], ["x/", "x/y"], "is a prefix of"),
        ("", ["a/"], ["b/"], "does not start with any --include"),
        ("data/", ["other/"], [], "outside the source prefix"),
        ("", ["a\nb"], [], "line feed"),
    ],
)
def test_rejects_prefix_filters_sts_would_refuse(prefix: str, include: list[str], exclude: list[str], message: str) -> None:
    """Include/exclude lists that Storage Transfer Service rejects fail before any listing."""
    with pytest.raises(AidcError, match=message):
        inv.make_selection(prefix, include, exclude)


def test_rejects_every_problem_at_once() -> None:
    """All prefix problems are reported in one error."""
    with pytest.raises(AidcError) as info:
        inv.make_selection("", ["/a", ""], ["q/"])
    text = str(info.value)
    assert "starts with '/'" in text and "empty prefix" in text and "does not start with any --include" in text


# --------------------------------------------------------------------------------------------
# Security posture
# --------------------------------------------------------------------------------------------

ALL_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _public_read_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
            ],
        }
    )


def test_hardened_bucket_posture(aws: Any) -> None:
    """All four public-access settings, KMS default encryption, no policy: nothing public."""
    aws.create_bucket(Bucket="posture-hardened")
    aws.put_public_access_block(Bucket="posture-hardened", PublicAccessBlockConfiguration=ALL_BLOCKED)
    aws.put_bucket_encryption(
        Bucket="posture-hardened",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/data"}}]
        },
    )
    p = inv.security_posture(aws, "posture-hardened")
    assert p.public_access_block is True
    assert p.public_access_block_settings == ALL_BLOCKED
    assert (p.default_encryption, p.kms_key_id) == ("aws:kms", "alias/data")
    assert p.public_policy is False and p.policy_status_is_public is None
    assert p.unreadable == ()


def test_bare_bucket_posture(aws: Any) -> None:
    """No public access block configuration reads as False; no encryption config as None."""
    aws.create_bucket(Bucket="posture-bare")
    p = inv.security_posture(aws, "posture-bare")
    assert p.public_access_block is False
    assert p.public_access_block_settings is None
    assert p.default_encryption is None
    assert p.public_policy is False


def test_partial_public_access_block_is_not_blocked(aws: Any) -> None:
    """Three of four settings is not 'blocked': all four must be on."""
    aws.create_bucket(Bucket="posture-partial")
    aws.put_public_access_block(
        Bucket="posture-partial", PublicAccessBlockConfiguration={**ALL_BLOCKED, "RestrictPublicBuckets": False}
    )
    aws.put_bucket_encryption(
        Bucket="posture-partial",
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    )
    p = inv.security_posture(aws, "posture-partial")
    assert p.public_access_block is False
    assert p.default_encryption == "AES256"


def test_public_read_policy_is_flagged(aws: Any) -> None:
    """An anonymous GetObject grant makes public_policy true, by parse and by policy status."""
    aws.create_bucket(Bucket="posture-public")
    aws.put_bucket_policy(Bucket="posture-public", Policy=_public_read_policy("posture-public"))
    p = inv.security_posture(aws, "posture-public")
    assert p.public_policy is True
    assert p.policy_public_read is True
    assert p.policy_status_is_public is True


def test_account_scoped_policy_is_not_public(aws: Any) -> None:
    """A grant to a named account is not public."""
    aws.create_bucket(Bucket="posture-private")
    policy = json.loads(_public_read_policy("posture-private"))
    policy["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::123456789012:root"}
    aws.put_bucket_policy(Bucket="posture-private", Policy=json.dumps(policy))
    p = inv.security_posture(aws, "posture-private")
    assert p.public_policy is False
    assert p.policy_status_is_public is False


class _DeniedClient:
    """A client whose caller may list but not read bucket settings."""

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, name)

        return call


def test_unreadable_settings_are_unknown_not_fatal() -> None:
    """AccessDenied on posture reads yields None and a note, not a failed plan."""
    p = inv.security_posture(_DeniedClient(), "any-bucket")
    assert p.public_access_block is None
    assert p.public_policy is None
    assert p.default_encryption is None
    assert len(p.unreadable) == 4


def test_bucket_region_reads_location(aws: Any) -> None:
    """GetBucketLocation's empty answer means us-east-1; others are returned as is."""
    aws.create_bucket(Bucket="region-west", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    aws.create_bucket(Bucket="region-default")
    assert inv.bucket_region(aws, "region-west") == "eu-west-2"
    assert inv.bucket_region(aws, "region-default") == "us-east-1"


# --------------------------------------------------------------------------------------------
# Bucket policy parsing
# --------------------------------------------------------------------------------------------


def _stmt(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b1b/*"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    ("statement", "public"),
    [
        (_stmt(), True),
        (_stmt(Principal={"AWS": "*"}), True),
        (_stmt(Principal={"AWS": ["arn:aws:iam::111122223333:root", "*"]}), True),
        (_stmt(Action="s3:*"), True),
        (_stmt(Action="s3:Get*"), True),
        (_stmt(Action="*"), True),
        (_stmt(Action=["s3:PutObject", "S3:GETOBJECT"]), True),
        (_stmt(Resource="*"), True),
        (_stmt(Resource="arn:aws:s3:::b1b/public/*"), True),
        (_stmt(Resource="arn:aws:s3:::b1*"), True),
        (_stmt(Action=None, NotAction="s3:DeleteObject"), True),
        (_stmt(Condition={"Bool": {"aws:SecureTransport": "true"}}), True),
        (_stmt(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), True),
        (_stmt(Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}), True),
        (_stmt(Effect="Deny"), False),
        (_stmt(Principal={"AWS": "arn:aws:iam::111122223333:root"}), False),
        (_stmt(Action="s3:PutObject"), False),
        (_stmt(Action="s3:List*"), False),
        (_stmt(Action=None, NotAction="s3:Get*"), False),
        (_stmt(Resource="arn:aws:s3:::b1b"), False),
        (_stmt(Resource="arn:aws:s3:::other-bucket/*"), False),
        (_stmt(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), False),
        (_stmt(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}), False),
        (_stmt(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}), False),
    ],
)
def test_policy_public_read(statement: dict[str, Any], public: bool) -> None:
    """Public read means Allow + anonymous principal + GetObject + object ARNs + no pinning Condition."""
    assert inv.policy_grants_public_read({"Statement": [statement]}, "b1b") is public


def test_policy_accepts_single_statement_object_and_json_text() -> None:
    """Statement may be an object instead of a list, and the policy may arrive as JSON text."""
    assert inv.policy_grants_public_read(json.dumps({"Statement": _stmt()}), "b1b") is True



class _TieringClient:
    """Answers ListBucketIntelligentTieringConfigurations with a fixed result (moto returns none)."""

    def __init__(self, configs: list[dict[str, Any]] | None) -> None:
        self.configs = configs

    def list_bucket_intelligent_tiering_configurations(self, **_: Any) -> dict[str, Any]:
        if self.configs is None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "ListBucketIntelligentTieringConfigurations")
        return {"IntelligentTieringConfigurationList": self.configs}


@pytest.mark.parametrize(
    ("configs", "expected"),
    [
        ([], False),
        ([{"Id": "a", "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}], True),
        ([{"Id": "a", "Status": "Disabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}], False),
        (None, None),
    ],
)
def test_archive_tiering_detection(configs: list[dict[str, Any]] | None, expected: bool | None) -> None:
    """INTELLIGENT_TIERING objects can need a restore only if an enabled archive tiering exists."""
    assert inv.archive_tiering_configured(_TieringClient(configs), "b1b") is expected
