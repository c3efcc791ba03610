"""GCP label rules, and the labels every aidc resource carries.

GCP rejects a label key or value outside these rules only at apply time, in the middle of a
`pulumi up`; aidc checks them when the config is read.
Source: https://cloud.google.com/resource-manager/docs/labels-overview#requirements
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from infra.errors import AidcError
from policies.protocol import CLASSIFICATION_LABEL

MAX_LABELS = 64
MANAGED_BY_LABEL = "managed-by"
ENVIRONMENT_LABEL = "environment"
PURPOSE_LABEL = "purpose"
# The keys aidc sets itself beside a stack's labels: on every resource who manages it and its
# environment; on buckets and keys their purpose; on data its classification.
AIDC_LABEL_KEYS = (MANAGED_BY_LABEL, ENVIRONMENT_LABEL, PURPOSE_LABEL, CLASSIFICATION_LABEL)
_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_VALUE = re.compile(r"[a-z0-9_-]{0,63}")


def check_label(key: str, value: str) -> None:
    """Raise AidcError when GCP would reject this label."""
    if not _KEY.fullmatch(key):
        raise AidcError(
            f"label key {key!r} is not accepted by GCP: keys are 1-63 characters of lowercase "
            "letters, digits, '_' and '-', starting with a lowercase letter")
    if not _VALUE.fullmatch(value):
        raise AidcError(
            f"label {key}={value!r}: GCP accepts values of 0-63 characters of lowercase letters, "
            "digits, '_' and '-'")


def check_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Validate a whole label map; returns it as a plain dict."""
    if len(labels) > MAX_LABELS:
        raise AidcError(f"{len(labels)} labels given; GCP allows at most {MAX_LABELS} per resource")
    for key, value in labels.items():
        check_label(key, value)
    return dict(labels)


def standard_labels(environment: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labels every resource gets: who manages it and which environment it belongs to."""
    labels = {MANAGED_BY_LABEL: "aidc", ENVIRONMENT_LABEL: environment}
    labels.update(extra or {})
    return check_labels(labels)
