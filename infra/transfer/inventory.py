"""Stream an S3 listing into a bounded summary, and read the source bucket's security posture.

A dataset bucket can hold hundreds of millions of keys, so the inventory never keeps a list of
them: it keeps counters (objects, bytes, a fixed size histogram, per storage class) and a heap
of the N largest objects. Memory is O(N + storage classes), whatever the object count; only one
listing page (at most 1,000 keys) is alive at a time.
"""

from __future__ import annotations

import bisect
import fnmatch
import heapq
import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.catalog.cloud_prices import GCS_MAX_OBJECT_BYTES, RESTORE_REQUIRED_STORAGE_CLASSES
from infra.errors import AidcError

MIB = 2**20
GIB = 2**30

# Lower bound inclusive, upper bound exclusive: a 1 MiB object is in "1-16 MiB".
SIZE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("<1 MiB", MIB),
    ("1-16 MiB", 16 * MIB),
    ("16-128 MiB", 128 * MIB),
    ("128 MiB-1 GiB", GIB),
    ("1-16 GiB", 16 * GIB),
    (">16 GiB", None),
)
_BAND_UPPERS = [upper for _, upper in SIZE_BANDS if upper is not None]

DEFAULT_TOP_N = 10
_MAX_FILTER_PREFIXES = 1000  # Storage Transfer Service's limit per include/exclude list
_MAX_KEY_BYTES = 1024

OnPage = Callable[[int, int], None]
"""Progress callback: (objects so far, bytes so far), called once per listing page."""


# Fail fast on an unreachable or silent endpoint: a preflight should not hang for minutes on
# retries. A whole `aidc transfer plan` also has a deadline (infra.cli.transfer, --timeout),
# which ends an endpoint that trickles bytes or paginates forever.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 20
MAX_ATTEMPTS = 2


def s3_client(*, endpoint_url: str | None = None, region: str | None = None, profile: str | None = None) -> Any:
    """A boto3 S3 client on the usual credential chain (env, profile, SSO, instance role).

    Short connect timeout and few retries, so a wrong ``--endpoint-url`` fails in seconds.
    """
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=profile, region_name=region)
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


# --------------------------------------------------------------------------------------------
# Which keys are in scope
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The keys a transfer takes: under ``prefix``, starting with an include, with no exclude.

    Prefixes are whole-key prefixes from the bucket root, the form Storage Transfer Service's
    ``objectConditions.includePrefixes``/``excludePrefixes`` take, and they are checked against
    its rules here so a plan never describes a job STS would refuse.
    """

    prefix: str = ""
    include_prefixes: tuple[str, ...] = ()
    exclude_prefixes: tuple[str, ...] = ()

    def list_prefixes(self) -> tuple[str, ...]:
        """The ``Prefix`` values to list, each separately, so only matching keys are fetched."""
        if not self.include_prefixes:
            return () if self._excluded(self.prefix) else (self.prefix,)
        return tuple(p for p in sorted(self.include_prefixes) if not self._excluded(p))

    def selects(self, key: str) -> bool:
        """Whether ``key`` (already under a listed prefix) survives the exclude list."""
        return not self._excluded(key)

    def _excluded(self, key: str) -> bool:
        return any(key.startswith(e) for e in self.exclude_prefixes)


def _check_prefix_list(name: str, prefixes: Sequence[str]) -> list[str]:
    problems: list[str] = []
    if len(prefixes) > _MAX_FILTER_PREFIXES:
        problems.append(f"{name}: {len(prefixes)} prefixes, Storage Transfer Service accepts at most {_MAX_FILTER_PREFIXES}")
    for p in prefixes:
        if not p:
            problems.append(f"{name}: an empty prefix (omit the option to select everything)")
        elif p.startswith("/"):
            problems.append(f"{name}: {p!r} starts with '/'; S3 keys and STS prefixes omit the leading slash")
        elif "\r" in p or "\n" in p:
            problems.append(f"{name}: {p!r} contains a carriage return or line feed")
        elif len(p.encode("utf-8")) > _MAX_KEY_BYTES:
            problems.append(f"{name}: {p[:40]!r}... is longer than {_MAX_KEY_BYTES} bytes")
    distinct = sorted({p for p in prefixes if p})
    for a, b in zip(distinct, distinct[1:]):
        if b.startswith(a):
            problems.append(f"{name}: {a!r} is a prefix of {b!r}; each must cover a distinct part of the bucket")
    return problems


def make_selection(prefix: str = "", include: Iterable[str] = (), exclude: Iterable[str] = ()) -> Selection:
    """Validate include/exclude prefixes (STS rules, plus: inside the URL's prefix) into a Selection.

    Every problem is collected and raised once, so one run shows all that needs fixing.
    """
    inc = tuple(dict.fromkeys(include))
    exc = tuple(dict.fromkeys(exclude))
    problems = _check_prefix_list("--include", inc) + _check_prefix_list("--exclude", exc)
    if prefix:
        for p in inc + exc:
            if p and not p.startswith(prefix):
                problems.append(f"{p!r} is outside the source prefix {prefix!r}; prefixes are whole keys from the bucket root")
    if inc:
        for e in exc:
            if e and not any(i and e.startswith(i) for i in inc):
                problems.append(f"--exclude {e!r} does not start with any --include prefix (an STS requirement)")
    if problems:
        raise AidcError("invalid prefix filters:\n  " + "\n  ".join(problems))
    return Selection(prefix=prefix, include_prefixes=inc, exclude_prefixes=exc)


# --------------------------------------------------------------------------------------------
# The streaming summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """A count of objects and their bytes."""

    objects: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class ObjectSummary:
    """One listed object, as kept for the largest-objects table."""

    key: str
    size: int
    storage_class: str


@dataclass(frozen=True)
class Inventory:
    """What a listing found: totals, size histogram, storage classes, largest objects."""

    objects: int
    bytes: int
    size_histogram: tuple[tuple[str, Tally], ...]
    storage_classes: tuple[tuple[str, Tally], ...]
    largest: tuple[ObjectSummary, ...]
    restore_required: Tally
    restore_required_by_class: tuple[tuple[str, Tally], ...]
    too_large_for_gcs: Tally = Tally()
    list_requests: int = 0

    def storage_class(self, name: str) -> Tally:
        """The tally for one storage class (zero when the listing had none)."""
        return dict(self.storage_classes).get(name, Tally())


class InventoryAccumulator:
    """Counters and a bounded min-heap, fed one object at a time; never holds the key list."""

    __slots__ = ("_top_n", "_objects", "_bytes", "_bands", "_classes", "_heap", "_too_large", "list_requests")

    def __init__(self, top_n: int = DEFAULT_TOP_N) -> None:
        if top_n < 0:
            raise AidcError(f"top-N must not be negative, got {top_n}")
        self._top_n = top_n
        self._objects = 0
        self._bytes = 0
        self._bands = [[0, 0] for _ in SIZE_BANDS]
        self._classes: dict[str, list[int]] = {}
        # (size, key, storage_class): heap[0] is the smallest of the N largest seen so far.
        self._heap: list[tuple[int, str, str]] = []
        self._too_large = [0, 0]
        self.list_requests = 0

    @property
    def objects(self) -> int:
        return self._objects

    @property
    def bytes(self) -> int:
        return self._bytes

    def add(self, key: str, size: int, storage_class: str | None) -> None:
        """Count one object. A missing storage class is STANDARD, as S3 reports it."""
        sc = storage_class or "STANDARD"
        self._objects += 1
        self._bytes += size
        band = self._bands[bisect.bisect_right(_BAND_UPPERS, size)]
        band[0] += 1
        band[1] += size
        tally = self._classes.get(sc)
        if tally is None:
            tally = self._classes[sc] = [0, 0]
        tally[0] += 1
        tally[1] += size
        if size > GCS_MAX_OBJECT_BYTES:
            self._too_large[0] += 1
            self._too_large[1] += size
        if self._top_n:
            item = (size, key, sc)
            if len(self._heap) < self._top_n:
                heapq.heappush(self._heap, item)
            elif item > self._heap[0]:
                heapq.heapreplace(self._heap, item)

    def result(self) -> Inventory:
        """Freeze the counters into an Inventory."""
        classes = sorted(self._classes.items(), key=lambda kv: (-kv[1][1], kv[0]))
        restore = [(sc, Tally(*t)) for sc, t in classes if sc in RESTORE_REQUIRED_STORAGE_CLASSES]
        return Inventory(
            objects=self._objects,
            bytes=self._bytes,
            size_histogram=tuple((label, Tally(*self._bands[i])) for i, (label, _) in enumerate(SIZE_BANDS)),
            storage_classes=tuple((sc, Tally(*t)) for sc, t in classes),
            largest=tuple(
                ObjectSummary(key=k, size=s, storage_class=c)
                for s, k, c in sorted(self._heap, key=lambda i: (-i[0], i[1]))
            ),
            restore_required=Tally(sum(t.objects for _, t in restore), sum(t.bytes for _, t in restore)),
            restore_required_by_class=tuple(restore),
            too_large_for_gcs=Tally(*self._too_large),
            list_requests=self.list_requests,
        )


def iter_objects(client: Any, bucket: str, selection: Selection, *, page_size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Yield listing pages (``Contents`` lists), one ``list_objects_v2`` call each, filtered.

    Each include prefix is listed with its own ``Prefix`` so S3 returns only matching keys;
    exclude prefixes are applied to what comes back.
    """
    paginator = client.get_paginator("list_objects_v2")
    for prefix in selection.list_prefixes():
        pages = paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size})
        for page in pages:
            contents = page.get("Contents", [])
            if selection.exclude_prefixes:
                contents = [o for o in contents if selection.selects(o["Key"])]
            yield contents


def inventory(
    client: Any,
    bucket: str,
    selection: Selection | None = None,
    *,
    top_n: int = DEFAULT_TOP_N,
    on_page: OnPage | None = None,
    page_size: int = 1000,
) -> Inventory:
    """List ``bucket`` (within ``selection``) and summarise it without keeping the keys."""
    acc = InventoryAccumulator(top_n=top_n)
    for contents in iter_objects(client, bucket, selection or Selection(), page_size=page_size):
        acc.list_requests += 1
        for obj in contents:
            acc.add(obj["Key"], int(obj.get("Size", 0)), obj.get("StorageClass"))
        if on_page is not None:
            on_page(acc.objects, acc.bytes)
    return acc.result()


# --------------------------------------------------------------------------------------------
# Security posture of the source bucket
# --------------------------------------------------------------------------------------------

PUBLIC_ACCESS_BLOCK_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

# Condition keys that, with fixed values, make a policy statement non-public in AWS's own
# evaluation ("The meaning of 'public'" in the S3 user guide, which Access Analyzer and
# GetBucketPolicyStatus apply).
_RESTRICTING_CONDITION_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceIp",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceOwner",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:userid",
        "aws:username",
        "s3:DataAccessPointAccount",
        "s3:DataAccessPointArn",
    )
)
_READ_ACTION = "s3:getobject"


@dataclass(frozen=True)
class SecurityPosture:
    """How the source is protected; None where the caller may not read a setting."""

    public_access_block: bool | None
    public_access_block_settings: Mapping[str, bool] | None
    default_encryption: str | None
    kms_key_id: str | None
    public_policy: bool | None
    """Public read found by parsing the policy, or AWS's policy status says public (any access)."""
    policy_public_read: bool | None
    """Our parse of the policy alone: an unrestricted anonymous GetObject grant."""
    policy_status_is_public: bool | None
    """GetBucketPolicyStatus.IsPublic where the endpoint offers it, else None."""
    unreadable: tuple[str, ...] = field(default=())


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_is_public(statement: Mapping[str, Any]) -> bool:
    if "NotPrincipal" in statement:
        return True  # Allow + NotPrincipal grants everyone but the listed principals
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in _as_list(principal.get("AWS"))
    return False


def _grants_get_object(statement: Mapping[str, Any]) -> bool:
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(_READ_ACTION, a.lower()) for a in _as_list(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(_READ_ACTION, a.lower()) for a in _as_list(statement.get("Action")))


def _covers_objects(statement: Mapping[str, Any], bucket: str) -> bool:
    if "NotResource" in statement:
        return True
    for resource in _as_list(statement.get("Resource")):
        if resource == "*":
            return True
        arn = resource.split(":::", 1)[1] if ":::" in resource else resource
        if "/" in arn:
            if fnmatch.fnmatchcase(bucket, arn.split("/", 1)[0]):
                return True
        elif fnmatch.fnmatchcase(f"{bucket}/key", arn):  # IAM '*' also spans '/'
            return True
    return False


def _value_is_fixed(key: str, value: Any) -> bool:
    if not isinstance(value, str) or "*" in value or "?" in value:
        return False
    if key == "aws:sourceip":
        try:
            return ipaddress.ip_network(value, strict=False).prefixlen > 0
        except ValueError:
            return False
    return True


def _condition_restricts(condition: Any) -> bool:
    """True when a Condition pins a principal/source key to fixed values (AWS's 'non-public')."""
    if not isinstance(condition, Mapping):
        return False
    for operator, clauses in condition.items():
        op = operator.lower()
        # IfExists passes when the key is absent; negated operators admit everyone else.
        if op.endswith("ifexists") or "not" in op or not isinstance(clauses, Mapping):
            continue
        for key, values in clauses.items():
            k = key.lower()
            fixed = _as_list(values)
            if k in _RESTRICTING_CONDITION_KEYS and fixed and all(_value_is_fixed(k, v) for v in fixed):
                return True
    return False


def policy_grants_public_read(policy: str | Mapping[str, Any], bucket: str) -> bool:
    """Whether a bucket policy lets anyone (``*``) GetObject in ``bucket`` without restriction.

    A statement counts when it Allows, names the anonymous principal (``"*"`` or
    ``{"AWS": "*"}``), matches ``s3:GetObject`` (``s3:*``, ``s3:Get*``, ``*`` ...; actions are
    case-insensitive), covers object ARNs, and has no Condition that pins a principal or source
    to fixed values. Deny statements are not subtracted: the point is to flag a grant to review.
    """
    doc = json.loads(policy) if isinstance(policy, str) else policy
    for statement in _as_list(doc.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if (
            _principal_is_public(statement)
            and _grants_get_object(statement)
            and _covers_objects(statement, bucket)
            and not _condition_restricts(statement.get("Condition"))
        ):
            return True
    return False


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


_DENIED = {"AccessDenied", "AllAccessDisabled", "403"}
_UNSUPPORTED = {"NotImplemented", "MethodNotAllowed", "501", "405", "XNotImplemented"}
_UNREADABLE = object()


def security_posture(client: Any, bucket: str) -> SecurityPosture:
    """Read public access block, default encryption and bucket policy; tolerate what is unreadable.

    A preflight run by someone who may list but not read every setting still reports the rest:
    a denied setting is None and named in ``unreadable`` rather than failing the whole plan.
    """
    from botocore.exceptions import ClientError

    unreadable: list[str] = []

    def read(name: str, call: Callable[[], Any], absent: set[str]) -> Any:
        try:
            return call()
        except ClientError as exc:
            code = _error_code(exc)
            if code in absent:
                return None
            if code in _DENIED or code in _UNSUPPORTED:
                unreadable.append(f"{name} ({code})")
                return _UNREADABLE
            raise

    pab_settings: dict[str, bool] | None = None
    pab: bool | None
    resp = read(
        "public access block",
        lambda: client.get_public_access_block(Bucket=bucket),
        {"NoSuchPublicAccessBlockConfiguration"},
    )
    if resp is _UNREADABLE:
        pab = None
    elif resp is None:
        pab = False
    else:
        cfg = resp.get("PublicAccessBlockConfiguration", {})
        pab_settings = {k: bool(cfg.get(k, False)) for k in PUBLIC_ACCESS_BLOCK_SETTINGS}
        pab = all(pab_settings.values())

    algorithm: str | None = None
    kms_key: str | None = None
    resp = read(
        "default encryption",
        lambda: client.get_bucket_encryption(Bucket=bucket),
        {"ServerSideEncryptionConfigurationNotFoundError"},
    )
    if resp not in (None, _UNREADABLE):
        for rule in resp.get("ServerSideEncryptionConfiguration", {}).get("Rules", []):
            default = rule.get("ApplyServerSideEncryptionByDefault", {})
            if default.get("SSEAlgorithm"):
                algorithm = default["SSEAlgorithm"]
                kms_key = default.get("KMSMasterKeyID")
                break

    public_read: bool | None = False
    resp = read("bucket policy", lambda: client.get_bucket_policy(Bucket=bucket), {"NoSuchBucketPolicy"})
    if resp is _UNREADABLE:
        public_read = None
    elif resp is not None:
        try:
            public_read = policy_grants_public_read(resp["Policy"], bucket)
        except (ValueError, AttributeError, TypeError):
            unreadable.append("bucket policy (not valid JSON)")
            public_read = None

    status: bool | None = None
    resp = read("bucket policy status", lambda: client.get_bucket_policy_status(Bucket=bucket), {"NoSuchBucketPolicy"})
    if resp not in (None, _UNREADABLE):
        status = bool(resp.get("PolicyStatus", {}).get("IsPublic", False))
    # AWS's own verdict counts when it says public; our parse covers endpoints without it.
    public_policy = True if (public_read or status) else (None if public_read is None else False)

    return SecurityPosture(
        public_access_block=pab,
        public_access_block_settings=pab_settings,
        default_encryption=algorithm,
        kms_key_id=kms_key,
        public_policy=public_policy,
        policy_public_read=public_read,
        policy_status_is_public=status,
        unreadable=tuple(unreadable),
    )


def bucket_region(client: Any, bucket: str) -> str | None:
    """The bucket's region (``GetBucketLocation``: empty means us-east-1), None if unreadable."""
    from botocore.exceptions import ClientError

    try:
        resp = client.get_bucket_location(Bucket=bucket)
    except ClientError as exc:
        if _error_code(exc) in _DENIED or _error_code(exc) in _UNSUPPORTED:
            return None
        raise
    location = resp.get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def archive_tiering_configured(client: Any, bucket: str) -> bool | None:
    """Whether an Intelligent-Tiering configuration opts objects into the archive access tiers.

    Only then can INTELLIGENT_TIERING objects need a restore; None when it cannot be read.
    """
    from botocore.exceptions import ClientError

    try:
        resp = client.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    except ClientError as exc:
        if _error_code(exc) in _DENIED or _error_code(exc) in _UNSUPPORTED:
            return None
        raise
    for cfg in resp.get("IntelligentTieringConfigurationList", []):
        if cfg.get("Status", "Enabled") == "Enabled" and cfg.get("Tierings"):
            return True
    return False
