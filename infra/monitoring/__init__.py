"""Monitoring for the accelerator fleet: config model, alert and dashboard definitions as data,
in-cluster manifests and their validators. `components.monitoring.MonitoringStack` builds them."""

from infra.monitoring.config import MonitoringConfig

__all__ = ["MonitoringConfig"]
