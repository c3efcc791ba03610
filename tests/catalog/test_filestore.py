"""The Filestore tier catalog: pinned to Google's pages, and the capacity checks built on it."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.catalog.filestore import (
    FILESTORE_TIERS,
    CapacityRange,
    check_capacity,
    check_resize,
    filestore_catalog_rows,
    filestore_tier,
)
from infra.errors import AidcError, CatalogLookupError

AS_OF = date(2026, 11, 29)

# tier: ((min_gib, max_gib, step_gib), ...), cmek, location kind, scales down, legacy
EXPECTED = {
    # https://cloud.google.com/filestore/docs/creating-instances ("Allocate capacity" table):
    # 1 TiB-63.9 TiB in 1 GiB steps, scale up only. 63.9 TiB = 65,433.6 GiB, floored.
    # CMEK: https://cloud.google.com/filestore/docs/cmek ("Supported tiers": Basic HDD No)
    "BASIC_HDD": (((1024, 65433, 1),), False, "zone", False, False),
    # https://cloud.google.com/filestore/docs/creating-instances: 2.5 TiB-63.9 TiB, 1 GiB steps
    # CMEK: https://cloud.google.com/filestore/docs/cmek (Basic SSD No)
    "BASIC_SSD": (((2560, 65433, 1),), False, "zone", False, False),
    # https://cloud.google.com/filestore/docs/service-tiers-zonal: 1 TiB-9.75 TiB by 256 GiB,
    # 10 TiB-100 TiB by 2.5 TiB, up or down. CMEK: https://cloud.google.com/filestore/docs/cmek
    "ZONAL": (((1024, 9984, 256), (10240, 102400, 2560)), True, "zone", True, False),
    # https://cloud.google.com/filestore/docs/service-tiers-regional: 100 GiB-10,239 GiB and
    # 10 TiB-100 TiB; steps (1 GiB, 2.5 TiB) from
    # https://cloud.google.com/filestore/docs/creating-instances. CMEK: .../filestore/docs/cmek
    "REGIONAL": (((100, 10239, 1), (10240, 102400, 2560)), True, "region", True, False),
    # https://cloud.google.com/filestore/docs/creating-instances: 1 TiB-10 TiB by 256 GiB
    # CMEK: https://cloud.google.com/filestore/docs/cmek (Enterprise Yes)
    "ENTERPRISE": (((1024, 10240, 256),), True, "region", True, False),
    # https://cloud.google.com/filestore/docs/service-tiers: replaced by the zonal higher range
    "HIGH_SCALE_SSD": (((10240, 102400, 2560),), True, "zone", True, True),
}


def _on_grid(gib: int, ranges: tuple[tuple[int, int, int], ...]) -> bool:
    """The acceptance rule written out again, so the property test need not trust contains()."""
    return any(lo <= gib <= hi and (gib - lo) % step == 0 for lo, hi, step in ranges)


@pytest.mark.parametrize("tier", EXPECTED)
def test_catalog_matches_the_documented_figures(tier: str) -> None:
    """Each tier carries exactly the ranges, CMEK support and location kind Google documents."""
    ranges, cmek, location_kind, scale_down, legacy = EXPECTED[tier]
    record = FILESTORE_TIERS[tier]
    assert record.tier == tier
    assert tuple((r.min_gib, r.max_gib, r.step_gib) for r in record.ranges) == ranges
    assert (record.cmek, record.location_kind, record.scale_down, record.legacy) == (
        cmek,
        location_kind,
        scale_down,
        legacy,
    )


def test_catalog_has_exactly_the_expected_tiers() -> None:
    """A tier added or dropped must be added to or dropped from the pinned table too."""
    assert list(FILESTORE_TIERS) == list(EXPECTED)


@pytest.mark.parametrize("tier", EXPECTED)
def test_every_figure_has_a_dated_filestore_source(tier: str) -> None:
    """Figures and CMEK support each cite a Filestore doc page checked on the catalog date."""
    record = FILESTORE_TIERS[tier]
    for source in (record.source, record.cmek_source):
        assert source.url.startswith("https://cloud.google.com/filestore/docs/")
        assert source.as_of == AS_OF
        assert source.note


def test_only_the_basic_tiers_refuse_cmek() -> None:
    """The CMEK page's table: Basic HDD and Basic SSD No, every other tier Yes."""
    assert {t.tier for t in FILESTORE_TIERS.values() if not t.cmek} == {"BASIC_HDD", "BASIC_SSD"}


def test_records_are_immutable() -> None:
    """Catalog records are frozen and the mapping is read-only, so nothing can patch a figure."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        FILESTORE_TIERS["ZONAL"].cmek = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        FILESTORE_TIERS["NEW"] = FILESTORE_TIERS["ZONAL"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("gib", "inside"),
    [
        (1024, True),  # min
        (9984, True),  # max
        (1280, True),  # min + one step
        (1023, False),  # below min
        (10240, False),  # above max (the next range's min)
        (1025, False),  # off the step
        (9983, False),  # off the step, just under max
    ],
)
def test_contains_at_the_edges(gib: int, inside: bool) -> None:
    """contains() includes both ends and only sizes on a step counted from min."""
    assert CapacityRange(1024, 9984, 256).contains(gib) is inside


def test_contains_counts_the_step_from_min_not_from_zero() -> None:
    """A range whose min is not a multiple of its step still accepts min + k * step."""
    r = CapacityRange(100, 1100, 250)
    assert r.contains(350) and not r.contains(250)


@pytest.mark.parametrize("tier", EXPECTED)
def test_accepts_each_range_end(tier: str) -> None:
    """Each range's min and max are valid sizes, and check_capacity returns that range."""
    for r in FILESTORE_TIERS[tier].ranges:
        assert check_capacity(tier, r.min_gib) == r
        assert check_capacity(tier, r.max_gib) == r


def test_accepts_lower_case_tier_names() -> None:
    """Tier names are matched case-insensitively, as the CLI passes what users type."""
    assert filestore_tier("zonal") is FILESTORE_TIERS["ZONAL"]
    assert check_capacity("regional", 100).min_gib == 100


def test_rejects_below_the_minimum() -> None:
    """A size under the tier's smallest range says so and lists every accepted range."""
    with pytest.raises(AidcError) as err:
        check_capacity("ZONAL", 1000)
    assert str(err.value) == (
        "capacity_gib: 1000 is below the ZONAL minimum; ZONAL accepts 1024-9984 GiB in steps "
        "of 256 GiB, or 10240-102400 GiB in steps of 2560 GiB"
    )


def test_rejects_above_the_maximum() -> None:
    """A size over the tier's largest range says so and lists what is accepted."""
    with pytest.raises(AidcError, match=r"65434 is above the BASIC_HDD maximum; BASIC_HDD "
                       r"accepts 1024-65433 GiB in steps of 1 GiB"):
        check_capacity("BASIC_HDD", 65434)


def test_rejects_a_size_off_the_step() -> None:
    """An off-step size names the two nearest valid sizes around it."""
    with pytest.raises(AidcError) as err:
        check_capacity("ZONAL", 1100)
    message = str(err.value)
    assert "1100 is not on a 256 GiB step of the ZONAL 1024-9984 GiB range" in message
    assert "the nearest valid sizes are 1024 and 1280 GiB" in message
    assert "ZONAL accepts 1024-9984 GiB in steps of 256 GiB, or 10240-102400" in message


def test_rejects_a_size_off_the_step_in_the_higher_range() -> None:
    """The nearest sizes are counted from the range the value falls in (10 TiB + k * 2.5 TiB)."""
    with pytest.raises(AidcError, match="nearest valid sizes are 12800 and 15360 GiB"):
        check_capacity("REGIONAL", 15000)


def test_rejects_a_size_between_the_two_ranges() -> None:
    """Zonal leaves a gap from 9,985 to 10,239 GiB; the error names both edges of the gap."""
    with pytest.raises(AidcError) as err:
        check_capacity("ZONAL", 10000)
    message = str(err.value)
    assert "10000 falls between the ZONAL ranges" in message
    assert "the nearest valid sizes are 9984 and 10240 GiB" in message


def test_regional_ranges_leave_no_gap() -> None:
    """Regional's lower range ends at 10,239 GiB, one below the higher range's 10,240 GiB."""
    assert check_capacity("REGIONAL", 10239) != check_capacity("REGIONAL", 10240)


def test_rejects_a_size_that_is_not_a_whole_number() -> None:
    """capacityGb is an integer; a float or bool is refused rather than truncated."""
    for bad in (1024.0, True):
        with pytest.raises(AidcError, match="not a whole number of GiB"):
            check_capacity("ENTERPRISE", bad)  # type: ignore[arg-type]


def test_rejects_an_unknown_tier() -> None:
    """A tier miss is a CatalogLookupError that lists every tier in the catalog."""
    with pytest.raises(CatalogLookupError) as err:
        filestore_tier("ULTRA_SSD")
    assert "'ULTRA_SSD' is not a Filestore tier" in str(err.value)
    for tier in EXPECTED:
        assert tier in str(err.value)


def test_rejects_an_unknown_tier_in_check_capacity() -> None:
    """check_capacity reports the tier miss, not a capacity problem."""
    with pytest.raises(CatalogLookupError, match="not a Filestore tier"):
        check_capacity("SSD", 1024)


@pytest.mark.parametrize(("alias", "name"), [("STANDARD", "BASIC_HDD"), ("premium", "BASIC_SSD")])
def test_rejects_the_old_api_aliases(alias: str, name: str) -> None:
    """STANDARD and PREMIUM are refused with the preferred name, so a stack uses one spelling."""
    with pytest.raises(CatalogLookupError, match=f"old alias for {name}; use {name}"):
        filestore_tier(alias)


def test_accepts_a_resize_within_a_range() -> None:
    """Zonal scales up or down inside the range it was created in."""
    assert check_resize("ZONAL", 2048, 1024) == CapacityRange(1024, 9984, 256)
    assert check_resize("BASIC_SSD", 2560, 4000).max_gib == 65433


def test_rejects_a_resize_across_ranges() -> None:
    """An instance cannot move between its tier's two ranges; a new instance is needed."""
    with pytest.raises(AidcError, match="cannot change an instance's capacity range"):
        check_resize("ZONAL", 9984, 10240)
    with pytest.raises(AidcError, match="cannot change an instance's capacity range"):
        check_resize("REGIONAL", 10240, 10239)


def test_rejects_shrinking_a_basic_instance() -> None:
    """Basic capacity only grows; shrinking needs a new instance."""
    with pytest.raises(AidcError, match="BASIC_HDD capacity can only grow"):
        check_resize("BASIC_HDD", 2048, 1024)


def test_rejects_a_resize_to_an_invalid_size() -> None:
    """Both ends of a resize are checked against the catalog."""
    with pytest.raises(AidcError, match="not on a 256 GiB step"):
        check_resize("ENTERPRISE", 1024, 1100)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_gib": 10, "max_gib": 5, "step_gib": 1}, "min_gib <= max_gib"),
        ({"min_gib": 0, "max_gib": 5, "step_gib": 1}, "0 < min_gib"),
        ({"min_gib": 1, "max_gib": 5, "step_gib": 0}, "step_gib > 0"),
        ({"min_gib": 1024, "max_gib": 2000, "step_gib": 256}, "not on a step"),
    ],
)
def test_rejects_a_malformed_range(kwargs: dict, match: str) -> None:
    """A range that would accept sizes off its own grid cannot be built."""
    with pytest.raises(AidcError, match=match):
        CapacityRange(**kwargs)


def test_rejects_overlapping_ranges() -> None:
    """A tier's ranges must be sorted and disjoint for the gap and nearest-size logic to hold."""
    overlapping = (CapacityRange(1024, 9984, 256), CapacityRange(9984, 102400, 256))
    with pytest.raises(AidcError, match="overlap or are out of order"):
        dataclasses.replace(FILESTORE_TIERS["ZONAL"], ranges=overlapping)


def test_catalog_rows_are_plain_data_for_json() -> None:
    """The CLI rows carry tier, ranges and cmek for every tier, in catalog order."""
    rows = filestore_catalog_rows()
    assert [row["tier"] for row in rows] == list(EXPECTED)
    zonal = rows[2]
    assert zonal == {
        "tier": "ZONAL",
        "ranges": [
            {"min_gib": 1024, "max_gib": 9984, "step_gib": 256},
            {"min_gib": 10240, "max_gib": 102400, "step_gib": 2560},
        ],
        "cmek": True,
    }


@st.composite
def _tier_and_size(draw: st.DrawFn) -> tuple[str, int]:
    """A tier and a size: half anywhere near its ranges, half on or next to a grid point."""
    tier = draw(st.sampled_from(list(EXPECTED)))
    ranges = EXPECTED[tier][0]
    if draw(st.booleans()):
        return tier, draw(st.integers(min_value=-10, max_value=110_000))
    lo, hi, step = draw(st.sampled_from(ranges))
    k = draw(st.integers(min_value=0, max_value=(hi - lo) // step + 1))
    return tier, lo + k * step + draw(st.sampled_from((-1, 0, 0, 1)))


@given(_tier_and_size())
def test_check_capacity_accepts_exactly_the_documented_grid(case: tuple[str, int]) -> None:
    """Every accepted size is on a step inside a range; every rejected size is not."""
    tier, gib = case
    on_grid = _on_grid(gib, EXPECTED[tier][0])
    try:
        found = check_capacity(tier, gib)
    except AidcError as err:
        assert not on_grid, f"{tier} rejected {gib}: {err}"
        assert f"capacity_gib: {gib} " in str(err)
        assert f"{tier} accepts" in str(err)
    else:
        assert on_grid, f"{tier} accepted {gib}"
        assert found.min_gib <= gib <= found.max_gib
        assert (gib - found.min_gib) % found.step_gib == 0
