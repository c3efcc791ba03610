"""Secrets in stack files (issue 14, item 7): no shipped stack carries ciphertext; offline,
a required secret that is absent is planned as a marked placeholder and listed, one present as
`secure:` ciphertext aidc cannot decrypt is planned as `[secret]`; neither ever prints a value;
under `pulumi up` (runtime config) an absent secret is an error naming the command to set it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config.load import (
    UNSET_SECRET,
    config_from_flat,
    read_stack_file,
    unset_secret_paths,
    unset_secret_problems,
)
from infra.config.monitoring import SECRET_FIELDS, PagerDutyChannel
from infra.errors import AidcError
from tests.helpers import REPO, STACKS_DIR, base_stack, run_aidc, write_stack

CIPHER = "v1:Q2lwaGVydGV4dC1haWRjLWNhbm5vdC1kZWNyeXB0"
ONCALL = "aidc:monitoring.channels.oncall.service_key"


def shipped_stack_files() -> list[Path]:
    return sorted(p for p in (REPO / "stacks").rglob("Pulumi.*.yaml"))


def _secure_values(node: Any) -> list[str]:
    if isinstance(node, dict):
        if "secure" in node:
            return [str(node["secure"])]
        return [v for value in node.values() for v in _secure_values(value)]
    if isinstance(node, list):
        return [v for value in node for v in _secure_values(value)]
    return []


@pytest.mark.parametrize("path", shipped_stack_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_stack_files_hold_no_ciphertext(path: Path) -> None:
    """A ciphertext only its own stack's key decrypts is meaningless in a template; a made-up
    one fails at `pulumi up`. Secrets are set per stack with `pulumi config set --secret`."""
    doc = yaml.safe_load(path.read_text())
    assert _secure_values(doc) == []
    assert "encryptedkey" not in (doc or {})


def pager(service_key: Any = None) -> dict[str, Any]:
    channel = {"type": "pagerduty"}
    if service_key is not None:
        channel["service_key"] = service_key
    return base_stack(**{"aidc:monitoring": {"channels": {"oncall": channel},
                                             "routes": {"critical": ["oncall"]}}})


def test_absent_secret_is_planned_as_a_marked_placeholder(tmp_path: Path) -> None:
    """Offline, the absent PagerDuty key becomes UNSET_SECRET, the section is secret, and the
    plan lists where it is missing."""
    flat, secret = read_stack_file(write_stack(tmp_path, pager()))
    assert flat["aidc:monitoring"]["channels"]["oncall"]["service_key"] == UNSET_SECRET
    assert "aidc:monitoring" in secret
    assert unset_secret_paths(flat) == [ONCALL]
    cfg = config_from_flat(flat)
    assert isinstance(cfg.monitoring.channels["oncall"], PagerDutyChannel)


def test_ciphertext_aidc_cannot_decrypt_is_planned_as_secret(tmp_path: Path) -> None:
    """A `secure:` value is never decrypted offline: `[secret]`, and nothing listed unset."""
    flat, secret = read_stack_file(write_stack(tmp_path, pager({"secure": CIPHER})))
    assert flat["aidc:monitoring"]["channels"]["oncall"]["service_key"] == "[secret]"
    assert "aidc:monitoring" in secret
    assert unset_secret_paths(flat) == []
    assert CIPHER not in json.dumps(flat)


@pytest.mark.parametrize("case", ["absent", "ciphertext"])
def test_plan_and_check_work_and_never_print_the_secret(tmp_path: Path, case: str) -> None:
    """`aidc plan` and `aidc check` plan the channel either way; the plan says which secrets
    are not set; no ciphertext and no placeholder value reaches any output."""
    flat = pager() if case == "absent" else pager({"secure": CIPHER})
    path = write_stack(tmp_path, flat, name=case)
    out = tmp_path / "plan.json"
    planned = run_aidc("plan", "--stack-file", path, "--json", out)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(out.read_text())
    [channel] = [r for r in plan["resources"]
                 if r["type"] == "gcp:monitoring/notificationChannel:NotificationChannel"]
    assert channel["inputs"]["sensitiveLabels"] == {"serviceKey": "[secret]"}
    assert plan.get("unsetSecrets", []) == ([ONCALL] if case == "absent" else [])
    text = run_aidc("plan", "--stack-file", path, "-q")
    assert (ONCALL in text.stdout) is (case == "absent")
    checked = run_aidc("check", "--stack-file", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for output in (out.read_text(), text.stdout, text.stderr, checked.stdout, checked.stderr):
        assert CIPHER not in output and UNSET_SECRET not in output


def test_shipped_prod_plans_with_its_pagerduty_key_unset() -> None:
    result = run_aidc("plan", "prod", "-q")
    assert result.returncode == 0, result.stderr
    assert f"  {ONCALL}\n" in result.stdout


def test_rejects_an_absent_secret_under_pulumi_up() -> None:
    """The runtime config (`pulumi up`) gets no placeholder: the model reports the token
    missing, and the runtime loader names the `pulumi config set --secret --path` that sets it
    (and nothing for a secret that is set)."""
    with pytest.raises(AidcError, match="oncall.service_key: required value is missing"):
        config_from_flat(pager(), source="pulumi config")
    [problem] = unset_secret_problems(pager())
    assert problem.loc == ("monitoring", "channels", "oncall", "service_key")
    assert f"pulumi config set --secret --path '{ONCALL}' VALUE" in problem.message
    assert unset_secret_problems(pager("decrypted-at-runtime")) == []
    assert unset_secret_problems(base_stack()) == []


def test_the_model_says_which_fields_are_secrets() -> None:
    """Every field SECRET_FIELDS names is a SecretStr on its channel model, and nothing else
    there is one: one list, checked against the types."""
    from pydantic import SecretStr

    from infra.config.monitoring import ChannelSpec

    import typing

    models = typing.get_args(typing.get_args(ChannelSpec)[0])
    for model in models:
        kind = typing.get_args(model.model_fields["type"].annotation)[0]
        secret = {n for n, f in model.model_fields.items() if f.annotation is SecretStr}
        assert secret == set(SECRET_FIELDS[kind]), kind


def test_stack_files_may_declare_the_secrets_provider(tmp_path: Path) -> None:
    """Pulumi's top-level `secretsprovider:` (and the key material it writes for passphrase
    providers) sit beside `config:` and are ignored by aidc's loader."""
    path = tmp_path / "Pulumi.kms.yaml"
    path.write_text(yaml.safe_dump({
        "secretsprovider": "gcpkms://projects/acme-ai-dev/locations/us-central1/keyRings/"
                           "pulumi/cryptoKeys/state-secrets",
        "encryptedkey": "ZmFrZQ==",
        "config": base_stack()}))
    flat, _ = read_stack_file(path)
    assert flat == base_stack()
    assert run_aidc("config", "validate", "--stack-file", path).returncode == 0


