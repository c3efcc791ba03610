"""Quotas from capacity: the weighted max-min fair division of every accelerator pool.

The model, per pool, counted in whole units `u` (a GPU node's GPUs, a TPU slice's chips), for
every team `i` with weight `w_i`, guarantee `g_i` and cap `m_i` (default: the pool):

    x_i  integer, the team's quota (Kueue `nominalQuota`) in units
    G_i = g_i / u  <=  x_i  <=  M_i = min(m_i, capacity) / u
    sum_i x_i = T = min(capacity / u, sum_i M_i)     all of the pool is handed out unless
                                                     every team is at its cap
    s_i = (x_i - G_i) / w_i                          the weight-normalised share of what is
                                                     not guaranteed (the team's "level")

and among those allocations the lexicographically max-min one: the smallest level as large as
possible, then the next smallest, and so on (leximin). A level counts the part above the
guarantee, so the weight divides what is not guaranteed, as `aidc:tenants.<team>.weight` says
(Kueue's fair sharing weighs usage above nominal quota the same way).

How it maps to the solver (`scipy.optimize.milp`, i.e. HiGHS: branch-and-cut with relative gap
0 for the integer program, simplex for the linear one): per pool, rounds of a small integer
program and a linear program. (Pools are independent; one program over all of
them is correct too but multiplies the branch-and-bound trees: ten times slower when measured.)

1. Level MILP: integer x_i in [lo_i, M_i] (lo_i starts at G_i) for the teams not yet settled,
   and one integer tau, the smallest level on a grid of 1/D (`level_grid`): rows
   `D x_i - w_i tau >= D G_i` and `sum_i x_i = T - settled`; objective max tau. On that grid
   the largest feasible tau is floor(D t*), and the allocation HiGHS returns has smallest level
   exactly t*, recomputed in fractions from the integral x. (With a continuous level instead,
   HiGHS needs ~30x longer to prove the bound: the integer grid lets it round the rows.)
2. Rise LP: at t*, a team's least quota is a_i = max(lo_i, ceil(G_i + w_i t*)) and it is above
   t* from b_i = max(lo_i, floor(G_i + w_i t*) + 1), one unit more exactly when its level can be
   t*. If the spare units (T - settled - sum_i a_i) lift every team that can rise, all rise;
   otherwise z_i in [0, 1] ("ends above t*") for those teams, row `sum_i z_i <= spare`,
   objective max sum_i (K + r_i) z_i with K above any sum of ranks: first as few teams at t*
   as possible, then by preference rank r_i. One cardinality row makes the LP optimum integral,
   so HiGHS solves it as an LP.
3. Teams left at t* settle at a_i; every other team keeps x_i >= b_i as its new lower bound.
   A pool whose bounds leave no choice settles at once. Next round.

Why that is the leximin allocation: in every leximin-optimal allocation the smallest level is
t*, and as few teams as possible are at it (fewer at the bottom is lexicographically better).
If the spare units lift every team that can rise, the teams left at t* are exactly those capped
there, the same in every optimum, and the rest is the same problem on fewer teams. If not, all
spare units go to distinct teams' first unit above t* and nothing is left, and the leximin
order prefers the teams whose level that unit raises furthest, by 1/w_i: the smallest weight
first. Teams of equal weight are then true ties (the same multiset of levels either way), and
the one whose name sorts first gets the unit; that is the only choice the model leaves open,
so the result is deterministic whatever optimum HiGHS returns.

Borrowing and lending follow from the quotas, in Kueue's terms (ClusterQueue
`spec.resourceGroups[].flavors[].resources[]`, all ClusterQueues in one cohort; see
`Quota`):

- `lendingLimit = nominal - guaranteed`: Kueue reserves `nominalQuota - lendingLimit` for the
  ClusterQueue's exclusive use, so the guarantee is never lent and always ready, and the rest
  of the quota is lent to the cohort while idle.
- `borrowingLimit = min(max, capacity) - nominal`: the team may use idle quota of others up to
  its cap, or up to the whole pool when it has none (Kueue: a ClusterQueue may consume
  `nominalQuota + borrowingLimit`).

Infeasible claims (a guarantee above the team's max or the pool, guarantees that together exceed
a pool, amounts that are not whole units, unknown pools) raise AidcError from the same rules the
config applies (`infra.config.tenants.quota_problems`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from infra.config.tenants import PoolCapacity, TenantConfig, quota_problems
from infra.errors import raise_problems

# HiGHS stops only at a proven optimum (a relative gap would let it return a smaller level).
# Its presolve is off: these programs are small, and with it on HiGHS 1.x prints a debug line
# on stdout after some solves, which would corrupt `--json -` output.
_SOLVER_OPTIONS = {"mip_rel_gap": 0.0, "presolve": False}


@dataclass(frozen=True)
class Quota:
    """One team's quota in one pool, as a Kueue ClusterQueue flavour states it."""

    pool: str
    resource: str
    guaranteed: int
    nominal: int
    borrowing_limit: int
    lending_limit: int
    share: float
    """nominal / capacity: the part of the pool that is the team's."""


@dataclass(frozen=True)
class PoolAllocation:
    """One pool: its key, resource, capacity at maximum size, unit, and what is handed out."""

    pool: str
    resource: str
    capacity: int
    unit: int
    allocated: int


@dataclass(frozen=True)
class TenantAllocation:
    name: str
    namespace: str
    weight: int
    quotas: tuple[Quota, ...]


@dataclass(frozen=True)
class Allocation:
    """Every pool and every team's quotas in it, pools and teams in name order."""

    pools: tuple[PoolAllocation, ...]
    tenants: tuple[TenantAllocation, ...]

    def quota(self, team: str, pool: str) -> Quota:
        for tenant in self.tenants:
            for q in tenant.quotas if tenant.name == team else ():
                if q.pool == pool:
                    return q
        raise KeyError(f"no quota of {team!r} in {pool!r}")

    def as_dict(self) -> dict[str, Any]:
        """The JSON document `aidc tenants --json` writes."""
        return {
            "pools": [{"pool": p.pool, "resource": p.resource, "capacity": p.capacity,
                       "unit": p.unit, "allocated": p.allocated} for p in self.pools],
            "tenants": [{"name": t.name, "namespace": t.namespace, "weight": t.weight,
                         "quotas": [{"pool": q.pool, "resource": q.resource,
                                     "guaranteed": q.guaranteed, "nominal": q.nominal,
                                     "borrowing_limit": q.borrowing_limit,
                                     "lending_limit": q.lending_limit,
                                     "share": round(q.share, 4)} for q in t.quotas]}
                        for t in self.tenants],
        }


def allocate(tenants: Mapping[str, TenantConfig], pools: Mapping[str, PoolCapacity]) -> Allocation:
    """The quotas of every team in every pool (see the module docstring for the model)."""
    raise_problems(quota_problems(tenants, pools))
    teams = sorted(tenants)
    problems = [_PoolProblem.of(key, cap, teams, tenants) for key, cap in sorted(pools.items())]
    grid = level_grid([tenants[t].weight for t in teams])
    for problem in problems:
        _solve(problem, grid)
    quotas: dict[str, list[Quota]] = {team: [] for team in teams}
    for p in problems:
        for team, units in zip(teams, p.units()):
            t = tenants[team]
            guaranteed = t.guaranteed.get(p.key, 0)
            nominal = units * p.cap.unit
            ceiling = min(t.max.get(p.key, p.cap.capacity), p.cap.capacity)
            quotas[team].append(Quota(
                pool=p.key, resource=p.cap.resource, guaranteed=guaranteed, nominal=nominal,
                borrowing_limit=ceiling - nominal, lending_limit=nominal - guaranteed,
                share=nominal / p.cap.capacity if p.cap.capacity else 0.0))
    return Allocation(
        pools=tuple(PoolAllocation(p.key, p.cap.resource, p.cap.capacity, p.cap.unit,
                                   sum(p.units()) * p.cap.unit) for p in problems),
        tenants=tuple(TenantAllocation(team, tenants[team].namespace_of(team),
                                       tenants[team].weight, tuple(quotas[team]))
                      for team in teams))


# ---------------------------------------------------------------------------------------------
# the rounds


@dataclass
class _PoolProblem:
    """One pool's teams (in name order) in units, and how far the rounds have settled them."""

    key: str
    cap: PoolCapacity
    weight: list[int]
    floor: list[int]          # G_i: the guarantee
    high: list[int]           # M_i: the cap, at most the pool
    low: list[int]            # lo_i: the least quota still possible (rises round by round)
    rank: list[int]           # preference when spare units lift only some teams
    total: int                # T: units to hand out
    settled: list[int | None]

    @classmethod
    def of(cls, key: str, cap: PoolCapacity, teams: list[str],
           tenants: Mapping[str, TenantConfig]) -> _PoolProblem:
        unit = cap.unit
        weight = [tenants[t].weight for t in teams]
        floor = [tenants[t].guaranteed.get(key, 0) // unit for t in teams]
        high = [min(tenants[t].max.get(key, cap.capacity), cap.capacity) // unit for t in teams]
        # Smaller weight first (one unit lifts its level furthest), then the team's name.
        order = sorted(range(len(teams)), key=lambda i: (weight[i], teams[i]))
        rank = [0] * len(teams)
        for position, i in enumerate(order):
            rank[i] = len(teams) - position
        return cls(key, cap, weight, floor, high, list(floor), rank,
                   min(cap.units, sum(high)), [None] * len(teams))

    def units(self) -> list[int]:
        """Every team's quota in units, once all are settled."""
        if any(v is None for v in self.settled):
            raise RuntimeError(f"{self.key}: allocation unfinished")
        return [v for v in self.settled if v is not None]

    @property
    def free(self) -> list[int]:
        return [i for i, v in enumerate(self.settled) if v is None]

    @property
    def target(self) -> int:
        """Units the unsettled teams share."""
        return self.total - sum(v for v in self.settled if v is not None)

    def settle_if_forced(self) -> bool:
        """Settle every team when the bounds leave no choice; whether the pool is done."""
        free = self.free
        if free and self.target == sum(self.low[i] for i in free):
            for i in free:
                self.settled[i] = self.low[i]
        elif free and self.target == sum(self.high[i] for i in free):
            for i in free:
                self.settled[i] = self.high[i]
        return not self.free

    def level(self, i: int, units: int) -> Fraction:
        return Fraction(units - self.floor[i], self.weight[i])

    def at_level(self, i: int, t: Fraction) -> tuple[int, int]:
        """(a_i, b_i): team i's least quota at level t, and its least quota above t."""
        exact = self.floor[i] + self.weight[i] * t
        return max(self.low[i], math.ceil(exact)), max(self.low[i], math.floor(exact) + 1)


def level_grid(weights: list[int]) -> int:
    """D such that the largest smallest level t* is found exactly as an integer tau = floor(D t*).

    Levels are (x - G) / w. With D = lcm(w) every level is a multiple of 1/D. Otherwise D =
    w_max * w_next: two different levels a/w and b/v differ by at least 1/(w v) >= 1/D, so no two
    share a cell [k/D, (k+1)/D), and the allocation found at floor(D t*) has smallest level t*.
    """
    distinct = sorted(set(weights), reverse=True) or [1]
    return min(math.lcm(*distinct), distinct[0] * (distinct[1] if len(distinct) > 1 else 1))


def _solve(p: _PoolProblem, grid: int) -> None:
    while not p.settle_if_forced():
        t = _level_milp(p, grid)
        rises = _rise_lp(p, t)
        progress = False
        for i in p.free:
            least, above = p.at_level(i, t)
            if above > p.high[i] or (above > least and i not in rises):
                p.settled[i] = least
                progress = True
            else:
                p.low[i] = above
        if not progress and p.target > sum(p.low[i] for i in p.free):
            raise RuntimeError(f"allocation made no progress in {p.key}")  # cannot happen


def _run(c: list[float], integrality: list[int], lb: list[float], ub: list[float],
         rows: list[tuple[list[int], list[float], float, float]]) -> np.ndarray:
    """Minimise c.x over the rows `(columns, coefficients, low, high)`; the matrices are a few
    dozen columns, so dense."""
    a = np.zeros((len(rows), len(c)))
    for r, (cols, coefs, _, _) in enumerate(rows):
        a[r, cols] = coefs
    result = milp(np.array(c, dtype=float), integrality=np.array(integrality),
                  bounds=Bounds(lb, ub),
                  constraints=LinearConstraint(a, [r[2] for r in rows], [r[3] for r in rows]),
                  options=_SOLVER_OPTIONS)
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"HiGHS found no allocation: {result.message}")  # feasible by checks
    return result.x


def _level_milp(p: _PoolProblem, grid: int) -> Fraction:
    """The largest smallest level of the pool's unsettled teams (step 1)."""
    free = p.free
    n = len(free)
    # Bounds on tau: no team is below its lower bound's level, none above its cap's.
    bottom = math.floor(grid * min(p.level(i, p.low[i]) for i in free))
    top = math.floor(grid * min(p.level(i, p.high[i]) for i in free))
    rows = [([k, n], [grid, -p.weight[i]], grid * p.floor[i], np.inf) for k, i in enumerate(free)]
    rows.append((list(range(n)), [1.0] * n, p.target, p.target))
    x = _run([0.0] * n + [-1.0], [1] * (n + 1), [p.low[i] for i in free] + [bottom],
             [p.high[i] for i in free] + [top], rows)
    return min(p.level(i, round(x[k])) for k, i in enumerate(free))


def _rise_lp(p: _PoolProblem, t: Fraction) -> set[int]:
    """The teams the spare units lift above level t (step 2)."""
    bounds = {i: p.at_level(i, t) for i in p.free}
    candidates = [i for i, (least, above) in bounds.items()
                  if above == least + 1 and above <= p.high[i]]
    spare = p.target - sum(least for least, _ in bounds.values())
    if spare >= len(candidates):
        return set(candidates)
    big = sum(p.rank[i] for i in candidates) + 1
    n = len(candidates)
    # One cardinality row over [0, 1] variables: a basic optimum has at most one variable off
    # its bounds, equal to `spare` minus whole numbers, so the LP relaxation is integral.
    z = _run([-(big + p.rank[i]) for i in candidates], [0] * n, [0] * n, [1] * n,
             [(list(range(n)), [1.0] * n, 0.0, float(spare))])
    if any(min(v, 1 - v) > 1e-6 for v in z):
        raise RuntimeError(f"{p.key}: the rise LP returned a fractional solution {z}")
    return {i for k, i in enumerate(candidates) if z[k] > 0.5}
