"""`aidc config schema`: the JSON Schema of a stack file, for editors and CI."""

from __future__ import annotations

from typing import Any

from infra.config.platform import PlatformConfig
from infra.config.problems import PROVIDER_KEYS


_SECURE = {"type": "object", "properties": {"secure": {"type": "string"}},
           "required": ["secure"], "additionalProperties": False}


def _accept_secure(node: Any) -> None:
    """Secret fields (format: password) may hold a `secure:` value, as Pulumi writes them, and
    may be absent: a stack file is committed before its secrets are set (`pulumi config set
    --secret`, per stack); `pulumi up` requires them, offline planning does not."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(node.get("required"), list):
            node["required"] = [k for k in node["required"]
                                if not (isinstance(props.get(k), dict)
                                        and props[k].get("format") == "password")]
        for key, value in list(node.items()):
            if isinstance(value, dict) and value.get("format") == "password":
                node[key] = {"anyOf": [value, _SECURE]}
            else:
                _accept_secure(value)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, dict) and value.get("format") == "password":
                node[i] = {"anyOf": [value, _SECURE]}
            else:
                _accept_secure(value)


def config_schema() -> dict[str, Any]:
    """JSON Schema of a stack file's `config:` map, for editors and CI."""
    schema = PlatformConfig.model_json_schema(mode="validation")
    props = {}
    for name, sub in schema.pop("properties").items():
        key = next((k for k, f in PROVIDER_KEYS.items() if f == name), f"aidc:{name}")
        props[key] = sub
    required = [next((k for k, f in PROVIDER_KEYS.items() if f == n), f"aidc:{n}")
                for n in schema.pop("required", [])]
    config = {**schema, "properties": props, "required": required,
              "patternProperties": {"^(gcp|kubernetes|aws):": {}},
              "additionalProperties": False}
    defs = config.pop("$defs", {})
    _accept_secure(config)
    _accept_secure(defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "aidc stack file (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {"config": config, "secretsprovider": {"type": "string"},
                       "encryptedkey": {"type": "string"}, "encryptionsalt": {"type": "string"}},
        "required": ["config"],
        "$defs": defs,
    }
