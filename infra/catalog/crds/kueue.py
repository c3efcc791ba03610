"""Kueue's kinds at the pinned release (`releases.KUEUE`, API kueue.x-k8s.io/v1beta2, the storage
version; v1beta1 is still served but deprecated), as aidc writes them.

Each schema is the structural part of the release's CRD (`config/components/crd/bases/
kueue.x-k8s.io_<plural>.yaml` at the release commit), status left out: aidc never writes it.
The CRDs' CEL rules (`x-kubernetes-validations`) that judge one object, and the rules Kueue's
validating webhook adds (`pkg/webhooks/clusterqueue_webhook.go`, `cohort_webhook.go`), are the
functions in `RULES`; rules that compare an object with its previous version (immutability) are
the API server's business and are left out. tests/catalog/test_crds.py compares every schema
with the upstream CRD when a copy of it is at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from infra.catalog.crds.releases import KUEUE, CrdFile
from infra.catalog.crds.schema import (
    LABEL_SELECTOR,
    Schema,
    array,
    enum,
    integer,
    name_ref,
    obj,
    parse_quantity,
    python_pattern,
    quantity,
    resource,
    string,
    string_map,
)
from infra.errors import relative_path

API_VERSION = KUEUE.api_version
_BASES = "config/components/crd/bases/kueue.x-k8s.io_"
CRD_FILES = {
    "AdmissionCheck": CrdFile(f"{_BASES}admissionchecks.yaml",
                              "2bf4003c0a3ea3d6ceab940c7a271ad211372dab59d2739acfa8b2bdb0724acb"),
    "ClusterQueue": CrdFile(f"{_BASES}clusterqueues.yaml",
                            "e0a5fc9b370c70f3d993d4f599865817338ecf94187b30b15b12ff33c579bd55"),
    "Cohort": CrdFile(f"{_BASES}cohorts.yaml",
                      "61fbe5ec55d45e7fae2d65321fb32517b197257ab78ad55316673183aac911c2"),
    "LocalQueue": CrdFile(f"{_BASES}localqueues.yaml",
                          "dd10ef8d3578e7212fa52763549e7b6be0949793a5b924495fcd293330109fed"),
    "ProvisioningRequestConfig": CrdFile(
        f"{_BASES}provisioningrequestconfigs.yaml",
        "0399b2689d7468c64a1ef4e3c8bf9603c261a152f822b6698903b23f69e790dc"),
    "ResourceFlavor": CrdFile(f"{_BASES}resourceflavors.yaml",
                              "19e339c47e9ca3fa2c9eeddd27715a512f765c4794ed859733408a9715720173"),
    "WorkloadPriorityClass": CrdFile(
        f"{_BASES}workloadpriorityclasses.yaml",
        "0b755726aab05b8def9a53ee15b201eed3846bcffd1ff5528fed123f4ae03519"),
}
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

_FAIR_SHARING = obj({"weight": quantity()})
_STOP_POLICY = enum("None", "Hold", "HoldAndDrain")
_RESOURCE_GROUPS = array(obj({
    "coveredResources": array(string(), minItems=1, maxItems=64),
    "flavors": array(obj({
        "name": name_ref(),
        "resources": array(obj({"name": string(), "nominalQuota": quantity(),
                                "borrowingLimit": quantity(), "lendingLimit": quantity()},
                               "name", "nominalQuota"), minItems=1, maxItems=64),
    }, "name", "resources"), minItems=1, maxItems=64),
}, "coveredResources", "flavors"), maxItems=16)

RESOURCE_FLAVOR = resource(API_VERSION, "ResourceFlavor", False, {"spec": obj({
    "nodeLabels": string_map(maxProperties=8),
    "nodeTaints": array(obj({"key": string(), "value": string(), "effect": string(),
                             "timeAdded": string()}, "effect", "key"), maxItems=8),
    "tolerations": array(obj({"key": string(), "operator": string(), "value": string(),
                              "effect": string(), "tolerationSeconds": integer()}), maxItems=8),
    "topologyName": name_ref(),
})})

CLUSTER_QUEUE = resource(API_VERSION, "ClusterQueue", False, {"spec": obj({
    "admissionChecksStrategy": obj({"admissionChecks": array(obj({
        "name": string(minLength=1, maxLength=316),
        "onFlavors": array(name_ref(), maxItems=64),
    }, "name"), minItems=1, maxItems=64)}, "admissionChecks"),
    "admissionScope": obj({"admissionMode": enum("UsageBasedAdmissionFairSharing",
                                                 "NoAdmissionFairSharing")}, "admissionMode"),
    "cohortName": name_ref(),
    "concurrentAdmissionPolicy": obj({"migration": obj({
        "constraints": obj({"lastAcceptableFlavorName": name_ref()}),
        "mode": enum("TryPreferredFlavors", "RetainFirstAdmission") | {"maxLength": 253},
    }, "mode")}, "migration"),
    "fairSharing": _FAIR_SHARING,
    "flavorFungibility": obj({
        "preference": enum("BorrowingOverPreemption", "PreemptionOverBorrowing"),
        "whenCanBorrow": enum("MayStopSearch", "TryNextFlavor"),
        "whenCanPreempt": enum("MayStopSearch", "TryNextFlavor"),
    }),
    "namespaceSelector": LABEL_SELECTOR,
    "preemption": obj({
        "borrowWithinCohort": obj({"maxPriorityThreshold": integer(),
                                   "policy": enum("Never", "LowerPriority")}),
        "reclaimWithinCohort": enum("Never", "LowerPriority", "Any"),
        "withinClusterQueue": enum("Never", "LowerPriority", "LowerOrNewerEqualPriority"),
    }),
    "queueingStrategy": enum("StrictFIFO", "BestEffortFIFO"),
    "resourceGroups": _RESOURCE_GROUPS,
    "stopPolicy": _STOP_POLICY,
})})

LOCAL_QUEUE = resource(API_VERSION, "LocalQueue", True, {"spec": obj({
    "clusterQueue": name_ref(),
    "fairSharing": _FAIR_SHARING,
    "stopPolicy": _STOP_POLICY,
})})

COHORT = resource(API_VERSION, "Cohort", False, {"spec": obj({
    "fairSharing": _FAIR_SHARING,
    "parentName": name_ref(),
    "resourceGroups": _RESOURCE_GROUPS,
})})

WORKLOAD_PRIORITY_CLASS = resource(API_VERSION, "WorkloadPriorityClass", False, {
    "value": integer(), "description": string(maxLength=2048)}, "value")

ADMISSION_CHECK = resource(API_VERSION, "AdmissionCheck", False, {"spec": obj({
    "controllerName": string(minLength=1, maxLength=253),
    "parameters": obj({
        "apiGroup": name_ref(minLength=1),
        "kind": string(minLength=1, maxLength=63,
                       pattern=python_pattern(r"^(?i)[a-z]([-a-z0-9]*[a-z0-9])?$")),
        "name": string(minLength=1, maxLength=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
    }, "apiGroup", "kind", "name"),
}, "controllerName")})

PROVISIONING_REQUEST_CONFIG = resource(API_VERSION, "ProvisioningRequestConfig", False, {
    "spec": obj({
        "provisioningClassName": name_ref(minLength=1),
        "parameters": {"type": "object", "maxProperties": 100,
                       "additionalProperties": string(maxLength=255)},
        "managedResources": array(string(), maxItems=100),
        "podSetMergePolicy": enum("IdenticalPodTemplates",
                                  "IdenticalWorkloadSchedulingRequirements"),
        "podSetUpdates": obj({"nodeSelector": array(obj({
            "key": string(minLength=1, maxLength=317, pattern=(
                r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$")),
            "valueFromProvisioningClassDetail": string(minLength=1, maxLength=32768),
        }, "key", "valueFromProvisioningClassDetail"), maxItems=8)}),
        "retryStrategy": obj({"backoffBaseSeconds": integer(), "backoffLimitCount": integer(),
                              "backoffMaxSeconds": integer()}),
    }, "provisioningClassName")})

SCHEMAS: dict[str, Schema] = {s["properties"]["kind"]["const"]: s for s in (
    RESOURCE_FLAVOR, CLUSTER_QUEUE, LOCAL_QUEUE, COHORT, WORKLOAD_PRIORITY_CLASS,
    ADMISSION_CHECK, PROVISIONING_REQUEST_CONFIG)}


# ---------------------------------------------------------------------------------------------
# the CEL and webhook rules, on objects the schema already accepts

Rule = Callable[[Mapping[str, Any]], Iterator[str]]

# The CRDs' CEL rules that judge one object, by their upstream messages (the webhook's own
# messages are written where they are checked).
_TAINT_EFFECT = "supported taint effect values: 'NoSchedule', 'PreferNoSchedule', 'NoExecute'"
_OPERATOR = "supported toleration values: 'Equal'(default), 'Exists'"
_KEYLESS = "operator must be Exists when 'key' is empty, which means 'match all values and all keys'"
_SECONDS = "effect must be 'NoExecute' when 'tolerationSeconds' is set"
_EXISTS_VALUE = "a value must be empty when 'operator' is 'Exists'"
_TOPOLOGY = "at least one nodeLabel is required when topology is set"
_SAME_COUNT = "flavors must have the same number of resources as the coveredResources"
_NO_PARENT = "{limit} must be nil when {parent} is empty"  # CEL for borrowingLimit; webhook
_PREFERENCE = ("preference can only be set when both whenCanBorrow and whenCanPreempt are "
               "TryNextFlavor")
_RECLAIM = "reclaimWithinCohort=Never and borrowWithinCohort.Policy!=Never"
CEL_RULES = {
    "ResourceFlavor": (_TAINT_EFFECT, _OPERATOR, _KEYLESS, _SECONDS, _EXISTS_VALUE, _TOPOLOGY),
    "ClusterQueue": (_SAME_COUNT, _NO_PARENT.format(limit="borrowingLimit", parent="cohort"),
                     _PREFERENCE, _RECLAIM),
    "Cohort": (_SAME_COUNT,),
}


def _resource_flavor(obj_: Mapping[str, Any]) -> Iterator[str]:
    spec = obj_.get("spec") or {}
    for i, taint in enumerate(spec.get("nodeTaints", [])):
        if taint["effect"] not in TAINT_EFFECTS:
            yield f"spec.nodeTaints[{i}].effect: {taint['effect']!r}; {_TAINT_EFFECT}"
    for i, tol in enumerate(spec.get("tolerations", [])):
        where = f"spec.tolerations[{i}]"
        operator = tol.get("operator", "Equal")
        if operator not in ("Equal", "Exists"):
            yield f"{where}.operator: {operator!r}; {_OPERATOR}"
        if "key" not in tol and operator != "Exists":
            yield f"{where}: {_KEYLESS}"
        if "tolerationSeconds" in tol and tol.get("effect") != "NoExecute":
            yield f"{where}: {_SECONDS}"
        if operator == "Exists" and "value" in tol:
            yield f"{where}: {_EXISTS_VALUE}"
        if "effect" in tol and tol["effect"] not in TAINT_EFFECTS:
            yield f"{where}.effect: {tol['effect']!r}; {_TAINT_EFFECT}"
    if "topologyName" in spec and not spec.get("nodeLabels"):
        yield f"spec: {_TOPOLOGY}"


def _resource_groups(spec: Mapping[str, Any], parent: str | None,
                     parent_field: str) -> Iterator[str]:
    """CEL: each flavor lists every covered resource. Webhook: in the same order, quantities
    not negative, limits only with a cohort (a parent), lendingLimit <= nominalQuota."""
    for g, group in enumerate(spec.get("resourceGroups", [])):
        covered = group["coveredResources"]
        for f, flavor in enumerate(group["flavors"]):
            where = ("spec", "resourceGroups", g, "flavors", f)
            if len(flavor["resources"]) != len(covered):
                yield f"{relative_path(where)}: {_SAME_COUNT} ({', '.join(covered)})"
            for r, res in enumerate(flavor["resources"][:len(covered)]):
                at = where + ("resources", r)
                if res["name"] != covered[r]:
                    yield f"{relative_path(at + ('name',))}: {res['name']!r} must match the " \
                          f"name in coveredResources ({covered[r]!r})"
                amounts = {k: parse_quantity(res[k]) for k in
                           ("nominalQuota", "borrowingLimit", "lendingLimit") if k in res}
                for k, amount in amounts.items():
                    if amount < 0:
                        yield f"{relative_path(at + (k,))}: must be greater than or equal to 0"
                    if k != "nominalQuota" and not parent:
                        yield f"{relative_path(at + (k,))}: " + _NO_PARENT.format(
                            limit=k, parent=parent_field)
                if amounts.get("lendingLimit", 0) > amounts["nominalQuota"]:
                    yield f"{relative_path(at + ('lendingLimit',))}: {res['lendingLimit']} must " \
                          f"be less than or equal to the nominalQuota ({res['nominalQuota']})"


def _cluster_queue(obj_: Mapping[str, Any]) -> Iterator[str]:
    spec = obj_.get("spec") or {}
    yield from _resource_groups(spec, spec.get("cohortName"), "cohort")
    fungibility = spec.get("flavorFungibility", {})
    if "preference" in fungibility and not (
            fungibility.get("whenCanBorrow", "MayStopSearch") == "TryNextFlavor"
            and fungibility.get("whenCanPreempt", "TryNextFlavor") == "TryNextFlavor"):
        yield f"spec.flavorFungibility: {_PREFERENCE}"
    preemption = spec.get("preemption", {})
    if preemption.get("reclaimWithinCohort", "Never") == "Never" and \
            preemption.get("borrowWithinCohort", {}).get("policy", "Never") != "Never":
        yield f"spec.preemption: {_RECLAIM}"


def _cohort(obj_: Mapping[str, Any]) -> Iterator[str]:
    spec = obj_.get("spec") or {}
    yield from _resource_groups(spec, spec.get("parentName"), "parent")


RULES: dict[str, Rule] = {"ResourceFlavor": _resource_flavor, "ClusterQueue": _cluster_queue,
                          "Cohort": _cohort}
