"""The monitoring section of a stack: who gets paged, for what, and what is drawn.

Read from the stack key `aidc:monitoring` into `MonitoringConfig`. Every field is typed and has a
default; every rule is a validator that names the field, the bad value and what is accepted.

Channel tokens (PagerDuty service keys, Slack and webhook tokens) are `SecretStr`: they are
required, never printed by `repr` or in an error, and the component hands them to the provider
only as Pulumi secrets, so plans, reports and state hold them encrypted or as "[secret]".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from infra.config.base import Spec
from infra.errors import AidcError, Loc, Problem, raise_problems

Mode = Literal["managed", "self-managed"]
Severity = Literal["critical", "warning"]
DashboardName = Literal["gpu", "tpu", "storage", "network"]
CHANNEL_TYPES = ("email", "pagerduty", "slack", "webhook")
DASHBOARDS: tuple[DashboardName, ...] = ("gpu", "tpu", "storage", "network")
# The fields of each channel type that hold a token.
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "email": (), "pagerduty": ("service_key",), "slack": ("auth_token",), "webhook": ("token",)}

# kube-prometheus-stack, pinned: a chart upgrade changes CRDs and rules, so it is a reviewed
# change of this default, never a floating "latest".
# Source: https://github.com/prometheus-community/helm-charts/releases (kube-prometheus-stack-72.9.1,
# as of 2025-06).
KUBE_PROMETHEUS_STACK_CHART = "kube-prometheus-stack"
KUBE_PROMETHEUS_STACK_REPO = "https://prometheus-community.github.io/helm-charts"
KUBE_PROMETHEUS_STACK_VERSION = "72.9.1"
# NVIDIA dcgm-exporter, pinned by tag (<DCGM version>-<exporter version>-<base>); the distroless
# variant ships no shell or package manager. Source: https://catalog.ngc.nvidia.com/orgs/nvidia/
# teams/k8s/containers/dcgm-exporter and https://github.com/NVIDIA/dcgm-exporter/releases
# (4.6.0-4.8.3, as of 2025-10).
DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_IMAGE_TAG = re.compile(r"^[^\s:@]+(:\d+)?(/[^\s:@]+)*(:(?P<tag>[\w][\w.-]{0,127}))?(@sha256:[0-9a-f]{64})?$")
_RFC1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


# ---------------------------------------------------------------------------------------------
# notification channels: a union discriminated on `type`


class EmailChannel(Spec):
    """An e-mail address (Cloud Monitoring channel type `email`)."""

    type: Literal["email"] = Field(description="Selects this channel kind.")
    address: str = Field(description="The mailbox that receives the alerts.")
    display_name: str | None = Field(None, description="Name in the console; default the key.")

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        if not _EMAIL.match(v):
            raise ValueError(f"{v!r} is not an e-mail address (expected name@domain)")
        return v


class PagerDutyChannel(Spec):
    """A PagerDuty service (channel type `pagerduty`); the integration key is a secret."""

    type: Literal["pagerduty"] = Field(description="Selects this channel kind.")
    service_key: SecretStr = Field(
        min_length=1, description="PagerDuty Events API v2 integration key. Put it in the stack "
                                  "file as a secret (`pulumi config set --secret`).")
    display_name: str | None = Field(None, description="Name in the console; default the key.")


class SlackChannel(Spec):
    """A Slack channel (channel type `slack`) posted to with a bot token, which is a secret."""

    type: Literal["slack"] = Field(description="Selects this channel kind.")
    channel_name: str = Field(description="The Slack channel, e.g. '#ml-platform-alerts'.")
    auth_token: SecretStr = Field(
        min_length=1, description="Slack OAuth token of the Google Cloud Monitoring app; secret.")
    display_name: str | None = Field(None, description="Name in the console; default the key.")

    @field_validator("channel_name")
    @classmethod
    def _channel(cls, v: str) -> str:
        if not re.match(r"^#[a-z0-9][a-z0-9._-]{0,79}$", v):
            raise ValueError(f"{v!r} is not a Slack channel name (expected '#name', lowercase)")
        return v


class WebhookChannel(Spec):
    """A generic HTTPS webhook with token authentication (channel type `webhook_tokenauth`).

    Cloud Monitoring sends the token as the `auth_token` query parameter of the URL, so the
    whole URL is handled as a secret once the token is added to it.
    """

    type: Literal["webhook"] = Field(description="Selects this channel kind.")
    url: str = Field(description="HTTPS endpoint that receives the incident JSON.")
    token: SecretStr = Field(min_length=1, description="Token the endpoint checks; secret.")
    display_name: str | None = Field(None, description="Name in the console; default the key.")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        # Not echoed: webhook URLs often carry a token of their own in the path.
        if not re.match(r"^https://[^\s/?#]+(/[^\s?#]*)?$", v):
            raise ValueError("expected an https:// URL without query string or fragment "
                             "(the token is added as ?auth_token=...)")
        return v


ChannelSpec = Annotated[
    Union[EmailChannel, PagerDutyChannel, SlackChannel, WebhookChannel],
    Field(discriminator="type"),
]


# ---------------------------------------------------------------------------------------------
# routing, thresholds, self-managed Prometheus


class Routes(Spec):
    """Which channels receive each severity. Omitted: every channel receives that severity."""

    critical: list[str] | None = Field(
        None, description="Channel keys paged for critical alerts; default every channel.")
    warning: list[str] | None = Field(
        None, description="Channel keys notified of warnings; default every channel.")


class Thresholds(Spec):
    """Alert thresholds; each has a range, because a typo such as 500 % must not be accepted."""

    gpu_idle_utilization_percent: float = Field(
        5.0, ge=0, le=100, description="A GPU pool whose mean DCGM utilization stays below this "
                                       "is idle (paid for, doing nothing).")
    gpu_idle_minutes: int = Field(
        60, ge=5, le=1440, description="How long a pool must stay below the idle threshold.")
    gpu_memory_full_percent: float = Field(
        95.0, gt=0, le=100, description="Framebuffer used / (used + free) above this warns.")
    gpu_memory_minutes: int = Field(
        15, ge=1, le=1440, description="How long GPU memory must stay above the threshold.")
    tpu_duty_cycle_low_percent: float = Field(
        10.0, ge=0, le=100, description="A TPU pool whose mean duty cycle stays below this is idle.")
    tpu_idle_minutes: int = Field(
        60, ge=5, le=1440, description="How long a TPU pool must stay below the duty-cycle floor.")
    node_not_ready_minutes: int = Field(
        10, ge=1, le=1440, description="How long a GPU/TPU node may be NotReady before paging.")
    filestore_used_percent: float = Field(
        85.0, gt=0, le=100, description="Filestore used capacity above this warns.")
    preemption_surge_count: int = Field(
        5, ge=1, le=10000, description="More Spot preemptions than this in the window alerts.")
    preemption_window_minutes: int = Field(
        60, ge=5, le=1440, description="Window the preemptions are counted over.")


class KubePrometheusStack(Spec):
    """The kube-prometheus-stack Helm release of self-managed mode."""

    chart_version: str = Field(
        KUBE_PROMETHEUS_STACK_VERSION,
        description=f"Exact chart version (default {KUBE_PROMETHEUS_STACK_VERSION}); ranges are "
                    "rejected so an upgrade is always a reviewed change.")
    repository: str = Field(KUBE_PROMETHEUS_STACK_REPO, description="Helm repository URL.")
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="Chart values, deep-merged over aidc's defaults (which make Prometheus pick up "
                    "PodMonitors and PrometheusRules from every namespace).")

    @field_validator("chart_version")
    @classmethod
    def _pinned(cls, v: str) -> str:
        if not _SEMVER.match(v):
            raise ValueError(f"{v!r} is not an exact chart version such as "
                             f"{KUBE_PROMETHEUS_STACK_VERSION!r}; pin the chart, no ranges")
        return v

    @field_validator("repository")
    @classmethod
    def _repo(cls, v: str) -> str:
        if not v.startswith(("https://", "oci://")):
            raise ValueError(f"{v!r}: expected an https:// or oci:// Helm repository")
        return v


# ---------------------------------------------------------------------------------------------
# the section


class MonitoringConfig(Spec):
    """Alerts, dashboards and in-cluster metrics for the GPU and TPU fleets (`aidc:monitoring`)."""

    # Channel values may hold decrypted tokens: keep them out of pydantic's error rendering.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    mode: Mode = Field(
        "managed",
        description="'managed': Google Cloud Managed Service for Prometheus collects metrics and "
                    "Cloud Monitoring evaluates every alert. 'self-managed': a pinned "
                    "kube-prometheus-stack runs in the cluster and evaluates the DCGM rules; "
                    "Google Cloud metrics still alert through Cloud Monitoring.")
    namespace: str = Field(
        "aidc-monitoring", description="Kubernetes namespace for the exporter and rules.")
    channels: dict[str, ChannelSpec] = Field(
        default_factory=dict,
        description="Notification channels by key; `type` is one of "
                    f"{', '.join(CHANNEL_TYPES)}. None: alerts show in the console only.")
    routes: Routes = Field(default_factory=Routes, description="Channels per severity.")
    thresholds: Thresholds = Field(default_factory=Thresholds,
                                   description="Alert thresholds; each default is listed below.")
    dashboards: list[DashboardName] | None = Field(
        None, description="Dashboards to create. Default: all of gpu, tpu, storage, network in "
                          "managed mode; tpu, storage, network in self-managed mode (GPU metrics "
                          "then live in the in-cluster Prometheus).")
    auto_close_minutes: int = Field(
        30, ge=30, le=10080, description="An incident with no new data closes after this long.")
    notification_rate_limit_minutes: int = Field(
        5, ge=5, le=1440, description="Log-based alerts notify at most once per this period.")
    kube_prometheus_stack: KubePrometheusStack | None = Field(
        None, description="Self-managed mode only: chart version and values; default the pinned "
                          "chart with aidc's values.")
    dcgm_exporter_image: str = Field(
        DCGM_EXPORTER_IMAGE,
        description="DCGM exporter image, pinned by tag or digest, for clusters without GKE's "
                    "managed DCGM and for self-managed mode.")

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if not _RFC1035.match(v):
            raise ValueError(f"{v!r} is not a Kubernetes namespace name (RFC 1035 label)")
        return v

    @model_validator(mode="before")
    @classmethod
    def _channel_shapes(cls, data: Any) -> Any:
        """Reject an unknown channel `type` or a non-string token here, with a message that
        lists what is accepted and never echoes the channel's values (a decrypted token)."""
        v = data.get("channels") if isinstance(data, dict) else None
        if not isinstance(v, dict):
            return data
        problems = []
        for key, raw in v.items():
            if not isinstance(raw, dict):
                continue
            kind = raw.get("type")
            if kind not in CHANNEL_TYPES:
                accepted = ", ".join(CHANNEL_TYPES)
                if kind is None:
                    problems.append(Problem(("channels", key, "type"), f"required; accepted: {accepted}"))
                else:
                    got = repr(kind) if isinstance(kind, str) and len(kind) <= 32 else "value"
                    problems.append(Problem(("channels", key, "type"),
                                            f"unknown channel type {got}; accepted: {accepted}"))
                continue
            for secret in SECRET_FIELDS[kind]:
                if secret in raw and not isinstance(raw[secret], str | SecretStr):
                    problems.append(Problem(("channels", key, secret), (
                        "expected a string (a secret value, e.g. set with `pulumi config set "
                        "--secret`)")))
        raise_problems(problems)
        return data

    @field_validator("channels")
    @classmethod
    def _channel_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            if not _RFC1035.match(key):
                raise AidcError(f"channel key {key!r}: lowercase letters, digits and '-', "
                                "starting with a letter (it becomes a resource name)", field=key)
        return v

    @field_validator("dcgm_exporter_image")
    @classmethod
    def _image(cls, v: str) -> str:
        m = _IMAGE_TAG.match(v)
        tag = m.group("tag") if m else None
        if m is None or (tag in (None, "latest") and "@sha256:" not in v):
            raise ValueError(f"{v!r}: pin the image by a version tag or an @sha256 digest "
                             f"(e.g. {DCGM_EXPORTER_IMAGE!r}); 'latest' or no tag is rejected")
        return v

    @model_validator(mode="after")
    def _cross_checks(self) -> MonitoringConfig:
        problems = []
        for severity in ("critical", "warning"):
            names = getattr(self.routes, severity)
            for name in names or ():
                if name not in self.channels:
                    problems.append(Problem(("routes", severity), (
                        f"no channel {name!r}; channels defined: "
                        f"{', '.join(sorted(self.channels)) or 'none'}")))
        if self.dashboards is not None:
            seen = set()
            for i, d in enumerate(self.dashboards):
                if d in seen:
                    problems.append(Problem(("dashboards", i), f"{d!r} is listed twice"))
                seen.add(d)
            if self.mode == "self-managed" and "gpu" in self.dashboards:
                problems.append(Problem(("dashboards",), (
                    "'gpu' draws DCGM metrics from Managed Prometheus, but in self-managed mode "
                    "they live in the in-cluster Prometheus (use its Grafana); remove 'gpu' or "
                    "use mode: managed")))
        if self.kube_prometheus_stack is not None and self.mode != "self-managed":
            problems.append(Problem(("kube_prometheus_stack",), (
                "only used with mode: self-managed; remove it or set mode: self-managed")))
        raise_problems(problems)
        return self

    # -- derived -----------------------------------------------------------------------------

    @property
    def resolved_dashboards(self) -> tuple[DashboardName, ...]:
        if self.dashboards is not None:
            return tuple(self.dashboards)
        return DASHBOARDS if self.mode == "managed" else tuple(d for d in DASHBOARDS if d != "gpu")

    @property
    def prometheus_stack(self) -> KubePrometheusStack | None:
        """The Helm release settings in self-managed mode (the pinned default when omitted)."""
        if self.mode != "self-managed":
            return None
        return self.kube_prometheus_stack or KubePrometheusStack()

    def channels_for(self, severity: Severity) -> list[str]:
        """Channel keys that receive `severity`, in the order they are declared."""
        chosen = getattr(self.routes, severity)
        if chosen is None:
            return list(self.channels)
        return [k for k in self.channels if k in chosen]


def _token_fields(raw_monitoring: Any) -> Iterator[tuple[Loc, Any]]:
    """(location, raw value or None) of every token field each channel's type has."""
    channels = raw_monitoring.get("channels") if isinstance(raw_monitoring, dict) else None
    if not isinstance(channels, dict):
        return
    for key, raw in channels.items():
        kind = raw.get("type") if isinstance(raw, dict) else None
        if isinstance(kind, str):
            for field in SECRET_FIELDS.get(kind, ()):
                yield ("monitoring", "channels", str(key), field), raw.get(field)


def secret_fields(raw_monitoring: Any) -> Iterator[tuple[Loc, Any]]:
    """(location, raw value) of every field of a raw `aidc:monitoring` value that must be a
    `secure:` value: each channel's tokens (see SECRET_FIELDS)."""
    return ((loc, value) for loc, value in _token_fields(raw_monitoring) if value is not None)


def unset_secret_fields(raw_monitoring: Any) -> Iterator[Loc]:
    """The location of every token a channel needs that a raw `aidc:monitoring` value leaves
    out: a stack file shipped before its secrets are set (`pulumi config set --secret`)."""
    return (loc for loc, value in _token_fields(raw_monitoring) if value is None)
