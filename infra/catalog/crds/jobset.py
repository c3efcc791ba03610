"""JobSet at the pinned release (`releases.JOBSET`, API jobset.x-k8s.io/v1alpha2), as a team
submits it to its queue.

The schema is the structural part of the release's CRD (`config/components/crd/bases/
jobset.x-k8s.io_jobsets.yaml` at the release commit), status left out. Two parts are core
Kubernetes types that the CRD inlines: a replicated job's `template` (a batch/v1 JobTemplateSpec)
and a volume claim policy's `templates` (v1 PersistentVolumeClaims). Here they are open objects,
and `embedded_objects` hands them over as a Job and PVCs for the core-kind validator
(kubernetes-validate at the cluster's minor version), which checks them field by field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infra.catalog.crds.releases import JOBSET, CrdFile
from infra.catalog.crds.schema import (
    Schema,
    array,
    boolean,
    enum,
    integer,
    obj,
    open_object,
    resource,
    string,
)

API_VERSION = JOBSET.api_version
CRD_FILES = {"JobSet": CrdFile(
    "config/components/crd/bases/jobset.x-k8s.io_jobsets.yaml",
    "d022b87624512cf0b6741b31b24a2bea9945b5a838b50713af29332c878bb6fe")}

JOBSET_SCHEMA: Schema = resource(API_VERSION, "JobSet", True, {"spec": obj({
    "coordinator": obj({"jobIndex": integer(), "podIndex": integer(),
                        "replicatedJob": string()}, "replicatedJob"),
    "failurePolicy": obj({
        "maxRestarts": integer(),
        "restartStrategy": enum("Recreate", "BlockingRecreate", "InPlaceRestart"),
        "rules": array(obj({
            "action": enum("FailJobSet", "RestartJobSet", "RestartJobSetAndIgnoreMaxRestarts",
                           "RestartJob", "RestartJobAndIgnoreMaxRestarts"),
            "name": string(),
            "onJobFailureMessagePatterns": array(string()),
            "onJobFailureReasons": array(string()),
            "targetReplicatedJobs": array(string()),
        }, "action", "name")),
    }),
    "managedBy": string(),
    "network": obj({"enableDNSHostnames": boolean(), "publishNotReadyAddresses": boolean(),
                    "subdomain": string()}),
    "replicatedJobs": array(obj({
        "dependsOn": array(obj({"name": string(), "status": enum("Ready", "Complete")},
                               "name", "status"), maxItems=5),
        "groupName": string(),
        "name": string(),
        "replicas": integer(),
        "template": obj({"metadata": open_object(), "spec": open_object()}),
    }, "name", "template")),
    "startupPolicy": obj({"startupPolicyOrder": enum("AnyOrder", "InOrder")},
                         "startupPolicyOrder"),
    "successPolicy": obj({"operator": enum("All", "Any"),
                          "targetReplicatedJobs": array(string())}, "operator"),
    "suspend": boolean(),
    "ttlSecondsAfterFinished": integer(minimum=0),
    "volumeClaimPolicies": array(obj({
        "retentionPolicy": obj({"whenDeleted": enum("Delete", "Retain")}),
        "templates": array(open_object(), maxItems=50),
    }), maxItems=50),
})})

SCHEMAS: dict[str, Schema] = {"JobSet": JOBSET_SCHEMA}


# The CRD's CEL rules that judge one object, by their upstream messages.
_STARTUP = "StartupPolicy and DependsOn APIs are mutually exclusive"
_CLAIM_NAMESPACE = "namespace cannot be set for VolumeClaimPolicies templates"
CEL_RULES = {"JobSet": (_STARTUP, _CLAIM_NAMESPACE)}


def _jobset(obj_: Mapping[str, Any]) -> Iterator[str]:
    """The CRD's CEL rules that judge one object."""
    spec = obj_.get("spec") or {}
    if spec.get("startupPolicy", {}).get("startupPolicyOrder") == "InOrder" and \
            any("dependsOn" in job for job in spec.get("replicatedJobs", [])):
        yield f"spec: {_STARTUP}"
    for p, policy in enumerate(spec.get("volumeClaimPolicies", [])):
        if any((t.get("metadata") or {}).get("namespace") for t in policy.get("templates", [])):
            yield f"spec.volumeClaimPolicies[{p}]: {_CLAIM_NAMESPACE}"


RULES = {"JobSet": _jobset}


def embedded_objects(jobset: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The core objects a JobSet inlines, as whole objects a core validator accepts: each
    replicated job's template as a batch/v1 Job, each volume claim template as a v1 PVC, named
    after the JobSet and their place in it."""
    meta = jobset.get("metadata") or {}
    name, namespace = meta.get("name", "jobset"), meta.get("namespace")
    out = []
    for job in (jobset.get("spec") or {}).get("replicatedJobs", []):
        template = job.get("template") or {}
        out.append({"apiVersion": "batch/v1", "kind": "Job",
                    "metadata": {**(template.get("metadata") or {}),
                                 "name": f"{name}-{job.get('name')}",
                                 **({"namespace": namespace} if namespace else {})},
                    "spec": template.get("spec") or {}})
    for policy in (jobset.get("spec") or {}).get("volumeClaimPolicies", []):
        for claim in policy.get("templates", []):
            out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", **claim})
    return out
