"""Hand-made check results for the report tests: small, but with every case a report must show.

The plan has the root stack, a provider, five components (one nested: a GPU pool under its
cluster), and custom resources under each; the result has a mandatory, an advisory and a
waived violation, a stack-level one, a diagnostic, and names full of Markdown/Mermaid syntax.
"""

from __future__ import annotations

from infra.engine.plan import STACK_TYPE, Plan, PlanResource
from infra.check.results import CheckResult, Diagnostic, PolicyInfo, Violation

PROJECT = "aidc"
STACK = "dev"
NASTY_NAME = 'data|"x"[y]<z>#1`'


def urn(*chain_and_name: str) -> str:
    """URN of a resource whose type chain is chain_and_name[:-1] and name the last item."""
    *chain, name = chain_and_name
    return f"urn:pulumi:{STACK}::{PROJECT}::{'$'.join(chain)}::{name}"


ROOT = urn(STACK_TYPE, f"{PROJECT}-{STACK}")


def _component(type_: str, name: str, parent: PlanResource | None) -> PlanResource:
    chain = _chain(parent) + [type_]
    return PlanResource(urn=urn(*chain, name), type=type_, name=name,
                        parent=parent.urn if parent else ROOT,
                        component=parent.urn if parent and parent.type != STACK_TYPE else None,
                        custom=False)


def _custom(type_: str, name: str, parent: PlanResource, protect: bool = False) -> PlanResource:
    chain = _chain(parent) + [type_]
    return PlanResource(urn=urn(*chain, name), type=type_, name=name, parent=parent.urn,
                        component=parent.urn, custom=True, protect=protect)


def _chain(r: PlanResource | None) -> list[str]:
    if r is None:
        return [STACK_TYPE]
    return r.urn.split("::")[2].split("$")


def make_plan() -> Plan:
    root = PlanResource(urn=ROOT, type=STACK_TYPE, name=f"{PROJECT}-{STACK}", custom=False)
    provider = PlanResource(urn=urn("pulumi:providers:gcp", "default"), type="pulumi:providers:gcp",
                            name="default", parent=ROOT)
    net = _component("aidc:network:VpcFabric", "fabric", None)
    kms = _component("aidc:kms:KmsKeys", "keys", None)
    storage = _component("aidc:storage:DataBuckets", NASTY_NAME, None)
    cluster = _component("aidc:cluster:GkeCluster", "train", None)
    pool = _component("aidc:gpu_pool:GpuNodePool", "train-h100", cluster)
    resources = [root, provider, net, kms, storage, cluster, pool]
    resources += [
        _custom("gcp:compute/network:Network", "fabric-vpc", net),
        _custom("gcp:compute/subnetwork:Subnetwork", "fabric-subnet-a", net),
        _custom("gcp:compute/subnetwork:Subnetwork", "fabric-subnet-b", net),
        _custom("gcp:kms/keyRing:KeyRing", "keys-ring", kms),
        _custom("gcp:kms/cryptoKey:CryptoKey", "keys-storage", kms, protect=True),
        _custom("gcp:storage/bucket:Bucket", "data-datasets", storage, protect=True),
        _custom("gcp:storage/bucket:Bucket", "data-scratch", storage, protect=True),
        _custom("gcp:storage/bucketIAMMember:BucketIAMMember", "data-reader", storage),
        _custom("gcp:projects/iAMMember:IAMMember", "train-logs", cluster),
        _custom("gcp:serviceaccount/iAMMember:IAMMember", "train-wi", cluster),
        _custom("gcp:container/cluster:Cluster", "train-cluster", cluster),
        _custom("gcp:container/nodePool:NodePool", "train-h100-pool", pool),
    ]
    return Plan(project=PROJECT, stack=STACK, resources=resources)


def by_name(plan: Plan, name: str) -> PlanResource:
    return next(r for r in plan.resources if r.name == name)


POLICIES = [
    PolicyInfo(name="storage-cmek", description="Buckets must use a customer-managed key. "
               "Google-managed keys cannot be revoked by the data owner.",
               severity="critical", enforcement="mandatory",
               references=("CIS GCP 5.3", "CKV_GCP_81"),
               remediation="Set encryption.defaultKmsKeyName to a key from KmsKeys.",
               url="https://example.com/policies/storage-cmek"),
    PolicyInfo(name="bucket-versioning", description="Buckets holding datasets keep versions.",
               severity="medium", enforcement="advisory", references=("CKV_GCP_78",),
               remediation="Set versioning.enabled = true."),
    PolicyInfo(name="gke-private-nodes", description="GKE nodes have no public IPs.",
               severity="high", enforcement="mandatory", references=("CIS GKE 5.6.5",),
               remediation="Keep private_nodes = true."),
    PolicyInfo(name="project-labels", description="The stack declares a cost-centre label.",
               severity="low", enforcement="advisory"),
    PolicyInfo(name="kms-rotation", description="Keys rotate at most every 90 days.",
               severity="high", enforcement="disabled", references=("CIS GCP 1.10",)),
]

WAIVER_REASON = "Scratch data is regenerated nightly; ticket SEC-42 | approved by @sec"


def make_result(*, violations: bool = True) -> CheckResult:
    plan = make_plan()
    datasets = by_name(plan, "data-datasets")
    scratch = by_name(plan, "data-scratch")
    storage = by_name(plan, NASTY_NAME)
    vs = [
        Violation(policy="storage-cmek", urn=datasets.urn, resource_type=datasets.type,
                  resource_name=datasets.name, severity="critical", enforcement="mandatory",
                  message="Bucket has no encryption.defaultKmsKeyName | uses Google keys",
                  remediation="Set encryption.defaultKmsKeyName to a key from KmsKeys."),
        Violation(policy="storage-cmek", urn=scratch.urn, resource_type=scratch.type,
                  resource_name=scratch.name, severity="critical", enforcement="mandatory",
                  message="Bucket has no encryption.defaultKmsKeyName",
                  remediation="Set encryption.defaultKmsKeyName to a key from KmsKeys.",
                  waiver=WAIVER_REASON),
        Violation(policy="bucket-versioning", urn=datasets.urn, resource_type=datasets.type,
                  resource_name=datasets.name, severity="medium", enforcement="advisory",
                  message="versioning is off <b>", remediation="Set versioning.enabled = true."),
        Violation(policy="bucket-versioning", urn=storage.urn, resource_type=storage.type,
                  resource_name=storage.name, severity="medium", enforcement="advisory",
                  message="component default: versioning off", remediation="Set versioning."),
        Violation(policy="project-labels", urn="", resource_type="", resource_name="",
                  severity="low", enforcement="advisory", message="No cost-centre label."),
    ] if violations else []
    diagnostics = [Diagnostic(policy="gke-private-nodes", urn=by_name(plan, "train-cluster").urn,
                              message="privateClusterConfig is unknown at preview")]
    return CheckResult(plan=plan, pack_name="aidc-policies", policies=list(POLICIES),
                       violations=vs, diagnostics=diagnostics if violations else [],
                       timings={"analyze": 0.25})


def make_many(n_violations: int, n_components: int = 3) -> CheckResult:
    """A large result: `n_components` bucket sets, each bucket violating storage-cmek."""
    root = PlanResource(urn=ROOT, type=STACK_TYPE, name=f"{PROJECT}-{STACK}", custom=False)
    resources = [root]
    comps = [_component("aidc:storage:DataBuckets", f"set{i}", None) for i in range(n_components)]
    resources += comps
    vs = []
    for i in range(n_violations):
        b = _custom("gcp:storage/bucket:Bucket", f"bucket-{i:05d}", comps[i % n_components])
        resources.append(b)
        vs.append(Violation(policy="storage-cmek", urn=b.urn, resource_type=b.type,
                            resource_name=b.name, severity="critical", enforcement="mandatory",
                            message=f"Bucket {i} has no defaultKmsKeyName; " + "x" * 80,
                            remediation="Set encryption.defaultKmsKeyName."))
    plan = Plan(project=PROJECT, stack=STACK, resources=resources)
    return CheckResult(plan=plan, pack_name="aidc-policies", policies=list(POLICIES),
                       violations=vs)
