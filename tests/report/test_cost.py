"""Text renderings of a cost report and a cost diff."""

from __future__ import annotations

from datetime import date

from infra.cost import CostLine, CostReport, Unpriced, diff_reports
from infra.report.cost import render_cost, render_cost_diff

COMPONENT = "urn:pulumi:prod::aidc::aidc:gpu_pool:GpuNodePool::gpu-a"


def sample(pool_max: float = 1000.0) -> CostReport:
    return CostReport(
        project="aidc", stack="prod", currency="USD", as_of=date(2026, 12, 3), hours_per_month=730,
        lines=(
            CostLine("urn:1", "gcp:container/nodePool:NodePool", "gpu-a-pool", COMPONENT, 0.0,
                     pool_max, "0-2 nodes x g2-standard-8", capacity="spot"),
            CostLine("urn:2", "gcp:container/cluster:Cluster", "gke-cluster", None, 73.0, 73.0,
                     "1 cluster x fee"),
            CostLine("urn:3", "gcp:projects/service:Service", "api", None, 0.0, 0.0,
                     "enabling an API carries no charge", charge="free"),
            CostLine("urn:4", "gcp:compute/routerNat:RouterNat", "nat", None, 1.0, 2.0, "nat",
                     usage=("Cloud NAT data processed $0.045/GiB",)),
        ),
        unpriced=(Unpriced("urn:5", "gcp:filestore/instance:Instance", "share", None,
                           "no Filestore prices"),),
    )


def test_report_groups_by_component_with_totals_and_what_is_left_out() -> None:
    text = render_cost(sample())
    assert text.startswith("Cost of aidc/prod: USD a month (730 h), list prices, catalog as of "
                           "2026-12-03")
    assert "gpu-a  <aidc:gpu_pool:GpuNodePool>" in text
    assert "gpu-a-pool [spot]" in text and "0-2 nodes x g2-standard-8" in text
    total = next(row for row in text.splitlines() if row.startswith("Total (priced resources)"))
    assert total.split()[-2:] == ["74.00", "1,075.00"]
    assert "Unpriced (1), not in the total:\n  share  (gcp:filestore/instance:Instance): " \
           "no Filestore prices" in text
    assert "Billed by use, not in the figures:\n  Cloud NAT data processed $0.045/GiB" in text
    assert "1 x gcp:projects/service:Service: enabling an API carries no charge" in text


def test_diff_shows_totals_and_the_resources_that_moved_them() -> None:
    text = render_cost_diff(diff_reports(sample(1000.0), sample(2000.0)))
    assert "  maximum       1,075.00      2,075.00     +1,000.00" in text
    assert "  minimum          74.00         74.00         +0.00" in text
    assert "changed      gpu-a-pool  max 1,000.00 -> 2,000.00 (+1,000.00)" in text
    assert "No resource's cost changed." in render_cost_diff(diff_reports(sample(), sample()))
