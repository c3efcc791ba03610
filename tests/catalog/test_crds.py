"""The Kueue and JobSet schemas: one valid object per kind passes, each rule fires on a mutation
of it with a message naming the object and the field, and each schema matches the upstream CRD
of the pinned release when a copy of the CRDs is at hand.

Copies are looked for in $AIDC_UPSTREAM_CRDS, else in the shared schemas folder next to the
repository (as the SARIF schema is), laid out `<project>-<version>/<file name>`, e.g.
`kueue-v0.19.2/kueue.x-k8s.io_clusterqueues.yaml`; infra/catalog/crds/README.md says where to
get them.
"""

from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.k8s import validate_objects
from infra.catalog.crds import gke_networking, jobset, kueue
from infra.catalog.crds.releases import GKE_NETWORKING, JOBSET, KUEUE, Release
from infra.catalog.crds.schema import open_object, python_pattern
from infra.catalog.crds.validate import SCHEMAS, crd_problems, validate_crd_object
from infra.errors import AidcError

REPO = Path(__file__).resolve().parents[2]
UPSTREAM = Path(os.environ.get("AIDC_UPSTREAM_CRDS", REPO.parent / "shared" / "schemas" / "crds"))
KQ = "kueue.x-k8s.io/v1beta2"
GN = "networking.gke.io/v1"
QUOTA = {"name": "nvidia.com/gpu", "nominalQuota": 104, "borrowingLimit": 24, "lendingLimit": 40}

VALID: dict[str, dict[str, Any]] = {
    "ResourceFlavor": {
        "apiVersion": KQ, "kind": "ResourceFlavor", "metadata": {"name": "gpu-pools-h100"},
        "spec": {"nodeLabels": {"cloud.google.com/gke-nodepool": "h100"},
                 "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                                  "effect": "NoSchedule"}]}},
    "ClusterQueue": {
        "apiVersion": KQ, "kind": "ClusterQueue", "metadata": {"name": "nlp"},
        "spec": {"cohortName": "aidc",
                 "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "nlp"}},
                 "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
                 "resourceGroups": [{"coveredResources": ["nvidia.com/gpu"], "flavors": [
                     {"name": "gpu-pools-h100", "resources": [dict(QUOTA)]}]}],
                 "admissionChecksStrategy": {"admissionChecks": [
                     {"name": "dws", "onFlavors": ["gpu-pools-h100"]}]}}},
    "LocalQueue": {
        "apiVersion": KQ, "kind": "LocalQueue", "metadata": {"name": "nlp", "namespace": "nlp"},
        "spec": {"clusterQueue": "nlp"}},
    "Cohort": {"apiVersion": KQ, "kind": "Cohort", "metadata": {"name": "aidc"},
               "spec": {"fairSharing": {"weight": 1}}},
    "WorkloadPriorityClass": {
        "apiVersion": KQ, "kind": "WorkloadPriorityClass", "metadata": {"name": "training"},
        "value": 1000, "description": "Training jobs; preempt batch experiments."},
    "AdmissionCheck": {
        "apiVersion": KQ, "kind": "AdmissionCheck", "metadata": {"name": "dws"},
        "spec": {"controllerName": "kueue.x-k8s.io/provisioning-request",
                 "parameters": {"apiGroup": "kueue.x-k8s.io", "kind": "ProvisioningRequestConfig",
                                "name": "dws"}}},
    "ProvisioningRequestConfig": {
        "apiVersion": KQ, "kind": "ProvisioningRequestConfig", "metadata": {"name": "dws"},
        "spec": {"provisioningClassName": "queued-provisioning.gke.io",
                 "managedResources": ["nvidia.com/gpu"]}},
    "JobSet": {
        "apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
        "metadata": {"name": "pretrain", "namespace": "nlp",
                     "labels": {"kueue.x-k8s.io/queue-name": "nlp"}},
        "spec": {"replicatedJobs": [{"name": "workers", "replicas": 2, "template": {"spec": {
            "parallelism": 4, "completions": 4, "backoffLimit": 0,
            "template": {"spec": {"restartPolicy": "Never", "containers": [{
                "name": "trainer", "image": "us-docker.pkg.dev/acme/train@sha256:" + "0" * 64,
                "resources": {"limits": {"nvidia.com/gpu": 8}}}]}}}}}],
            "failurePolicy": {"maxRestarts": 3}, "suspend": True}},
    "GKENetworkParamSet": {
        "apiVersion": GN, "kind": "GKENetworkParamSet", "metadata": {"name": "train-gpu0"},
        "spec": {"vpc": "aidc-prod-train-gpu0", "vpcSubnet": "aidc-prod-train-gpu0",
                 "deviceMode": "NetDevice"}},
    "Network": {
        "apiVersion": GN, "kind": "Network", "metadata": {"name": "train-gpu0"},
        "spec": {"type": "Device", "parametersRef": {
            "group": "networking.gke.io", "kind": "GKENetworkParamSet", "name": "train-gpu0"}}},
}


def valid(kind: str) -> dict[str, Any]:
    return copy.deepcopy(VALID[kind])


def test_every_kind_has_a_valid_fixture() -> None:
    assert sorted(kind for _, kind in SCHEMAS) == sorted(VALID)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_object_passes(kind: str) -> None:
    validate_crd_object(VALID[kind])


def changed(kind: str, **paths: Any) -> dict[str, Any]:
    """The valid object of `kind` with fields set, paths dotted (`spec__preemption` for
    `spec.preemption`, list indexes as numbers); the value `DELETE` removes the field."""
    obj = valid(kind)
    for path, value in paths.items():
        *parents, last = path.split("__")
        node: Any = obj
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return obj


DELETE = object()
RESOURCE = "spec__resourceGroups__0__flavors__0__resources__0"
AT = "spec.resourceGroups[0].flavors[0].resources[0]"

REJECTED = [
    (changed("ClusterQueue", spec__cohort="aidc"), "spec", "'cohort' was unexpected"),
    (changed("ClusterQueue", spec__queueingStrategy="FIFO"), "spec.queueingStrategy",
     "'FIFO' is not one of ['StrictFIFO', 'BestEffortFIFO']"),
    (changed("ClusterQueue", **{f"{RESOURCE}__nominalQuota": "lots"}), f"{AT}.nominalQuota",
     "'lots' does not match"),
    (changed("ClusterQueue", **{f"{RESOURCE}__lendingLimit": 120}), f"{AT}.lendingLimit",
     "120 must be less than or equal to the nominalQuota (104)"),
    (changed("ClusterQueue", **{f"{RESOURCE}__name": "google.com/tpu"}), f"{AT}.name",
     "must match the name in coveredResources ('nvidia.com/gpu')"),
    (changed("ClusterQueue", **{f"{RESOURCE}__nominalQuota": "-8"}), f"{AT}.nominalQuota",
     "must be greater than or equal to 0"),
    (changed("ClusterQueue", spec__cohortName=DELETE), f"{AT}.borrowingLimit",
     "borrowingLimit must be nil when cohort is empty"),
    (changed("ClusterQueue", spec__resourceGroups__0__coveredResources=["nvidia.com/gpu", "cpu"]),
     "spec.resourceGroups[0].flavors[0]", "the same number of resources"),
    (changed("ClusterQueue", spec__preemption={"borrowWithinCohort": {"policy": "LowerPriority"}}),
     "spec.preemption", "reclaimWithinCohort=Never and borrowWithinCohort.Policy!=Never"),
    (changed("ClusterQueue", spec__flavorFungibility={"preference": "BorrowingOverPreemption"}),
     "spec.flavorFungibility", "both whenCanBorrow and whenCanPreempt are TryNextFlavor"),
    (changed("ClusterQueue", metadata__namespace="nlp"), "metadata", "'namespace' was unexpected"),
    (changed("ClusterQueue", metadata__name="NLP"), "metadata.name", "does not match"),
    (changed("LocalQueue", metadata__namespace=DELETE), "metadata",
     "'namespace' is a required property"),
    (changed("ResourceFlavor", spec__tolerations__0__operator="Equals"),
     "spec.tolerations[0].operator", "supported toleration values"),
    (changed("ResourceFlavor", spec__tolerations__0__value="present"), "spec.tolerations[0]",
     "a value must be empty when 'operator' is 'Exists'"),
    (changed("ResourceFlavor", spec__nodeTaints=[{"key": "k", "effect": "NoExec"}]),
     "spec.nodeTaints[0].effect", "supported taint effect values"),
    (changed("ResourceFlavor", spec={"topologyName": "gke-default"}), "spec",
     "at least one nodeLabel is required when topology is set"),
    (changed("WorkloadPriorityClass", value=DELETE), "(root)", "'value' is a required property"),
    (changed("AdmissionCheck", spec__parameters__kind="Provisioning Request Config"),
     "spec.parameters.kind", "does not match"),
    (changed("ProvisioningRequestConfig", spec__podSetMergePolicy="Any"),
     "spec.podSetMergePolicy", "is not one of"),
    (changed("JobSet", spec__startupPolicy={"startupPolicyOrder": "InOrder"},
             spec__replicatedJobs__0__dependsOn=[{"name": "init", "status": "Complete"}]),
     "spec", "StartupPolicy and DependsOn APIs are mutually exclusive"),
    (changed("JobSet", spec__successPolicy={"operator": "Some"}), "spec.successPolicy.operator",
     "is not one of ['All', 'Any']"),
    (changed("ClusterQueue", apiVersion="kueue.x-k8s.io/v1beta1"), "ClusterQueue",
     "is not a kind aidc validates; it writes"),
    (changed("GKENetworkParamSet", spec__deviceMode="RoCE"), "spec.deviceMode",
     "is not one of ['DPDK-VFIO', 'NetDevice', 'RDMA']"),
    (changed("GKENetworkParamSet", spec__vpcSubnet=DELETE), "spec",
     "vpc and vpcSubnet are required unless networkAttachment is set"),
    (changed("GKENetworkParamSet", spec__podIPv4Ranges={"rangeNames": ["pods"]}), "spec",
     "deviceMode (Device networks) and podIPv4Ranges (L3 networks) exclude each other"),
    (changed("GKENetworkParamSet", spec__deviceMode=DELETE), "spec",
     "give deviceMode (a Device network) or podIPv4Ranges"),
    (changed("GKENetworkParamSet", spec__networkAttachment="projects/p/regions/r/attachments/a"),
     "spec", "networkAttachment excludes vpc, vpcSubnet, deviceMode"),
    (changed("Network", spec__type="Bridge"), "spec.type", "is not one of ['L2', 'L3', 'Device']"),
    (changed("Network", spec__parametersRef__kind="ConfigMap"), "spec.parametersRef",
     "a Device network references its GKENetworkParamSet"),
    (changed("Network", metadata__name="a-pool-name-that-is-far-too-long-for-gke-gpu7"),
     "metadata.name", "GKE allows a Device network at most 41"),
]


@pytest.mark.parametrize(("obj", "path", "needle"), REJECTED)
def test_rejects_invalid_object(obj: dict[str, Any], path: str, needle: str) -> None:
    """Each schema keyword, CEL rule and webhook rule fires on one change to a valid object, and
    the error names the object, the field and what is accepted."""
    with pytest.raises(AidcError) as info:
        validate_crd_object(obj)
    where = f"{obj['kind']}/{obj['metadata']['name']}: "
    assert str(info.value).startswith(where), str(info.value)
    assert any(p.startswith(f"{path}") and needle in p for p in crd_problems(obj)), \
        crd_problems(obj)


def test_jobset_embedded_objects_go_to_the_core_validator() -> None:
    """A JobSet's job template is a batch/v1 Job for kubernetes-validate: a misspelt pod field
    passes the JobSet schema (the template is open there) and fails as a Job."""
    ok = valid("JobSet")
    (job,) = jobset.embedded_objects(ok)
    assert (job["kind"], job["metadata"]) == ("Job", {"name": "pretrain-workers",
                                                      "namespace": "nlp"})
    validate_objects([job])
    bad = changed("JobSet", spec__replicatedJobs__0__template__spec__template__spec__restartPolicy=
                  DELETE)
    bad["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["restartPolcy"] = "Never"
    validate_crd_object(bad)
    with pytest.raises(AidcError, match="restartPolcy"):
        validate_objects(jobset.embedded_objects(bad))


# ---------------------------------------------------------------------------------------------
# the schemas against the upstream CRDs

# Keywords that only annotate, or that RULES carries as Python (x-kubernetes-validations).
_IGNORED = {"description", "default", "format", "example", "x-kubernetes-list-type",
            "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations",
            "x-kubernetes-int-or-string", "anyOf"}
_COMPARED = ("enum", "pattern", "minItems", "maxItems", "minLength", "maxLength",
             "minProperties", "maxProperties", "minimum", "maximum")


def _type(schema: dict[str, Any]) -> Any:
    if schema.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    return schema.get("type")


def differences(ours: dict[str, Any], theirs: dict[str, Any], path: str = "") -> list[str]:
    """Where our schema and the upstream structural schema disagree. Ours may leave an embedded
    core object open (another validator checks it)."""
    if ours == open_object():
        return [] if _type(theirs) == "object" else [f"{path}: {_type(theirs)}, not an object"]
    out = []
    if "const" not in ours and _type(ours) != _type(theirs):
        out.append(f"{path}: type {_type(ours)} != {_type(theirs)}")
    if "pattern" in theirs:
        theirs = {**theirs, "pattern": python_pattern(theirs["pattern"])}
    for key in _COMPARED:
        if ours.get(key) != theirs.get(key):
            out.append(f"{path}: {key} {ours.get(key)!r} != {theirs.get(key)!r}")
    if set(ours.get("required", [])) != set(theirs.get("required", [])):
        out.append(f"{path}: required {ours.get('required')} != {theirs.get('required')}")
    unknown = set(theirs) - _IGNORED - set(_COMPARED) - {"type", "required", "properties",
                                                         "items", "additionalProperties"}
    if unknown:
        out.append(f"{path}: keywords not compared: {sorted(unknown)}")
    if "properties" in ours:
        mine, upstream = ours["properties"], theirs.get("properties", {})
        if set(mine) != set(upstream):
            out.append(f"{path}: fields {sorted(set(mine) ^ set(upstream))} differ")
        out += [d for name in sorted(set(mine) & set(upstream))
                for d in differences(mine[name], upstream[name], f"{path}.{name}")]
        if ours.get("additionalProperties") is not False:
            out.append(f"{path}: an object with fields must be closed")
    elif "properties" in theirs:
        out.append(f"{path}: upstream declares fields {sorted(theirs['properties'])}")
    if "items" in ours or "items" in theirs:
        out += differences(ours.get("items", {}), theirs.get("items", {}), f"{path}[]")
    if isinstance(theirs.get("additionalProperties"), dict):
        out += differences(ours.get("additionalProperties") or {},
                           theirs["additionalProperties"], f"{path}{{}}")
    return out


def _upstream(release: Release, files: dict[str, Any], kind: str) -> dict[str, Any]:
    source = files[kind]
    copy_ = UPSTREAM / f"{release.project.lower()}-{release.version}" / Path(source.path).name
    if not copy_.is_file():
        pytest.skip(f"no copy of {release.source_url(source.path)} at {copy_}")
    data = copy_.read_bytes()
    assert hashlib.sha256(data).hexdigest() == source.sha256, f"{copy_} is not the pinned file"
    crd = yaml.safe_load(data)
    version = release.api_version.split("/")[1]
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    assert served["served"] and served["storage"], f"{kind} {version} is not the storage version"
    assert crd["spec"]["scope"] == ("Namespaced" if kind in ("LocalQueue", "JobSet") else "Cluster")
    schema = served["schema"]["openAPIV3Schema"]
    schema["properties"].pop("status", None)
    return schema


MODULES = {KUEUE: kueue, JOBSET: jobset, GKE_NETWORKING: gke_networking}
CASES = [(release, module.CRD_FILES, kind, schema) for release, module in MODULES.items()
         for kind, schema in module.SCHEMAS.items()]


@pytest.mark.parametrize(("release", "files", "kind", "schema"), CASES,
                         ids=[kind for _, _, kind, _ in CASES])
def test_schema_matches_upstream_crd(release: Release, files: dict[str, Any], kind: str,
                                     schema: dict[str, Any]) -> None:
    """Field for field, the schema is the pinned CRD's: the same fields, types, enums, patterns,
    bounds and required fields (metadata is aidc's stricter own, status is left out)."""
    theirs = _upstream(release, files, kind)
    envelope = ("apiVersion", "kind", "metadata")  # Kubernetes' own, the same for every kind
    mine = {**schema, "properties": {k: v for k, v in schema["properties"].items()
                                     if k not in envelope},
            "required": [k for k in schema["required"] if k not in envelope]}
    for k in envelope:
        theirs["properties"].pop(k)
    assert differences(mine, theirs, kind) == []


def _cel_messages(schema: Any) -> list[str]:
    """The messages of the CRD's CEL rules that judge one object (not the transition rules,
    which compare with the previous version: the API server's business)."""
    if isinstance(schema, list):
        return [m for item in schema for m in _cel_messages(item)]
    if not isinstance(schema, dict):
        return []
    own = [r["message"] for r in schema.get("x-kubernetes-validations", [])
           if "oldSelf" not in r["rule"]]
    return own + [m for value in schema.values() for m in _cel_messages(value)]


@pytest.mark.parametrize(("release", "files", "kind", "schema"), CASES,
                         ids=[kind for _, _, kind, _ in CASES])
def test_rules_carry_every_cel_rule(release: Release, files: dict[str, Any], kind: str,
                                    schema: dict[str, Any]) -> None:
    """The CEL rules RULES carries are exactly the pinned CRD's rules that judge one object."""
    del schema
    module = MODULES[release]
    upstream = {m.replace("''", "'") for m in _cel_messages(_upstream(release, files, kind))}
    assert set(module.CEL_RULES.get(kind, ())) == upstream
