"""A Mermaid flowchart of a stack's components, for the pull-request comment.

Plans hold thousands of custom resources but only tens of components, and a reviewer thinks in
components ("the prod GPU pool"), so components are the nodes and their resources are a count by
type inside the label. Components with violations are coloured so the picture says where the
problems are. Past `MAX_NODES` components the nodes become component *types* (with how many of
each), because GitHub stops rendering large diagrams and nobody reads them anyway.

Labels are escaped with Mermaid's `#NN;` entity codes, node ids are generated (`c0`, `c1`, ...),
so no resource name can break the diagram or inject syntax.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from infra.engine.plan import STACK_TYPE, Plan, PlanResource
from infra.check.results import Violation

MAX_NODES = 80
MAX_TYPES_PER_NODE = 5
MAX_LABEL_PART = 60

# Mermaid decodes `#<decimal>;` inside labels; these characters would otherwise end a quoted
# label, open a shape, start an entity, be read as HTML or as a Markdown string.
_ESCAPES = {ord(c): f"#{ord(c)};" for c in '"#&();<>[]`{|}'}
_ESCAPES.update({ord("\n"): " ", ord("\r"): " ", ord("\t"): " "})

CLASS_DEFS = {
    "fail": "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,color:#1f2328",
    "warn": "fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#1f2328",
    "waived": "fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4 3,color:#1f2328",
}


@dataclass(frozen=True)
class Diagram:
    """The flowchart source (without the ``` fence) and what it shows."""

    source: str
    nodes: int
    aggregated: bool  # nodes are component types, because there were too many components


def escape_label(text: str, limit: int = MAX_LABEL_PART) -> str:
    """Text safe inside a quoted Mermaid label, shortened to `limit` characters first."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_ESCAPES)


def short_type(type_token: str) -> str:
    """'gcp:storage/bucket:Bucket' -> 'Bucket'; what a label has room for."""
    return type_token.rsplit(":", 1)[-1]


def _qualified_type(type_token: str) -> str:
    """'gcp:projects/iAMMember:IAMMember' -> 'projects.IAMMember', to tell apart short clashes."""
    parts = type_token.split(":")
    if len(parts) != 3:
        return type_token
    return f"{parts[1].split('/', 1)[0]}.{parts[2]}"


def _type_names(types: Iterable[str]) -> dict[str, str]:
    """The shortest unambiguous display name of each type across the whole plan."""
    types = set(types)
    by_short = Counter(short_type(t) for t in types)
    by_qual = Counter(_qualified_type(t) for t in types)
    names = {}
    for t in types:
        if by_short[short_type(t)] == 1:
            names[t] = short_type(t)
        elif by_qual[_qualified_type(t)] == 1:
            names[t] = _qualified_type(t)
        else:
            names[t] = t
    return names


class _Owners:
    """Nearest node (component) at or above a URN, memoised so the whole plan costs O(n)."""

    def __init__(self, by_urn: dict[str, PlanResource], nodes: set[str]) -> None:
        self._by_urn = by_urn
        self._nodes = nodes
        self._memo: dict[str, str | None] = {}

    def __call__(self, urn: str | None) -> str | None:
        path: list[str] = []
        seen: set[str] = set()
        cur, found = urn, None
        while cur is not None:
            if cur in self._memo:
                found = self._memo[cur]
                break
            if cur in self._nodes:
                found = cur
                break
            res = self._by_urn.get(cur)
            if res is None or cur in seen:
                # An unknown parent (a partial plan): trust the engine's own attribution.
                last = self._by_urn.get(path[-1]) if path else None
                found = last.component if last and last.component in self._nodes else None
                break
            seen.add(cur)
            path.append(cur)
            cur = res.parent
        for p in path:
            self._memo[p] = found
        return found


def _count_lines(counts: Counter[str], names: dict[str, str]) -> list[str]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], names[kv[0]]))
    lines = [escape_label(f"{n}× {names[t]}") for t, n in ranked[:MAX_TYPES_PER_NODE]]
    rest = ranked[MAX_TYPES_PER_NODE:]
    if rest:
        lines.append(escape_label(f"+{sum(n for _, n in rest)} more of {len(rest)} types"))
    return lines


def _violation_line(n: int) -> list[str]:
    return [escape_label(f"⚠ {n} violation{'s' if n != 1 else ''}")] if n else []


def _status_class(vs: list[Violation]) -> str | None:
    if any(v.blocking for v in vs):
        return "fail"
    if any(v.status in ("advisory", "mandatory") for v in vs):
        return "warn"
    return "waived" if vs else None


def component_flowchart(plan: Plan, violations: Iterable[Violation] = (), *,
                        max_nodes: int = MAX_NODES, aggregate: bool | None = None) -> Diagram:
    """Components as nodes, child components under their parents, resources as counts.

    `aggregate=None` switches to one node per component type past `max_nodes` components;
    True or False forces the choice.
    """
    by_urn = plan.by_urn()
    components = [r for r in plan.resources if not r.custom and r.type != STACK_TYPE]
    owner = _Owners(by_urn, {c.urn for c in components})
    if aggregate is None:
        aggregate = len(components) > max_nodes

    # Key each component to its node: itself, or its type when aggregated.
    key_of = {c.urn: (c.type if aggregate else c.urn) for c in components}
    keys = list(dict.fromkeys(key_of.values()))
    node_id = {k: f"{'t' if aggregate else 'c'}{i}" for i, k in enumerate(keys)}
    members = Counter(key_of.values())

    counts: dict[str, Counter[str]] = {k: Counter() for k in keys}
    for r in plan.resources:
        if r.custom:
            o = owner(r.urn)
            if o is not None:
                counts[key_of[o]][r.type] += 1

    edges: dict[tuple[str, str], None] = {}
    for c in components:
        p = owner(c.parent)
        if p is not None and key_of[p] != key_of[c.urn]:
            edges[(node_id[key_of[p]], node_id[key_of[c.urn]])] = None

    hits: dict[str, list[Violation]] = {}
    for v in violations:
        o = owner(v.urn) if v.urn in by_urn else None
        if o is not None:
            hits.setdefault(key_of[o], []).append(v)

    names = _type_names(t for cs in counts.values() for t in cs)
    lines = ["flowchart LR"]
    if not keys:
        lines.append('  empty["no components in this plan"]')
    by_key = {c.urn: c for c in components}
    for k in keys:
        if aggregate:
            head = [escape_label(f"{short_type(k)} ×{members[k]}")]
        else:
            c = by_key[k]
            head = [escape_label(short_type(c.type)), escape_label(c.name)]
        label = "<br/>".join(head + _count_lines(counts[k], names)
                             + _violation_line(len(hits.get(k, ()))))
        lines.append(f'  {node_id[k]}["{label}"]')
    lines.extend(f"  {a} --> {b}" for a, b in edges)

    classes: dict[str, list[str]] = {}
    for k in keys:
        cls = _status_class(hits.get(k, []))
        if cls:
            classes.setdefault(cls, []).append(node_id[k])
    for cls, ids in sorted(classes.items()):
        lines.append(f"  classDef {cls} {CLASS_DEFS[cls]}")
        lines.append(f"  class {','.join(ids)} {cls}")
    return Diagram(source="\n".join(lines) + "\n", nodes=len(keys), aggregated=aggregate)
