"""Google API (service) names as Service Usage enables them, and the short names they go by.

A service is named by a DNS name: Google's own APIs under googleapis.com
(`compute.googleapis.com`), Cloud Endpoints and Marketplace services under cloud.goog
(`<api>.endpoints.<project>.cloud.goog`). Service Usage refuses anything else only when the
stack is applied, so `aidc:apis` is checked when the config is read.
Sources: https://cloud.google.com/service-usage/docs/reference/rest/v1/services (a service is
`projects/<n>/services/<service name>`, e.g. serviceusage.googleapis.com),
https://cloud.google.com/service-infrastructure/docs/service-management/reference/rest/v1/services#ManagedService
(serviceName: a DNS name) and
https://cloud.google.com/endpoints/docs/openapi/configure-endpoints (`<api>.endpoints.<project>.cloud.goog`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from infra.errors import AidcError

_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_SERVICE = re.compile(rf"[a-z]([-a-z0-9]{{0,61}}[a-z0-9])?(\.{_LABEL})*\.(googleapis\.com|cloud\.goog)")
_MAX_DNS_NAME = 253


def check_service_name(name: str) -> str:
    """A service name Service Usage can enable, or an error saying what one looks like."""
    if not isinstance(name, str) or len(name) > _MAX_DNS_NAME or not _SERVICE.fullmatch(name):
        raise AidcError(
            f"{name!r} is not a Google service name: a lowercase DNS name under googleapis.com "
            "or cloud.goog, e.g. 'aiplatform.googleapis.com' (see `gcloud services list "
            "--available`)")
    return name


def service_key(api: str) -> str:
    """The short name an enabled API goes by (`compute` for compute.googleapis.com,
    `compute-sandbox` for compute.sandbox.googleapis.com): its `ProjectServices` child is
    `<component>-<key>`, so two APIs of one stack must not share it."""
    return api.removesuffix(".googleapis.com").replace(".", "-")


def shared_keys(apis: Iterable[str]) -> dict[str, list[str]]:
    """Short names used by more than one of `apis`, each with the APIs that share it."""
    by_key: dict[str, list[str]] = {}
    for api in dict.fromkeys(apis):
        by_key.setdefault(service_key(api), []).append(api)
    return {key: names for key, names in by_key.items() if len(names) > 1}
