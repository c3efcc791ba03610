"""Filestore service tiers: the capacities each accepts, and whether it takes a CMEK key.

A Filestore share's size is fixed by its tier: a minimum, a maximum and a step, and for the
Zonal and Regional tiers two separate ranges. A size the API rejects fails only at
`pulumi up`, after the rest of the stack has been built, so specs check it at validation time
against this catalog. Every record says which Google page it was read from and when.

Keys are the Filestore API tier names (`Instance.Tier`). The API's old aliases STANDARD and
PREMIUM (for BASIC_HDD and BASIC_SSD) are not entries: a lookup by alias is rejected with the
name to use, so one tier never has two spellings in a stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal, Mapping

from infra.catalog.source import Source
from infra.errors import AidcError, CatalogLookupError

AS_OF = date(2026, 11, 29)

SERVICE_TIERS_URL = "https://cloud.google.com/filestore/docs/service-tiers"
ZONAL_URL = "https://cloud.google.com/filestore/docs/service-tiers-zonal"
REGIONAL_URL = "https://cloud.google.com/filestore/docs/service-tiers-regional"
CREATING_INSTANCES_URL = "https://cloud.google.com/filestore/docs/creating-instances"
CMEK_URL = "https://cloud.google.com/filestore/docs/cmek"
RELEASE_NOTES_URL = "https://cloud.google.com/filestore/docs/release-notes"

_TIB = 1024  # GiB per TiB: Filestore documents sizes in binary units and `capacityGb` is GiB

# "63.9 TiB" (the Basic tiers' maximum) is 65,433.6 GiB, but `capacityGb` is a whole number of
# GiB. Google's own Filestore CSI driver caps Basic requests at 639 * TiB / 10 bytes
# (kubernetes-sigs/gcp-filestore-csi-driver, pkg/csi_driver/controller.go), so 65,433 GiB fits
# under it and 65,434 GiB does not. No Google page gives the GiB figure, so we take the largest
# whole GiB that does not exceed the documented 63.9 TiB: the catalog may refuse one GiB the
# API would take, but never accepts a size above the documented maximum.
_BASIC_MAX_GIB = 65_433

_TIERS_CMEK = Source(
    CMEK_URL,
    AS_OF,
    "'Supported tiers' table: Basic HDD No, Basic SSD No, Zonal Yes, Regional Yes, "
    "Enterprise Yes",
)


@dataclass(frozen=True)
class CapacityRange:
    """One band of sizes a tier accepts: min_gib, min_gib + step_gib, ..., max_gib."""

    min_gib: int
    max_gib: int
    step_gib: int

    def __post_init__(self) -> None:
        # A malformed range would make check_capacity accept sizes the API rejects.
        if not (0 < self.min_gib <= self.max_gib and self.step_gib > 0):
            raise AidcError(f"capacity range {self} needs 0 < min_gib <= max_gib and step_gib > 0")
        if (self.max_gib - self.min_gib) % self.step_gib:
            raise AidcError(f"capacity range {self}: max_gib is not on a step from min_gib")

    def contains(self, gib: int) -> bool:
        """Whether ``gib`` lies within min..max and on the step counted from min."""
        return self.min_gib <= gib <= self.max_gib and (gib - self.min_gib) % self.step_gib == 0

    def describe(self) -> str:
        """The range as an error message states it: ``1024-9984 GiB in steps of 256 GiB``."""
        return f"{self.min_gib}-{self.max_gib} GiB in steps of {self.step_gib} GiB"


@dataclass(frozen=True)
class FilestoreTier:
    """What one Filestore tier accepts, and the pages that say so.

    An instance stays in the range it was created in: a tier with two ranges cannot move an
    instance from one to the other (make a new instance and copy the data; see
    `check_resize`). ``scale_down`` False means capacity can only grow. ``location_kind``
    says whether the instance ``location`` is a zone or a region. ``legacy`` marks a tier name
    Google has replaced; it is kept so that existing instances still validate.
    """

    tier: str
    ranges: tuple[CapacityRange, ...]
    cmek: bool
    location_kind: Literal["zone", "region"]
    scale_down: bool
    legacy: bool
    source: Source
    cmek_source: Source

    def __post_init__(self) -> None:
        # check_capacity's "below / between / above" reasoning needs sorted, disjoint ranges.
        if not self.ranges:
            raise AidcError(f"Filestore tier {self.tier} has no capacity range")
        for lower, upper in zip(self.ranges, self.ranges[1:]):
            if lower.max_gib >= upper.min_gib:
                raise AidcError(f"Filestore tier {self.tier}: ranges overlap or are out of order")
        if self.location_kind not in ("zone", "region"):
            raise AidcError(f"Filestore tier {self.tier}: location_kind must be zone or region")

    def accepted(self) -> str:
        """Every range, joined as error messages list them."""
        return ", or ".join(r.describe() for r in self.ranges)


_TIER_LIST = (
    FilestoreTier(
        tier="BASIC_HDD",
        ranges=(CapacityRange(1 * _TIB, _BASIC_MAX_GIB, 1),),
        cmek=False,
        location_kind="zone",
        scale_down=False,
        legacy=False,
        source=Source(
            CREATING_INSTANCES_URL,
            AS_OF,
            "'Allocate capacity' table: 1 TiB to 63.9 TiB in 1 GiB steps; basic instances "
            "can only scale up. The 100 GiB minimum on the service-tiers page applies only to "
            "instances the GKE Filestore CSI driver creates, not to the API used here.",
        ),
        cmek_source=_TIERS_CMEK,
    ),
    FilestoreTier(
        tier="BASIC_SSD",
        ranges=(CapacityRange(2560, _BASIC_MAX_GIB, 1),),
        cmek=False,
        location_kind="zone",
        scale_down=False,
        legacy=False,
        source=Source(
            CREATING_INSTANCES_URL,
            AS_OF,
            "'Allocate capacity' table: 2.5 TiB to 63.9 TiB in 1 GiB steps; basic instances "
            "can only scale up.",
        ),
        cmek_source=_TIERS_CMEK,
    ),
    FilestoreTier(
        tier="ZONAL",
        ranges=(
            CapacityRange(1 * _TIB, 9984, 256),  # 1 TiB to 9.75 TiB
            CapacityRange(10 * _TIB, 100 * _TIB, 2560),  # 10 TiB to 100 TiB in 2.5 TiB steps
        ),
        cmek=True,
        location_kind="zone",
        scale_down=True,
        legacy=False,
        source=Source(
            ZONAL_URL,
            AS_OF,
            "Lower range 1 TiB-9.75 TiB, minimum scaling unit 256 GiB; higher range "
            "10 TiB-100 TiB, unit 2.5 TiB; scales up or down. 'Zonal limitations': the "
            "capacity range can't be changed once chosen; a new instance is needed.",
        ),
        cmek_source=_TIERS_CMEK,
    ),
    FilestoreTier(
        tier="REGIONAL",
        ranges=(
            CapacityRange(100, 10 * _TIB - 1, 1),  # 100 GiB to 10,239 GiB
            CapacityRange(10 * _TIB, 100 * _TIB, 2560),  # 10 TiB to 100 TiB in 2.5 TiB steps
        ),
        cmek=True,
        location_kind="region",
        scale_down=True,
        legacy=False,
        source=Source(
            CREATING_INSTANCES_URL,
            AS_OF,
            "'Allocate capacity' table: lower range 100 GiB-10,239 GiB in 1 GiB steps (the "
            "range on service-tiers-regional), higher range 10 TiB-100 TiB in 2.5 TiB steps; "
            "scales up or down. The lower range needs the small capacity instances feature: "
            "projects without it get 1 TiB-9.75 TiB in 256 GiB steps, a subset of this range. "
            "Below 1024 GiB, create also needs custom performance (--performance).",
        ),
        cmek_source=_TIERS_CMEK,
    ),
    FilestoreTier(
        tier="ENTERPRISE",
        ranges=(CapacityRange(1 * _TIB, 10 * _TIB, 256),),
        cmek=True,
        location_kind="region",
        scale_down=True,
        legacy=False,
        source=Source(
            CREATING_INSTANCES_URL,
            AS_OF,
            "'Allocate capacity' table: 1 TiB-10 TiB in 256 GiB steps; all tiers but basic "
            "scale up or down.",
        ),
        cmek_source=_TIERS_CMEK,
    ),
    FilestoreTier(
        tier="HIGH_SCALE_SSD",
        ranges=(CapacityRange(10 * _TIB, 100 * _TIB, 2560),),
        cmek=True,
        location_kind="zone",
        scale_down=True,
        legacy=True,
        source=Source(
            SERVICE_TIERS_URL,
            AS_OF,
            "Legacy: 'the zonal (10 TiB to 100 TiB) service tier replaces the high scale SSD, "
            "a former service tier'. Figures are that zonal higher range (10 TiB-100 TiB in "
            "2.5 TiB steps, up or down), which earlier versions of the page gave for High "
            "Scale SSD.",
        ),
        cmek_source=Source(
            RELEASE_NOTES_URL,
            AS_OF,
            "Not on the current CMEK tier table. A 2022-04-11 release note announced CMEK for "
            "High Scale SSD (preview), and the Zonal tier that replaced it supports CMEK.",
        ),
    ),
)

FILESTORE_TIERS: Mapping[str, FilestoreTier] = MappingProxyType({t.tier: t for t in _TIER_LIST})

# The API's older names for the Basic tiers (Instance.Tier: "BASIC_HDD is the preferred term").
_ALIASES = {"STANDARD": "BASIC_HDD", "PREMIUM": "BASIC_SSD"}


def filestore_tier(name: str) -> FilestoreTier:
    """The catalog record for a Filestore API tier name; a miss lists the tiers that exist."""
    key = name.strip().upper()
    try:
        return FILESTORE_TIERS[key]
    except KeyError:
        pass
    known = ", ".join(FILESTORE_TIERS)
    if key in _ALIASES:
        raise CatalogLookupError(
            f"{name!r} is the Filestore API's old alias for {_ALIASES[key]}; "
            f"use {_ALIASES[key]} (tiers: {known})", field="tier"
        )
    raise CatalogLookupError(f"{name!r} is not a Filestore tier; use one of {known}", field="tier")


def check_capacity(tier: str, capacity_gib: int) -> CapacityRange:
    """The range of ``tier`` that ``capacity_gib`` falls in; otherwise say what is accepted.

    The Filestore API rejects any other size when the instance is created or resized, so the
    error names the nearest valid sizes to pick instead.
    """
    record = filestore_tier(tier)
    name = record.tier
    accepts = f"{name} accepts {record.accepted()}"
    if isinstance(capacity_gib, bool) or not isinstance(capacity_gib, int):
        raise AidcError(f"{capacity_gib!r} is not a whole number of GiB; {accepts}", field="capacity_gib")
    for capacity_range in record.ranges:
        if capacity_range.contains(capacity_gib):
            return capacity_range

    first, last = record.ranges[0], record.ranges[-1]
    if capacity_gib < first.min_gib:
        raise AidcError(f"{capacity_gib} is below the {name} minimum; {accepts}", field="capacity_gib")
    if capacity_gib > last.max_gib:
        raise AidcError(f"{capacity_gib} is above the {name} maximum; {accepts}", field="capacity_gib")
    for r in record.ranges:
        if r.min_gib <= capacity_gib <= r.max_gib:
            below = r.min_gib + (capacity_gib - r.min_gib) // r.step_gib * r.step_gib
            raise AidcError(
                f"{capacity_gib} is not on a {r.step_gib} GiB step of the {name} "
                f"{r.min_gib}-{r.max_gib} GiB range; the nearest valid sizes are {below} and "
                f"{below + r.step_gib} GiB; {accepts}", field="capacity_gib"
            )
    # Ranges are sorted and disjoint, and the value is inside neither end nor any range,
    # so it lies in a gap between two neighbours.
    lower, upper = next(
        (a, b) for a, b in zip(record.ranges, record.ranges[1:]) if capacity_gib < b.min_gib
    )
    raise AidcError(
        f"{capacity_gib} falls between the {name} ranges; the nearest valid "
        f"sizes are {lower.max_gib} and {upper.min_gib} GiB; {accepts}", field="capacity_gib"
    )


def check_resize(tier: str, current_gib: int, new_gib: int) -> CapacityRange:
    """The range a resize lands in, if Filestore allows the move; otherwise say why not.

    An instance cannot leave the capacity range it was created in, and Basic instances cannot
    shrink: both need a new instance and a copy of the data, which a plan must show rather
    than discover when the update fails.
    """
    record = filestore_tier(tier)
    current = check_capacity(record.tier, current_gib)
    new = check_capacity(record.tier, new_gib)
    if new != current:
        raise AidcError(
            f"{current_gib} -> {new_gib} moves a {record.tier} instance from the "
            f"{current.describe()} range to the {new.describe()} range; Filestore cannot change "
            f"an instance's capacity range: create a new instance and copy the data", field="capacity_gib"
        )
    if new_gib < current_gib and not record.scale_down:
        raise AidcError(
            f"{current_gib} -> {new_gib} shrinks a {record.tier} instance; "
            f"{record.tier} capacity can only grow: keep {current_gib} GiB or more, or create "
            f"a smaller instance and copy the data", field="capacity_gib"
        )
    return new


def filestore_catalog_rows() -> list[dict]:
    """The catalog as plain data, in catalog order (what `aidc catalog filestore --json` prints)."""
    return [
        {
            "tier": t.tier,
            "ranges": [
                {"min_gib": r.min_gib, "max_gib": r.max_gib, "step_gib": r.step_gib}
                for r in t.ranges
            ],
            "cmek": t.cmek,
        }
        for t in FILESTORE_TIERS.values()
    ]
