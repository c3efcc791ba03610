"""Compute Engine VM hardening: Shielded VM, OS Login, no project-wide SSH keys, no serial port,
no default service account.

Each rule is `rule(args, config) -> Iterator[message]`. VM types are every type that creates or
templates a VM (`VM_TYPES`): Instance, InstanceTemplate, RegionInstanceTemplate, and instances
from a template or a machine image, which inherit what they leave unset (judged on the template,
where it is in the stack); the OS Login and serial-port rules also read project metadata.
Each policy's `PolicyMeta` record stands above its rule; `RULES` lists both, in roster order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._util import get, inherited_from_source, is_default_compute_sa, is_false, is_true
from .protocol import PROJECT_METADATA, PROJECT_METADATA_ITEM, VM_TYPES
from .record import Cis, PolicyMeta, Rule

_OS_LOGIN = "enable-oslogin"
_SERIAL = "serial-port-enable"
_BLOCK_KEYS = "block-project-ssh-keys"


C1 = PolicyMeta(
    id="C1", name="instance-shielded-vm", concern="compute", severity="medium",
    description="VMs are Shielded VMs: Secure Boot, vTPM and integrity monitoring.",
    resource_types=VM_TYPES,
    remediation="Set shielded_instance_config {enable_secure_boot: True, enable_vtpm: True, "
                "enable_integrity_monitoring: True} and use a Shielded VM image.",
    url="https://cloud.google.com/compute/shielded-vm/docs/shielded-vm",
    defaults={"shieldedInstanceConfig.enableSecureBoot": False,
              "shieldedInstanceConfig.enableVtpm": True,
              "shieldedInstanceConfig.enableIntegrityMonitoring": True},
    cis=(Cis("GCP", "2.0", "4.8"),),
    checkov=("CKV_GCP_39",),
)


def instance_shielded_vm(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """C1: Secure Boot, vTPM and integrity monitoring detect boot-level tampering (CIS 4.8)."""
    inherited_from_source(args, "shieldedInstanceConfig")
    shielded = get(args.props, "shieldedInstanceConfig", default={})
    if not is_true(get(shielded, "enableSecureBoot",
                       default=C1.default("shieldedInstanceConfig.enableSecureBoot"))):
        yield "shieldedInstanceConfig.enableSecureBoot is off (the provider default)"
    if is_false(get(shielded, "enableVtpm",
                    default=C1.default("shieldedInstanceConfig.enableVtpm"))):
        yield "shieldedInstanceConfig.enableVtpm is false"
    if is_false(get(shielded, "enableIntegrityMonitoring",
                    default=C1.default("shieldedInstanceConfig.enableIntegrityMonitoring"))):
        yield "shieldedInstanceConfig.enableIntegrityMonitoring is false"


def _metadata_item(args: Any, key: str) -> Any:
    """ProjectMetadataItem's value for `key`, or not_applicable for any other key."""
    item_key = get(args.props, "key")
    if item_key != key:
        args.not_applicable(f"metadata item {item_key!r} is not {key!r}")
    return get(args.props, "value")


C2 = PolicyMeta(
    id="C2", name="instance-os-login", concern="compute", severity="medium",
    description="OS Login is on: project metadata enables it and no VM turns it off.",
    resource_types=(*VM_TYPES, PROJECT_METADATA, PROJECT_METADATA_ITEM),
    remediation="Set metadata enable-oslogin=TRUE on the project; remove enable-oslogin="
                "FALSE from VMs.",
    url="https://cloud.google.com/compute/docs/oslogin",
    defaults={"metadata.enable-oslogin": "VM: inherits the project; ProjectMetadata "
                                         "(authoritative): off"},
    cis=(Cis("GCP", "2.0", "4.4"),),
    checkov=("CKV_GCP_34", "CKV_GCP_33"),
)


def instance_os_login(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """C2: OS Login ties SSH to IAM identities and 2FA instead of unmanaged keys (CIS 4.4)."""
    if args.resource_type == PROJECT_METADATA_ITEM:
        value = _metadata_item(args, _OS_LOGIN)
        if not is_true(value):
            yield f"project metadata {_OS_LOGIN} is {value!r}"
    elif args.resource_type == PROJECT_METADATA:
        value = get(args.props, "metadata", _OS_LOGIN)
        if not is_true(value):
            yield (f"project metadata (authoritative) does not set {_OS_LOGIN}=TRUE"
                   if value is None else f"project metadata {_OS_LOGIN} is {value!r}")
    elif is_false(get(args.props, "metadata", _OS_LOGIN)):
        yield f"metadata {_OS_LOGIN} turns OS Login off for this VM"


C3 = PolicyMeta(
    id="C3", name="instance-block-project-ssh-keys", concern="compute", severity="medium",
    description="VMs block project-wide SSH keys.",
    resource_types=VM_TYPES,
    remediation="Set metadata block-project-ssh-keys=TRUE (or rely on OS Login).",
    url="https://cloud.google.com/compute/docs/connect/restrict-ssh-keys",
    defaults={"metadata.block-project-ssh-keys": False},
    cis=(Cis("GCP", "2.0", "4.3"),),
    checkov=("CKV_GCP_32",),
    divergence='As CKV_GCP_32, whose fixtures leave an instance from a template without the key UNKNOWN: aidc judges the key where it is set and leaves an inherited one to the template (not applicable), and judges regional templates and instances from machine images too.',
)


def instance_block_project_ssh_keys(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """C3: project-wide SSH keys open every VM to every key holder (CIS 4.3)."""
    inherited_from_source(args, "metadata", _BLOCK_KEYS)
    value = get(args.props, "metadata", _BLOCK_KEYS,
                default=C3.default(f"metadata.{_BLOCK_KEYS}"))
    if not is_true(value):
        yield f"metadata {_BLOCK_KEYS} is not TRUE, so project-wide SSH keys work on this VM"


C4 = PolicyMeta(
    id="C4", name="instance-no-serial-port", concern="compute", severity="medium",
    description="Interactive serial console access is off (VMs and project metadata).",
    resource_types=(*VM_TYPES, PROJECT_METADATA, PROJECT_METADATA_ITEM),
    remediation="Remove metadata serial-port-enable (or set it to FALSE).",
    url="https://cloud.google.com/compute/docs/troubleshooting/"
        "troubleshooting-using-serial-console",
    defaults={"metadata.serial-port-enable": False},
    cis=(Cis("GCP", "2.0", "4.5"),),
    checkov=("CKV_GCP_35",),
)


def instance_no_serial_port(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """C4: the interactive serial console accepts connections from any IP (CIS 4.5)."""
    default = C4.default(f"metadata.{_SERIAL}")
    if args.resource_type == PROJECT_METADATA_ITEM:
        value = _metadata_item(args, _SERIAL)
    else:
        value = get(args.props, "metadata", _SERIAL, default=default)
    if is_true(value):
        where = ("project metadata"
                 if args.resource_type in (PROJECT_METADATA, PROJECT_METADATA_ITEM) else "metadata")
        yield f"{where} {_SERIAL} is {value!r}: the interactive serial console is on"


C5 = PolicyMeta(
    id="C5", name="instance-no-default-sa", concern="compute", severity="high",
    description="VMs do not run as the default compute service account.",
    resource_types=VM_TYPES,
    remediation="Set service_account.email to a dedicated least-privilege account.",
    url="https://cloud.google.com/compute/docs/access/service-accounts",
    defaults={"serviceAccount": None,
              "serviceAccount.email": "the default compute service account"},
    cis=(Cis("GCP", "2.0", "4.1"), Cis("GCP", "2.0", "4.2")),
    checkov=("CKV_GCP_30", "CKV_GCP_31"),
    divergence='Narrower than CKV_GCP_30, which fails a VM with no service_account block: the API then attaches no account at all (only gcloud defaults to the default SA), so aidc passes it. Judges templates and instances from templates too.',
)


def instance_no_default_sa(args: Any, config: Mapping[str, Any]) -> Iterator[str]:
    """C5: the default compute SA is project Editor (CIS 4.1, 4.2)."""
    account = get(args.props, "serviceAccount")
    if account is None:
        return  # no service account attached at all
    email = get(account, "email")
    if email is None:
        yield "serviceAccount.email is not set, so the VM runs as the default compute SA"
    elif is_default_compute_sa(email):
        yield f"serviceAccount.email {email!r} is the default compute SA"


RULES: tuple[tuple[PolicyMeta, Rule], ...] = (
    (C1, instance_shielded_vm),
    (C2, instance_os_login),
    (C3, instance_block_project_ssh_keys),
    (C4, instance_no_serial_port),
    (C5, instance_no_default_sa),
)
