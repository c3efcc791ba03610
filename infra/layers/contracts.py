"""The layers' published outputs: one typed, versioned contract per layer.

A layer (`stacks/layers/<layer>/`) exports exactly the fields of its contract as stack outputs
(`publish`), and so does the one-stack platform (`stacks/`, both contracts), so a program can
build on either. A consumer reads a contract through `read_contract`, never by output names of
its own: the model validates what the referenced stack exports and names every missing or
malformed field, with the stack, before anything is built from it.

Versioning: `version` is exported as `<layer>_contract_version`. Adding an optional field
keeps the version; renaming or removing a field, or changing its meaning, is a new version,
and a consumer refuses a version other than the one it was written for.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infra.engine.references import MissingReference

C = TypeVar("C", bound="Contract")


class Contract(BaseModel):
    """A layer's outputs. Outputs beyond the contract (a stack may export more) are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    VERSION: ClassVar[int]
    LAYER: ClassVar[str]

    @classmethod
    def output_names(cls) -> list[str]:
        """The stack output each field is exported as."""
        return [f.alias or name for name, f in cls.model_fields.items()]


class GpuDirectNetwork(BaseModel):
    """One GPUDirect NIC's network, as a node pool's additional node network names it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    network: str = Field(description="The NIC's VPC name.")
    subnetwork: str = Field(description="The NIC's subnet name (in `region`).")


class FoundationContract(Contract):
    """What the foundation layer publishes: the project's APIs, keys, networks and storage,
    none of which needs a cluster."""

    VERSION: ClassVar[int] = 1
    LAYER: ClassVar[str] = "foundation"
    version: int = Field(alias="foundation_contract_version",
                         description="The contract's version (this model reads 1).")
    project: str = Field(description="The GCP project id everything lives in.")
    region: str = Field(description="The region of the network, keys, cluster and buckets.")
    network: str = Field(description="The main VPC's self link.")
    network_id: str = Field(description="The main VPC's id (projects/P/global/networks/N), "
                                        "what a GKE cluster's `network` takes.")
    network_name: str = Field(description="The main VPC's name, what Filestore and "
                                          "firewall rules take.")
    subnet: str = Field(description="The node subnet's self link.")
    subnet_id: str = Field(description="The node subnet's id, what a GKE cluster's "
                                       "`subnetwork` takes.")
    gpudirect_networks: dict[str, GpuDirectNetwork] = Field(
        description="Each GPUDirect NIC's network by NIC name (empty when no pool uses "
                    "GPUDirect).")
    kms_key_ring: str = Field(description="The key ring's id; a team's own keys go here.")
    kms_keys: dict[str, str] = Field(
        description="Key id by purpose (storage, filestore, gke, disks, ...). The service "
                    "agents of `project` that use a purpose's key (GCS for storage, Compute "
                    "for disks, ...) already hold cryptoKeyEncrypterDecrypter on it.")
    buckets: dict[str, str] = Field(description="Bucket name by purpose (may be empty).")


class ClusterContract(Contract):
    """What the cluster layer publishes: the shared GKE cluster a team attaches to."""

    VERSION: ClassVar[int] = 1
    LAYER: ClassVar[str] = "cluster"
    version: int = Field(alias="cluster_contract_version",
                         description="The contract's version (this model reads 1).")
    cluster_id: str = Field(description="The cluster's id (projects/P/locations/L/clusters/N), "
                                        "what a node pool's `cluster` takes.")
    cluster: str = Field(description="The cluster's name.")
    cluster_location: str = Field(description="The cluster's location (its region).")
    endpoint: str = Field(description="The control plane's IP endpoint.")
    dns_endpoint: str = Field(description="The control plane's DNS endpoint.")
    node_service_account: str = Field(
        description="The e-mail of the least-privilege service account every node pool of the "
                    "cluster runs as (never the default compute service account).")
    workload_pool: str = Field(description="The Workload Identity pool (PROJECT.svc.id.goog).")
    kubeconfig: str = Field(description="A kubeconfig for the cluster (GKE auth plugin).")


def parse_contract(model: type[C], outputs: dict[str, Any], stack: str) -> C:
    """`outputs` of `stack` as `model`, or one error naming the stack, the contract and every
    missing or malformed output."""
    key = model.model_fields["version"].alias
    version = outputs.get(key)
    if version is not None and version != model.VERSION:
        raise MissingReference(
            f"stack reference {stack}: it publishes {model.LAYER} contract version {version!r} "
            f"({key}); this program reads version {model.VERSION}")
    try:
        return model.model_validate(outputs)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(p) for p in error["loc"])
            problems.append(f"{where}: missing (the stack exports no such output)"
                            if error["type"] == "missing" else f"{where}: {error['msg']}")
        raise MissingReference(
            f"stack reference {stack}: its {model.LAYER} contract (version {model.VERSION}) "
            f"is incomplete: {'; '.join(problems)}") from None


def read_contract(reference: pulumi.StackReference, model: type[C]) -> pulumi.Output[C]:
    """The one way a program reads a layer's outputs: the referenced stack's outputs validated
    as `model` (an error naming what is missing, never a None that surfaces later)."""
    return pulumi.Output.all(reference.name, reference.outputs).apply(
        lambda args: parse_contract(model, args[1] or {}, str(args[0])))


def publish(model: type[Contract], values: dict[str, Any]) -> None:
    """Export `values` (Inputs by field name) as `model`'s outputs, version included; a field
    left out or one the model lacks is a programming error, caught before any export."""
    names = {name for name in model.model_fields if name != "version"}
    if set(values) != names:
        raise ValueError(f"{model.__name__}: publish exactly its fields; missing "
                         f"{sorted(names - set(values))}, unknown {sorted(set(values) - names)}")
    pulumi.export(model.model_fields["version"].alias, model.VERSION)
    for name, value in values.items():
        pulumi.export(model.model_fields[name].alias or name, value)
