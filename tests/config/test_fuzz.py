"""Fuzzing the config loader: whatever a stack file holds, the result is a valid PlatformConfig
or an AidcError (printed without a traceback, exit 2), never any other exception."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.config.load import config_from_flat, read_stack_file

from infra.config.platform import PlatformConfig
from infra.errors import AidcError
from tests.helpers import BASE_STACK, STACKS, STACKS_DIR

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FIELDS = sorted(PlatformConfig.model_fields)
# Words the models use, so generated keys often hit a real field at any depth.
WORDS = sorted({*FIELDS, "base_cidr", "subnet_cidr", "pods_cidr", "services_cidr", "psa_cidr",
                "max_nodes", "max_pods_per_node", "name", "buckets", "filestore", "tier",
                "capacity_gib", "cmek", "zone", "classification", "lifecycle", "action",
                "age_days", "storage_class", "retention_days", "soft_delete_days", "versioning",
                "labels", "key_ring", "protection_level", "rotation_days", "secure",
                "machine_type", "autoscaling", "min_nodes", "generation", "topology",
                "system_pool", "release_channel", "master_authorized_networks", "gpu_supernet"})

# Values the models mean something by, so mutated configs reach the deeper cross-field rules.
domain_scalars = st.one_of(
    st.integers(-3, 70_000), st.floats(-1, 2),
    st.sampled_from(["", "x", "0", "10.0.0.0/8", "10.16.0.0/16", "10.0.0.0/30", "0.0.0.0/0",
                     "100.64.0.0/10", "us-central1-a", "us-central1-z", "us-east1-a", "ZONAL",
                     "zonal", "BASIC_HDD", "REGIONAL", "HSM", "internal", "restricted", "1024",
                     "[1, 2]", '{"a": 1}', "{", "a3-megagpu-8g", "a3-highgpu-1g", "g2-standard-4",
                     "a2-ultragpu-8g", "n1-standard-8", "nvidia-tesla-t4", "nvidia-h100-80gb",
                     "v4", "v5e", "v5p", "v6e", "2x2", "2x4", "2x2x1", "4x4x4", "16x16", "spot",
                     "reservation", "queued", "flex_start", "on_demand", "compact",
                     "1.30.0-gke.1", "1.33", "STABLE", "NONE", True, False, None]))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), domain_scalars)
keys = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=20)
flat_keys = st.one_of(st.sampled_from([f"aidc:{f}" for f in FIELDS] + ["gcp:project",
                                                                      "gcp:region"]),
                      st.text(max_size=20).map(lambda s: f"aidc:{s}"), st.text(max_size=20))


def _loads(flat: dict[str, Any]) -> None:
    try:
        cfg = config_from_flat(flat, source="fuzz")
    except AidcError:
        return
    assert isinstance(cfg, PlatformConfig)


@FUZZ
@given(flat=st.dictionaries(flat_keys, values, max_size=8))
def test_random_flat_config(flat: dict[str, Any]) -> None:
    """Arbitrary key/value maps (any keys, nested values of any type) load or raise AidcError."""
    _loads(flat)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


def _replace(doc: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    doc[path[0]] = _replace(doc[path[0]], path[1:], new)
    return doc


# Valid starting points: the small test stack and the shipped ones (cluster, GPU and TPU pools).
BASES = [BASE_STACK] + [read_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml")[0] for env in STACKS]


@st.composite
def mutated_stacks(draw: st.DrawFn) -> dict[str, Any]:
    """A valid stack with one to three subtrees replaced or keys added, so that most of the
    config stays valid and the cross-field checks are reached with odd values."""
    flat = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(flat)))
        path = draw(st.sampled_from(_paths(flat[key])))
        target = _get(flat[key], path)
        how = draw(st.sampled_from(["leaf", "subtree", "add-key"]))
        if how == "add-key" and isinstance(target, dict):
            target[draw(keys)] = draw(values)
        elif how == "leaf":
            flat[key] = _replace(flat[key], path, draw(domain_scalars))
        else:
            flat[key] = _replace(flat[key], path, draw(values))
    if draw(st.booleans()):
        flat[draw(st.sampled_from([f"aidc:{f}" for f in FIELDS]))] = draw(values)
    return flat


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@FUZZ
@given(flat=mutated_stacks())
def test_mutated_valid_config(flat: dict[str, Any]) -> None:
    """A valid stack with some values replaced by anything loads or raises AidcError."""
    _loads(flat)


@pytest.fixture(scope="module")
def scratch() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp) / "Pulumi.fuzz.yaml"


def _reads(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        flat, secret_keys = read_stack_file(path)
    except AidcError:
        return
    assert isinstance(flat, dict) and isinstance(secret_keys, set)
    _loads(flat)


# A self-referencing alias ("&a [*a]") is left out: it is a known bug, pinned by
# test_config.py::test_rejects_recursive_yaml_alias.
yaml_fragments = st.sampled_from([
    "config:\n", "  gcp:project: acme-ai-dev\n", "  gcp:region: us-central1\n",
    "  aidc:environment: dev\n", "  aidc:zones: [us-central1-a]\n", "  aidc:network:\n",
    "    base_cidr: 10.16.0.0/16\n", "    max_nodes: 64\n", "  aidc:storage:\n", "    buckets:\n",
    "      datasets: {classification: internal}\n", "  aidc:labels: {team: ml}\n",
    "  gcp:credentials:\n    secure: v1:abc\n", "- item\n", "key: &anchor value\n",
    "other: *anchor\n", "  : :\n", "\t", "'", '"', "{", "[", "---\n", "...\n", "!!python/object\n",
    "? complex\n", "%YAML 1.2\n", "  aidc:storage: {filestore: {tier: ZONAL, capacity_gib: 1}}\n",
    "  1: 2\n", "  null: ~\n", "  aidc:apis: !!binary aGVsbG8=\n", "  aidc:zones: 2026-01-01\n",
])


@FUZZ
@given(text=st.lists(st.one_of(yaml_fragments, st.text(max_size=10)), max_size=14).map("".join))
def test_generated_yaml_text(scratch: Path, text: str) -> None:
    """Any text in a stack file (YAML-ish or not) reads and loads, or raises AidcError."""
    _reads(scratch, text)


@FUZZ
@given(flat=st.one_of(mutated_stacks(), st.dictionaries(flat_keys, values, max_size=6)),
       style=st.sampled_from([None, True, False]))
def test_dumped_yaml_documents(scratch: Path, flat: dict[str, Any], style: bool | None) -> None:
    """Generated configs written as real YAML documents read and load, or raise AidcError."""
    try:
        text = yaml.safe_dump({"config": flat}, default_flow_style=style, allow_unicode=True)
    except yaml.YAMLError:
        return
    _reads(scratch, text)
