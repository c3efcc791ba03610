"""The Markdown report against a base plan: a cost section with the totals before and after, the
change, the resources that moved the maximum most (the figures of `infra.cost.diff`), the unpriced
counts; and a section with no rows is shown, not dropped."""

from __future__ import annotations

from dataclasses import replace

from infra.check.results import CheckResult
from infra.cost import diff_reports, estimate
from infra.report.comparison import (
    BASE_PLAN_COMPARISONS,
    COST_MOVERS,
    base_plan_sections,
    cost_change_section,
)
from infra.report.markdown import render_markdown
from tests.cost.test_pricing import G2_ON_DEMAND_NODE, cluster, plan_of, pool, resource


def result_of(plan) -> CheckResult:  # type: ignore[no-untyped-def]
    return CheckResult(plan=plan, pack_name="aidc-policies", policies=[], violations=[])


def bucket(name: str):  # type: ignore[no-untyped-def]
    return resource("gcp:storage/bucket:Bucket", name, {"location": "us-central1"})


def doubled(node_pool):  # type: ignore[no-untyped-def]
    inputs = {**node_pool.inputs, "autoscaling": {"totalMinNodeCount": 1, "totalMaxNodeCount": 6}}
    return replace(node_pool, inputs=inputs)


def test_cost_section_has_totals_change_movers_and_unpriced_counts() -> None:
    """Doubling a 1-3 g2-standard-8 pool to 1-6, hand computed: a node is 0.853624 $/h x 730 h
    + 200 GiB x $0.10 = $643.14552, so the pool's maximum goes from $1,929.44 (3 nodes, to the
    cent) to $3,858.87 (6 nodes): +$1,929.43. The head also drops an (unpriced) bucket."""
    base = plan_of(cluster(), pool("gpu-pool"), bucket("data-a"), bucket("data-b"))
    head = plan_of(cluster(), doubled(pool("gpu-pool")), bucket("data-a"))
    assert (round(3 * G2_ON_DEMAND_NODE, 2), round(6 * G2_ON_DEMAND_NODE, 2)) == (1929.44, 3858.87)
    md = render_markdown(result_of(head), sections=base_plan_sections(result_of(head), base))
    assert "#### Monthly cost against the base plan" in md
    assert "| Base (`test`) | $716.15 | $2,002.44 |" in md  # 1 node + fee; 3 nodes + fee
    assert "| This change (`test`) | $716.15 | $3,931.87 |" in md
    assert "| **Change** | **+$0.00** | **+$1,929.43** |" in md
    assert "Unpriced resources, not in the totals: 2 in the base, 1 here" in md
    assert ("| changed | **gpu-pool**<br>`gcp:container/nodePool:NodePool`<br>1-6 nodes "
            "(autoscaling totals)") in md
    assert "| $1,929.44 → $3,858.87 | +$1,929.43 | +$0.00 |" in md
    # the removed bucket was unpriced: it is listed, not counted as a saving
    assert "| removed | **data-b**" in md
    # the cost comes before the resource diff
    assert md.index("#### Monthly cost") < md.index("#### Changes against the base plan")


def test_cost_section_reuses_the_cost_diff() -> None:
    """The section's figures are `diff_reports`' own, not arithmetic of its own."""
    base = plan_of(cluster(), pool("gpu-pool"))
    head = plan_of(cluster(), doubled(pool("gpu-pool")))
    change = diff_reports(estimate(base), estimate(head))
    section = cost_change_section(result_of(head), base)
    assert f"+${change.monthly_max_delta:,.2f}" in section.opening
    assert cost_change_section in BASE_PLAN_COMPARISONS


def test_cost_section_lists_only_the_largest_movers() -> None:
    """Twelve pools added: the ten whose maximum moved most, largest first, and a summary
    that says how many there were."""
    pools = [pool(f"pool{i:02d}", autoscaling={"totalMinNodeCount": 0, "totalMaxNodeCount": i})
             for i in range(1, 13)]
    base = plan_of(cluster())
    head = plan_of(cluster(), *pools)
    section = cost_change_section(result_of(head), base)
    rows = list(section.rows)
    assert len(rows) == COST_MOVERS == 10
    assert "the 10 of 12 that move the maximum most" in section.opening
    assert rows[0].startswith("| added | **pool12**")
    assert rows[-1].startswith("| added | **pool03**")


def test_no_cost_change_still_shows_the_totals() -> None:
    plan = plan_of(cluster(), pool("gpu-pool"))
    md = render_markdown(result_of(plan), sections=base_plan_sections(result_of(plan), plan))
    assert "| **Change** | **+$0.00** | **+$0.00** |" in md
    assert "No resource changes its cost." in md
    assert "No differences." in md  # the plan diff's empty section is shown too
