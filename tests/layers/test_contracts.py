"""The layer contracts: a consumer gets a validated model or one error naming the stack and
every missing or malformed output; a producer exports exactly the model's fields."""

from __future__ import annotations

from typing import Any

import pytest

from infra.engine.references import MissingReference
from infra.layers.contracts import ClusterContract, FoundationContract, parse_contract, publish

FOUNDATION: dict[str, Any] = {
    "foundation_contract_version": 1, "project": "p", "region": "us-central1",
    "network": "https://net", "network_id": "projects/p/global/networks/n", "network_name": "n",
    "subnet": "https://sub", "subnet_id": "projects/p/regions/r/subnetworks/s",
    "gpudirect_networks": {"gpu0": {"network": "v0", "subnetwork": "s0"}},
    "kms_key_ring": "ring", "kms_keys": {"storage": "k"}, "buckets": {},
    "kubeconfig": "an output beyond the contract",
}


def test_reads_a_complete_contract_and_ignores_other_outputs() -> None:
    contract = parse_contract(FoundationContract, FOUNDATION, "org/aidc-foundation/prod")
    assert contract.version == 1
    assert contract.gpudirect_networks["gpu0"].subnetwork == "s0"
    assert contract.kms_keys == {"storage": "k"}


def test_rejects_missing_outputs_naming_each_and_the_stack() -> None:
    outputs = {k: v for k, v in FOUNDATION.items() if k not in ("kms_keys", "network_id")}
    with pytest.raises(MissingReference) as err:
        parse_contract(FoundationContract, outputs, "org/aidc-foundation/prod")
    text = str(err.value)
    assert "org/aidc-foundation/prod" in text and "foundation contract (version 1)" in text
    assert "kms_keys: missing" in text and "network_id: missing" in text


def test_rejects_a_malformed_output_naming_its_path() -> None:
    outputs = {**FOUNDATION, "gpudirect_networks": {"gpu0": {"network": "v0"}}}
    with pytest.raises(MissingReference, match=r"gpudirect_networks\.gpu0\.subnetwork: missing"):
        parse_contract(FoundationContract, outputs, "s")


def test_rejects_another_contract_version() -> None:
    with pytest.raises(MissingReference, match="cluster contract version 2 .*reads version 1"):
        parse_contract(ClusterContract, {"cluster_contract_version": 2}, "s")


def test_rejects_a_stack_without_the_contract_version() -> None:
    with pytest.raises(MissingReference, match="cluster_contract_version: missing"):
        parse_contract(ClusterContract, {}, "s")


def test_output_names_are_the_field_names_and_the_versioned_key() -> None:
    assert "foundation_contract_version" in FoundationContract.output_names()
    assert "node_service_account" in ClusterContract.output_names()
    assert "version" not in ClusterContract.output_names()


def test_every_field_is_documented() -> None:
    """The contract is the documentation a consumer reads: each field says what it holds."""
    for model in (FoundationContract, ClusterContract):
        assert all(f.description for f in model.model_fields.values()), model


def test_rejects_publishing_other_than_the_models_fields() -> None:
    with pytest.raises(ValueError, match=r"missing \['cluster'.*unknown \['extra'\]"):
        publish(ClusterContract, {"extra": 1})
