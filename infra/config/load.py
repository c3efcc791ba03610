"""A stack's config as a flat `namespace:key` map, from a stack file or Pulumi's runtime, and
the PlatformConfig built from it.

The same flat key/value map reaches aidc from two places: the YAML file (CLI, offline engine)
and Pulumi's runtime config (`pulumi up`). `secure:` values become a placeholder offline, where
nothing can decrypt them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra.config.platform import SKIP_RULES_OVER, PlatformConfig
from infra.config.problems import PROVIDER_KEYS, Problem, format_problems, validation_problems
from infra.config.transfers import check_static_keys_are_secret
from infra.engine.plan import SECRET_PLACEHOLDER
from infra.errors import AidcError

STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"
# Other provider settings pass through to the provider untouched; aidc does not own them.
PASSTHROUGH_NAMESPACES = ("gcp:", "kubernetes:", "aws:")


def _unsecret(value: Any) -> tuple[Any, bool]:
    """Replace `secure:` values by a placeholder; offline, nothing can decrypt them."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        out, secret = {}, False
        for k, v in value.items():
            out[k], s = _unsecret(v)
            secret |= s
        return out, secret
    if isinstance(value, list):
        items = [_unsecret(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def read_stack_file(path: Path) -> tuple[dict[str, Any], set[str]]:
    """The flat config map of a stack file and the keys holding secrets."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise AidcError(f"{path}: cannot read stack file ({exc.strerror})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise AidcError(f"{path}: YAML does not parse{where}: {problem}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise AidcError(f"{path}: expected a mapping with a 'config:' mapping of key: value")
    try:
        return _flatten_stack_doc(path, doc)
    except RecursionError:
        raise AidcError(f"{path}: a YAML alias refers to itself (a value contains its own "
                        "anchor, e.g. `&a [*a]`); replace the alias with a plain value") from None


def _flatten_stack_doc(path: Path, doc: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    raw_transfers = (doc.get("config") or {}).get("aidc:transfers")
    if raw_transfers is not None:
        clear = check_static_keys_are_secret(raw_transfers)
        if clear:
            raise AidcError(f"{path}: " + "; ".join(clear))
    flat: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in (doc.get("config") or {}).items():
        flat[str(key)], is_secret = _unsecret(value)
        if is_secret:
            secret_keys.add(str(key))
    return flat, secret_keys


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
            data[name] = _unsecret(decode_config_value(value))[0]
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


def load_from_pulumi() -> PlatformConfig:
    """What `pulumi up` uses: the config the engine passed to this program, secrets decrypted."""
    from pulumi.runtime import config as runtime_config

    flat = dict(runtime_config.get_config_env())
    flat.update(runtime_config.CONFIG.get())
    return config_from_flat(flat, source="pulumi config")
