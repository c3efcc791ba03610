"""A deliberately insecure stack: what the policy pack exists to stop.

Every resource here is written the way a hurried engineer might add it next to aidc, with raw
pulumi_gcp resources. `aidc check --program stacks/examples/insecure insecure` must fail and
name each problem. Never deploy this.
"""

import pulumi
import pulumi_gcp as gcp

project = pulumi.Config("gcp").require("project")
region = pulumi.Config("gcp").require("region")

# Training data in a public bucket: no CMEK, no uniform access, no public access prevention.
corpus = gcp.storage.Bucket(
    "public-corpus",
    name=f"{project}-public-corpus",
    location=region,
    labels={"data-classification": "restricted"},
    force_destroy=True,
)
gcp.storage.BucketIAMMember(
    "corpus-public-read", bucket=corpus.name, role="roles/storage.objectViewer", member="allUsers")

# SSH and everything else open to the world.
vpc = gcp.compute.Network("legacy-vpc", name="default", auto_create_subnetworks=True)
gcp.compute.Firewall(
    "ssh-from-anywhere", network=vpc.id, source_ranges=["0.0.0.0/0"],
    allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["22", "3389"])])
gcp.compute.Firewall(
    "all-from-anywhere", network=vpc.id, source_ranges=["0.0.0.0/0"],
    allows=[gcp.compute.FirewallAllowArgs(protocol="all")])

# A cluster with a public endpoint open to all, legacy auth, and nodes on the default SA.
cluster = gcp.container.Cluster(
    "open-cluster",
    location=region,
    initial_node_count=1,
    enable_legacy_abac=True,
    master_auth=gcp.container.ClusterMasterAuthArgs(
        client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
            issue_client_certificate=True)),
    master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
        cidr_blocks=[gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
            cidr_block="0.0.0.0/0", display_name="everyone")]),
    deletion_protection=False,
)
gcp.container.NodePool(
    "default-sa-gpus",
    cluster=cluster.id,
    location=region,
    node_count=1,
    node_config=gcp.container.NodePoolNodeConfigArgs(
        machine_type="g2-standard-8",
        oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
        guest_accelerators=[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
            type="nvidia-l4", count=1)],
    ),
)

# A key that never rotates, a long-lived service account key, and Editor for a robot.
ring = gcp.kms.KeyRing("ring", location=region)
gcp.kms.CryptoKey("never-rotated", key_ring=ring.id)
robot = gcp.serviceaccount.Account("robot", account_id="insecure-robot")
gcp.serviceaccount.Key("robot-key", service_account_id=robot.name)
gcp.projects.IAMMember("robot-editor", project=project, role="roles/editor",
                       member=robot.email.apply(lambda e: f"serviceAccount:{e}"))
