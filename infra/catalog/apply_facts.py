"""What Google Cloud needs to exist before a resource can be created, as one table of facts.

A plan can be perfectly shaped and still fail halfway through its first `pulumi up`: a resource
whose API is not enabled yet, an IAM grant to a service agent that does not exist yet, a Workload
Identity member whose pool appears only with the cluster. This module holds the facts those
failures come from, each with the page it was read from:

- `TYPE_APIS`: the API a resource type calls (by provider module, with per-type exceptions);
- `SETTING_APIS`: settings that call an API of their own (Binary Authorization on a cluster);
- `INVOKE_APIS`: the API a provider lookup (invoke) calls;
- `SERVICE_AGENTS`: the Google-managed service agents aidc grants roles to, the API each belongs
  to, and how each comes to exist (its own `ServiceIdentity`, the API's enablement, or a lookup);
- `workload_identity_pool`: how a Workload Identity member names its pool.

Two readers, one table: the composition (`components.services.ProjectServices`) enables and
orders APIs from it, and the apply-order checks (`infra.check.apply_order`) verify any program's
plan against it. A type missing here is not wrong, only unchecked: add it with its source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, Literal

from infra.catalog.source import Source

AS_OF = date(2026, 12, 5)

SERVICE_USAGE_URL = "https://cloud.google.com/service-usage/docs/enable-disable"
SERVICE_AGENTS_URL = "https://cloud.google.com/iam/docs/service-agents"
WORKLOAD_IDENTITY_URL = "https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity"
FABRIC_SERVICE_AGENTS = (
    "https://github.com/GoogleCloudPlatform/cloud-foundation-fabric/blob/"
    "e3e261442f5b4886257ddc2b5176aad46005fe31/modules/project/service-agents.tf")
FABRIC_SERVICE_AGENTS_YAML = (
    "https://github.com/GoogleCloudPlatform/cloud-foundation-fabric/blob/"
    "e3e261442f5b4886257ddc2b5176aad46005fe31/modules/project/service-agents.yaml")


@dataclass(frozen=True)
class ApiFact:
    """The API (its service name, as `gcp.projects.Service` enables it) a thing calls."""

    api: str
    source: Source


def _api(api: str, url: str, note: str = "") -> ApiFact:
    return ApiFact(api, Source(url, AS_OF, note or f"the REST reference of {api}"))


_COMPUTE = _api("compute.googleapis.com", "https://cloud.google.com/compute/docs/reference/rest/v1")
_CONTAINER = _api("container.googleapis.com",
                  "https://cloud.google.com/kubernetes-engine/docs/reference/rest")
_KMS = _api("cloudkms.googleapis.com", "https://cloud.google.com/kms/docs/reference/rest")
_STORAGE = _api("storage.googleapis.com", "https://cloud.google.com/storage/docs/json_api")
_CRM = _api("cloudresourcemanager.googleapis.com",
            "https://cloud.google.com/resource-manager/reference/rest",
            "project, folder and organization IAM policies are read and written through the "
            "Resource Manager API (getIamPolicy / setIamPolicy)")

# Keyed by the provider module of a type token (`gcp:compute/...`); `TYPE_API_EXCEPTIONS` wins
# for single types whose API differs from their module's.
TYPE_APIS: Mapping[str, ApiFact] = MappingProxyType({
    "gcp:compute/": _COMPUTE,
    "gcp:container/": _CONTAINER,
    "gcp:kms/": _KMS,
    "gcp:storage/": _STORAGE,
    "gcp:filestore/": _api("file.googleapis.com",
                           "https://cloud.google.com/filestore/docs/reference/rest"),
    "gcp:servicenetworking/": _api(
        "servicenetworking.googleapis.com",
        "https://cloud.google.com/service-infrastructure/docs/service-networking/reference/rest"),
    "gcp:pubsub/": _api("pubsub.googleapis.com", "https://cloud.google.com/pubsub/docs/reference/rest"),
    "gcp:monitoring/": _api("monitoring.googleapis.com",
                            "https://cloud.google.com/monitoring/api/ref_v3/rest"),
    "gcp:logging/": _api("logging.googleapis.com",
                         "https://cloud.google.com/logging/docs/reference/v2/rest"),
    "gcp:serviceaccount/": _api("iam.googleapis.com", "https://cloud.google.com/iam/docs/reference/rest"),
    "gcp:iam/": _api("iam.googleapis.com", "https://cloud.google.com/iam/docs/reference/rest"),
    "gcp:projects/": _CRM,
    "gcp:organizations/": _CRM,
    "gcp:folder/": _CRM,
    "gcp:binaryauthorization/": _api(
        "binaryauthorization.googleapis.com",
        "https://cloud.google.com/binary-authorization/docs/reference/rest"),
    "gcp:artifactregistry/": _api("artifactregistry.googleapis.com",
                                  "https://cloud.google.com/artifact-registry/docs/reference/rest"),
    "gcp:secretmanager/": _api("secretmanager.googleapis.com",
                               "https://cloud.google.com/secret-manager/docs/reference/rest"),
    "gcp:bigquery/": _api("bigquery.googleapis.com",
                          "https://cloud.google.com/bigquery/docs/reference/rest"),
    "gcp:dns/": _api("dns.googleapis.com", "https://cloud.google.com/dns/docs/reference/rest/v1"),
})

_BOOTSTRAP = Source(SERVICE_USAGE_URL, AS_OF,
                    "enabling an API (and generating a service identity) goes through the "
                    "Service Usage API of the caller's project: a precondition of the first "
                    "`pulumi up`, not something the program can order")
# Types that call another API than their module's; None: a bootstrap precondition (Service Usage).
TYPE_API_EXCEPTIONS: Mapping[str, ApiFact | None] = MappingProxyType({
    "gcp:projects/service:Service": None,
    "gcp:projects/serviceIdentity:ServiceIdentity": None,
    "gcp:storage/transferJob:TransferJob": _api(
        "storagetransfer.googleapis.com",
        "https://cloud.google.com/storage-transfer/docs/reference/rest"),
    "gcp:storage/transferAgentPool:TransferAgentPool": _api(
        "storagetransfer.googleapis.com",
        "https://cloud.google.com/storage-transfer/docs/reference/rest"),
})


def type_api(type_token: str) -> str | None:
    """The API a resource of `type_token` calls; None for bootstrap types and types not here
    (components, providers, Kubernetes objects: those talk to the cluster, not to an API)."""
    if type_token in TYPE_API_EXCEPTIONS:
        fact = TYPE_API_EXCEPTIONS[type_token]
        return fact.api if fact else None
    module = type_token.split("/", 1)[0] + "/" if "/" in type_token else ""
    fact = TYPE_APIS.get(module)
    return fact.api if fact else None


PathReader = Callable[[Any, tuple[str, ...]], Any]


@dataclass(frozen=True)
class SettingApi:
    """A setting that makes a resource call one more API: `path` (camelCase, as the engine and
    the plan spell it) on `type_token`, when `applies(value)`."""

    type_token: str
    path: tuple[str, ...]
    applies: Callable[[Any], bool]
    api: str
    why: str
    source: Source


SETTING_APIS: tuple[SettingApi, ...] = (
    SettingApi(
        "gcp:container/cluster:Cluster", ("binaryAuthorization", "evaluationMode"),
        lambda mode: mode not in (None, "", "DISABLED", "EVALUATION_MODE_UNSPECIFIED"),
        "binaryauthorization.googleapis.com",
        "Binary Authorization enforcement evaluates the project's policy through its API",
        Source("https://cloud.google.com/binary-authorization/docs/setting-up", AS_OF,
               "'Enable Binary Authorization': enable the Binary Authorization API in the "
               "cluster's project before creating a cluster with enforcement")),
)


def apis_of(type_token: str, props: Any, read: PathReader) -> tuple[str, ...]:
    """Every API a resource of `type_token` with these properties calls: its type's, then each
    setting's that applies (`read(props, path)` reads a setting; None when absent)."""
    out = [api] if (api := type_api(type_token)) else []
    for setting in SETTING_APIS:
        if setting.type_token == type_token and setting.applies(read(props, setting.path)):
            out.append(setting.api)
    return tuple(dict.fromkeys(out))


# Provider lookups: they run at plan time and cannot take a transformation, so their callers
# order them explicitly (`pulumi.InvokeOutputOptions(depends_on=...)`).
INVOKE_APIS: Mapping[str, ApiFact] = MappingProxyType({
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": _STORAGE,
    "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount": _api(
        "storagetransfer.googleapis.com",
        "https://cloud.google.com/storage-transfer/docs/reference/rest/v1/googleServiceAccounts/get"),
    "gcp:organizations/getProject:getProject": _CRM,
})


# --- service agents --------------------------------------------------------------------------

AgentOrigin = Literal["service_identity", "api_enablement", "lookup"]


@dataclass(frozen=True)
class ServiceAgent:
    """A Google-managed service agent: `<prefix>-<project number>@<domain>`, the API it belongs
    to, and how it comes to exist on a fresh project:

    - `service_identity`: only once someone asks for it (`gcp.projects.ServiceIdentity`, the
      Service Usage `generateServiceIdentity` call); a grant must wait for that resource;
    - `api_enablement`: when its API is enabled; a grant must wait for the API;
    - `lookup`: when its API's own "get service account" call is made (a provider invoke),
      which needs the API; a grant must wait for the API.
    """

    domain: str
    api: str
    origin: AgentOrigin
    prefix: str
    source: Source

    def email(self, project_number: str) -> str:
        return f"{self.prefix}-{project_number}@{self.domain}"


def _agent(domain: str, api: str, origin: AgentOrigin, note: str, *, prefix: str = "service",
           url: str = FABRIC_SERVICE_AGENTS_YAML) -> ServiceAgent:
    return ServiceAgent(domain, api, origin, prefix, Source(url, AS_OF, note))


_PRIMARY = ("is_primary: true, which Fabric's project module creates with "
            "google_project_service_identity after enabling the API (service-agents.tf)")
SERVICE_AGENTS: Mapping[str, ServiceAgent] = MappingProxyType({a.domain: a for a in (
    _agent("cloud-filer.iam.gserviceaccount.com", "file.googleapis.com", "service_identity",
           f"cloud-filer (Cloud File Storage Service Account): {_PRIMARY}"),
    _agent("container-engine-robot.iam.gserviceaccount.com", "container.googleapis.com",
           "service_identity", f"container-engine-robot (Kubernetes Engine Service Agent): {_PRIMARY}"),
    _agent("gcp-sa-pubsub.iam.gserviceaccount.com", "pubsub.googleapis.com", "service_identity",
           f"pubsub (Cloud Pub/Sub Service Account): {_PRIMARY}"),
    _agent("gcp-sa-binaryauthorization.iam.gserviceaccount.com",
           "binaryauthorization.googleapis.com", "service_identity",
           f"binaryauthorization (Binary Authorization Service Agent): {_PRIMARY}"),
    _agent("service-networking.iam.gserviceaccount.com", "servicenetworking.googleapis.com",
           "service_identity", f"service-networking (Service Networking Service Agent): {_PRIMARY}"),
    _agent("compute-system.iam.gserviceaccount.com", "compute.googleapis.com", "api_enablement",
           "compute-system (Compute Engine Service Agent): is_primary: false, not created with a "
           "service identity; it exists once the Compute Engine API is enabled"),
    _agent("gs-project-accounts.iam.gserviceaccount.com", "storage.googleapis.com", "lookup",
           "gs-project-accounts (Google Storage Service Agent): created by the Cloud Storage "
           "getServiceAccount call, which Fabric makes through the "
           "google_storage_project_service_account data source after enabling the API",
           url=FABRIC_SERVICE_AGENTS),
    _agent("storage-transfer-service.iam.gserviceaccount.com", "storagetransfer.googleapis.com",
           "lookup", "the Storage Transfer Service agent project-<number>@storage-transfer-service"
           ".iam.gserviceaccount.com is created by googleServiceAccounts.get",
           prefix="project",
           url="https://cloud.google.com/storage-transfer/docs/reference/rest/v1/"
               "googleServiceAccounts/get"),
)})

_AGENT_EMAIL = re.compile(r"^(?:serviceAccount:)?(service|project)-(\d+)@([a-z0-9.-]+)$")


def service_agent(member: str) -> tuple[ServiceAgent, str] | None:
    """The service agent an IAM member names, and its project number; None for anything else."""
    match = _AGENT_EMAIL.match(member.strip())
    if match is None:
        return None
    agent = SERVICE_AGENTS.get(match.group(3))
    if agent is None or agent.prefix != match.group(1):
        return None
    return agent, match.group(2)


def agent_for_api(api: str) -> ServiceAgent | None:
    """The service agent of `api` that aidc knows (the one CMEK or a grant needs), if any."""
    return next((a for a in SERVICE_AGENTS.values() if a.api == api), None)


# --- Workload Identity -----------------------------------------------------------------------

WORKLOAD_IDENTITY_SOURCE = Source(
    WORKLOAD_IDENTITY_URL, AS_OF,
    "a cluster with Workload Identity creates the project's fixed pool PROJECT_ID.svc.id.goog; "
    "members are serviceAccount:PROJECT_ID.svc.id.goog[NAMESPACE/KSA] or principal:// / "
    "principalSet://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/"
    "PROJECT_ID.svc.id.goog/...; an IAM grant naming the pool before it exists fails with "
    "'Identity Pool does not exist'")
_WI_LEGACY = re.compile(r"^serviceAccount:([a-z0-9.:-]+\.svc\.id\.goog)\[[^\]]*\]$")
_WI_PRINCIPAL = re.compile(
    r"^principal(?:Set)?://iam\.googleapis\.com/projects/[^/]+/locations/global/"
    r"workloadIdentityPools/([a-z0-9.:-]+\.svc\.id\.goog)/")


def workload_identity_pool(member: str) -> str | None:
    """The GKE Workload Identity pool (`PROJECT_ID.svc.id.goog`) an IAM member belongs to."""
    member = member.strip()
    match = _WI_LEGACY.match(member) or _WI_PRINCIPAL.match(member)
    return match.group(1) if match else None


# --- boot disks ------------------------------------------------------------------------------

GKE_BOOT_DISK_DEFAULT = "pd-balanced"
GKE_BOOT_DISK_SOURCE = Source(
    "https://cloud.google.com/kubernetes-engine/docs/how-to/custom-boot-disks", AS_OF,
    "by default GKE uses balanced Persistent Disk (pd-balanced) boot disks from 1.24")


def boot_disk_rule(machine_type: str) -> tuple[tuple[str, ...], Source] | None:
    """The only boot disk types a machine type takes, and where that is written; None when
    GKE's default works (the GPU and TPU catalogs hold the machine types that restrict it)."""
    from infra.catalog.gpu import HYPERDISK_BOOT
    from infra.catalog.tpu import tpu_generation_of

    if HYPERDISK_BOOT.covers(machine_type):
        return ("hyperdisk-balanced",), HYPERDISK_BOOT.source
    generation = tpu_generation_of(machine_type)
    if generation is not None and generation.boot_disk_types:
        assert generation.boot_disk_source is not None
        return generation.boot_disk_types, generation.boot_disk_source
    return None


def default_boot_disk_type(machine_type: str) -> str:
    """The boot disk type aidc gives a node of `machine_type` when the config names none: the
    first the machine type takes, else GKE's default."""
    rule = boot_disk_rule(machine_type)
    return rule[0][0] if rule else GKE_BOOT_DISK_DEFAULT


# --- settings the APIs refuse ----------------------------------------------------------------


def read_input(inputs: Any, path: tuple[str, ...]) -> Any:
    """A setting in a plan's camelCase inputs; None when any step is absent."""
    value = inputs
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


@dataclass(frozen=True)
class Refusal:
    """Settings an API refuses on one resource type, as they read in a plan's camelCase inputs:
    `test(inputs)` says what is refused and what to choose, or None."""

    type_token: str
    title: str
    test: Callable[[Mapping[str, Any]], str | None]
    source: Source


def _bucket_versioning_and_retention(inputs: Mapping[str, Any]) -> str | None:
    if read_input(inputs, ("versioning", "enabled")) is True and \
            read_input(inputs, ("retentionPolicy", "retentionPeriod")) is not None:
        return ("versioning.enabled and retentionPolicy are both set; Cloud Storage refuses "
                "Object Versioning on a bucket with a retention policy: keep the retention "
                "policy (objects cannot be replaced or deleted early) or versioning, not both")
    return None


def _filestore_cmek_tier(inputs: Mapping[str, Any]) -> str | None:
    from infra.catalog.filestore import FILESTORE_TIERS

    tier = FILESTORE_TIERS.get(str(inputs.get("tier")))
    if inputs.get("kmsKeyName") and tier is not None and not tier.cmek:
        return (f"kmsKeyName is set on tier {tier.tier}, which takes no customer-managed key; "
                "choose a tier that does (ZONAL, REGIONAL, ENTERPRISE) or drop the key")
    return None


def _boot_disk(inputs: Mapping[str, Any]) -> str | None:
    machine = read_input(inputs, ("nodeConfig", "machineType"))
    disk = read_input(inputs, ("nodeConfig", "diskType"))
    rule = boot_disk_rule(str(machine)) if machine else None
    if rule is None or disk is None or disk in rule[0]:
        return None
    return (f"nodeConfig.diskType {disk!r}: {machine} boots only from {', '.join(rule[0])} "
            f"({rule[1].url}); set diskType to {rule[0][0]}")


def _is_tpu(inputs: Mapping[str, Any]) -> bool:
    from infra.catalog.tpu import tpu_generation_of

    return tpu_generation_of(str(read_input(inputs, ("nodeConfig", "machineType")))) is not None


def _compact(inputs: Mapping[str, Any]) -> bool:
    return read_input(inputs, ("placementPolicy", "type")) == "COMPACT"


def _queued_compact(inputs: Mapping[str, Any]) -> str | None:
    if read_input(inputs, ("queuedProvisioning", "enabled")) is True and _compact(inputs) \
            and not _is_tpu(inputs):
        return ("queuedProvisioning.enabled with a COMPACT placementPolicy on a GPU node pool: "
                "GKE refuses the pair (only TPU slices take both); drop the placement policy")
    return None


def _queued_reservation(inputs: Mapping[str, Any]) -> str | None:
    if read_input(inputs, ("queuedProvisioning", "enabled")) is not True:
        return None
    affinity = read_input(inputs, ("nodeConfig", "reservationAffinity", "consumeReservationType"))
    if affinity == "NO_RESERVATION":
        return None
    return (f"queuedProvisioning.enabled with reservation affinity "
            f"{affinity or 'unset (GKE: ANY_RESERVATION)'}: queued provisioning obtains its own "
            "capacity; set nodeConfig.reservationAffinity.consumeReservationType NO_RESERVATION")


def _flex_start_compact(inputs: Mapping[str, Any]) -> str | None:
    from infra.catalog.gpu import FLEX_START_COMPACT

    machine = str(read_input(inputs, ("nodeConfig", "machineType")) or "")
    if read_input(inputs, ("nodeConfig", "flexStart")) is True and _compact(inputs) \
            and not _is_tpu(inputs) and not FLEX_START_COMPACT.covers(machine):
        return (f"nodeConfig.flexStart with a COMPACT placementPolicy on {machine or 'this machine'}: "
                "GKE supports the pair only on "
                f"{', '.join(p.rstrip('-') for p in FLEX_START_COMPACT.prefixes)}; drop the "
                "placement policy")
    return None


REMOVED_VULNERABILITY_MODES = ("VULNERABILITY_BASIC", "VULNERABILITY_ENTERPRISE")
POSTURE_DEPRECATION_URL = ("https://cloud.google.com/kubernetes-engine/docs/deprecations/"
                           "posture-management-deprecation")


def _vulnerability_mode(inputs: Mapping[str, Any]) -> str | None:
    mode = read_input(inputs, ("securityPostureConfig", "vulnerabilityMode"))
    if mode in REMOVED_VULNERABILITY_MODES:
        return (f"securityPostureConfig.vulnerabilityMode {mode}: GKE no longer supports "
                "workload vulnerability scanning and refuses to enable it; set "
                "VULNERABILITY_DISABLED and scan images in Artifact Registry instead")
    return None


_NODE_POOL = "gcp:container/nodePool:NodePool"
REFUSALS: tuple[Refusal, ...] = (
    Refusal("gcp:storage/bucket:Bucket", "versioning with a retention policy",
            _bucket_versioning_and_retention,
            Source("https://cloud.google.com/storage/docs/bucket-lock", AS_OF,
                   "retention policies and Object Versioning are mutually exclusive: a bucket "
                   "with a retention policy cannot have versioning enabled")),
    Refusal("gcp:filestore/instance:Instance", "CMEK on a tier that takes none",
            _filestore_cmek_tier,
            Source("https://cloud.google.com/filestore/docs/cmek", AS_OF,
                   "'Supported tiers': Basic HDD and Basic SSD take no CMEK key")),
    Refusal(_NODE_POOL, "a boot disk type the machine type cannot boot from", _boot_disk,
            Source("https://cloud.google.com/compute/docs/disks#disk-types",
                   AS_OF, "the machine types (GPU and TPU catalogs) that boot only from Hyperdisk")),
    Refusal(_NODE_POOL, "queued provisioning with compact placement on GPUs", _queued_compact,
            Source("https://github.com/GoogleCloudPlatform/cluster-toolkit/blob/"
                   "1047080375afbb44da4b596be314634e7486af4a/modules/compute/gke-node-pool/main.tf",
                   AS_OF, "'placement_policy cannot be COMPACT when enable_queued_provisioning "
                   "is true, unless using TPUs'")),
    Refusal(_NODE_POOL, "queued provisioning consuming reservations", _queued_reservation,
            Source("https://cloud.google.com/kubernetes-engine/docs/how-to/provisioningrequest",
                   AS_OF, "queued provisioning node pools are created with "
                   "--reservation-affinity=none")),
    Refusal(_NODE_POOL, "flex-start with compact placement outside A3 Ultra, A4, H4D",
            _flex_start_compact,
            Source("https://github.com/GoogleCloudPlatform/cluster-toolkit/blob/"
                   "1047080375afbb44da4b596be314634e7486af4a/modules/compute/gke-node-pool/main.tf",
                   AS_OF, "'Compact placement with DWS Flex start is only supported for A3 Ultra, "
                   "A4, and H4D machine types'")),
    Refusal("gcp:container/cluster:Cluster", "a vulnerability scanning mode GKE removed",
            _vulnerability_mode,
            Source(POSTURE_DEPRECATION_URL, AS_OF,
                   "workload vulnerability scanning: the standard tier was shut down on "
                   "2025-07-31 and Advanced Vulnerability Insights deprecated on 2025-06-16; a "
                   "tier cannot be enabled once deprecated (the API's VulnerabilityMode enum: "
                   "'Basic vulnerability scanning is no longer supported')")),
)
