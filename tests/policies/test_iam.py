"""Identity and access policies (I1-I7), judged through the analyzer protocol by the real pack."""

from __future__ import annotations

import json

import pytest

from tests.policy_fixtures import (
    BUCKET,
    BUCKET_IAM_MEMBER,
    CRYPTO_KEY,
    CRYPTO_KEY_IAM_MEMBER,
    DELETE,
    GOLDEN,
    HMAC_KEY,
    KEY_RING_IAM_BINDING,
    KEY_RING_TYPE,
    PROJECT_IAM_BINDING,
    PROJECT_IAM_MEMBER,
    PROJECT_IAM_POLICY,
    SA_IAM_MEMBER,
    SA_KEY,
    TRANSFER_JOB,
    Case,
    analyzer,  # noqa: F401 (module fixture)
    assert_case,
    case_id,
    mutate,
    plan_of,
    resource,
    urn,
)

_CI = "ci@aidc-dev.iam.gserviceaccount.com"
_SA_KEY = {"serviceAccountId": f"projects/aidc-dev/serviceAccounts/{_CI}",
           "keyAlgorithm": "KEY_ALG_RSA_2048"}
_BUCKET = resource(BUCKET, "training-data")
_INTERNAL_BUCKET = resource(BUCKET, "training-data",
                            {("labels", "data-classification"): "internal"})
_KEY = resource(CRYPTO_KEY, "training-data-key")
_RING = resource(KEY_RING_TYPE, "ring")
_FOREIGN_SA = "serviceAccount:etl@partner-proj.iam.gserviceaccount.com"
_POOL = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools"
_AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
_S3 = ("transferSpec", "awsS3DataSource")
_STATIC_KEY = {(*_S3, "roleArn"): DELETE,
               (*_S3, "awsAccessKey"): {"accessKeyId": _AWS_KEY_ID,
                                        "secretAccessKey": _AWS_SECRET}}
_OWNER_FOR_SA = json.dumps({"bindings": [
    {"role": "roles/owner", "members": ["serviceAccount:deployer@aidc-dev.iam.gserviceaccount.com"]}]})

CASES = [
    # I1 no-user-managed-sa-keys
    Case("no-user-managed-sa-keys", SA_KEY, inputs=_SA_KEY, expect=_CI),
    Case("no-user-managed-sa-keys", SA_KEY, inputs={**_SA_KEY, "publicKeyData": "[secret]"},
         expect="uploaded public key"),
    Case("no-user-managed-sa-keys", HMAC_KEY, inputs={"serviceAccountEmail": _CI}),
    Case("no-user-managed-sa-keys", SA_KEY, inputs=_SA_KEY, fails=False, not_applicable=True,
         config={"no-user-managed-sa-keys": {"allowedKeyAccounts": [_CI]}}),
    # I2 no-primitive-roles-for-sa
    Case("no-primitive-roles-for-sa", PROJECT_IAM_MEMBER, {"role": "roles/editor"}),
    Case("no-primitive-roles-for-sa", PROJECT_IAM_BINDING, {"role": "roles/owner"}),
    Case("no-primitive-roles-for-sa", PROJECT_IAM_POLICY, {"policyData": _OWNER_FOR_SA}),
    Case("no-primitive-roles-for-sa", "gcp:organizations/iAMMember:IAMMember",
         inputs={"orgId": "123456789012", "role": "roles/editor",
                 "member": "serviceAccount:deployer@aidc-dev.iam.gserviceaccount.com"}),
    Case("no-primitive-roles-for-sa", PROJECT_IAM_MEMBER, {"role": "roles/viewer"},
         config={"no-primitive-roles-for-sa": {"primitiveRolesIncludeViewer": True}}),
    Case("no-primitive-roles-for-sa", PROJECT_IAM_MEMBER, fails=False),
    Case("no-primitive-roles-for-sa", PROJECT_IAM_POLICY, fails=False,
         why="owner to a group, not a service account"),
    Case("no-primitive-roles-for-sa", PROJECT_IAM_MEMBER, {"role": "roles/viewer"}, fails=False,
         why="viewer is allowed by default"),
    # I3 no-sa-user-token-creator-at-project
    Case("no-sa-user-token-creator-at-project", PROJECT_IAM_MEMBER,
         {"role": "roles/iam.serviceAccountUser"}),
    Case("no-sa-user-token-creator-at-project", PROJECT_IAM_BINDING,
         {"role": "roles/iam.serviceAccountTokenCreator"}),
    Case("no-sa-user-token-creator-at-project", PROJECT_IAM_MEMBER, fails=False),
    Case("no-sa-user-token-creator-at-project", SA_IAM_MEMBER,
         {"role": "roles/iam.serviceAccountUser"}, fails=False,
         why="granted on one service account, not project-wide"),
    # I4 restricted-no-foreign-members (stack)
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER, extra=[_BUCKET], fails=False,
         why="the bucket's own project's service account"),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER, {"member": "user:alice@gmail.com"},
         extra=[_BUCKET], expect="user:alice@gmail.com"),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER, {"member": _FOREIGN_SA},
         extra=[_BUCKET]),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER, {"member": "allUsers"},
         extra=[_BUCKET]),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER, {"member": "user:alice@example.com"},
         extra=[_BUCKET], fails=False,
         config={"restricted-no-foreign-members": {"allowedMemberDomains": ["example.com"]}}),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER, {"member": _FOREIGN_SA},
         extra=[_BUCKET], fails=False,
         config={"restricted-no-foreign-members": {"allowedProjects": ["partner-proj"]}}),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER,
         {"member": "serviceAccount:service-123456789@gs-project-accounts.iam.gserviceaccount.com"},
         extra=[_BUCKET], fails=False, why="Google service agent"),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER,
         {"member": "serviceAccount:project-123456789012@storage-transfer-service.iam.gserviceaccount.com"},
         extra=[_BUCKET], fails=False, why="the Storage Transfer agent writing a restricted sink"),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER, {"member": _FOREIGN_SA},
         extra=[_INTERNAL_BUCKET], fails=False, why="internal bucket"),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER,
         {"bucket": "mock-bucket-id-3", "member": _FOREIGN_SA},
         deps={"bucket": [urn(BUCKET, "training-data")]}, extra=[_BUCKET],
         why="bucket found through the engine's property dependencies"),
    Case("restricted-no-foreign-members", CRYPTO_KEY_IAM_MEMBER,
         {"member": "group:ml@partner.com"}, extra=[_KEY], why="restricted key"),
    Case("restricted-no-foreign-members", KEY_RING_IAM_BINDING,
         {"members": ["user:bob@gmail.com"]}, extra=[_RING, _KEY],
         why="key ring holding a restricted key"),
    Case("restricted-no-foreign-members", KEY_RING_IAM_BINDING, extra=[_RING, _KEY], fails=False),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER,
         {"member": f"{_POOL}/aidc-dev.svc.id.goog/subject/ns/nlp/sa/workload"},
         extra=[_BUCKET], fails=False,
         why="a Kubernetes service account of the project's own workload identity pool"),
    Case("restricted-no-foreign-members", BUCKET_IAM_MEMBER,
         {"member": f"{_POOL}/partner-proj.svc.id.goog/subject/ns/nlp/sa/workload"},
         extra=[_BUCKET], expect="partner-proj.svc.id.goog",
         why="a workload of another project's identity pool"),
    # I5 default-compute-sa-not-granted
    Case("default-compute-sa-not-granted", PROJECT_IAM_MEMBER,
         {"member": "serviceAccount:123456789-compute@developer.gserviceaccount.com"}),
    Case("default-compute-sa-not-granted", PROJECT_IAM_MEMBER, fails=False),
    # I6 no-sa-impersonation-roles
    Case("no-sa-impersonation-roles", PROJECT_IAM_MEMBER,
         {"role": "roles/iam.serviceAccountTokenCreator", "member": "user:dev@example.com"}),
    Case("no-sa-impersonation-roles", SA_IAM_MEMBER, {"member": "user:dev@example.com"},
         why="workloadIdentityUser to a person"),
    Case("no-sa-impersonation-roles", SA_IAM_MEMBER,
         {"role": "roles/iam.serviceAccountKeyAdmin", "member": "group:ops@example.com"}),
    Case("no-sa-impersonation-roles", SA_IAM_MEMBER, fails=False,
         why="Workload Identity binding of a Kubernetes SA"),
    Case("no-sa-impersonation-roles", SA_IAM_MEMBER,
         {"role": "roles/iam.serviceAccountTokenCreator", "member": "group:ci@example.com"},
         fails=False,
         config={"no-sa-impersonation-roles": {"allowedImpersonators": ["group:ci@example.com"]}}),
    # I7 transfer-job-no-static-keys
    Case("transfer-job-no-static-keys", TRANSFER_JOB, _STATIC_KEY, expect="awsAccessKey"),
    Case("transfer-job-no-static-keys", TRANSFER_JOB,
         inputs=mutate(GOLDEN[TRANSFER_JOB], {("transferSpec", "awsS3DataSource"): DELETE,
                                              ("transferSpec", "azureBlobStorageDataSource"): {
                                                  "storageAccount": "corp", "container": "data",
                                                  "azureCredentials": {"sasToken": "[secret]"}}}),
         why="static Azure SAS token"),
    Case("transfer-job-no-static-keys", TRANSFER_JOB, fails=False, why="roleArn federation"),
    Case("transfer-job-no-static-keys", TRANSFER_JOB,
         {("transferSpec", "awsS3DataSource"): DELETE,
          ("transferSpec", "gcsDataSource"): {"bucketName": "aidc-dev-staging"}},
         fails=False, not_applicable=True, why="GCS to GCS"),
    # I2: a `user:` member whose e-mail is a service account's is a service account
    # (Checkov CKV_GCP_42 matches the member's e-mail, whatever its prefix).
    Case("no-primitive-roles-for-sa", PROJECT_IAM_MEMBER,
         {"role": "roles/editor", "member": "user:deployer@aidc-dev.iam.gserviceaccount.com"}),
    Case("no-primitive-roles-for-sa", PROJECT_IAM_BINDING,
         {"role": "roles/owner", "members": ["user:123-compute@developer.gserviceaccount.com"]}),
    # I11 no-basic-roles: owner/editor/viewer for any other member at project, folder and
    # organization level (Checkov CKV_GCP_115/116/117 and their fixtures: a project IAMMember
    # with roles/viewer, a folder binding with roles/editor, an organization member with
    # roles/owner fail; a predefined role passes).
    Case("no-basic-roles", PROJECT_IAM_MEMBER,
         {"role": "roles/viewer", "member": "user:alice@example.com"}),
    Case("no-basic-roles", PROJECT_IAM_BINDING,
         {"role": "roles/editor", "members": ["group:ml-team@example.com"]}),
    Case("no-basic-roles", "gcp:folder/iAMBinding:IAMBinding",
         inputs={"folder": "folders/1234", "role": "roles/editor",
                 "members": ["group:ml-team@example.com"]}),
    Case("no-basic-roles", "gcp:organizations/iAMMember:IAMMember",
         inputs={"orgId": "123456789012", "role": "roles/owner", "member": "domain:example.com"}),
    Case("no-basic-roles", PROJECT_IAM_POLICY, {"policyData": json.dumps({"bindings": [
        {"role": "roles/owner", "members": ["group:platform-admins@example.com"]}]})}),
    Case("no-basic-roles", PROJECT_IAM_MEMBER, fails=False),
    Case("no-basic-roles", PROJECT_IAM_MEMBER,
         {"role": "roles/container.viewer", "member": "user:alice@example.com"}, fails=False,
         why="a predefined role"),
    Case("no-basic-roles", PROJECT_IAM_MEMBER, {"role": "roles/editor"}, fails=False,
         why="a service account: no-primitive-roles-for-sa reports it, once"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=case_id)
def test_flags_violation(analyzer, case: Case) -> None:  # noqa: F811
    """Each departure from the golden resource is a violation of the policy it breaks."""
    assert_case(analyzer, case)


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=case_id)
def test_passes_compliant(analyzer, case: Case) -> None:  # noqa: F811
    """Golden grants, allow-listed members and out-of-scope resources pass."""
    assert_case(analyzer, case)


def test_flags_static_aws_key_without_echoing_it(analyzer) -> None:  # noqa: F811
    """The static-key violation never repeats the access key id or the secret, anywhere."""
    result = assert_case(analyzer, Case("transfer-job-no-static-keys", TRANSFER_JOB,
                                        _STATIC_KEY))
    text = json.dumps(result.as_dict())
    assert "awsAccessKey" in text
    assert _AWS_KEY_ID not in text and _AWS_SECRET not in text
    assert not any(_AWS_KEY_ID in line or _AWS_SECRET in line
                   for line in analyzer.pack_output)


def test_flags_foreign_member_on_each_grant_of_a_policy(analyzer) -> None:  # noqa: F811
    """An IAMPolicy on a restricted bucket: every foreign member is reported, allowed ones not."""
    grant = resource("gcp:storage/bucketIAMPolicy:BucketIAMPolicy", "policy", inputs={
        "bucket": "aidc-dev-training-data", "policyData": json.dumps({"bindings": [
            {"role": "roles/storage.objectViewer",
             "members": ["user:a@gmail.com", "serviceAccount:t@aidc-dev.iam.gserviceaccount.com",
                         "group:g@partner.com"]}]})})
    result = analyzer.check(plan_of(_BUCKET, grant))
    found = sorted(v.message for v in result.violations
                   if v.policy == "restricted-no-foreign-members")
    assert len(found) == 2
    assert "user:a@gmail.com" in found[1] and "group:g@partner.com" in found[0]
