"""The pinned Kueue and JobSet releases: version, tag commit, and where their files are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Release:
    """One upstream release: the tag, the commit it points at, the day it was tagged, the
    namespace its manifests install into and the API version of its kinds."""

    project: str
    repository: str
    version: str
    commit: str
    tagged: date
    namespace: str
    api_version: str

    @property
    def manifests_url(self) -> str:
        """The release's install manifest (CRDs, controller, webhooks, RBAC, internal certs)."""
        return f"{self.repository}/releases/download/{self.version}/manifests.yaml"

    def source_url(self, path: str) -> str:
        """A file of the release, at its commit."""
        return f"{self.repository}/blob/{self.commit}/{path}"


@dataclass(frozen=True)
class CrdFile:
    """Where a kind's CRD is in its release, and the SHA-256 of that file at the release commit
    (so a copy can be checked to be the file the schemas here were written from)."""

    path: str
    sha256: str


KUEUE = Release(
    project="Kueue", repository="https://github.com/kubernetes-sigs/kueue", version="v0.19.2",
    commit="8eab68778fc1b52affe165fdf5af29d1e9b4f3cb", tagged=date(2026, 8, 20),
    namespace="kueue-system", api_version="kueue.x-k8s.io/v1beta2")
JOBSET = Release(
    project="JobSet", repository="https://github.com/kubernetes-sigs/jobset", version="v0.12.0",
    commit="f22e565ac3cc3265c7c45ef67ecffdc689af5d77", tagged=date(2026, 5, 8),
    namespace="jobset-system", api_version="jobset.x-k8s.io/v1alpha2")
RELEASES = (KUEUE, JOBSET)
INSTALL_NAMESPACES = tuple(r.namespace for r in RELEASES)

# Not installed by aidc: GKE serves networking.gke.io itself in clusters with multi-networking.
# The published schema is pinned at the last commit that changed its CRD files (the repository's
# newest tag, v0.2.0, predates them).
GKE_NETWORKING = Release(
    project="gke-networking-api", repository="https://github.com/GoogleCloudPlatform/gke-networking-api",
    version="0150a25", commit="0150a25403ca0f9977fe206bb07bc536feb2dc2e", tagged=date(2025, 12, 10),
    namespace="", api_version="networking.gke.io/v1")
WEBHOOK_PORT = 9443
"""The port both releases' admission webhooks serve on (their webhook Services map 443 to it):
`config/components/webhook/service.yaml` of each release. A private GKE cluster's control plane
reaches nodes only on 443 and 10250 unless a firewall rule admits this port."""
