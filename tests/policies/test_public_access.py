"""Public-access policies (P1-P6), judged through the analyzer protocol by the real pack."""

from __future__ import annotations

import json

import pytest

from tests.policy_fixtures import (
    BUCKET,
    BUCKET_ACCESS_CONTROL,
    BUCKET_ACL,
    BUCKET_IAM_BINDING,
    BUCKET_IAM_MEMBER,
    BUCKET_IAM_POLICY,
    DELETE,
    FILESTORE,
    INSTANCE,
    INSTANCE_TEMPLATE,
    PROJECT_IAM_MEMBER,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
)

_PUBLIC_OK = {"no-public-members": {"allowedPublicBuckets": ["aidc-dev-training-data"]}}
_NFS = ("fileShares", "nfsExportOptions", 0)

CASES = [
    # P1 no-public-members
    Case("no-public-members", BUCKET_IAM_MEMBER, {"member": "allUsers"}),
    Case("no-public-members", BUCKET_IAM_BINDING, {"members": ["allAuthenticatedUsers"]}),
    Case("no-public-members", BUCKET_IAM_POLICY, {"policyData": json.dumps({"bindings": [
        {"role": "roles/storage.objectViewer", "members": ["allUsers"]}]})}),
    Case("no-public-members", BUCKET_IAM_POLICY, {"policyData": "{not json"},
         why="unparseable policyData fails closed"),
    Case("no-public-members", PROJECT_IAM_MEMBER, {"member": "allAuthenticatedUsers"}),
    Case("no-public-members", "gcp:bigquery/datasetIamMember:DatasetIamMember",
         inputs={"datasetId": "features", "role": "roles/bigquery.dataViewer",
                 "member": "allUsers"}, why="a BigQuery dataset is a data holder too"),
    Case("no-public-members", BUCKET_IAM_MEMBER,
         {"member": "allUsers", "role": "roles/storage.objectAdmin"}, config=_PUBLIC_OK,
         why="an allow-listed public bucket still gets read roles only"),
    Case("no-public-members", BUCKET_IAM_MEMBER, fails=False),
    Case("no-public-members", BUCKET_IAM_POLICY, fails=False),
    Case("no-public-members", BUCKET_IAM_MEMBER, {"member": "allUsers"}, fails=False,
         config=_PUBLIC_OK, why="public read on an allow-listed bucket"),
    # P2 bucket-public-access-prevention
    Case("bucket-public-access-prevention", BUCKET, {"publicAccessPrevention": "inherited"}),
    Case("bucket-public-access-prevention", BUCKET, {"publicAccessPrevention": DELETE}),
    Case("bucket-public-access-prevention", BUCKET, fails=False),
    Case("bucket-public-access-prevention", BUCKET, {"publicAccessPrevention": "inherited"},
         fails=False, not_applicable=True,
         config={"bucket-public-access-prevention": {
             "allowedPublicBuckets": ["aidc-dev-training-data"]}},
         why="allow-listed public bucket"),
    # P3 bucket-uniform-access
    Case("bucket-uniform-access", BUCKET, {"uniformBucketLevelAccess": False}),
    Case("bucket-uniform-access", BUCKET, {"uniformBucketLevelAccess": DELETE}),
    Case("bucket-uniform-access", BUCKET, fails=False),
    # P4 bucket-acl-not-public
    Case("bucket-acl-not-public", BUCKET_ACL, {"predefinedAcl": "publicRead"}),
    Case("bucket-acl-not-public", BUCKET_ACL, {"roleEntities": ["READER:allUsers"]}),
    Case("bucket-acl-not-public", BUCKET_ACCESS_CONTROL, {"entity": "allAuthenticatedUsers"}),
    Case("bucket-acl-not-public", BUCKET_ACL, fails=False),
    Case("bucket-acl-not-public", BUCKET_ACCESS_CONTROL, fails=False),
    # P5 filestore-export-restricted
    Case("filestore-export-restricted", FILESTORE, {("fileShares", "nfsExportOptions"): DELETE},
         why="no export options: every VPC client mounts as root"),
    Case("filestore-export-restricted", FILESTORE, {(*_NFS, "ipRanges"): ["0.0.0.0/0"]}),
    Case("filestore-export-restricted", FILESTORE, {(*_NFS, "squashMode"): DELETE},
         why="READ_WRITE with the provider default NO_ROOT_SQUASH"),
    Case("filestore-export-restricted", FILESTORE, {(*_NFS, "ipRanges"): DELETE}),
    Case("filestore-export-restricted", FILESTORE,
         config={"filestore-export-restricted": {"allowedNfsRanges": ["10.30.0.0/16"]}},
         why="range outside allowedNfsRanges"),
    Case("filestore-export-restricted", FILESTORE, fails=False),
    Case("filestore-export-restricted", FILESTORE,
         {(*_NFS, "accessMode"): "READ_ONLY", (*_NFS, "squashMode"): DELETE}, fails=False,
         why="read-only export may keep root"),
    Case("filestore-export-restricted", FILESTORE, fails=False,
         config={"filestore-export-restricted": {"allowedNfsRanges": ["10.0.0.0/8"]}},
         why="range inside allowedNfsRanges"),
    # P6 instance-no-external-ip
    Case("instance-no-external-ip", INSTANCE, {("networkInterfaces", 0, "accessConfigs"): [{}]}),
    Case("instance-no-external-ip", INSTANCE_TEMPLATE,
         {("networkInterfaces", 0, "accessConfigs"): [{"networkTier": "PREMIUM"}]}),
    Case("instance-no-external-ip", INSTANCE,
         {("networkInterfaces", 0, "ipv6AccessConfigs"): [{"networkTier": "PREMIUM"}]}),
    Case("instance-no-external-ip", INSTANCE, fails=False),
    Case("instance-no-external-ip", INSTANCE_TEMPLATE, fails=False),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden resource is a violation of exactly the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden resources, safe provider defaults and allow-listed exceptions pass."""
    assert_case(analyzer, case)


def test_flags_public_member_message_names_member_and_bucket(analyzer) -> None:  # noqa: F811
    """A public-member violation says who was granted what on which bucket."""
    result = assert_case(analyzer, Case("no-public-members", BUCKET_IAM_MEMBER,
                                        {"member": "allUsers"}))
    [violation] = [v for v in result.violations if v.policy == "no-public-members"]
    assert "allUsers" in violation.message and "aidc-dev-training-data" in violation.message
    assert violation.severity == "critical" and violation.enforcement == "mandatory"
