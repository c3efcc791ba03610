"""The TPU catalog pinned against GKE's topology tables, its rules made to fire, and a property."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.catalog.tpu import (
    AS_OF,
    TPU_GENERATIONS,
    tpu_catalog_rows,
    tpu_generation,
    tpu_slice,
)
from infra.errors import AidcError, CatalogLookupError

# GKE's "Plan TPUs" topology table, as GKE counts: VMs are nodes.
# https://cloud.google.com/kubernetes-engine/docs/concepts/plan-tpus
# (cross-checked with https://cloud.google.com/tpu/docs/v5e, /v5p, /v4, /v6e, /tpu7x)
DOCUMENTED_SLICES = [
    # generation, topology, machine type, chips, VMs, multi-host
    ("v5e", "1x1", "ct5lp-hightpu-1t", 1, 1, False),
    ("v5e", "2x2", "ct5lp-hightpu-4t", 4, 1, False),
    ("v5e", "2x4", "ct5lp-hightpu-8t", 8, 1, False),
    ("v5e", "2x4", "ct5lp-hightpu-4t", 8, 2, True),
    ("v5e", "4x4", "ct5lp-hightpu-4t", 16, 4, True),
    ("v5e", "4x8", "ct5lp-hightpu-4t", 32, 8, True),
    ("v5e", "8x8", "ct5lp-hightpu-4t", 64, 16, True),
    ("v5e", "8x16", "ct5lp-hightpu-4t", 128, 32, True),
    ("v5e", "16x16", "ct5lp-hightpu-4t", 256, 64, True),
    ("v6e", "1x1", "ct6e-standard-1t", 1, 1, False),
    ("v6e", "2x2", "ct6e-standard-4t", 4, 1, False),
    ("v6e", "2x4", "ct6e-standard-8t", 8, 1, False),
    ("v6e", "2x4", "ct6e-standard-4t", 8, 2, True),
    ("v6e", "4x4", "ct6e-standard-4t", 16, 4, True),
    ("v6e", "16x16", "ct6e-standard-4t", 256, 64, True),
    ("v4", "2x2x1", "ct4p-hightpu-4t", 4, 1, False),
    ("v4", "2x2x2", "ct4p-hightpu-4t", 8, 2, True),
    ("v4", "2x2x4", "ct4p-hightpu-4t", 16, 4, True),
    ("v4", "2x4x4", "ct4p-hightpu-4t", 32, 8, True),
    ("v4", "4x4x4", "ct4p-hightpu-4t", 64, 16, True),
    ("v4", "8x16x16", "ct4p-hightpu-4t", 2048, 512, True),
    ("v5p", "2x2x1", "ct5p-hightpu-4t", 4, 1, False),
    ("v5p", "2x2x2", "ct5p-hightpu-4t", 8, 2, True),
    ("v5p", "2x4x4", "ct5p-hightpu-4t", 32, 8, True),
    ("v5p", "4x4x8", "ct5p-hightpu-4t", 128, 32, True),
    ("v5p", "8x12x16", "ct5p-hightpu-4t", 1536, 384, True),  # the docs' own {A}x{B}x{C} example
    ("v5p", "16x16x24", "ct5p-hightpu-4t", 6144, 1536, True),  # the largest v5p shape
    ("tpu7x", "2x2x1", "tpu7x-standard-4t", 4, 1, False),
    ("tpu7x", "2x2x2", "tpu7x-standard-4t", 8, 2, True),
    ("tpu7x", "4x4x4", "tpu7x-standard-4t", 64, 16, True),
]

# Generation facts: GKE label and machine types (plan-tpus), torus dimensionality and the
# largest slice in chips, HBM per chip in GiB (the generation pages:
# https://cloud.google.com/tpu/docs/v4, /v5e, /v5p, /v6e, /tpu7x).
DOCUMENTED_GENERATIONS = [
    ("v4", "tpu-v4-podslice", {"ct4p-hightpu-4t": 4}, 3, 4096, 32),
    ("v5e", "tpu-v5-lite-podslice",
     {"ct5lp-hightpu-1t": 1, "ct5lp-hightpu-4t": 4, "ct5lp-hightpu-8t": 8}, 2, 256, 16),
    ("v5p", "tpu-v5p-slice", {"ct5p-hightpu-4t": 4}, 3, 6144, 95),
    ("v6e", "tpu-v6e-slice",
     {"ct6e-standard-1t": 1, "ct6e-standard-4t": 4, "ct6e-standard-8t": 8}, 2, 256, 32),
    ("tpu7x", "tpu7x", {"tpu7x-standard-4t": 4}, 3, 9216, 192),
]

# v5e and v6e slice shapes (2D): https://cloud.google.com/tpu/docs/v5e, /v6e
DOCUMENTED_2D_TOPOLOGIES = ("1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16")


@pytest.mark.parametrize("row", DOCUMENTED_SLICES, ids=lambda row: f"{row[0]}-{row[1]}-{row[2]}")
def test_slice_matches_gke_table(row):
    """Chips, GKE nodes and single/multi-host match GKE's table for each documented row."""
    generation, topology, machine_type, chips, vms, multi_host = row
    tpu = tpu_slice(generation, topology, machine_type)
    assert (tpu.chips, tpu.hosts, tpu.multi_host) == (chips, vms, multi_host)
    assert tpu.as_dict() == {
        "generation": generation,
        "topology": topology,
        "machine_type": machine_type,
        "chips": chips,
        "hosts": vms,
        "multi_host": multi_host,
    }


@pytest.mark.parametrize("row", DOCUMENTED_GENERATIONS, ids=lambda row: row[0])
def test_generation_matches_docs(row):
    """Label, machine types, dimensionality, largest slice and HBM match Google's pages."""
    name, label, machine_types, dimensions, max_chips, hbm = row
    generation = tpu_generation(name)
    assert generation.accelerator_label == label
    assert {m.name: m.chips for m in generation.machine_types} == machine_types
    assert generation.dimensions == dimensions
    assert generation.max_chips == max_chips
    assert generation.hbm_gib_per_chip == hbm
    for source in (generation.source, generation.topology_source):
        assert source.as_of == AS_OF and source.url.startswith("https://cloud.google.com/")
    largest = max(math.prod(map(int, t.split("x"))) for t in generation.accepted_topologies())
    assert largest == max_chips


def test_generations_are_exactly_the_documented_ones():
    """The catalog offers v4, v5e, v5p, v6e and tpu7x, by those names."""
    assert list(TPU_GENERATIONS) == [row[0] for row in DOCUMENTED_GENERATIONS]


@pytest.mark.parametrize("generation", ["v5e", "v6e"])
def test_2d_generations_offer_exactly_the_documented_shapes(generation):
    """v5e and v6e offer the eight documented 2D shapes and nothing else."""
    assert tpu_generation(generation).accepted_topologies() == DOCUMENTED_2D_TOPOLOGIES


@pytest.mark.parametrize("generation", ["v4", "v5p", "tpu7x"])
def test_3d_generations_follow_the_cube_rule(generation):
    """3D topologies are the four small shapes plus whole-cube AxBxC, A <= B <= C."""
    record = tpu_generation(generation)
    small = ("2x2x1", "2x2x2", "2x2x4", "2x4x4")
    topologies = record.accepted_topologies()
    assert topologies[:4] == small
    for topology in topologies[4:]:
        dims = [int(side) for side in topology.split("x")]
        assert dims == sorted(dims) and all(side % 4 == 0 for side in dims)
        assert math.prod(dims) <= record.max_chips
    assert "16x16x16" in topologies or record.max_chips < 4096


def test_ambiguous_2x4_defaults_to_single_host():
    """v5e/v6e 2x4 defaults to the one 8-chip VM; the 4-chip machine gives two nodes."""
    assert tpu_slice("v5e", "2x4").machine_type == "ct5lp-hightpu-8t"
    assert tpu_slice("v6e", "2x4").machine_type == "ct6e-standard-8t"
    assert tpu_slice("v5e", "2x4", "ct5lp-hightpu-4t").hosts == 2


def test_slice_carries_accelerator_label_and_chips_per_host():
    """A slice names the GKE node label value and the chips of one node."""
    tpu = tpu_slice("v5p", "4x4x4")
    assert (tpu.accelerator_label, tpu.chips_per_host) == ("tpu-v5p-slice", 4)


def test_tpu7x_records_its_gke_requirements():
    """TPU7x needs GKE 1.34.0-gke.2201000 and a workload policy for multi-host pools."""
    ironwood = tpu_generation("tpu7x")
    assert ironwood.min_gke_versions == ("1.34.0-gke.2201000",)
    assert ironwood.multi_host_workload_policy
    assert ironwood.gke_source is not None


def test_catalog_rows_for_cli():
    """One JSON-ready row per generation with its machine types, label, dimensions, topologies."""
    rows = tpu_catalog_rows()
    json.dumps(rows)
    by_name = {row["generation"]: row for row in rows}
    assert set(by_name) == set(TPU_GENERATIONS)
    v5e = by_name["v5e"]
    assert v5e["accelerator_label"] == "tpu-v5-lite-podslice"
    assert v5e["dimensions"] == 2
    assert v5e["topologies"] == list(DOCUMENTED_2D_TOPOLOGIES)
    assert v5e["single_host_topologies"] == ["1x1", "2x2", "2x4"]
    assert {"machine_type": "ct5lp-hightpu-8t", "chips_per_vm": 8} in v5e["machine_types"]
    assert by_name["v4"]["single_host_topologies"] == ["2x2x1"]


# --- property -------------------------------------------------------------------------------


@st.composite
def _slices(draw):
    generation = draw(st.sampled_from(sorted(TPU_GENERATIONS)))
    record = TPU_GENERATIONS[generation]
    topology = draw(st.sampled_from(record.accepted_topologies()))
    machine_type = draw(st.none() | st.sampled_from(record.machine_types_for(topology)))
    return tpu_slice(generation, topology, machine_type)


@given(_slices())
def test_slice_arithmetic_holds_for_every_accepted_topology(tpu):
    """chips = product of sides; hosts * chips_per_host = chips; multi-host iff hosts > 1."""
    assert tpu.chips == math.prod(int(side) for side in tpu.topology.split("x"))
    assert tpu.hosts * tpu.chips_per_host == tpu.chips
    assert tpu.multi_host == (tpu.hosts > 1)
    assert tpu.hosts >= 1


@given(
    st.sampled_from(sorted(TPU_GENERATIONS)),
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=4).map(
        lambda dims: "x".join(map(str, dims))
    ),
)
def test_any_topology_string_is_accepted_or_refused_with_an_aidc_error(generation, topology):
    """Arbitrary topologies either form a consistent slice or raise the user-facing error type."""
    try:
        tpu = tpu_slice(generation, topology)
    except AidcError:
        assert topology not in TPU_GENERATIONS[generation].accepted_topologies()
        return
    assert topology in TPU_GENERATIONS[generation].accepted_topologies()
    assert tpu.hosts * tpu.chips_per_host == tpu.chips


# --- every error path -----------------------------------------------------------------------


def test_rejects_unknown_generation():
    """An unknown generation is a lookup miss listing the generations."""
    with pytest.raises(CatalogLookupError, match=r"^generation: 'v5' .* v4, v5e, v5p, v6e, tpu7x$"):
        tpu_slice("v5", "2x2")


def test_rejects_2d_topology_for_3d_generation():
    """v5p needs AxBxC: a 2D topology is refused with a message saying 3D is needed."""
    with pytest.raises(CatalogLookupError, match=r"^topology: v5p needs a 3D topology.*got '4x4'"):
        tpu_slice("v5p", "4x4")


def test_rejects_3d_topology_for_2d_generation():
    """v5e is a 2D torus: a 3D topology is refused naming the accepted 2D ones."""
    with pytest.raises(CatalogLookupError, match=r"needs a 2D topology.*1x1, 2x2, 2x4"):
        tpu_slice("v5e", "2x2x1")


def test_rejects_topology_the_generation_does_not_offer():
    """A 2D shape not in the table is a lookup miss naming the accepted topologies."""
    pattern = r"^topology: v6e does not offer '4x2'; v6e offers 1x1"
    with pytest.raises(CatalogLookupError, match=pattern):
        tpu_slice("v6e", "4x2")


def test_rejects_slice_larger_than_the_generation():
    """A v5e slice beyond 256 chips does not exist."""
    with pytest.raises(CatalogLookupError, match=r"does not offer '16x32'"):
        tpu_slice("v5e", "16x32")


def test_rejects_3d_slice_beyond_largest_documented():
    """v5p stops at 6,144 chips (16x16x24); 16x16x32 is refused naming the limit."""
    with pytest.raises(CatalogLookupError, match=r"up to 6144 chips"):
        tpu_slice("v5p", "16x16x32")


def test_rejects_3d_sides_that_are_not_whole_cubes():
    """Above the small shapes every side is a multiple of 4."""
    with pytest.raises(CatalogLookupError, match=r"does not offer '4x4x6'"):
        tpu_slice("v4", "4x4x6")


def test_rejects_3d_sides_out_of_order():
    """Sides go smallest first; the message shows the ordered form."""
    with pytest.raises(CatalogLookupError, match=r"sides go smallest first: '4x4x8'"):
        tpu_slice("v4", "8x4x4")


@pytest.mark.parametrize("topology", ["4X4", "4x4x", "4 x 4", "0x4", "04x4", "4", "", "4x-4"])
def test_rejects_malformed_topology(topology):
    """Topology strings are parsed strictly: positive sides joined by a lowercase 'x'."""
    with pytest.raises(AidcError, match=r"^topology: .* is not a topology"):
        tpu_slice("v5e", topology)


def test_rejects_machine_type_that_cannot_form_topology():
    """An 8-chip v5e VM cannot form 4x4; the message names the machine type GKE uses."""
    pattern = (
        r"^machine_type: 'ct5lp-hightpu-8t' cannot form a v5e 4x4 slice; "
        r"GKE forms 4x4 with ct5lp-hightpu-4t$"
    )
    with pytest.raises(AidcError, match=pattern):
        tpu_slice("v5e", "4x4", "ct5lp-hightpu-8t")


def test_rejects_single_chip_machine_for_larger_slice():
    """A 1-chip VM forms only 1x1."""
    with pytest.raises(AidcError, match=r"cannot form a v6e 2x2 slice"):
        tpu_slice("v6e", "2x2", "ct6e-standard-1t")


def test_rejects_machine_type_of_another_generation():
    """A machine type from another generation is a lookup miss listing this one's."""
    pattern = r"^machine_type: 'ct6e-standard-4t' is not a v5e machine type"
    with pytest.raises(CatalogLookupError, match=pattern):
        tpu_slice("v5e", "4x4", "ct6e-standard-4t")
