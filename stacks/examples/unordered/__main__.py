"""A stack that is well shaped and would still fail on its first `pulumi up`: what aidc's
apply-order and precondition checks exist to stop, one mistake per check.

Written with raw pulumi_gcp resources, the way a hurried engineer might add them next to aidc.
`aidc plan --program stacks/examples/unordered unordered` lists the problems and
`aidc check --program stacks/examples/unordered unordered` fails on each. Never deploy this.
"""

import pulumi
import pulumi_gcp as gcp

project = pulumi.Config("gcp").require("project")
region = pulumi.Config("gcp").require("region")
zone = f"{region}-a"


def api(name: str) -> gcp.projects.Service:
    return gcp.projects.Service(f"api-{name.split('.')[0]}", project=project, service=name,
                                disable_on_destroy=False)


compute = api("compute.googleapis.com")
container = api("container.googleapis.com")
kms = api("cloudkms.googleapis.com")
iam = api("iam.googleapis.com")
storage = api("storage.googleapis.com")
api("file.googleapis.com")
after_kms = pulumi.ResourceOptions(depends_on=[kms])

# apply-api-enabled-first: the network races the Compute Engine API it calls, and the cluster
# enforces Binary Authorization, whose API nothing enables.
vpc = gcp.compute.Network("vpc", project=project, auto_create_subnetworks=False)
cluster = gcp.container.Cluster(
    "cluster", project=project, location=zone, initial_node_count=1, network=vpc.id,
    deletion_protection=False, enable_multi_networking=True,
    datapath_provider="ADVANCED_DATAPATH",
    workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
        workload_pool=f"{project}.svc.id.goog"),
    binary_authorization=gcp.container.ClusterBinaryAuthorizationArgs(
        evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"),
    opts=pulumi.ResourceOptions(depends_on=[compute, container]))

# apply-agent-grant-after-identity: Filestore's service agent exists only once generated, and
# this grant waits neither for its ServiceIdentity nor for the Filestore API.
ring = gcp.kms.KeyRing("ring", project=project, location=region, opts=after_kms)
key = gcp.kms.CryptoKey("filestore-key", key_ring=ring.id, rotation_period="7776000s",
                        opts=after_kms)
number = gcp.organizations.get_project_output(project_id=project).number
gcp.kms.CryptoKeyIAMMember(
    "filestore-agent-key", crypto_key_id=key.id, role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
    member=number.apply(lambda n: f"serviceAccount:service-{n}@cloud-filer.iam.gserviceaccount.com"),
    opts=after_kms)

# apply-workload-identity-after-cluster: the pool this member names appears with the cluster,
# and the binding does not wait for it.
trainer = gcp.serviceaccount.Account("trainer", project=project, account_id="trainer",
                                     opts=pulumi.ResourceOptions(depends_on=[iam]))
gcp.serviceaccount.IAMMember(
    "trainer-wi", service_account_id=trainer.name, role="roles/iam.workloadIdentityUser",
    member=f"serviceAccount:{project}.svc.id.goog[training/trainer]")

# apply-refused-settings: Cloud Storage refuses versioning on a bucket with a retention policy.
gcp.storage.Bucket(
    "models", project=project, location=region, uniform_bucket_level_access=True,
    versioning=gcp.storage.BucketVersioningArgs(enabled=True),
    retention_policy=gcp.storage.BucketRetentionPolicyArgs(retention_period="7776000"),
    opts=pulumi.ResourceOptions(depends_on=[storage]))

# apply-gpudirect-in-cluster: an A3 Mega pool with its eight GPU NICs, and nothing in the
# cluster that lets a pod use them (no GKENetworkParamSet / Network, no TCPXO installer).
nics = []
for i in range(8):
    net = gcp.compute.Network(f"gpu{i}", project=project, auto_create_subnetworks=False,
                              mtu=8244, opts=pulumi.ResourceOptions(depends_on=[compute]))
    sub = gcp.compute.Subnetwork(f"gpu{i}", project=project, region=region, network=net.id,
                                 ip_cidr_range=f"192.168.{i}.0/24")
    nics.append(gcp.container.NodePoolNetworkConfigAdditionalNodeNetworkConfigArgs(
        network=net.name, subnetwork=sub.name))
gcp.container.NodePool(
    "h100-mega", project=project, location=zone, cluster=cluster.id, node_count=0,
    node_config=gcp.container.NodePoolNodeConfigArgs(machine_type="a3-megagpu-8g"),
    network_config=gcp.container.NodePoolNetworkConfigArgs(additional_node_network_configs=nics))
