"""Parse and validate ``s3://bucket[/prefix]`` before any request is made.

A malformed source must fail here, with a message naming what is wrong, rather than as an
opaque ``InvalidBucketName`` or a listing of the wrong bucket later on.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from infra.errors import AidcError

BUCKET_NAME_RULES_URL = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"

_SCHEME = "s3://"
_MAX_KEY_BYTES = 1024  # S3 object keys are at most 1,024 bytes of UTF-8
_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
# Prefixes and suffixes S3 reserves for access points, aliases, directory and table buckets.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


class S3UrlError(AidcError):
    """The ``s3://`` source URL is malformed."""


@dataclass(frozen=True)
class S3Url:
    """A parsed source: the bucket and the key prefix under it ("" for the whole bucket)."""

    bucket: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"{_SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{_SCHEME}{self.bucket}"


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` breaks the S3 general-purpose bucket naming rules, or None when it is valid.

    Legacy us-east-1 buckets created before March 2018 may hold names (capitals, underscores)
    that today's rules reject; they are rejected here too, since no new transfer target or
    Storage Transfer Service job should be planned around them without a human looking.
    """
    if not 3 <= len(name) <= 63:
        return f"must be 3 to 63 characters long, got {len(name)}"
    if not _BUCKET_CHARS.fullmatch(name):
        bad = sorted({c for c in name if not re.fullmatch(r"[a-z0-9.-]", c)})
        return f"may contain only lowercase letters, digits, '.' and '-', found {''.join(bad)!r}"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must begin and end with a lowercase letter or a digit"
    if ".." in name:
        return "must not contain two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "must not be formatted as an IP address"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with the reserved prefix {prefix!r}"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with the reserved suffix {suffix!r}"
    return None


def parse_s3_url(url: str) -> S3Url:
    """Split ``s3://bucket[/prefix]`` into bucket and prefix, rejecting what S3 would reject.

    The prefix is kept verbatim (a trailing ``/`` matters: ``data`` also matches ``data-old/``).
    """
    text = url.strip()
    if not text.lower().startswith(_SCHEME):
        scheme = text.split("://", 1)[0] + "://" if "://" in text else "no scheme"
        raise S3UrlError(f"{url!r}: expected an s3://BUCKET[/PREFIX] URL, got {scheme}")
    rest = text[len(_SCHEME):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise S3UrlError(f"{url!r}: the bucket name is empty; expected s3://BUCKET[/PREFIX]")
    problem = bucket_name_problem(bucket)
    if problem:
        raise S3UrlError(
            f"{url!r}: invalid S3 bucket name {bucket!r}: {problem} (see {BUCKET_NAME_RULES_URL})"
        )
    if len(prefix.encode("utf-8")) > _MAX_KEY_BYTES:
        raise S3UrlError(f"{url!r}: the prefix is longer than S3's {_MAX_KEY_BYTES}-byte key limit")
    return S3Url(bucket=bucket, prefix=prefix)
