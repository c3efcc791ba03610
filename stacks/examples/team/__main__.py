"""A second team builds on the shared platform with nothing but its published contracts and
aidc's components: its own GPU node pool in the shared cluster, an encrypted bucket, and a
workload identity that can use the bucket.

- The node pool (`components.gpu_pool.GpuNodePool`, hardened as every aidc pool) runs as the
  platform's node service account and boots from disks encrypted with the platform's `disks`
  key, both from the contracts: never the default compute service account.
- The bucket (`components.storage.DataBuckets`) is encrypted with the platform's `storage` key.
  GCS encrypts with the *project's* Cloud Storage service agent, and the foundation already
  granted that agent cryptoKeyEncrypterDecrypter on this key (FoundationContract.kms_keys), so
  the team needs no KMS admin rights and no grant of its own. A key of its own would need that
  grant again, made by someone who administers the key ring.
- Usage logs of the bucket go to an access-log bucket of the team's own; data access audit
  logs are project-wide, owned by the platform (the stack file's waiver says so).
- The team's Google service account may be used by one Kubernetes service account
  (`<team>/<team>-trainer`, Workload Identity) and gets object access to this bucket only.
"""

import pulumi
import pulumi_gcp as gcp

from components.gpu_pool import GpuNodePool, GpuPoolSpec
from components.storage import BucketsSpec, DataBuckets
from infra.config.compute import GpuPoolConfig
from infra.config.storage import BucketSpec, StorageConfig
from infra.gcp import naming
from infra.layers.contracts import ClusterContract, FoundationContract, read_contract

config = pulumi.Config()
project = pulumi.Config("gcp").require("project")
region = pulumi.Config("gcp").require("region")
team = config.require("team")
environment = config.require("environment")
stack = pulumi.get_stack()


def platform(layer: str, model: type) -> pulumi.Output:
    name = config.get(f"{layer}_stack") or f"organization/aidc-{layer}/{stack}"
    return read_contract(pulumi.StackReference(layer, stack_name=name), model)


def same_project(contract: FoundationContract) -> FoundationContract:
    """The team's provider config and the platform must name one project and region."""
    if (contract.project, contract.region) != (project, region):
        raise ValueError(f"gcp:project/gcp:region {project}/{region}: the platform's "
                         f"foundation is {contract.project}/{contract.region}")
    return contract


foundation = platform("foundation", FoundationContract).apply(same_project)
cluster = platform("cluster", ClusterContract)
labels = {"team": team, "environment": environment}

pool = GpuNodePool(
    f"{team}-gpu",
    GpuPoolSpec(pool_name=f"{team}-l4", location=region,
                config=GpuPoolConfig.model_validate(config.require_object("gpu_pool")),
                zones=config.require_object("gpu_pool")["zones"], max_pods_per_node=32,
                labels=labels),
    project=project,
    cluster_id=cluster.cluster_id,
    node_service_account=cluster.node_service_account,
    boot_disk_kms_key=foundation.kms_keys["disks"],
)

purpose = f"{team}-data"
buckets = DataBuckets(
    team,
    BucketsSpec(config=StorageConfig(buckets={purpose: BucketSpec.model_validate(
                    config.require_object("bucket"))}),
                region=region,
                bucket_names={purpose: naming.bucket_name(project, environment, purpose)},
                # Its usage logs go to a log bucket of the team's own (confidential data).
                access_log_bucket=naming.bucket_name(project, environment, f"{team}-access-logs"),
                protect=environment == "prod", labels=labels),
    project=project,
    kms_key_id=foundation.kms_keys["storage"],
)

workload = gcp.serviceaccount.Account(
    f"{team}-workload", project=project,
    account_id=naming.service_account_id(team, "workload"),
    display_name=f"{team} training workloads")
gcp.serviceaccount.IAMMember(
    f"{team}-workload-identity", service_account_id=workload.name,
    role="roles/iam.workloadIdentityUser",
    member=cluster.workload_pool.apply(
        lambda pool_id: f"serviceAccount:{pool_id}[{team}/{team}-trainer]"))
buckets.grant(purpose, "roles/storage.objectUser", workload.member, who="workload")

pulumi.export("node_pool", pool.node_pool.name)
pulumi.export("node_selector", pool.node_selector)
pulumi.export("tolerations", pool.tolerations)
pulumi.export("bucket", buckets.names[purpose])
pulumi.export("service_account", workload.email)
