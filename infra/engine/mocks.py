"""Believable provider answers for the offline engine.

Every resource gets its inputs back plus the outputs the provider would compute (ids, self
links, e-mails, endpoints), shaped as the provider shapes them, so that everything built from
them is built. Invokes return what GCP would for a project: the project number is derived from
the project id (offline, nothing can look it up), the service agent e-mails from that number.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from infra.engine.references import REFERENCE_TYPE, MissingReference, read_state

COMPUTE = "https://www.googleapis.com/compute/v1"
# A syntactically valid, obviously fake CA (base64 of a PEM header) for kubeconfigs built offline.
FAKE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBoffline\n-----END CERTIFICATE-----\n").decode()


def project_number(project: str) -> str:
    """A stable 12-digit stand-in for the project number GCP would return."""
    digest = int(hashlib.sha256(project.encode()).hexdigest(), 16)
    return str(100000000000 + digest % 900000000000)


class AidcMocks(pulumi.runtime.Mocks):
    """Outputs per resource type and results per invoke token; unknown ones echo their inputs."""

    def __init__(self, project: str, region: str,
                 references: Callable[[str], Mapping[str, Any]] | None = None) -> None:
        self.project = project
        self.region = region
        self.number = project_number(project)
        self.unknown_invokes: set[str] = set()
        self.references = references

    # -- resources ----------------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        if args.typ == REFERENCE_TYPE:
            return self._stack_reference(str(args.inputs.get("name") or args.resource_id))
        inputs = dict(args.inputs)
        name = inputs.get("name") or args.name
        project = inputs.get("project") or self.project
        builder = _RESOURCE_OUTPUTS.get(args.typ)
        extra = builder(self, name, project, inputs) if builder else {}
        resource_id = extra.pop("id", None) or f"{project}/{name}"
        state = {**inputs, **extra}
        if "project" not in state and args.typ.startswith("gcp:"):
            state["project"] = project
        return resource_id, state

    def _stack_reference(self, name: str) -> tuple[str, dict]:
        """A StackReference read: the referenced stack's planned outputs, never unknowns."""
        if self.references is None:
            raise MissingReference(f"stack reference {name}: this run resolves no stack "
                                   "references (plan it with `aidc plan`, which plans the "
                                   "referenced stack first)")
        return name, read_state(name, self.references(name))

    # -- invokes ------------------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        handler = _INVOKES.get(args.token)
        if handler is None:
            self.unknown_invokes.add(args.token)
            return dict(args.args)
        return handler(self, dict(args.args))


def _self_link(path: str) -> str:
    return f"{COMPUTE}/{path}"


def _network(m: AidcMocks, name: str, project: str, _: dict) -> dict:
    path = f"projects/{project}/global/networks/{name}"
    return {"id": path, "selfLink": _self_link(path), "name": name, "numericId": m.number[:9]}


def _subnetwork(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    region = inputs.get("region") or m.region
    path = f"projects/{project}/regions/{region}/subnetworks/{name}"
    cidr = str(inputs.get("ipCidrRange", "10.0.0.0/24"))
    gateway = cidr.split("/")[0].rsplit(".", 1)[0] + ".1"
    return {"id": path, "selfLink": _self_link(path), "name": name, "region": region,
            "gatewayAddress": gateway}


def _regional(kind: str) -> Callable[[AidcMocks, str, str, dict], dict]:
    def build(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
        region = inputs.get("region") or m.region
        path = f"projects/{project}/regions/{region}/{kind}/{name}"
        return {"id": path, "selfLink": _self_link(path), "name": name, "region": region}
    return build


def _global(kind: str) -> Callable[[AidcMocks, str, str, dict], dict]:
    def build(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
        path = f"projects/{project}/global/{kind}/{name}"
        return {"id": path, "selfLink": _self_link(path), "name": name}
    return build


def _global_address(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    out = _global("addresses")(m, name, project, inputs)
    out["address"] = inputs.get("address", "10.0.0.0")
    return out


def _router_nat(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    region = inputs.get("region") or m.region
    return {"id": f"{project}/{region}/{inputs.get('router')}/{name}", "name": name,
            "region": region}


def _service_connection(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    network = str(inputs.get("network", ""))
    return {"id": f"{network}:{inputs.get('service')}", "peering": "servicenetworking-googleapis-com"}


def _key_ring(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    location = inputs.get("location") or m.region
    return {"id": f"projects/{project}/locations/{location}/keyRings/{name}", "name": name}


def _crypto_key(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    ring = inputs.get("keyRing") or f"projects/{project}/locations/{m.region}/keyRings/ring"
    return {"id": f"{ring}/cryptoKeys/{name}", "name": name,
            "primaries": [{"name": f"{ring}/cryptoKeys/{name}/cryptoKeyVersions/1",
                           "state": "ENABLED"}]}


def _iam_member(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    etag = hashlib.sha1(repr(sorted(inputs.items())).encode()).hexdigest()[:16]
    return {"id": f"{name}/{inputs.get('role')}/{inputs.get('member')}", "etag": f"BwY{etag}"}


def _service(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    return {"id": f"{project}/{inputs.get('service', name)}"}


def _bucket(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    return {"id": name, "name": name, "url": f"gs://{name}",
            "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}",
            "projectNumber": m.number}


def _filestore(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    location = inputs.get("location") or m.region
    networks = [dict(n, ipAddresses=["10.254.0.2"]) for n in inputs.get("networks") or []]
    return {"id": f"projects/{project}/locations/{location}/instances/{name}",
            "networks": networks, "createTime": "2026-01-01T00:00:00Z"}


def _service_account(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    account = inputs.get("accountId", name)
    email = f"{account}@{project}.iam.gserviceaccount.com"
    return {"id": f"projects/{project}/serviceAccounts/{email}", "email": email,
            "name": f"projects/{project}/serviceAccounts/{email}",
            "member": f"serviceAccount:{email}",
            "uniqueId": str(int(hashlib.sha1(email.encode()).hexdigest(), 16) % 10**21)}


def _cluster(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    location = inputs.get("location") or m.region
    path = f"projects/{project}/locations/{location}/clusters/{name}"
    return {"id": path, "selfLink": f"https://container.googleapis.com/v1/{path}",
            "endpoint": "192.0.2.10",  # TEST-NET-1: documentation range, never routable
            "masterVersion": "1.33.0-gke.offline",
            "masterAuth": {**(inputs.get("masterAuth") or {}), "clusterCaCertificate": FAKE_CA},
            "controlPlaneEndpointsConfig": _endpoints(name, location, inputs),
            "labelFingerprint": "offline"}


def _endpoints(name: str, location: str, inputs: dict) -> dict:
    """GKE's control plane endpoints: the DNS endpoint (`gke-<id>.<location>.gke.goog`,
    always present) as configured, and the IP endpoints."""
    config = inputs.get("controlPlaneEndpointsConfig") or {}
    uid = hashlib.sha256(f"{location}/{name}".encode()).hexdigest()[:32]
    return {**config, "dnsEndpointConfig": {**(config.get("dnsEndpointConfig") or {}),
                                            "endpoint": f"gke-{uid}.{location}.gke.goog"}}


def _node_pool(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    return {"id": f"{inputs.get('cluster')}/nodePools/{name}",
            "instanceGroupUrls": [], "managedInstanceGroupUrls": []}


def _topic(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    return {"id": f"projects/{project}/topics/{name}", "name": name}


def _transfer_job(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    # STS names jobs itself when no name is given: transferJobs/<digits>.
    number = int(hashlib.sha256(f"{project}/{name}".encode()).hexdigest(), 16) % 10**19
    job = inputs.get("name") or f"transferJobs/{number}"
    return {"id": job, "name": job, "creationTime": "2026-01-01T00:00:00Z"}


def _service_identity(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    """The agent Service Usage generates for `service`, as the facts table spells it."""
    from infra.catalog.apply_facts import agent_for_api

    service = str(inputs.get("service", ""))
    agent = agent_for_api(service)
    email = (agent.email(project_number(project)) if agent else
             f"service-{project_number(project)}@gcp-sa-{service.split('.')[0]}.iam.gserviceaccount.com")
    return {"id": f"projects/{project}/services/{service}", "email": email,
            "member": f"serviceAccount:{email}"}


def _identity_pool(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    """A Workload Identity pool is named by the project's number, as IAM members name it."""
    pool = f"projects/{project_number(project)}/locations/global/workloadIdentityPools/" \
           f"{inputs.get('workloadIdentityPoolId')}"
    return {"id": pool, "name": pool, "state": "ACTIVE"}


def _identity_pool_provider(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
    provider = f"projects/{project_number(project)}/locations/global/workloadIdentityPools/" \
               f"{inputs.get('workloadIdentityPoolId')}/providers/" \
               f"{inputs.get('workloadIdentityPoolProviderId')}"
    return {"id": provider, "name": provider, "state": "ACTIVE"}


def _generic_named(kind: str) -> Callable[[AidcMocks, str, str, dict], dict]:
    def build(m: AidcMocks, name: str, project: str, inputs: dict) -> dict:
        return {"id": f"projects/{project}/{kind}/{name}", "name": f"projects/{project}/{kind}/{name}"}
    return build


_RESOURCE_OUTPUTS: dict[str, Callable[[AidcMocks, str, str, dict], dict]] = {
    "gcp:compute/network:Network": _network,
    "gcp:compute/subnetwork:Subnetwork": _subnetwork,
    "gcp:compute/router:Router": _regional("routers"),
    "gcp:compute/routerNat:RouterNat": _router_nat,
    "gcp:compute/firewall:Firewall": _global("firewalls"),
    "gcp:compute/globalAddress:GlobalAddress": _global_address,
    "gcp:compute/address:Address": _regional("addresses"),
    "gcp:compute/resourcePolicy:ResourcePolicy": _regional("resourcePolicies"),
    "gcp:servicenetworking/connection:Connection": _service_connection,
    "gcp:kms/keyRing:KeyRing": _key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _crypto_key,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _iam_member,
    "gcp:projects/iAMMember:IAMMember": _iam_member,
    "gcp:storage/bucketIAMMember:BucketIAMMember": _iam_member,
    "gcp:serviceaccount/iAMMember:IAMMember": _iam_member,
    "gcp:projects/service:Service": _service,
    "gcp:projects/serviceIdentity:ServiceIdentity": _service_identity,
    "gcp:storage/bucket:Bucket": _bucket,
    "gcp:filestore/instance:Instance": _filestore,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": _identity_pool,
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": _identity_pool_provider,
    "gcp:container/cluster:Cluster": _cluster,
    "gcp:container/nodePool:NodePool": _node_pool,
    "gcp:pubsub/topic:Topic": _topic,
    "gcp:pubsub/topicIAMMember:TopicIAMMember": _iam_member,
    "gcp:storage/transferJob:TransferJob": _transfer_job,
    "gcp:monitoring/notificationChannel:NotificationChannel": _generic_named("notificationChannels"),
    "gcp:monitoring/alertPolicy:AlertPolicy": _generic_named("alertPolicies"),
    "gcp:monitoring/dashboard:Dashboard": _generic_named("dashboards"),
    "gcp:logging/metric:Metric": _generic_named("metrics"),
}


# -- invokes ----------------------------------------------------------------------------------


def _get_project(m: AidcMocks, args: dict) -> dict:
    project = args.get("projectId") or m.project
    return {"id": f"projects/{project}", "projectId": project, "name": project,
            "number": project_number(project), "labels": {}, "autoCreateNetwork": False}


def _gcs_agent(m: AidcMocks, args: dict) -> dict:
    number = project_number(args.get("project") or m.project)
    email = f"service-{number}@gs-project-accounts.iam.gserviceaccount.com"
    return {"id": email, "emailAddress": email, "member": f"serviceAccount:{email}",
            "project": args.get("project") or m.project}


def _transfer_agent(m: AidcMocks, args: dict) -> dict:
    number = project_number(args.get("project") or m.project)
    email = f"project-{number}@storage-transfer-service.iam.gserviceaccount.com"
    return {"id": email, "email": email, "member": f"serviceAccount:{email}",
            "subjectId": number, "project": args.get("project") or m.project}


def _client_config(m: AidcMocks, args: dict) -> dict:
    return {"id": "offline", "accessToken": "offline-no-token", "project": m.project,
            "region": m.region, "zone": f"{m.region}-a"}


def _engine_versions(m: AidcMocks, args: dict) -> dict:
    return {"id": "offline", "latestMasterVersion": "1.33.0-gke.offline",
            "latestNodeVersion": "1.33.0-gke.offline", "validMasterVersions": [],
            "validNodeVersions": [], "releaseChannelDefaultVersion": {},
            "releaseChannelLatestVersion": {}, "defaultClusterVersion": "1.33.0-gke.offline"}


def _zones(m: AidcMocks, args: dict) -> dict:
    region = args.get("region") or m.region
    return {"id": region, "names": [f"{region}-{z}" for z in "abc"], "project": m.project}


_INVOKES: dict[str, Callable[[AidcMocks, dict], dict]] = {
    "gcp:organizations/getProject:getProject": _get_project,
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": _gcs_agent,
    "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount": _transfer_agent,
    "gcp:organizations/getClientConfig:getClientConfig": _client_config,
    "gcp:container/getEngineVersions:getEngineVersions": _engine_versions,
    "gcp:compute/getZones:getZones": _zones,
}
