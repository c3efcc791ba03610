"""GCP's label and naming rules, checked when the config is read instead of at apply time."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from infra.catalog import regions
from infra.gcp import labels, naming
from infra.errors import AidcError

# ---------------------------------------------------------------------------------------------
# labels
# https://cloud.google.com/resource-manager/docs/labels-overview#requirements


@pytest.mark.parametrize(("key", "value"), [
    ("team", "ml-platform"), ("a", ""), ("cost_center", "r-and-d_2"), ("k" * 63, "v" * 63),
    ("data-classification", "restricted"),
])
def test_accepts_labels_gcp_accepts(key: str, value: str) -> None:
    """Keys: 1-63 lowercase letters, digits, '_' and '-', starting with a letter; values: 0-63
    of the same characters."""
    labels.check_label(key, value)
    assert labels.check_labels({key: value}) == {key: value}


@pytest.mark.parametrize("key", ["", "Team", "1team", "-team", "team.name", "team name",
                                 "k" * 64, "TEAM"])
def test_rejects_label_key(key: str) -> None:
    """A key GCP rejects is named, with the rule."""
    with pytest.raises(AidcError, match="label key .* is not accepted by GCP"):
        labels.check_label(key, "x")


@pytest.mark.parametrize("value", ["ML", "a b", "a.b", "v" * 64, "a/b", "a:b"])
def test_rejects_label_value(value: str) -> None:
    """A value GCP rejects is named with its key, with the rule."""
    with pytest.raises(AidcError, match=r"label team=.*GCP accepts values of 0-63"):
        labels.check_label("team", value)


def test_rejects_more_than_64_labels() -> None:
    """GCP allows at most 64 labels on a resource."""
    with pytest.raises(AidcError, match="65 labels given; GCP allows at most 64"):
        labels.check_labels({f"k{i}": "v" for i in range(65)})
    assert len(labels.check_labels({f"k{i}": "v" for i in range(64)})) == 64


def test_standard_labels() -> None:
    """Every resource says who manages it and its environment; extra labels are added."""
    assert labels.standard_labels("dev") == {"managed-by": "aidc", "environment": "dev"}
    assert labels.standard_labels("dev", {"team": "ml"}) == {
        "managed-by": "aidc", "environment": "dev", "team": "ml"}


def test_rejects_standard_labels_with_bad_extra() -> None:
    """The merged map is checked too."""
    with pytest.raises(AidcError, match="label key 'Team'"):
        labels.standard_labels("dev", {"Team": "x"})


# ---------------------------------------------------------------------------------------------
# names


@pytest.mark.parametrize("project", ["acme-ai-dev", "abcdef", "a" * 30, "my-project-123"])
def test_accepts_project_ids(project: str) -> None:
    """6-30 lowercase letters, digits and hyphens, starting with a letter, not ending in '-'."""
    assert naming.check_project_id(project) == project


@pytest.mark.parametrize("project", ["abcde", "a" * 31, "1project", "project-", "Acme-ai",
                                     "acme_ai_dev", "acme.ai.dev", ""])
def test_rejects_project_id(project: str) -> None:
    """An id GCP would refuse is named, with the rule."""
    with pytest.raises(AidcError, match="is not a valid GCP project id: 6-30 characters"):
        naming.check_project_id(project)


@pytest.mark.parametrize("name", ["a", "aidc", "a-1", "a" * 63])
def test_accepts_rfc1035(name: str) -> None:
    """RFC 1035: 1-63 lowercase letters, digits and hyphens, letter first, no trailing hyphen."""
    assert naming.check_rfc1035(name, "network.name") == name


@pytest.mark.parametrize("name", ["", "1a", "a-", "A", "a_b", "a" * 64, "a.b"])
def test_rejects_rfc1035(name: str) -> None:
    """The error names the field it is about."""
    with pytest.raises(AidcError, match="network.name .* is not accepted by GCP"):
        naming.check_rfc1035(name, "network.name")


@pytest.mark.parametrize("name", ["abc", "acme-ai-dev-datasets", "a.b-c_d", "a" * 63])
def test_accepts_bucket_names(name: str) -> None:
    """Cloud Storage accepts 3-63 of lowercase letters, digits, '-', '_' and '.'."""
    assert naming.check_bucket_name(name) == name


@pytest.mark.parametrize(("name", "why"), [
    ("ab", "3-63 characters"), ("a" * 64, "3-63 characters"), ("-abc", "starting and ending"),
    ("abc-", "starting and ending"), ("Abc", "lowercase"), ("goog-data", "no 'goog' prefix"),
    ("my-google-data", "no 'google' inside"), ("my-g00gle-data", "no 'google' inside"),
    ("a..b", "no consecutive dots"), ("a.-b", "dot next to a hyphen"),
    ("a-.b", "dot next to a hyphen"), ("192.168.1.1", "not an IP address"),
])
def test_rejects_bucket_name(name: str, why: str) -> None:
    """Every Cloud Storage naming rule fires, and says which rule."""
    with pytest.raises(AidcError, match=re.escape(why)):
        naming.check_bucket_name(name)


def test_bucket_name_composition() -> None:
    """Bucket names are '<project>-<environment>-<purpose>', underscores made hyphens."""
    assert naming.bucket_name("acme-ai-dev", "dev", "raw_data") == "acme-ai-dev-dev-raw-data"


def test_rejects_bucket_name_composition() -> None:
    """A purpose that makes the name contain 'google' is refused at composition."""
    with pytest.raises(AidcError, match="no 'google' inside"):
        naming.bucket_name("acme-ai-dev", "dev", "google-data")


@pytest.mark.parametrize("name", ["aidc", "A_b-1", "k" * 63])
def test_accepts_kms_ids(name: str) -> None:
    """Cloud KMS ids: 1-63 letters, digits, '_' and '-'."""
    assert naming.check_kms_id(name, "encryption.key_ring") == name


@pytest.mark.parametrize("name", ["", "a.b", "a b", "k" * 64])
def test_rejects_kms_id(name: str) -> None:
    """The error names the field and the rule."""
    with pytest.raises(AidcError, match="encryption.key_ring .* Cloud KMS accepts"):
        naming.check_kms_id(name, "encryption.key_ring")


@pytest.mark.parametrize("name", ["data", "d", "home_dirs", "a" * 16])
def test_accepts_share_names(name: str) -> None:
    """Filestore share names: 1-16 lowercase letters, digits and '_', letter first."""
    assert naming.check_share_name(name) == name


@pytest.mark.parametrize("name", ["", "Data", "1data", "da-ta", "a" * 17])
def test_rejects_share_name(name: str) -> None:
    """Anything else is refused with the rule."""
    with pytest.raises(AidcError, match="Filestore accepts 1-16 characters"):
        naming.check_share_name(name)


def test_service_account_id() -> None:
    """Service account ids are '<prefix>-<role>', cut to 30 characters without a trailing '-'."""
    assert naming.service_account_id("aidc-dev", "nodes") == "aidc-dev-nodes"
    assert naming.service_account_id("aidc-production-abcdefghij", "nodes") == \
        "aidc-production-abcdefghij-nod"
    assert naming.service_account_id("a" * 29, "x") == "a" * 29


def test_rejects_service_account_id() -> None:
    """A prefix that cannot make a valid id (too short, bad characters) is refused."""
    with pytest.raises(AidcError, match="service account id"):
        naming.service_account_id("a", "b")
    with pytest.raises(AidcError, match="service account id"):
        naming.service_account_id("Aidc_dev", "nodes")


# GKE: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster.FIELDS.name
# and the API's node_pool.name regex (https://github.com/pulumi/pulumi-gcp/issues/1510).
GKE_NAME = re.compile(r"(?:[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)")


@pytest.mark.parametrize("name", ["a", "ai", "l4", "h100-mega", "a" * 40, "a-1", "a--b"])
def test_accepts_gke_names(name: str) -> None:
    assert naming.check_gke_name(name, "node pool name") == name


@pytest.mark.parametrize(("name", "needle"), [
    ("a" * 41, "(41 characters)"), ("my_pool!", "'my_pool!'"), ("Pool", "'Pool'"),
    ("1pool", "'1pool'"), ("pool-", "'pool-'"), ("", "''"), ("pool\n", "1-40 characters"),
])
def test_rejects_gke_names(name: str, needle: str) -> None:
    with pytest.raises(AidcError, match="not accepted by GKE: 1-40 characters") as info:
        naming.check_gke_name(name, "node pool name")
    assert needle in str(info.value)


@given(st.text("abz019-_!A", max_size=44))
def test_gke_name_rule_is_gkes_regex(name: str) -> None:
    """check_gke_name accepts exactly what GKE's own regex accepts."""
    try:
        naming.check_gke_name(name)
    except AidcError:
        assert not GKE_NAME.fullmatch(name)
    else:
        assert GKE_NAME.fullmatch(name)


def test_composed_gke_and_network_names() -> None:
    """Cluster, node pool (one per TPU slice) and GPUDirect names, each built and checked once."""
    assert naming.cluster_name("aidc-dev", "ai") == "aidc-dev-ai"
    assert naming.node_pool_name("v5e") == "v5e"
    assert naming.node_pool_name("v5e", 0, 1) == "v5e"
    assert naming.node_pool_name("v5e", 2, 3) == "v5e-2"
    assert naming.extra_network_name("aidc-dev", "h100-gvnic0") == "aidc-dev-h100-gvnic0"
    assert naming.extra_subnet_name("aidc-dev", "h100-gpu3") == "aidc-dev-h100-gpu3"
    assert naming.extra_firewall_name("aidc-dev", "h100-gpu3") == "aidc-dev-h100-gpu3-internal"
    with pytest.raises(AidcError, match="cluster name 'aidc-dev-c{32}' \\(41 characters\\)"):
        naming.cluster_name("aidc-dev", "c" * 32)
    with pytest.raises(AidcError, match="node pool name 't{39}-1' \\(41 characters\\)"):
        naming.node_pool_name("t" * 39, 1, 2)
    with pytest.raises(AidcError, match="firewall name .* \\(64 characters\\) is not accepted by GCP"):
        naming.extra_firewall_name("n" * 30, "p" * 24)


@pytest.mark.parametrize(("check", "good", "bad"), [
    (naming.check_dns_label, ["training", "a", "1-team"], ["Training", "team_a", "-a", "a" * 64]),
])
def test_kubernetes_names(check, good: list[str], bad: list[str]) -> None:  # type: ignore[no-untyped-def]
    for name in good:
        assert check(name) == name
    for name in bad:
        with pytest.raises(AidcError, match="is not a Kubernetes"):
            check(name)


def test_stack_resource_names() -> None:
    """The names the composition gives the key ring, its keys, the Filestore instance, the
    cluster and the NAT gateway, each built one way (monitoring watches them by these names)."""
    assert naming.key_ring_id("aidc", "dev") == "aidc-dev"
    assert naming.crypto_key_id("acme-ai-dev", "us-central1", "aidc-dev", "gke") == \
        "projects/acme-ai-dev/locations/us-central1/keyRings/aidc-dev/cryptoKeys/gke"
    assert naming.filestore_instance_name("aidc-dev", "shared") == "aidc-dev-shared"
    assert naming.cluster_name("aidc-dev", "ai") == "aidc-dev-ai"
    assert naming.nat_name("aidc-dev") == "aidc-dev-nat"


def test_rejects_composed_key_ring_and_filestore_names() -> None:
    """A key ring id or Filestore instance name that GCP would refuse is refused, named."""
    with pytest.raises(AidcError, match="key ring id 'k{60}-prod'"):
        naming.key_ring_id("k" * 60, "prod")
    with pytest.raises(AidcError, match="Filestore instance name 'aidc-dev-Shared'"):
        naming.filestore_instance_name("aidc-dev", "Shared")


# ---------------------------------------------------------------------------------------------
# properties

_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_.")


@settings(max_examples=300, deadline=None)
@given(project=st.from_regex(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", fullmatch=True),
       env=st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True),
       purpose=st.from_regex(r"[a-z][a-z0-9_-]{0,40}[a-z0-9]", fullmatch=True))
def test_bucket_name_is_valid_or_refused(project: str, env: str, purpose: str) -> None:
    """Composing a bucket name either gives a name Cloud Storage accepts (3-63 characters of
    the allowed set, no 'google') or raises AidcError; never an invalid name."""
    raw = f"{project}-{env}-{purpose}".replace("_", "-")
    try:
        name = naming.bucket_name(project, env, purpose)
    except AidcError:
        assert len(raw) > 63 or raw.startswith("goog") or "google" in raw or "g00gle" in raw
        return
    assert name == raw
    assert 3 <= len(name) <= 63
    assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*[a-z0-9]", name)
    assert "google" not in name and not name.startswith("goog")


@settings(max_examples=300, deadline=None)
@given(prefix=st.text(_CHARS, min_size=0, max_size=40), role=st.text(_CHARS, max_size=12))
def test_service_account_id_is_valid_or_refused(prefix: str, role: str) -> None:
    """A service account id is always 6-30 valid characters, or an AidcError."""
    try:
        sa = naming.service_account_id(prefix, role)
    except AidcError:
        return
    assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", sa)


@settings(max_examples=300, deadline=None)
@given(key=st.text(max_size=70), value=st.text(max_size=70))
def test_label_check_agrees_with_rule(key: str, value: str) -> None:
    """check_label accepts exactly the labels GCP's rules accept (ASCII subset)."""
    # A trailing newline is a known bug, pinned by test_rejects_trailing_newline below.
    assume(not key.endswith("\n") and not value.endswith("\n"))
    ok = bool(re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key)) and \
        bool(re.fullmatch(r"[a-z0-9_-]{0,63}", value))
    try:
        labels.check_label(key, value)
    except AidcError:
        assert not ok
    else:
        assert ok


# ---------------------------------------------------------------------------------------------
# a trailing newline slips past every `^...$` rule

NEWLINE_CASES: list[tuple[str, Callable[[], object]]] = [
    ("project id", lambda: naming.check_project_id("acme-ai-dev\n")),
    ("region", lambda: regions.gcp_region("us-central1\n")),
    ("zone", lambda: regions.zone_region("us-central1-a\n")),
    ("rfc1035 name", lambda: naming.check_rfc1035("aidc\n", "network.name")),
    ("bucket name", lambda: naming.check_bucket_name("acme-data\n")),
    ("kms id", lambda: naming.check_kms_id("aidc\n", "encryption.key_ring")),
    ("share name", lambda: naming.check_share_name("data\n")),
    ("label key", lambda: labels.check_label("team\n", "ml")),
    ("label value", lambda: labels.check_label("team", "ml\n")),
]


@pytest.mark.parametrize(("what", "check"), NEWLINE_CASES, ids=[c[0] for c in NEWLINE_CASES])
def test_rejects_trailing_newline(what: str, check: Callable[[], object]) -> None:
    """A name or label with a trailing newline (easy to get from a YAML block scalar) is not
    what GCP accepts and must be refused."""
    with pytest.raises(AidcError):
        check()
