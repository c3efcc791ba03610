"""The pull-request comment: verdict, severity table, folded details, a component diagram; every
name escaped, and never over GitHub's comment limit."""

from __future__ import annotations

import random
import re

from hypothesis import given
from hypothesis import strategies as st

from infra.engine.plan import STACK_TYPE
from infra.report import render
from infra.report.markdown import GITHUB_COMMENT_LIMIT, code, md_text, render_markdown
from infra.report.mermaid import component_flowchart, escape_label
from tests.report_fixtures import NASTY_NAME, make_many, make_result

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_NODE = re.compile(r'^  ([A-Za-z][A-Za-z0-9_]*)\["(.*)"\]$')


def _mermaid(md: str) -> str:
    blocks = re.findall(r"```mermaid\n(.*?)```", md, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def _nodes(diagram: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for line in diagram.splitlines()
            if (m := _NODE.match(line))}


def _table(md: str, header: str) -> list[list[str]]:
    """Rows (as cells) of the table whose header row starts with `header`."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in _UNESCAPED_PIPE.split(line)[1:-1]])
    return rows


def test_summary_line_has_verdict_stack_and_counts() -> None:
    md = render_markdown(make_result())
    assert "### ❌ aidc policy check failed on stack `dev`" in md
    assert "**1 mandatory** · 3 advisory · 1 waived · 5 violations of 3 of 5 policies" in md
    assert "13 resources" in md
    clean = render_markdown(make_result(violations=False))
    assert "### ✅ aidc policy check passed on stack `dev`" in clean
    assert "#### Violations" not in clean


def test_severity_table_counts() -> None:
    rows = _table(render_markdown(make_result()), "| Severity |")
    assert rows == [["critical", "1", "0", "1"], ["high", "0", "0", "0"],
                    ["medium", "0", "2", "0"], ["low", "0", "1", "0"],
                    ["**Total**", "**1**", "**3**", "**1**"]]


def test_one_details_section_per_violated_policy_plus_diagnostics() -> None:
    md = render_markdown(make_result())
    summaries = re.findall(r"<summary>(.*?)</summary>", md)
    assert [s.split("</b>")[0] for s in summaries] == [
        "<b>storage-cmek", "<b>bucket-versioning", "<b>project-labels",
        "<b>1 check not verifiable at preview"]
    assert md.count("<details>") == md.count("</details>") == 4
    assert "**Remediation:** Set encryption.defaultKmsKeyName to a key from KmsKeys." in md
    assert "**References:** CIS GCP 5.3, CKV\\_GCP\\_81" in md


def test_waived_violation_appears_with_its_reason_without_pinging_anyone() -> None:
    md = render_markdown(make_result())
    row = next(line for line in md.splitlines() if "**data-scratch**" in line)
    assert "🔕 waived: Scratch data is regenerated nightly; ticket SEC-42 \\| approved by " \
           "@\u2060sec" in row


def test_table_rows_keep_their_columns_despite_pipes_in_text() -> None:
    """Every row of every table has as many cells as its header: pipes in text are escaped."""
    md = render_markdown(make_result())
    tables: list[list[str]] = []
    previous = ""
    for line in md.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    assert len(tables) == 5  # severities, three policies, diagnostics
    for table in tables:
        widths = {len(_UNESCAPED_PIPE.split(row)) for row in table}
        assert len(widths) == 1, table
    assert "defaultKmsKeyName \\| uses Google keys" in md
    assert "versioning is off &lt;b&gt;" in md  # no raw HTML from a message


def test_differing_remediations_get_their_own_column() -> None:
    rows = _table(render_markdown(make_result()), "| Resource | Status | Message | Remediation |")
    assert [r[3] for r in rows] == ["Set versioning.", "Set versioning.enabled = true."]
    assert rows[0][0].startswith('**data\\|"x"\\[y\\]&lt;z&gt;#1\\`**')


def test_mermaid_has_one_node_per_component_with_safe_ids() -> None:
    result = make_result()
    components = [r for r in result.plan.resources if not r.custom and r.type != STACK_TYPE]
    nodes = _nodes(_mermaid(render_markdown(result)))
    assert len(nodes) == len(components) == 5
    assert all(re.fullmatch(r"c\d+", node_id) for node_id in nodes)
    labels = list(nodes.values())
    assert [label.split("<br/>")[0] for label in labels] == [
        "VpcFabric", "KmsKeys", "DataBuckets", "GkeCluster", "GpuNodePool"]


def test_mermaid_counts_resources_by_type_inside_each_component() -> None:
    nodes = _nodes(_mermaid(render_markdown(make_result())))
    fabric = nodes["c0"].split("<br/>")
    assert fabric == ["VpcFabric", "fabric", "2× Subnetwork", "1× Network"]
    cluster = nodes["c3"].split("<br/>")
    # two IAMMember types would clash on their short name: the module tells them apart
    assert {"1× projects.IAMMember", "1× serviceaccount.IAMMember"} <= set(cluster)


def test_mermaid_escapes_labels() -> None:
    nodes = _nodes(_mermaid(render_markdown(make_result())))
    storage = nodes["c2"].split("<br/>")[1]
    assert storage == escape_label(NASTY_NAME)
    assert storage == "data#124;#34;x#34;#91;y#93;#60;z#62;#35;1#96;"
    for label in nodes.values():
        assert not set(label.replace("<br/>", "")) & set('"[]<>|`{}')


def test_mermaid_edges_and_highlights() -> None:
    diagram = _mermaid(render_markdown(make_result()))
    edges = re.findall(r"^  (\w+) --> (\w+)$", diagram, flags=re.M)
    assert edges == [("c3", "c4")]  # the GPU pool sits under its cluster; the rest under the stack
    assert "classDef fail " in diagram
    assert re.search(r"^  class c2 fail$", diagram, flags=re.M)
    assert "⚠ 4 violations" in _nodes(diagram)["c2"]


def test_mermaid_groups_by_type_past_the_node_limit() -> None:
    result = make_many(40, n_components=30)
    diagram = component_flowchart(result.plan, result.violations, max_nodes=10)
    assert diagram.aggregated and diagram.nodes == 1
    assert _nodes(diagram.source) == {"t0": "DataBuckets ×30<br/>40× Bucket<br/>⚠ 40 violations"}
    assert component_flowchart(result.plan, result.violations).nodes == 30


def test_truncates_details_past_the_comment_limit() -> None:
    result = make_many(3000)
    md = render_markdown(result)
    assert len(md.encode()) <= GITHUB_COMMENT_LIMIT
    note = re.search(r"Not shown: (\d+) of 3000 violations", md)
    assert note and 0 < int(note.group(1)) < 3000
    shown = md.count("| **bucket-")
    assert shown + int(note.group(1)) == 3000
    assert md.count("<details>") == md.count("</details>")
    assert "```mermaid" in md


def test_respects_a_smaller_limit() -> None:
    md = render_markdown(make_many(300), limit=10_000)
    assert len(md.encode()) <= 10_000
    assert "Not shown:" in md


def test_small_result_is_not_truncated() -> None:
    assert "Not shown" not in render_markdown(make_result())


def test_same_bytes_whatever_the_input_order() -> None:
    result = make_result()
    expected = render(result, "markdown")
    shuffled = list(result.violations)
    random.Random(7).shuffle(shuffled)
    result.violations = shuffled
    assert render(result, "markdown") == expected


@given(st.text())
def test_md_text_never_breaks_a_table_row(text: str) -> None:
    out = md_text(text)
    assert not _UNESCAPED_PIPE.search(out)
    assert "\n" not in out and "\r" not in out
    assert "<" not in out.replace("<br>", "") and ">" not in out.replace("<br>", "")


@given(st.text())
def test_code_span_never_breaks_a_table_row(text: str) -> None:
    out = code(text)
    assert not _UNESCAPED_PIPE.search(out)
    assert "\n" not in out


@given(st.text())
def test_mermaid_label_has_no_syntax_characters(text: str) -> None:
    out = escape_label(text, limit=10_000)
    assert not set(out) & set('"[]<>|`{}()\n\r')
