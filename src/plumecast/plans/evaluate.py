"""Evaluate a plan on one member's receptor exposure.

Given the per-step, per-emission-tag concentration at each receptor
(:class:`~plumecast.exposure.ReceptorExposure`), a plan is applied in three steps:

1. Terminations and emission cuts act on the tags. Transport is linear in the
   emissions, so stopping release group ``g`` at ``T`` (a tag edge) is exactly
   ``conc[tags of g starting at or after T] = 0``; a cut by a fraction ``f`` scales
   those tags by ``1 - f``. A time that falls inside a tag raises
   :class:`NotOnTagEdge` (the caller then asks the transport for finer tags).
2. Shelter orders and evacuations turn the outdoor series into cohorts
   (``countermeasures.cohorts``): people who breathe different air.
3. Each cohort's series is assessed with :func:`plumecast.consequence.assess`;
   per receptor: whether AEGL-2/3 is reached by anyone there, the first time it is
   reached (the earliest over cohorts), and expected fatalities
   ``population * sum_c weight_c * lethal_fraction_c``.

Gas left indoors when the run ends. A building that took in gas still holds it
when the transport series ends, and people sheltering in it go on breathing it
while it airs out. :func:`plumecast.consequence.assess` counts that for its own
sheltered figure (the tail load ``C_end^n / (n lambda)``, outdoor air clean after
the series); here the cohorts' series are assessed as plain series, so when a plan
has a shelter order the series are extended with clean outdoor steps
(:func:`shelter_tail_steps`: until the slowest air exchange of the plans' buildings
has removed all but ``e^-10`` of the indoor gas, at most
:data:`MAX_SHELTER_TAIL_H`). The cohorts then carry on as they would: sheltered
people breathe the decaying indoor air, ventilate at ``end_h`` and evacuees leave
at their departure times, even after the series. Without it, a cloud that passes
late in the run looked far less deadly to people sheltering from it than it is
(tested: a 4-h series lost 20 % of the sheltered deaths of the same cloud in a
24-h series).

Unknown stays unknown: a receptor off the transport grid has NaN for every figure,
a receptor with unknown population has NaN fatalities, and totals count them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from plumecast.consequence import outdoor_outcomes
from plumecast.countermeasures import Cohort
from plumecast.countermeasures import cohorts as _cohorts
from plumecast.errors import ScenarioError
from plumecast.plans.config import PlanConfig, measure_kind

CohortFn = Callable[[NDArray[np.float64], NDArray[np.float64], float, Any, list[Any]], list[Any]]


#: Longest clean-air extension of the series for the gas left in buildings. [h]
MAX_SHELTER_TAIL_H = 240.0
#: The extension lasts until the indoor gas has fallen to ``e^-SHELTER_TAIL_E_FOLDS`` of its end value.
SHELTER_TAIL_E_FOLDS = 10.0


class NotOnTagEdge(ScenarioError):
    """A termination time falls inside an emission tag (superposition is not exact there)."""


@dataclass(frozen=True)
class PlanOutcome:
    """One plan in one member, per receptor (NaN: unknown)."""

    plan: str
    exceed2: NDArray[np.float64]  # 1 if anyone at the receptor reaches AEGL-2, 0 if not, NaN unknown
    exceed3: NDArray[np.float64]
    arrival2_s: NDArray[np.float64]  # first time AEGL-2 is reached there, s after start (NaN never/unknown)
    arrival3_s: NDArray[np.float64]
    fatalities: NDArray[np.float64]  # expected fatalities (NaN: unknown population or off grid)
    front_arrival_s: NDArray[np.float64]  # s after start (NaN: no front or it never arrives)
    #: expected fraction of the receptor's people who die (known where its population is not; NaN: off grid or
    #: concentration unknown): tells whether a plan changes anything where the deaths are unknown
    lethal_fraction: NDArray[np.float64] | None = None
    #: 1 where a shelter order or evacuation of the plan covers some of the receptor's people, else 0
    covered: NDArray[np.float64] | None = None
    #: 1 where the receptor's air is known, NaN where it is not (off the model domain, not a finite number):
    #: unlike the P(AEGL) cells, not unknown where only the agent's AEGL or probit is missing
    air_known: NDArray[np.float64] | None = None
    #: (probit set, receptor) expected fatalities under each of the agent's published probit sets, in its order
    #: (None: the agent has one set or none); ``fatalities`` are the first set's (DESIGN.md, "Honest numbers":
    #: the deaths' range covers the probit sets too)
    fatalities_sets: NDArray[np.float64] | None = None

    @property
    def total_fatalities(self) -> float:
        """Sum over receptors with known figures (see :attr:`n_unknown`)."""
        f = self.fatalities[np.isfinite(self.fatalities)]
        return float(f.sum()) if f.size else float("nan")

    @property
    def totals_by_set(self) -> NDArray[np.float64]:
        """The total of each probit set over the receptors counted in :attr:`total_fatalities` (one value, that
        total, without the sets)."""
        if self.fatalities_sets is None:
            return np.array([self.total_fatalities])
        known = np.isfinite(self.fatalities)
        if not known.any():
            return np.full(self.fatalities_sets.shape[0], np.nan)
        return np.asarray(np.nan_to_num(self.fatalities_sets[:, known]).sum(axis=1), dtype=float)

    @property
    def total_span(self) -> tuple[float, float]:
        """The lowest and highest total over the probit sets (both :attr:`total_fatalities` without them)."""
        t = np.append(self.totals_by_set, self.total_fatalities)
        return (float(np.min(t)), float(np.max(t))) if np.isfinite(t).all() else (math.nan, math.nan)

    @property
    def n_unknown(self) -> int:
        """Receptors whose fatalities are unknown (population or position)."""
        return int(np.count_nonzero(~np.isfinite(self.fatalities)))


# --------------------------------------------------------------------------- tags


def release_groups(spec: Sequence[str | int] | None, release_names: Sequence[str]) -> NDArray[np.int64]:
    """Release-group indices named by a measure (names or indices; None: all)."""
    if spec is None:
        return np.arange(len(release_names), dtype=np.int64)
    out = []
    for item in spec:
        if isinstance(item, str) and item in release_names:  # a name first, as Termination.groups
            out.append(list(release_names).index(item))
        elif isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
            i = int(item)
            if not 0 <= i < len(release_names):
                raise ScenarioError(f"plans: release index {i} out of range (the scenario has {len(release_names)})")
            out.append(i)
        elif item in release_names:
            out.append(list(release_names).index(item))
        else:
            raise ScenarioError(f"plans: no release named {item!r}; the releases are {list(release_names)}")
    return np.asarray(out, dtype=np.int64)


def tag_weights(
    tag_start_h: NDArray[np.float64],
    tag_end_h: NDArray[np.float64],
    tag_group: NDArray[np.int64],
    cuts: Sequence[tuple[float, float, NDArray[np.int64]]],
    tol_h: float = 1e-6,
) -> NDArray[np.float64]:
    """Weight of each emission tag after cuts ``(at_h, fraction, groups)``.

    Exact by linearity of transport in the emissions, provided each ``at_h`` is on
    a tag edge of the groups it cuts (else :class:`NotOnTagEdge`).

    >>> tag_weights(np.array([0., 6, 12]), np.array([6., 12, 72]), np.zeros(3, np.int64),
    ...             [(6.0, 1.0, np.array([0]))]).tolist()
    [1.0, 0.0, 0.0]
    """
    w = np.ones(tag_start_h.shape, dtype=np.float64)
    for at_h, fraction, groups in cuts:
        mine = np.isin(tag_group, groups)
        inside = mine & (tag_start_h < at_h - tol_h) & (tag_end_h > at_h + tol_h)
        if inside.any():
            i = int(np.flatnonzero(inside)[0])
            raise NotOnTagEdge(
                f"plans: termination at {at_h:g} h falls inside emission tag [{tag_start_h[i]:g}, {tag_end_h[i]:g}) h"
            )
        w[mine & (tag_start_h >= at_h - tol_h)] *= 1.0 - fraction
    return w


def plan_cuts(plan: PlanConfig, release_names: Sequence[str],
              termination_h: float | None = None) -> list[tuple[float, float, NDArray[np.int64]]]:
    """The (at_h, fraction, groups) cuts of a plan; ``termination_h`` moves them all to that time."""
    cuts = []
    for m in plan.measures:
        if measure_kind(m) == "termination":
            at = float(getattr(m, "at_h")) if termination_h is None else float(termination_h)  # noqa: B009
            cuts.append((at, float(getattr(m, "fraction", 1.0)), release_groups(getattr(m, "releases", None),
                                                                                 release_names)))
    return cuts


def termination_times_h(plans: Sequence[PlanConfig]) -> list[float]:
    """Every termination time the plans use. [h]"""
    return sorted({float(getattr(m, "at_h")) for p in plans for m in p.measures  # noqa: B009
                   if measure_kind(m) == "termination"})


def has_front(plan: PlanConfig) -> bool:
    return any(measure_kind(m) == "front" for m in plan.measures)


def has_termination(plan: PlanConfig) -> bool:
    return any(measure_kind(m) == "termination" for m in plan.measures)


# --------------------------------------------------------------------------- assessment


def shelter_tail_steps(plans: Sequence[PlanConfig], dt_s: float) -> int:
    """Clean-air steps to append to the series so that the gas left in the buildings
    of the plans' shelter orders when the run ends is breathed, as it would be.

    Enough steps for the slowest air exchange of any such building (before, during
    or after the order) to remove all but ``e^-SHELTER_TAIL_E_FOLDS`` of its indoor
    gas, at most :data:`MAX_SHELTER_TAIL_H`; 0 when no plan shelters anyone.

    >>> shelter_tail_steps([PlanConfig(name="in", measures=[{"type": "shelter", "start_h": 0}])], 600.0)
    120
    """
    rates = []
    for plan in plans:
        for m in plan.measures:
            if measure_kind(m) != "shelter" or float(getattr(m, "compliance", 1.0)) <= 0:
                continue
            ach = float(getattr(m, "air_changes_per_hour"))  # noqa: B009
            pre = getattr(m, "pre_air_changes_per_hour", None)
            rates += [ach, ach if pre is None else float(pre)]
            if getattr(m, "end_h", None) is not None:
                rates.append(float(getattr(m, "ventilation_air_changes_per_hour")))  # noqa: B009
    if not rates:
        return 0
    hours = min(SHELTER_TAIL_E_FOLDS / min(rates), MAX_SHELTER_TAIL_H)
    return int(np.ceil(hours * 3600.0 / float(dt_s) - 1e-9))


#: the most (tag, step, column) flags :func:`evaluate_plans` keeps for :func:`_plan_scale` (1 byte each)
_HELD_MAX = 200_000_000


def _plan_scale(w: NDArray[np.float64], c: NDArray[np.float64], cols: NDArray[np.int64],
                held: NDArray[np.bool_] | None, lowest: bool = False) -> NDArray[np.float64]:
    """(step, column of ``cols``): the largest weight ``w`` the plan keeps of the tags with air there (``c``
    (tag, step, receptor); ``held``: ``c[:, :, cols] > 0`` where made), for the peaks within the steps: the
    weights' distinct values from the largest, each where a tag of it has air and no larger one has, and where no
    tag has air (a peak the spread of arrivals brings ahead of the step's window, whose mean is nil) the largest
    weight of all: whose air it is is not known, and a cut is not taken to remove it (such a peak had counted for
    nothing, and a shelter from 1 h read AEGL-2 5 km out at 20 min with 600-s steps, 19.5 at 10-s steps; session
    50). ``lowest``: the smallest weight of the tags with air there (0 where the plan drops one, or where no tag has
    air)."""
    out = np.zeros((c.shape[1], cols.size))
    found = np.zeros(out.shape, bool)
    for v in (np.unique(w) if lowest else np.unique(w[w > 0.0])[::-1]):  # the first value found is kept
        tags = np.flatnonzero(w == v)
        some = (held[tags].any(axis=0) if held is not None
                else np.logical_or.reduce([c[t][:, cols] > 0.0 for t in tags]))
        out[~found & some] = v
        found |= some
    if not lowest and w.size:
        some = held.any(axis=0) if held is not None else (c[:, :, cols] > 0.0).any(axis=0)  # any tag's air
        out[~some] = max(float(w.max()), 0.0)
    return out


def _plan_extra(w: NDArray[np.float64], c: NDArray[np.float64], peak: NDArray[np.float64],
                edge: NDArray[np.float64] | None, cols: NDArray[np.int64],
                held: NDArray[np.bool_] | None) -> NDArray[np.float64]:
    """(step, column of ``cols``): the most a plan's air (tag weights ``w``) reaches above its mean within each
    step: the baseline's peak above its mean ``peak`` times the largest weight the plan keeps of the tags with air
    there (``s``, :func:`_plan_scale`), and where the plan keeps the tags unequally there (``r``, the smallest,
    below ``s``) ``(s - r)`` times ``edge``, how much more the air emitted before the step's bin edge reaches
    (:attr:`plumecast.exposure.ReceptorExposure.edge_extra`).

    A source's air in a step whose window straddles a bin edge is ``A`` (after it, weight ``w_k``) and ``B``
    (before it, ``w_{k-1} >= w_k``: a cut keeps the earlier emission at least as much), so the plan keeps
    ``w_k (A + B) + (w_{k-1} - w_k) B``; above its mean it reaches at most ``w_k`` times the whole air's peak above
    its mean and ``(w_{k-1} - w_k)`` times ``B``'s above its own, which ``peak`` and ``peak + edge`` bound. The
    largest weight times ``peak`` alone had read a cut's trailing edge as the baseline's plateau: 5 kg/s of chlorine
    cut at 10 min of 20 (class D, 3 m/s) read AEGL-2 7 km out "never" with 600-s steps, 41.3 min at 10-s steps
    (session 46). Where the plan keeps every tag with air alike (doing nothing), ``s`` times ``peak`` to the bit."""
    scale = _plan_scale(w, c, cols, held)
    extra = scale * peak[:, cols]
    if edge is None:
        return extra
    more = edge[:, cols]
    if not (more > 0.0).any():
        return extra
    low = _plan_scale(w, c, cols, held, lowest=True)
    unequal = (scale > low) & (more > 0.0)
    extra[unequal] += (scale - low)[unequal] * more[unequal]
    return extra


def _tag_sum(w: NDArray[np.float64], c: NDArray[np.float64], out: NDArray[np.float64]) -> None:
    """``out = sum_t w[t] c[t]`` (``out`` zero on entry), tag after tag; the tags a plan
    removes entirely (weight 0) are left out, the others added whole where their weight is 1
    (a tag of weight 0 adds nothing but a NaN or an infinity, and a receptor with one in any
    tag is off the grid anyway). The ``einsum`` it replaced gave the same values bit for bit
    on one member of the demo's comparison (39 plan and delay variants of 36 tags x 432 steps
    x 1,182 columns) in twice the time: 1.36-1.49 s against 0.67-0.74 s."""
    for t in np.flatnonzero(w):
        if w[t] == 1.0:
            out += c[t]
        else:
            out += w[t] * c[t]


def _assess_stack(series: NDArray[np.float64], time: NDArray[Any], start: np.datetime64,
                  agent: Any, floor: Any = None) -> dict[str, NDArray[np.float64]]:
    """Lethal fraction and first AEGL-2/3 times (s after start) of each column, never before ``floor``'s
    (:class:`plumecast.consequence_metrics.ArrivalFloor` of the columns)."""
    res = outdoor_outcomes(series, time, start, agent, levels=(2, 3), probit_sets=True, floor=floor)
    out: dict[str, NDArray[np.float64]] = {k: res[k] for k in ("lethal_fraction", "lethal_fraction_sets") if k in res}
    for level in (2, 3):
        out[f"first{level}_s"] = res[f"first{level}_s"]
        # n/a, not never: the agent's AEGL is missing for an exposure duration reached before it was
        out[f"unread{level}"] = 1.0 - res[f"known{level}"]
        if not float(res[f"available{level}"]):
            out[f"first{level}_s"] = np.full(series.shape[1], np.nan)
            out[f"no_aegl{level}"] = np.ones(series.shape[1])
    return out


def _peak_arrivals(res: dict[str, NDArray[np.float64]], groups: Sequence[Cohort], air: NDArray[np.float64],
                   extra: NDArray[np.float64], cols: NDArray[np.int64],
                   time: NDArray[Any], start: np.datetime64, agent: Any, floor: Any = None) -> None:
    """Bring the first AEGL-2/3 times of ``res`` (its columns: each cohort's receptors in turn) forward to the
    start of the first step in which the near-field plume's air within the step (the step's mean plus
    ``extra``, the plan's peak above it at the columns ``cols``, :func:`_plan_extra`) reaches the level before any step's mean does: a cloud that passes within a step or two, as
    ``run`` counts it down (:func:`plumecast.city_parts._arrivals_of_peaks`,
    :func:`plumecast.consequence_metrics.peak_first_steps`; audit 39: an AEGL-2 countdown 4.5 min late at
    600-s steps, never at 900 s). Early, never late (a cut that keeps a tag whole keeps its peak whole); the
    lethal fractions stay the means'.

    A cohort breathes the peak in the steps where what it breathes is the outdoor air ``air`` itself: the
    whole series outdoors, and every step that begins before a shelter order's start or an evacuation's
    departure for those who follow them (:attr:`~plumecast.countermeasures.combine.Cohort.outdoor_until_s`;
    a plan that shelters everyone at 1 h had read step means for the hour before; session 39's left item).
    Indoors, where the cohort knows the most its people can breathe within each step
    (:attr:`~plumecast.countermeasures.combine.Cohort.top`: a shelter lets a passing cloud in at once, at most
    as fast as its peak, :func:`plumecast.countermeasures.shelter_order.sheltered_peak`), that; the steps' means
    had let it in over the whole step (3 t of chlorine at once, class F, 0.3 km: AEGL-3 indoors at 7.3 min with
    300-s steps, 6.4 min at 10-s steps; session 44). Away, and for a caller's own cohorts indoors, the means
    stand. No time comes before ``floor``'s (the baseline's
    :meth:`plumecast.exposure.ReceptorExposure.arrival_floor`: a plan keeps its near-field air or less, and no
    earlier)."""
    from plumecast.consequence import time_axis
    from plumecast.consequence_metrics import peak_arrivals_s

    n = extra.shape[0]
    outdoor = air[:n, cols]
    axis = time_axis(time[:n], start)
    levels = tuple(level for level in (2, 3) if f"no_aegl{level}" not in res)  # without the level, no time for it
    for j, g in enumerate(groups):
        mean = np.asarray(g.exposure, dtype=float)[:n, cols]
        until = getattr(g, "outdoor_until_s", None)
        if until is not None:
            # outdoors in every step that begins before their order (a shelter or a departure within a step
            # had read the step's mix: never at 600-s steps against 64 min at 10 s; review of session 40): the
            # outdoor air and its peak there, early at worst by that step
            outside = axis.begin_s[:n, None] < np.asarray(until, dtype=float)[None, cols]
        else:  # a caller's own cohorts: where their series is the outdoor one itself
            outside = mean == outdoor
        peaked = np.where(outside, outdoor + extra, mean)
        most = getattr(g, "top", None)
        if most is not None:
            peaked = np.maximum(peaked, np.asarray(most, dtype=float)[:n, cols])
        if not (peaked > mean).any():
            continue
        for level, got in peak_arrivals_s(mean, peaked, axis, agent, levels,
                                          None if floor is None else floor.columns(cols)).items():
            at = j * air.shape[1] + cols
            res[f"first{level}_s"][at] = np.fmin(res[f"first{level}_s"][at], got)


def _outdoors_first(res: dict[str, NDArray[np.float64]], groups: Sequence[Cohort], n_rec: int) -> None:
    """Give each cohort that breathes the outdoor air until an order (a shelter's start, a departure:
    :attr:`~plumecast.countermeasures.combine.Cohort.outdoor_until_s`) the outdoor arrival (the first cohort's,
    ``outdoors``, whose series is the outdoor air at every receptor) wherever it comes before that order and
    theirs is later or never, as ``run`` does (:func:`plumecast.consequence_metrics.outdoors_first`): the step
    in which they go inside mixes its outdoor and indoor means and may stay below a level the outdoor air
    reached before (12 t of chlorine over 20 min, class D, 3 m/s, 2 km out, a shelter at 24 min: AEGL-3
    "never" at 300- and 600-s steps, the outdoor air's 23.7 min at 10-s steps). ``res``'s columns: each
    cohort's receptors in turn."""
    if len(groups) < 2 or groups[0].name != "outdoors" or groups[0].outdoor_until_s is None \
            or not np.isinf(groups[0].outdoor_until_s).all():
        return
    for level in (2, 3):
        first = res[f"first{level}_s"]
        out = first[:n_rec]
        for j, g in enumerate(groups[1:], start=1):
            if g.outdoor_until_s is None:
                continue
            until = np.broadcast_to(np.asarray(g.outdoor_until_s, dtype=float), (n_rec,))
            own = first[j * n_rec:(j + 1) * n_rec]
            with np.errstate(invalid="ignore"):
                take = np.isfinite(out) & (out < until) & ~(own <= out)
            own[take] = out[take]


def evaluate_plan(
    exposure: Any,
    agent: Any,
    plan: PlanConfig,
    release_names: Sequence[str],
    *,
    termination_h: float | None = None,
    front_arrival_s: NDArray[np.float64] | None = None,
    cohort_fn: CohortFn | None = None,
) -> PlanOutcome:
    """Apply ``plan`` to one member's exposure and assess it at every receptor
    (one variant of :func:`evaluate_plans`)."""
    return evaluate_plans(exposure, agent, [(plan, termination_h)], release_names,
                          front_arrival_s=front_arrival_s, cohort_fn=cohort_fn)[0]


def evaluate_plans(
    exposure: Any,
    agent: Any,
    variants: Sequence[tuple[PlanConfig, float | None]],
    release_names: Sequence[str],
    *,
    front_arrival_s: NDArray[np.float64] | None = None,
    cohort_fn: CohortFn | None = None,
) -> list[PlanOutcome]:
    """Apply plans to one member's exposure and assess them at every receptor.

    Each variant is assessed on its own (:func:`~plumecast.consequence.outdoor_outcomes`,
    assess's outdoor figures; each column's figures depend on its own series only), so that
    only one variant's series are held at a time.

    Parameters
    ----------
    exposure : ReceptorExposure (time, dt_s, conc (tag, step, receptor), tags, on_grid, receptors).
    agent : the toxic agent.
    variants : ``(plan, termination_h)`` pairs; ``termination_h`` (or None) moves every
        termination of the plan to that time (the cost of delay). A plan's front, if
        any, must already be in ``exposure`` (a run with that front).
    release_names : names of the scenario's releases, in order (tag groups are their indices).
    front_arrival_s : front arrival at each receptor. [s after start]
    cohort_fn : ``countermeasures.cohorts`` (default) or a replacement with its signature.
    """
    from plumecast.exposure_parts import by_part_shares
    from plumecast.shelter_lag import step_flags

    # the cities a point release's plume can cross are assessed part by part of their disc, and their
    # figures gathered back at the end (plumecast.city_parts): the disc's mean air understates the deaths
    n_city = int(np.asarray(exposure.conc).shape[2])
    exposure, parent, share = by_part_shares(exposure)
    # the earliest each column can reach a level its near-field air lifts it to: a plan's air is the baseline's
    # or less (its tags' sum, a cohort's indoor or left air), its near-field air no earlier
    floor = exposure.arrival_floor() if hasattr(exposure, "arrival_floor") else None
    if front_arrival_s is not None:
        front_arrival_s = np.asarray(front_arrival_s, dtype=float)[parent]
    c = np.asarray(exposure.conc, dtype=float)
    # the near-field plumes' air above its step mean within each step (city_parts._arrivals_of_peaks), where any
    peak = None if exposure.peak_extra is None else np.asarray(exposure.peak_extra, dtype=float)
    # ... and how much more the air emitted before each step's bin edge reaches (a plan's own passing cloud)
    edge = getattr(exposure, "edge_extra", None)
    edge = None if edge is None or peak is None or not (np.asarray(edge) > 0.0).any() else np.asarray(edge, float)
    peak_cols = np.zeros(0, np.int64) if peak is None else np.flatnonzero(
        (peak > 0.0).any(axis=0) | (False if edge is None else (edge > 0.0).any(axis=0)))
    # the steps and columns whose means may lag the air, a plume whose wind has changed having air there: shelters
    # let in their peaks (plumecast.shelter_lag)
    changed = step_flags(getattr(exposure, "wind_changed", None), int(c.shape[2]))
    # a receptor on the grid whose concentration is not a finite number (NaN winds, an
    # overflow) has unknown figures: never an all-clear of zero
    on_grid = np.asarray(exposure.on_grid, bool) & np.isfinite(c).all(axis=(0, 1))
    time = np.asarray(exposure.time).astype("datetime64[ns]")
    dt = float(exposure.dt_s)
    start = time[0] - np.timedelta64(int(round(dt * 1e9)), "ns")
    n_rec = c.shape[2]
    # clean outdoor air after the series, for the gas still in the buildings (module doc)
    n_pad = shelter_tail_steps([plan for plan, _ in variants], dt)
    if n_pad:
        step = np.timedelta64(int(round(dt * 1e9)), "ns")
        time = np.concatenate([time, time[-1] + step * np.arange(1, n_pad + 1)])
        changed = None if changed is None else np.concatenate([changed, np.zeros((n_pad, n_rec), bool)])  # clean air
    time_end_s = (time - start) / np.timedelta64(1, "s")
    pop = np.asarray(getattr(exposure.receptors, "population", np.full(n_rec, np.nan)), dtype=float)
    ts, te, tg = (np.asarray(exposure.tag_start_h, float), np.asarray(exposure.tag_end_h, float),
                  np.asarray(exposure.tag_group, np.int64))
    fa = np.full(n_rec, np.nan) if front_arrival_s is None else np.asarray(front_arrival_s, dtype=float)
    # where each tag has air at the peaks' columns, made once for all the variants (where it fits)
    held: NDArray[np.bool_] | None = None
    if peak is not None and peak_cols.size and c.shape[0] * c.shape[1] * peak_cols.size <= _HELD_MAX:
        held = c[:, :, peak_cols] > 0.0
    outcomes = []
    for plan, term_h in variants:  # each on its own: a column's figures are its own series' (held once)
        w = tag_weights(ts, te, tg, plan_cuts(plan, release_names, term_h))
        outdoor = np.zeros((c.shape[1] + n_pad, n_rec))  # clean air in the padding
        air = outdoor[:c.shape[1]]
        _tag_sum(w, c, air)
        air[~(np.isfinite(air) & on_grid[None, :])] = 0.0
        np.maximum(air, 0.0, out=air)
        extra = None
        if peak is not None and peak_cols.size:  # passing clouds: the plan's peak above its mean within the steps
            extra = _plan_extra(w, c, peak, edge, peak_cols, held)
        measures = [m for m in plan.measures if measure_kind(m) in ("shelter", "evacuation")]
        if measures and cohort_fn is None and extra is not None:
            # the most the outdoor air reaches within each step, for what sheltering people can breathe then
            top = outdoor.copy()
            top[:c.shape[1], peak_cols] += extra
            groups = list(_cohorts(outdoor, time_end_s, dt, exposure.receptors, measures, peak=top,
                                   dose_from_peak=changed))
            del top
        elif measures:
            groups = list((cohort_fn or _cohorts)(outdoor, time_end_s, dt, exposure.receptors, measures))
        else:
            groups = [Cohort("outdoors", np.ones(n_rec), outdoor, np.full(n_rec, np.inf))]
        k = len(groups)
        stack = outdoor if k == 1 else np.concatenate([np.asarray(g.exposure, dtype=float) for g in groups], axis=1)
        res = _assess_stack(stack, time, start, agent,
                            None if floor is None else floor.columns(np.tile(np.arange(n_rec), k)))
        del stack
        if extra is not None:  # passing clouds, outdoors and in shelters
            _peak_arrivals(res, groups, outdoor, extra, peak_cols, time, start, agent, floor)
        _outdoors_first(res, groups, n_rec)
        del outdoor
        weights = np.stack([np.broadcast_to(np.asarray(g.weight, dtype=float), (n_rec,)) for g in groups])
        lf = res["lethal_fraction"].reshape(k, n_rec)
        present = weights > 0
        dying = _weighted_fraction(weights, lf)  # the fraction of the people who die
        dying = np.where((np.isnan(lf) & present).any(axis=0), np.nan, dying)
        fatalities = pop * dying
        by_set = None  # each probit set's deaths, where the agent has several, as the first set's are made
        if "lethal_fraction_sets" in res:
            lfs = res["lethal_fraction_sets"].reshape(-1, k, n_rec)
            by_set = np.stack([_weighted_fraction(weights, one) for one in lfs])
            by_set = np.where(np.isnan(dying)[None] | ~on_grid[None], np.nan, pop[None] * by_set)
        covered = np.stack([np.asarray(g.weight, dtype=float) > 0 if g.name != "outdoors" else np.zeros(n_rec, bool)
                            for g in groups]).any(axis=0)
        dying = np.where(on_grid, dying, np.nan) * np.asarray(share, dtype=float)  # the city's share (summed back)
        out: dict[str, NDArray[np.float64]] = {}
        for level in (2, 3):
            first = np.where(present, res[f"first{level}_s"].reshape(k, n_rec), np.nan)
            hit = np.isfinite(first).any(axis=0)
            arrival = np.where(hit, np.min(np.where(np.isfinite(first), first, np.inf), axis=0), np.nan)
            # a cohort whose AEGL could not be read for a duration it reached: unknown, not "not reached"
            # (compare had shown 0 % and "not reached" where run says n/a; honest-numbers audit)
            unread = (present & (res[f"unread{level}"].reshape(k, n_rec) > 0)).any(axis=0)
            exceed = np.where(hit, 1.0, np.where(unread, np.nan, 0.0))
            if f"no_aegl{level}" in res:
                exceed[:] = np.nan
            out[f"exceed{level}"] = np.where(on_grid, exceed, np.nan)
            out[f"arrival{level}"] = np.where(on_grid, arrival, np.nan)
        fatalities = np.where(on_grid, fatalities, np.nan)
        outcomes.append(_by_city(PlanOutcome(plan.name, out["exceed2"], out["exceed3"], out["arrival2"],
                                             out["arrival3"], fatalities, fa, dying, covered.astype(float),
                                             np.where(on_grid, 1.0, np.nan), by_set),
                                 parent, n_city))
    return outcomes


def _weighted_fraction(weights: NDArray[np.float64], lf: NDArray[np.float64]) -> NDArray[np.float64]:
    """The cohorts' lethal fractions ``lf`` (cohort, receptor) weighted by their shares of the people
    ``weights`` (summing to one over the cohorts present): the first present cohort's fraction plus each
    cohort's share of its difference from it, so cohorts that breathe the same die exactly as one does. The sum
    of eight departure groups of 1/8 each, all leaving after the cloud had passed, had read 95 deaths
    - 1.4e-14 against doing nothing's 95, "costs < 1" (audit 42c). 0 where no cohort is present; NaN
    fractions are the caller's.

    >>> w = np.full((8, 1), 0.1); w[0] = 0.3
    >>> _weighted_fraction(w, np.full((8, 1), 0.7)).tolist()
    [0.7]
    """
    present = weights > 0
    first = np.argmax(present, axis=0)
    ref = np.take_along_axis(lf, first[None], axis=0)[0]
    with np.errstate(invalid="ignore"):
        out = ref + np.where(present, weights * (lf - ref[None]), 0.0).sum(axis=0)
    return np.where(present.any(axis=0), out, 0.0)


def _by_city(o: PlanOutcome, parent: NDArray[np.int64], n_city: int) -> PlanOutcome:
    """A plan's outcome gathered from the parts of the city discs back to their cities
    (``parent``: each column's city): deaths summed, a level reached where any part
    reaches it, at the earliest part's time (plumecast.city_parts)."""
    if parent.size == n_city:
        return o
    from plumecast.exposure_parts import part_starts

    first = part_starts(parent)

    def gather(v: NDArray[np.float64], how: str) -> NDArray[np.float64]:
        v = np.asarray(v, dtype=float)
        unknown = np.add.reduceat(np.isnan(v).astype(np.int64), first) > 0
        if how == "sum":
            return np.where(unknown, np.nan, np.add.reduceat(np.nan_to_num(v), first))
        if how == "any":  # reached in a part: reached, whatever the others; else unknown if one is
            top = np.maximum.reduceat(np.nan_to_num(v), first)
            return np.where(top > 0, top, np.where(unknown, np.nan, top))
        return np.asarray(np.fmin.reduceat(v, first), dtype=float)  # the earliest; NaN only if none

    return PlanOutcome(o.plan, gather(o.exceed2, "any"), gather(o.exceed3, "any"), gather(o.arrival2_s, "min"),
                       gather(o.arrival3_s, "min"), gather(o.fatalities, "sum"), o.front_arrival_s[first],
                       None if o.lethal_fraction is None else gather(o.lethal_fraction, "sum"),
                       None if o.covered is None else gather(o.covered, "any"),
                       None if o.air_known is None else np.where(np.isnan(gather(o.air_known, "sum")), np.nan, 1.0),
                       None if o.fatalities_sets is None else np.stack([gather(f, "sum") for f in o.fatalities_sets]))


def front_arrival_at(front_arrival: xr.DataArray | None, lat: NDArray[np.float64], lon: NDArray[np.float64],
                     start: np.datetime64) -> NDArray[np.float64]:
    """Front arrival time in the output cell holding each receptor. [s after start] (NaN: never)"""
    n = np.asarray(lat).size
    if front_arrival is None:
        return np.full(n, np.nan)
    glat = np.asarray(front_arrival["lat"].values, dtype=float)
    glon = np.asarray(front_arrival["lon"].values, dtype=float)
    i = np.clip(np.searchsorted(glat, lat) - 1, 0, glat.size - 1)
    i = np.where((i + 1 < glat.size) & (np.abs(glat[np.minimum(i + 1, glat.size - 1)] - lat) < np.abs(glat[i] - lat)),
                 i + 1, i)
    dlon = (np.asarray(lon)[:, None] - glon[None, :] + 180.0) % 360.0 - 180.0
    j = np.argmin(np.abs(dlon), axis=1)
    t = np.asarray(front_arrival.values)[i, j]
    if np.issubdtype(t.dtype, np.datetime64):
        return np.where(np.isnat(t), np.nan, (t - start) / np.timedelta64(1, "s"))
    return np.asarray(t, dtype=float)
