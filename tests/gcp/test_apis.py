"""Service names as Service Usage takes them, and the short names a stack's APIs go by."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.errors import AidcError
from infra.gcp import apis


@pytest.mark.parametrize("name", ["compute.googleapis.com", "aiplatform.googleapis.com",
                                  "container.sandbox.googleapis.com",
                                  "my-api.endpoints.acme-ai-dev.cloud.goog"])
def test_accepts_service_names(name: str) -> None:
    assert apis.check_service_name(name) == name


@pytest.mark.parametrize("name", ["not a service!", "compute", "googleapis.com", "x.google.com",
                                  "Compute.googleapis.com", "compute.googleapis.com\n",
                                  "-a.googleapis.com", "a-.googleapis.com", "a..googleapis.com",
                                  "a" * 64 + ".googleapis.com", "b." * 120 + "googleapis.com", 7])
def test_rejects_what_is_no_service_name(name: object) -> None:
    with pytest.raises(AidcError, match="is not a Google service name"):
        apis.check_service_name(name)  # type: ignore[arg-type]


@given(st.from_regex(r"[a-z][a-z0-9]{0,20}", fullmatch=True))
def test_a_googleapis_name_is_accepted_and_keyed_by_its_label(label: str) -> None:
    name = f"{label}.googleapis.com"
    assert apis.check_service_name(name) == name and apis.service_key(name) == label


def test_shared_short_names() -> None:
    """APIs sharing a first label have their own keys; an exact repeat is one API, not a
    clash; only names that write the same key clash."""
    assert apis.service_key("compute.sandbox.googleapis.com") == "compute-sandbox"
    assert apis.shared_keys(["compute.googleapis.com", "compute.sandbox.googleapis.com",
                             "compute.googleapis.com"]) == {}
    assert apis.shared_keys(["a-b.googleapis.com", "a.b.googleapis.com"]) == {
        "a-b": ["a-b.googleapis.com", "a.b.googleapis.com"]}
