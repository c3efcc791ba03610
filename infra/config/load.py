"""A stack's config as a flat `namespace:key` map, from a stack file or Pulumi's runtime, and
the PlatformConfig built from it.

The same flat key/value map reaches aidc from two places: the YAML file (CLI, offline engine)
and Pulumi's runtime config (`pulumi up`). `secure:` values become a placeholder offline, where
nothing can decrypt them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from infra.config.platform import SKIP_RULES_OVER, PlatformConfig
from infra.config.problems import (
    PROVIDER_KEYS,
    config_path,
    format_problems,
    validation_problems,
)
from infra.config.monitoring import secret_fields as monitoring_secret_fields
from infra.config.monitoring import unset_secret_fields as monitoring_unset_secret_fields
from infra.config.transfers import secret_fields as transfer_secret_fields
from infra.engine.plan import SECRET_PLACEHOLDER
from infra.errors import AidcError, Problem
from infra.files import MAX_STACK_FILE_BYTES, KeyPath, load_yaml_with_lines, read_text

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
# Offline, a secret the stack file does not set yet is planned with this value, as a Pulumi
# secret (so a plan shows "[secret]" like any other); the plan lists where (`unsetSecrets`).
# Under `pulumi up` the same absence is a config error naming the `pulumi config set` to run.
UNSET_SECRET = "[secret: not set]"
# Other provider settings pass through to the provider untouched; aidc does not own them.
PASSTHROUGH_NAMESPACES = ("gcp:", "kubernetes:", "aws:")


def _unsecret(value: Any, key: str) -> tuple[Any, bool]:
    """Replace `secure:` values by a placeholder; offline, nothing can decrypt them. A mapping
    that mixes `secure:` with other keys is refused without echoing any of it (it holds
    ciphertext, and is not what Pulumi writes)."""
    if isinstance(value, dict):
        if "secure" in value:
            if set(value) != {"secure"} or not isinstance(value["secure"], str):
                raise AidcError(f"{key}: a `secure:` value stands alone ({{secure: <ciphertext>}} "
                                "as `pulumi config set --secret` writes it), with nothing beside "
                                "it; the value is not shown")
            return SECRET_PLACEHOLDER, True
        out, secret = {}, False
        for k, v in value.items():
            out[k], s = _unsecret(v, f"{key}.{k}")
            secret |= s
        return out, secret
    if isinstance(value, list):
        items = [_unsecret(v, f"{key}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


# Sections whose token-bearing fields must arrive as secrets, and how to find those fields.
_SECRET_FIELDS = {"aidc:monitoring": monitoring_secret_fields, "aidc:transfers": transfer_secret_fields}
# Sections with secrets that are required, and how to find the ones a raw section leaves out.
_UNSET_SECRETS = {"aidc:monitoring": monitoring_unset_secret_fields}


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def clear_text_secrets(config: Mapping[str, Any], secret_keys: Iterable[str] = ()) -> list[Problem]:
    """Tokens and keys given in clear text: in a stack file's raw `config:` map (where a secret
    is a `secure:` value), or under `pulumi up` (where `secret_keys` are the keys Pulumi
    decrypted). Each problem names the field, never the value."""
    secret = set(secret_keys)
    problems = []
    for section, fields in _SECRET_FIELDS.items():
        raw = config.get(section)
        if raw is None or _is_secure(raw) or section in secret:
            continue
        for loc, value in fields(decode_config_value(raw)):
            if not _is_secure(value):
                problems.append(Problem(loc, (
                    "a secret in clear text in the stack file; store it encrypted with "
                    f"`pulumi config set --secret --path '{config_path(loc)}' ...` (and rotate "
                    "the exposed one)")))
    return problems


def read_stack_file(path: Path, *, lines: dict[KeyPath, int] | None = None,
                    ) -> tuple[dict[str, Any], set[str]]:
    """The flat config map of a stack file and the keys holding secrets (and, into `lines`
    when given, the line of every key by its path: ("config", "aidc:gpu_pools", "h100")). The
    file is read as untrusted input (see infra.files): bounded in size, nesting and alias
    expansion, UTF-8, no duplicate keys."""
    text = read_text(path, "stack file", max_bytes=MAX_STACK_FILE_BYTES)
    doc = load_yaml_with_lines(text, str(path), lines)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise AidcError(f"{path}: expected a mapping with a 'config:' mapping of key: value")
    return _flatten_stack_doc(path, doc)


def _flatten_stack_doc(path: Path, doc: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    config = doc.get("config") or {}
    clear = clear_text_secrets(config)
    if clear:
        raise AidcError(format_problems(str(path), clear))
    flat: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in config.items():
        flat[str(key)], is_secret = _unsecret(value, f"{path}: {key}")
        if is_secret:
            secret_keys.add(str(key))
    secret_keys |= _plan_unset_secrets(flat)
    return flat, secret_keys


def _plan_unset_secrets(flat: dict[str, Any]) -> set[str]:
    """Put UNSET_SECRET where a required secret is absent (offline only: nothing will be
    deployed from this map); the keys now holding one, which are secret from here on."""
    touched = set()
    for section, find in _UNSET_SECRETS.items():
        raw = flat.get(section)
        for loc in find(raw):
            node = raw
            for part in loc[1:-1]:
                node = node[part]
            node[loc[-1]] = UNSET_SECRET
            touched.add(section)
    return touched


def unset_secret_problems(flat: Mapping[str, Any]) -> list[Problem]:
    """Under `pulumi up` nothing stands in for a secret: each required one that is not set is
    a problem naming the command that sets it."""
    return [Problem(loc, "a required secret is not set; set it with `pulumi config set "
                         f"--secret --path '{config_path(loc)}' VALUE`")
            for section, find in _UNSET_SECRETS.items()
            for loc in find(decode_config_value(flat.get(section)))]


def unset_secret_paths(flat: Mapping[str, Any]) -> list[str]:
    """`aidc:monitoring.channels.oncall.service_key` for each secret planned as UNSET_SECRET."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if value == UNSET_SECRET:
            found.append(path)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}")

    for key, value in flat.items():
        walk(value, key)
    return sorted(found)


def config_from_flat(flat: Mapping[str, Any], *, source: str = "config") -> PlatformConfig:
    """Build the model from `namespace:key` -> value, naming every problem at once: each
    section's own, and the cross-section rules over every section that is valid by itself."""
    fields = PlatformConfig.model_fields
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in flat.items():
        if key in PROVIDER_KEYS:
            data[PROVIDER_KEYS[key]] = value
        elif key.startswith("aidc:"):
            name = key[len("aidc:"):]
            if name in PROVIDER_KEYS.values() or name not in fields:
                accepted = sorted(f"aidc:{f}" for f in fields if f not in PROVIDER_KEYS.values())
                hint = difflib.get_close_matches(f"aidc:{name}", accepted, n=1)
                problems.append(Problem((key,), "unknown key"
                                        + (f" (did you mean {hint[0]}?)" if hint else "")
                                        + f". Accepted: {', '.join(accepted)}"))
                continue
            data[name] = _unsecret(decode_config_value(value), key)[0]
        elif key.startswith(PASSTHROUGH_NAMESPACES):
            continue
        else:
            problems.append(Problem((key,), "unknown namespace; aidc reads aidc:* and "
                                    "gcp:project/gcp:region (provider settings under gcp:, "
                                    "kubernetes:, aws: pass through)"))
    try:
        cfg = PlatformConfig.model_validate(data)
    except ValidationError as exc:
        found = validation_problems(exc, PlatformConfig)
        problems += found + _cross_section_problems(data, {p.loc[0] for p in found if p.loc})
    if problems:
        raise AidcError(format_problems(source, problems))
    return cfg


def _cross_section_problems(data: dict[str, Any], broken: set[Any]) -> list[Problem]:
    """The rules across sections that only read sections that are valid on their own (a rule
    over a broken section would only repeat its problem, or guess)."""
    valid = {k: v for k, v in data.items() if k not in broken}
    try:
        PlatformConfig.model_validate(valid, context={SKIP_RULES_OVER: frozenset(broken)})
    except ValidationError as exc:
        return [p for p in validation_problems(exc, PlatformConfig)
                if not p.loc or p.loc[0] not in broken]
    return []


def decode_config_value(value: Any) -> Any:
    """Pulumi's runtime hands structured values over as JSON text; the YAML path does not."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def stack_file(stack: str, stacks_dir: Path = STACKS_DIR) -> Path:
    """`stacks/Pulumi.<stack>.yaml`, or an error listing the stacks that exist."""
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        existing = sorted(p.name[len("Pulumi."):-len(".yaml")]
                          for p in stacks_dir.glob("Pulumi.*.yaml"))
        raise AidcError(f"no stack {stack!r}: {path} does not exist; stacks here: "
                        f"{', '.join(existing) or 'none'} (or pass --stack-file PATH)")
    return path


def load_stack_file(path: Path) -> PlatformConfig:
    flat, _ = read_stack_file(path)
    return config_from_flat(flat, source=str(path))


def pulumi_flat_config() -> dict[str, Any]:
    """The flat `namespace:key` config the engine passed to this program (secrets decrypted
    under `pulumi up`; the offline engine passes the stack file's map)."""
    from pulumi.runtime import config as runtime_config

    flat = dict(runtime_config.get_config_env())
    flat.update(runtime_config.CONFIG.get())
    return flat


def load_from_pulumi(own_namespace: str | None = None) -> PlatformConfig:
    """What `pulumi up` uses: the config the engine passed to this program, secrets decrypted.
    `own_namespace`: a program's own keys (a layer's `aidc-cluster:foundation_stack`), which
    it reads itself and the platform config does not."""
    from pulumi.runtime import config as runtime_config

    flat = pulumi_flat_config()
    if own_namespace is not None:
        flat = {k: v for k, v in flat.items() if not k.startswith(f"{own_namespace}:")}
    clear = clear_text_secrets(flat, [k for k in flat if runtime_config.is_config_secret(k)])
    clear += unset_secret_problems(flat)
    if clear:
        raise AidcError(format_problems("pulumi config", clear))
    return config_from_flat(flat, source="pulumi config")
