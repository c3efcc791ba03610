"""Monitoring: the `MonitoringStack` component (`stack`) and the pure definitions it renders,
alert policies (`alerts`), dashboards (`dashboards`, checked against `dashboard_schema`) and the
in-cluster objects (`k8s`). The definitions import no Pulumi and are tested on their own."""
