"""A kubeconfig for a GKE cluster that holds no credentials.

Authentication goes through `gke-gcloud-auth-plugin`, which asks gcloud for a short-lived token
at each call; nothing long-lived lands in Pulumi state.
https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin
"""

from __future__ import annotations

import json


def gke_kubeconfig(context: str, endpoint: str, ca_certificate: str | None) -> str:
    """JSON is valid YAML, and json.dumps quotes every value correctly. `ca_certificate` is the
    cluster CA of an IP endpoint; the DNS endpoint (`gke-....gke.goog`) presents a certificate
    of a public CA, so it takes none (as `gcloud container clusters get-credentials
    --dns-endpoint` writes it)."""
    cluster: dict[str, str] = {"server": f"https://{endpoint}"}
    if ca_certificate is not None:
        cluster["certificate-authority-data"] = ca_certificate
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "gke-gcloud-auth-plugin",
            "installHint": "Install gke-gcloud-auth-plugin: "
                           "gcloud components install gke-gcloud-auth-plugin",
            "provideClusterInfo": True,
            "interactiveMode": "Never"}}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }, indent=2)
