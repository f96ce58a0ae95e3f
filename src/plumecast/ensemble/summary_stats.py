"""Statistics over ensemble members: the :class:`Summary` of a comparison that its tables
(:mod:`plumecast.ensemble.summary`) and files are made from.

Everything here works on the small per-member results gathered by
:func:`plumecast.ensemble.compare.run_members` (arrays of one value per member, plan and
receptor) and on the exceedance counts already summed on the workers. Intervals are
empirical 5-95 % quantiles over members (:func:`plumecast.ensemble.summary_text.quantiles`),
and over the agent's probit sets where it has several (DESIGN.md, "Honest numbers"): the
median is the first set's, the 5 % bound comes from each member's lowest set and the 95 %
from its highest. Lives saved are paired by member and by set (``baseline[m, s] -
plan[m, s]``), so the spread that both plans share cancels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.ensemble.compare import LEVELS, RawComparison
from plumecast.ensemble.summary_text import ONE_MEMBER, quantiles, times_range


@dataclass
class Summary:
    raw: RawComparison
    plans: list[str]
    totals: dict[str, NDArray[np.float64]]  # plan -> total fatalities per member
    unknown: dict[str, NDArray[np.int64]]  # plan -> receptors with unknown fatalities per member
    saved: dict[str, NDArray[np.float64]]  # plan -> lives saved vs baseline per member (paired)
    receptor_names: list[str]
    per_city: list[dict[str, Any]]  # rows: one per (city, plan)
    delay_rows: list[dict[str, Any]]
    probability: xr.Dataset | None
    #: how the tables name each receptor (``receptor_names`` where None): receptors that share a name are told
    #: apart by their position (:func:`receptor_labels`)
    receptor_labels: list[str] | None = None
    #: plan -> (member, probit set) total fatalities under each of the agent's probit sets (None: one set)
    totals_sets: dict[str, NDArray[np.float64] | None] | None = None

    def sets_of(self, plan: str, other: str | None = None) -> NDArray[np.float64] | None:
        """The (member, probit set) totals of ``plan``, or ``other``'s minus ``plan``'s paired by member and set
        (lives saved against ``other``); None without the sets."""
        sets = (self.totals_sets or {}).get(plan)
        if other is None or sets is None:
            return sets
        them = (self.totals_sets or {}).get(other)
        return None if them is None or them.shape != sets.shape else them - sets

    def fatalities_q(self, plan: str) -> tuple[float, float, float]:
        """The plan's total fatalities, median (5 %, 95 %) over members and probit sets."""
        return quantiles(self.totals[plan], self.sets_of(plan))

    def saved_q(self, plan: str) -> tuple[float, float, float]:
        """The lives the plan saves against the baseline, as :meth:`fatalities_q`."""
        return quantiles(self.saved[plan], self.sets_of(plan, self.plans[0]))

    @property
    def n_members(self) -> int:
        return len(self.raw.members)

    @property
    def single(self) -> bool:
        """One member: a single run, with no ensemble spread and no probabilities."""
        return self.n_members == 1

    def label(self, r: int) -> str:
        """How the tables name receptor ``r``."""
        return (self.receptor_labels or self.receptor_names)[r]

    def rows_of(self, plan: str) -> list[dict[str, Any]]:
        """The rows of :attr:`per_city` of one plan, one per receptor in receptor order
        (indexed by receptor, never by name: two receptors may share a name)."""
        return [r for r in self.per_city if r["plan"] == plan]


def _place_value(v: Any) -> Any:
    """A receptor's place column as a plain value: a float for numbers (NaN: unknown), else text."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool) or v is None:
        return v
    return float(v) if isinstance(v, int | float) else str(v)


def _stack(raw: RawComparison, plan: str, attr: str) -> NDArray[np.float64]:
    return np.stack([np.asarray(getattr(m.outcomes[plan], attr), dtype=float) for m in raw.members])


def summarise(raw: RawComparison, receptor_names: list[str], labels: list[str] | None = None,
              places: dict[str, Any] | None = None) -> Summary:
    """Statistics over members for every plan (the baseline is the first plan); ``labels``:
    how the tables name the receptors (:func:`receptor_labels`; default their names);
    ``places``: columns about each receptor (``lat``, ``lon``, ``country``, ``population``;
    arrays in receptor order) written into each row: ``cities.csv`` then tells receptors
    that share a name apart, and the dashboard shows where they are and how many live there."""
    plans = [p.name for p in raw.setup.plans]
    base = plans[0]
    totals = {p: np.array([m.outcomes[p].total_fatalities for m in raw.members]) for p in plans}
    unknown = {p: np.array([m.outcomes[p].n_unknown for m in raw.members], dtype=np.int64) for p in plans}
    saved = {p: totals[base] - totals[p] for p in plans}
    totals_sets = {p: _sets_stack([m.outcomes[p] for m in raw.members]) for p in plans}
    rows: list[dict[str, Any]] = []
    n = len(raw.members)
    place_cols = {k: np.asarray(v) for k, v in (places or {}).items() if v is not None}
    for p in plans:
        ex2, ex3 = _stack(raw, p, "exceed2"), _stack(raw, p, "exceed3")
        a2, a3 = _stack(raw, p, "arrival2_s") / 3600.0, _stack(raw, p, "arrival3_s") / 3600.0
        fat = _stack(raw, p, "fatalities")
        fat_sets = (np.stack([np.asarray(m.outcomes[p].fatalities_sets, dtype=float) for m in raw.members])
                    if totals_sets[p] is not None else None)  # (member, set, receptor)
        # the members where the receptor's air itself is unknown (off the model domain); without that record,
        # whether it reaches AEGL-2 (unknown also where only the agent's AEGL is missing)
        air = (np.stack([np.asarray(m.outcomes[p].air_known, dtype=float) for m in raw.members])
               if all(m.outcomes[p].air_known is not None for m in raw.members) else ex2)
        front = _stack(raw, p, "front_arrival_s") / 3600.0
        for r, name in enumerate(receptor_names):
            known = np.isfinite(ex2[:, r])
            k3 = np.isfinite(ex3[:, r])
            # the members where the front and AEGL-3 both reach the city: a member without AEGL-3 there needs
            # no front, and counting it as "the front first" gave Tokyo 10 % where no front beat the gas
            both = np.isfinite(front[:, r]) & np.isfinite(a3[:, r])
            margin = a3[:, r] - front[:, r]  # > 0: the front arrives before AEGL-3
            where = {k: _place_value(v[r]) for k, v in place_cols.items()}
            rows.append({
                "city": name, **where, "plan": p, "members": n,
                "p_aegl2": float(ex2[known, r].mean()) if known.any() else math.nan,
                "p_aegl3": float(ex3[k3, r].mean()) if k3.any() else math.nan,
                "members_unknown": int(n - known.sum()),
                "members_unknown_aegl3": int(n - k3.sum()),
                "members_off_domain": int(n - np.isfinite(air[:, r]).sum()),
                **{f"aegl2_arrival_h_{k}": v for k, v in zip(("min", "median", "max"), times_range(a2[:, r], known),
                                                                 strict=True)},
                **{f"aegl3_arrival_h_{k}": v for k, v in zip(("min", "median", "max"), times_range(a3[:, r], k3),
                                                                 strict=True)},
                **{f"fatalities_{k}": v for k, v in zip(("p5", "median", "p95"), quantiles(
                    fat[:, r], None if fat_sets is None else fat_sets[:, :, r]), strict=True)},
                **{f"front_arrival_h_{k}": v for k, v in zip(("min", "median", "max"), times_range(front[:, r]), strict=True)},
                "p_front_before_aegl3": float(np.mean(margin[both] > 0)) if both.any() else math.nan,
                "members_front_and_aegl3": int(both.sum()),
                "front_margin_h_median": quantiles(margin)[1],
            })
    delay: list[dict[str, Any]] = []
    for p in plans:
        curves = [m.delay_termination.get(p) for m in raw.members]
        if all(c is not None for c in curves) and curves:
            arr = np.stack([np.asarray(c) for c in curves])
            spans = [m.delay_termination_span.get(p) for m in raw.members]
            span = np.stack(spans) if all(c is not None for c in spans) else None  # type: ignore[arg-type]
            for j, h in enumerate(raw.setup.delay_h):
                q = quantiles(arr[:, j], None if span is None else span[:, j])
                delay.append({"plan": p, "varied": "termination", "time_h": h,
                              "fatalities_p5": q[0], "fatalities_median": q[1], "fatalities_p95": q[2]})
        ign = [m.delay_ignition.get(p) for m in raw.members]
        if all(d is not None for d in ign) and ign:
            for h in sorted(ign[0]):  # type: ignore[arg-type]
                ign_span = [m.delay_ignition_span.get(p, {}).get(h) for m in raw.members]
                q = quantiles(np.array([d[h] for d in ign]),  # type: ignore[index]
                              np.array(ign_span) if all(v is not None for v in ign_span) else None)
                delay.append({"plan": p, "varied": "ignition", "time_h": h,
                              "fatalities_p5": q[0], "fatalities_median": q[1], "fatalities_p95": q[2]})
    prob = None
    if raw.counts is not None and raw.grid_lat is not None and raw.grid_lon is not None:
        data = np.stack([raw.counts[p] for p in plans]).astype(np.float64) / max(n, 1)
        prob = xr.Dataset(
            {"probability": (("plan", "level", "lat", "lon"), data, {
                "units": "1", "long_name": "fraction of ensemble members in which the cell's near-surface air "
                "reaches the AEGL (duration-dependent, from the gridded interval means)"})},
            coords={"plan": plans, "level": [f"AEGL-{lv}" for lv in LEVELS],
                    "lat": ("lat", raw.grid_lat, {"units": "degrees_north", "standard_name": "latitude"}),
                    "lon": ("lon", raw.grid_lon, {"units": "degrees_east", "standard_name": "longitude"})},
            attrs={"Conventions": "CF-1.8", "members": n,
                   "title": f"plumecast comparison: probability of exceeding AEGL-2/3 ({n} members)" if n != 1 else
                   f"plumecast comparison: where AEGL-2/3 is exceeded ({ONE_MEMBER}: 0 or 1, not a probability)"})
    return Summary(raw, plans, totals, unknown, saved, receptor_names, rows, delay, prob, labels, totals_sets)


def _sets_stack(outcomes: list[Any]) -> NDArray[np.float64] | None:
    """(member, probit set) totals of one plan's outcomes (PlanOutcome.totals_by_set); None unless every member
    has the same sets."""
    if not outcomes or any(o.fatalities_sets is None for o in outcomes):
        return None
    sets = [o.totals_by_set for o in outcomes]
    return np.stack(sets) if len({v.shape for v in sets}) == 1 else None


# --------------------------------------------------------------------------- tables
