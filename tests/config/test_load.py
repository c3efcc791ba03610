"""The platform configuration: loading a stack file, defaults, and every validator firing.

Each `test_rejects_...` case starts from one valid stack (tests.helpers.BASE_STACK) and changes
one thing; the error must name the field and say what is accepted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.config.load import config_from_flat, load_stack_file, read_stack_file, stack_file

from infra.config.platform import PlatformConfig

from infra.config.schema import config_schema
from infra.errors import AidcError
from tests.helpers import BASE_STACK, STACKS, STACKS_DIR, base_stack


def load(flat: dict[str, Any]) -> PlatformConfig:
    return config_from_flat(flat, source="test.yaml")


def with_section(key: str, **fields: Any) -> dict[str, Any]:
    """BASE_STACK with fields of one `aidc:` section changed (merged over its base value)."""
    section = dict(BASE_STACK.get(key) or {})
    section.update(fields)
    return base_stack(**{key: section})


def with_bucket(**fields: Any) -> dict[str, Any]:
    return with_section("aidc:storage", buckets={"datasets": fields})


def with_filestore(**fields: Any) -> dict[str, Any]:
    return with_section("aidc:storage", filestore={"tier": "ZONAL", "capacity_gib": 1024, **fields})


def rejected(flat: dict[str, Any]) -> str:
    with pytest.raises(AidcError) as err:
        load(flat)
    return str(err.value)


# ---------------------------------------------------------------------------------------------
# the shipped stacks and defaults


@pytest.mark.parametrize("env", STACKS)
def test_shipped_stacks_are_valid(env: str) -> None:
    """Each shipped stack file loads, and its environment matches its file name."""
    cfg = load_stack_file(STACKS_DIR / f"Pulumi.{env}.yaml")
    assert cfg.environment == env
    assert cfg.is_production is (env == "prod")


def test_defaults() -> None:
    """A minimal config gets the documented defaults: 'aidc' names, software keys rotated every
    90 days, flow logs at 0.5, no IAP SSH, no buckets, no Filestore."""
    cfg = load({"gcp:project": "acme-ai-dev", "gcp:region": "us-central1",
                "aidc:environment": "dev", "aidc:zones": ["us-central1-a"],
                "aidc:network": {"base_cidr": "10.0.0.0/12"}})
    assert cfg.name_prefix == "aidc-dev"
    assert cfg.encryption.key_ring == "aidc"
    assert cfg.encryption.protection_level == "SOFTWARE"
    assert cfg.encryption.rotation_days == 90
    assert cfg.encryption.destroy_scheduled_days == 30
    assert cfg.network.flow_logs_sampling == 0.5
    assert cfg.network.iap_ssh is False
    assert cfg.network.max_pods_per_node == 110
    assert cfg.storage.buckets == {} and cfg.storage.filestore is None
    assert cfg.is_production is False


def test_bucket_and_filestore_defaults() -> None:
    """A bucket defaults to internal, STANDARD, 7 days soft delete, no retention; a share to
    ZONAL 1 TiB with CMEK, classified confidential."""
    cfg = load(with_section("aidc:storage", buckets={"datasets": {}}, filestore={}))
    bucket = cfg.storage.buckets["datasets"]
    assert (bucket.classification, bucket.storage_class, bucket.soft_delete_days,
            bucket.retention_days, bucket.versioning) == ("internal", "STANDARD", 7, None, None)
    fs = cfg.storage.filestore
    assert (fs.tier, fs.capacity_gib, fs.cmek, fs.classification) == ("ZONAL", 1024, True,
                                                                       "confidential")


@pytest.mark.parametrize(("environment", "production", "expected"), [
    ("prod", None, True), ("dev", None, False), ("prod", False, False), ("dr", True, True)])
def test_production_flag(environment: str, production: bool | None, expected: bool) -> None:
    """Production defaults to environment == 'prod'; an explicit setting wins."""
    flat = base_stack(**{"aidc:environment": environment, "aidc:production": production})
    assert load(flat).is_production is expected


def test_resource_labels() -> None:
    """Every resource gets managed-by and environment plus the stack's labels and extras."""
    cfg = load(base_stack())
    assert cfg.resource_labels({"purpose": "x"}) == {
        "managed-by": "aidc", "environment": "dev", "team": "ml-platform", "purpose": "x"}


def test_network_plan_from_config() -> None:
    """The config's network section becomes a checked plan."""
    plan = load(base_stack()).network_plan()
    assert str(plan.pods) == "10.16.0.0/19"
    assert plan.max_nodes == 64


def test_structured_values_as_json_text() -> None:
    """Under `pulumi up` structured values arrive as JSON text; they load the same."""
    flat = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in BASE_STACK.items()}
    assert load(flat) == load(base_stack())


def test_provider_settings_pass_through() -> None:
    """Other gcp:, kubernetes: and aws: settings are the provider's, not errors."""
    cfg = load(base_stack(**{"gcp:zone": "us-central1-a", "kubernetes:context": "x",
                             "aws:region": "us-east-1"}))
    assert cfg.project == "acme-ai-dev"


# ---------------------------------------------------------------------------------------------
# loading files


def test_read_stack_file_hides_secrets(tmp_path: Path) -> None:
    """`secure:` values become a placeholder and their keys are reported as secret."""
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text("config:\n  gcp:project: acme-ai-dev\n  gcp:credentials:\n"
                    "    secure: v1:AAAAciphertext\n  aidc:labels:\n    team: ml\n")
    flat, secret = read_stack_file(path)
    assert flat["gcp:credentials"] == "[secret]"
    assert secret == {"gcp:credentials"}
    assert "v1:AAAAciphertext" not in json.dumps(flat)


def test_read_stack_file_empty(tmp_path: Path) -> None:
    """An empty file is an empty config (then the required values are reported missing)."""
    path = tmp_path / "Pulumi.e.yaml"
    path.write_text("")
    assert read_stack_file(path) == ({}, set())
    with pytest.raises(AidcError, match="gcp:project: required value is missing"):
        load_stack_file(path)


def test_rejects_unreadable_stack_file(tmp_path: Path) -> None:
    """A file that cannot be read is named, with the reason."""
    with pytest.raises(AidcError, match="Pulumi.none.yaml: cannot read stack file"):
        read_stack_file(tmp_path / "Pulumi.none.yaml")


def test_rejects_yaml_that_does_not_parse(tmp_path: Path) -> None:
    """A YAML error names the file, the line and the column."""
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n  gcp:project: acme-ai-dev\n  aidc:zones: [us-central1-a\n"
                    "  aidc:environment: dev\n")
    with pytest.raises(AidcError, match=r"Pulumi.bad.yaml: YAML does not parse at line 4, column"):
        read_stack_file(path)


@pytest.mark.parametrize("text", ["- a\n- b\n", "config: [1, 2]\n", "just text\n"])
def test_rejects_stack_file_not_a_mapping(tmp_path: Path, text: str) -> None:
    """A stack file is a mapping with a `config:` mapping; anything else says so."""
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    with pytest.raises(AidcError, match="expected a mapping with a 'config:' mapping"):
        read_stack_file(path)


def test_rejects_recursive_yaml_alias(tmp_path: Path) -> None:
    """A self-referencing alias is a user error with the file's name, not an internal error."""
    path = tmp_path / "Pulumi.loop.yaml"
    path.write_text("config:\n  gcp:project: acme-ai-dev\n  aidc:apis: &a [*a]\n")
    with pytest.raises(AidcError, match="Pulumi.loop.yaml"):
        load_stack_file(path)


def test_stack_file_lookup(stacks_dir: Path) -> None:
    """A stack name maps to stacks/Pulumi.<name>.yaml."""
    assert stack_file("dev", stacks_dir) == stacks_dir / "Pulumi.dev.yaml"


def test_rejects_unknown_stack_listing_existing(stacks_dir: Path) -> None:
    """A stack with no file names the path and lists the stacks that exist."""
    with pytest.raises(AidcError, match=r"no stack 'qa'.*stacks here: dev, prod, staging"):
        stack_file("qa", stacks_dir)


# ---------------------------------------------------------------------------------------------
# keys and types


def test_rejects_unknown_aidc_key_with_hint() -> None:
    """A typo'd top-level key is named, with the closest key and the accepted list."""
    message = rejected(base_stack(**{"aidc:netwrk": {}}))
    assert "aidc:netwrk: unknown key (did you mean aidc:network?)" in message
    assert "Accepted: " in message and "aidc:storage" in message


def test_rejects_unknown_nested_key_with_hint() -> None:
    """A typo'd nested key names its full path, the closest key and the accepted ones."""
    message = rejected(with_section("aidc:network", max_node=3))
    assert "aidc:network.max_node: unknown key (did you mean max_nodes?)" in message
    assert "Accepted: " in message and "base_cidr" in message


def test_rejects_bucket_typo_deep_in_a_collection() -> None:
    """Inside a dict of specs, the path includes the collection key."""
    message = rejected(with_bucket(clasification="internal"))
    assert "aidc:storage.buckets.datasets.clasification: unknown key" in message
    assert "did you mean classification?" in message


@pytest.mark.parametrize("key", ["aidc:project", "aidc:region"])
def test_rejects_provider_keys_in_aidc_namespace(key: str) -> None:
    """The project and region are gcp:project / gcp:region only: one name per setting."""
    assert f"{key}: unknown key" in rejected(base_stack(**{key: "x"}))


def test_rejects_unknown_namespace() -> None:
    """A key outside aidc:, gcp:, kubernetes:, aws: is refused, saying which are read."""
    assert "aidcc:environment: unknown namespace" in rejected(
        base_stack(**{"aidcc:environment": "dev"}))


@pytest.mark.parametrize(("key", "field"), [("gcp:project", "gcp:project"),
                                            ("gcp:region", "gcp:region"),
                                            ("aidc:environment", "aidc:environment"),
                                            ("aidc:zones", "aidc:zones")])
def test_rejects_missing_required_value(key: str, field: str) -> None:
    """Each required value, when missing, is named."""
    assert f"{field}: required value is missing" in rejected(base_stack(**{key: None}))


def test_rejects_every_problem_at_once() -> None:
    """All problems are reported together, not one per run."""
    message = rejected(base_stack(**{"gcp:project": None, "aidc:netwrk": {},
                                     "aidc:labels": {"Team": "x"}}))
    assert "gcp:project: required value is missing" in message
    assert "aidc:netwrk: unknown key" in message
    assert "label key 'Team'" in message


@pytest.mark.parametrize(("flat", "needle"), [
    (with_section("aidc:encryption", rotation_days="ninety"),
     "aidc:encryption.rotation_days: Input should be a valid integer"),
    (with_section("aidc:network", max_nodes=[1]), "aidc:network.max_nodes: Input should be a valid integer"),
    (with_section("aidc:network", iap_ssh="maybe"), "aidc:network.iap_ssh: Input should be a valid boolean"),
    (base_stack(**{"aidc:zones": "us-central1-a"}), "aidc:zones: Input should be a valid list"),
    (base_stack(**{"aidc:labels": ["team"]}), "aidc:labels: Input should be a valid dictionary"),
    (with_section("aidc:network", base_cidr="10.16.0.1/16"), "aidc:network.base_cidr"),
    (with_section("aidc:network", base_cidr="not-a-cidr"), "aidc:network.base_cidr"),
])
def test_rejects_wrong_type(flat: dict[str, Any], needle: str) -> None:
    """A value of the wrong type names its path and shows the value given."""
    message = rejected(flat)
    assert needle in message
    assert "(got " in message


# ---------------------------------------------------------------------------------------------
# every validator, firing


@pytest.mark.parametrize(("flat", "needles"), [
    # PlatformConfig
    (base_stack(**{"gcp:project": "Acme_AI"}), ["gcp:project", "not a valid GCP project id"]),
    (base_stack(**{"gcp:region": "us-central"}), ["gcp:region", "not a Google Cloud region",
                                                   "did you mean"]),
    (base_stack(**{"aidc:environment": "Dev"}), ["aidc:environment", "not accepted by GCP"]),
    (base_stack(**{"aidc:environment": "abcdefghijklm"}), ["at most 12 characters"]),
    (base_stack(**{"aidc:zones": []}), ["aidc:zones", "at least 1"]),
    (base_stack(**{"aidc:zones": ["us-central1"]}), ["zones[0]", "not a Google Cloud zone"]),
    (base_stack(**{"aidc:zones": ["us-central1-a", "us-east1-b"]}),
     ["zones[1]", "'us-east1-b' is not in region 'us-central1'"]),
    (base_stack(**{"aidc:labels": {"Team": "x"}}), ["aidc:labels", "label key 'Team'"]),
    (base_stack(**{"aidc:labels": {"team": "ML Platform"}}),
     ["aidc:labels", "label team='ML Platform'", "0-63 characters"]),
    (base_stack(**{"aidc:labels": {f"k{i}": "v" for i in range(65)}}), ["at most 64"]),
    # network
    (with_section("aidc:network", name="Aidc"), ["network.name", "not accepted by GCP"]),
    (with_section("aidc:network", services_prefix=15), ["services_prefix", "greater than or equal to 16"]),
    (with_section("aidc:network", services_prefix=28), ["services_prefix", "less than or equal to 27"]),
    (with_section("aidc:network", psa_prefix=25), ["psa_prefix", "less than or equal to 24"]),
    (with_section("aidc:network", max_nodes=0), ["max_nodes", "greater than or equal to 1"]),
    (with_section("aidc:network", max_pods_per_node=7), ["max_pods_per_node", "greater than or equal to 8"]),
    (with_section("aidc:network", max_pods_per_node=257), ["max_pods_per_node", "less than or equal to 256"]),
    (with_section("aidc:network", flow_logs_sampling=1.5), ["flow_logs_sampling", "less than or equal to 1"]),
    (with_section("aidc:network", nat_log_filter="SOME"), ["nat_log_filter", "ERRORS_ONLY"]),
    (with_section("aidc:network", base_cidr="100.64.0.0/16"), ["outside RFC 1918", "allow_non_rfc1918"]),
    (with_section("aidc:network", base_cidr=None), ["give base_cidr", "missing: subnet, pods, services, psa"]),
    (with_section("aidc:network", base_cidr="10.16.0.0/24"), ["too small for the pods range"]),
    (with_section("aidc:network", base_cidr=None, subnet_cidr="10.0.0.0/20",
                  pods_cidr="10.0.8.0/21", services_cidr="10.1.0.0/20", psa_cidr="10.2.0.0/22"),
     ["network.subnet_cidr: 10.0.0.0/20 overlaps network.pods_cidr 10.0.8.0/21"]),
    (with_section("aidc:network", pods_cidr="10.20.0.0/22"),
     ["network.pods_cidr: 10.20.0.0/22 addresses 8 nodes", "64 nodes are declared", "use a /19"]),
    (with_section("aidc:network", psa_cidr="10.20.0.0/26"), ["psa_cidr", "smaller than the /24"]),
    # encryption
    (with_section("aidc:encryption", key_ring="a.b"), ["encryption.key_ring", "Cloud KMS accepts"]),
    (with_section("aidc:encryption", protection_level="EXTERNAL"), ["protection_level", "'SOFTWARE' or 'HSM'"]),
    (with_section("aidc:encryption", rotation_days=0), ["rotation_days", "greater than or equal to 1"]),
    (with_section("aidc:encryption", destroy_scheduled_days=121),
     ["destroy_scheduled_days", "less than or equal to 120"]),
    # buckets
    (with_section("aidc:storage", buckets={"Data": {}}), ["bucket purpose 'Data'", "'Data'"]),
    (with_section("aidc:storage", buckets={"google-data": {}}),
     ["storage.buckets.google-data", "no 'goog' prefix and no 'google' inside"]),
    (with_section("aidc:storage", buckets={"p" * 50: {}}),
     ["storage.buckets." + "p" * 50, "3-63 characters"]),
    (with_bucket(classification="secret"), ["classification", "'public', 'internal', 'confidential'"]),
    (with_bucket(storage_class="GLACIER"), ["storage_class", "'STANDARD'"]),
    (with_bucket(soft_delete_days=91), ["soft_delete_days", "less than or equal to 90"]),
    (with_bucket(soft_delete_days=3), ["soft_delete_days: 3", "0 (off) or 7-90 days"]),
    (with_bucket(retention_days=0), ["retention_days", "greater than or equal to 1"]),
    (with_bucket(labels={"Owner": "x"}), ["buckets.datasets.labels", "label key 'Owner'"]),
    (with_bucket(lifecycle=[{"action": "SetStorageClass", "age_days": 30}]),
     ["lifecycle[0]", "storage_class is required with action SetStorageClass"]),
    (with_bucket(lifecycle=[{"action": "Delete", "age_days": 30, "storage_class": "NEARLINE"}]),
     ["lifecycle[0]", "storage_class is required with action SetStorageClass and only there"]),
    (with_bucket(lifecycle=[{"action": "Delete", "age_days": -1}]),
     ["lifecycle[0].age_days", "greater than or equal to 0"]),
    (with_bucket(lifecycle=[{"action": "Archive", "age_days": 1}]), ["lifecycle[0].action"]),
    # filestore
    (with_filestore(capacity_gib=1000), ["storage.filestore", "capacity_gib: 1000 is below the ZONAL minimum",
                                         "ZONAL accepts 1024-9984 GiB in steps of 256 GiB"]),
    (with_filestore(capacity_gib=200_000), ["capacity_gib: 200000 is above the ZONAL maximum"]),
    (with_filestore(capacity_gib=1025), ["capacity_gib: 1025 is not on a 256 GiB step",
                                         "nearest valid sizes are 1024 and 1280 GiB"]),
    (with_filestore(capacity_gib=10000), ["capacity_gib: 10000 falls between the ZONAL ranges"]),
    (with_filestore(tier="BASIC_HDD", cmek=True),
     ["cmek: tier BASIC_HDD cannot take a customer-managed key", "cmek: false"]),
    (with_filestore(tier="GOLD"), ["'GOLD' is not a Filestore tier", "BASIC_HDD"]),
    (with_filestore(tier="STANDARD"), ["old alias for BASIC_HDD"]),
    (with_filestore(name="Shared"), ["storage.filestore.name", "not accepted by GCP"]),
    (with_filestore(share_name="my-data"), ["aidc:storage.filestore.share_name: 'my-data'", "1-16 characters"]),
    (with_filestore(zone="us-east1-b"), ["storage.filestore.zone", "not in region 'us-central1'"]),
    (with_filestore(labels={"a": "B"}), ["storage.filestore.labels", "label a='B'"]),
])
def test_rejects_invalid_value(flat: dict[str, Any], needles: list[str]) -> None:
    """Each validator fires on its bad value, naming the field and what is accepted."""
    message = rejected(flat)
    for needle in needles:
        assert needle in message, f"{needle!r} not in:\n{message}"


def test_rejects_invalid_config_with_source_name() -> None:
    """The error starts with the file it came from."""
    assert rejected(base_stack(**{"gcp:project": "x"})).startswith("test.yaml: invalid config")


def test_accepts_non_rfc1918_when_allowed() -> None:
    """allow_non_rfc1918 is the explicit opt-in for ranges like 100.64.0.0/10."""
    cfg = load(with_section("aidc:network", base_cidr="100.64.0.0/16", allow_non_rfc1918=True))
    assert str(cfg.network_plan().pods).startswith("100.64.")


def test_accepts_filestore_without_cmek_on_basic() -> None:
    """A Basic tier is accepted with cmek explicitly off."""
    assert load(with_filestore(tier="BASIC_HDD", cmek=False)).storage.filestore.cmek is False


# ---------------------------------------------------------------------------------------------
# known gaps (each a bug report)


def test_filestore_tier_is_canonical_or_refused() -> None:
    """A tier spelled 'zonal' is either refused or stored as the API's 'ZONAL'."""
    try:
        cfg = load(with_filestore(tier="zonal"))
    except AidcError:
        return
    assert cfg.storage.filestore.tier == "ZONAL"


def test_rejects_bucket_purpose_reserved_for_access_logs() -> None:
    """The purpose the access-log bucket uses cannot be declared as a data bucket."""
    assert "access-logs" in rejected(with_section(
        "aidc:storage", buckets={"access-logs": {"classification": "confidential"}}))


def test_rejects_filestore_zone_on_regional_tier() -> None:
    """A zone set on a regional tier is refused rather than dropped."""
    assert "storage.filestore.zone" in rejected(with_filestore(
        tier="REGIONAL", capacity_gib=1024, zone="us-central1-a"))


@pytest.mark.parametrize("flat", [
    with_section("aidc:network", name="n" * 50),
    with_section("aidc:encryption", key_ring="k" * 60),
    with_filestore(name="f" * 60),
], ids=["network-name", "key-ring", "filestore-name"])
def test_rejects_names_too_long_once_composed(flat: dict[str, Any]) -> None:
    """A name part that makes a derived cloud name longer than GCP's 63 characters is refused
    at validation, not at `pulumi up`."""
    rejected(flat)


# ---------------------------------------------------------------------------------------------
# JSON Schema


def test_schema_names_stack_file_keys() -> None:
    """The schema describes the stack file: config keys under their namespaced names, required
    ones listed, unknown aidc keys refused while provider settings pass."""
    schema = config_schema()
    config = schema["properties"]["config"]
    assert {"gcp:project", "gcp:region", "aidc:environment", "aidc:network",
            "aidc:storage"} <= set(config["properties"])
    assert {"gcp:project", "gcp:region", "aidc:environment", "aidc:zones"} <= set(config["required"])
    assert config["additionalProperties"] is False
    assert "^(gcp|kubernetes|aws):" in config["patternProperties"]
