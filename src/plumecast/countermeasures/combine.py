"""Cohorts: the groups of people who breathe different air under a plan.

:func:`cohorts` turns the outdoor concentration at each receptor into cohorts for
a list of shelter orders and evacuations. At each receptor the people split into

=============================================  ====================================
cohort                                         weight
=============================================  ====================================
``outdoors``                                   ``(1 - c_e) (1 - c_s)``
``sheltered``                                  ``(1 - c_e) c_s``
``evacuated ... (outdoors until leaving)``     ``c_e / K (1 - c_s)``, one per group
``evacuated ... (sheltered until leaving)``    ``c_e / K c_s``, one per group
=============================================  ====================================

with ``c_e`` the compliance of the evacuation covering the receptor (0 if none),
``c_s`` that of the shelter order covering it (0 if none) and ``K`` the
evacuation's departure groups. Combination rule: compliance with the two orders
is independent; an evacuee follows the shelter order (with its compliance) until
departure and breathes clean air after it; people who do not evacuate follow the
shelter order as if there were no evacuation. At most one shelter order and one
evacuation may cover a receptor (two would leave it ambiguous which holds; an
error names the receptor). Receptors outside every region keep the outdoor
series with weight 1. Weights sum to 1 at every receptor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plumecast.countermeasures.evacuation import Evacuation, exposure_until
from plumecast.countermeasures.shelter_order import ShelterOrder, step_edges
from plumecast.errors import ScenarioError
from plumecast.units import SECONDS_PER_HOUR

__all__ = ["Cohort", "check_people_measures", "cohorts"]


@dataclass(frozen=True)
class Cohort:
    """People at each receptor who breathe the same series.

    Attributes
    ----------
    name : "outdoors", "sheltered", "evacuated, leaves 2.5 h (outdoors until leaving)" ...
    weight : (receptor,) fraction of each receptor's people in the cohort; the
        cohorts of one call sum to 1 at every receptor. [-]
    exposure : (time, receptor) concentration they breathe, per transport step
        (equal to the outdoor series where the weight is 0). [kg m-3]
    """

    name: str
    weight: NDArray[np.float64]
    exposure: NDArray[np.float64]
    #: (receptor,) until when they breathe the outdoor air itself (their shelter order, their departure),
    #: seconds after the release start (inf: throughout); None: not known (a caller's own cohorts) [s]
    outdoor_until_s: NDArray[np.float64] | None = None
    #: (time, receptor) the most they can breathe within each step, for the countdowns of a cloud that passes
    #: within a step (:func:`cohorts`' ``peak``; a shelter's from
    #: :func:`plumecast.countermeasures.shelter_order.sheltered_peak`); None: not known [kg m-3]
    top: NDArray[np.float64] | None = None


def _as_measure(m: Any) -> Any:
    """Runtime object for a measure (config models are built here)."""
    if isinstance(m, ShelterOrder | Evacuation):
        return m
    if hasattr(m, "model_dump") and hasattr(m, "type"):
        from plumecast.countermeasures.config import build_measure

        return build_measure(m)
    return m


def _owner(masks: list[NDArray[np.bool_]], receptors: Any, kind: str,
           where: Sequence[int] | None = None) -> NDArray[np.int64]:
    """Index of the measure covering each receptor (-1: none); two -> error. ``where``:
    the measures' indices in the plan's list, named in the error (else their indices
    among the measures of that kind)."""
    n = len(np.asarray(receptors.lat))
    owner = np.full(n, -1, dtype=np.int64)
    for i, mask in enumerate(masks):
        clash = mask & (owner >= 0)
        if clash.any():
            r = int(np.flatnonzero(clash)[0])
            which = (f"measures.{where[int(owner[r])]} and measures.{where[i]}" if where is not None
                     else f"measures {owner[r]} and {i} of that kind")
            raise ScenarioError(
                f"plan: receptor {receptors.name[r]!r} is covered by two {kind}s ({which}); give at most one "
                f"{kind} per city"
            )
        owner[mask] = i
    return owner


def check_people_measures(receptors: Any, measures: Sequence[Any], plan: str) -> None:
    """Refuse what :func:`cohorts` would refuse in a plan's shelter orders and evacuations,
    from the receptor table alone (before any transport): a region naming a city that is
    not a receptor, a receptor covered by two orders of one kind. The messages name the
    plan and the measure's key (``plans: 'P': measures.1.region: ...``).

    Raises
    ------
    ScenarioError
    """
    # only the orders that act on people are built: a front may need the agent for its threshold
    built = [(j, _as_measure(m)) for j, m in enumerate(measures)
             if isinstance(m, ShelterOrder | Evacuation) or getattr(m, "type", None) in ("shelter", "evacuation")]
    try:
        for kind, cls in (("shelter order", ShelterOrder), ("evacuation", Evacuation)):
            mine = [(j, m) for j, m in built if isinstance(m, cls)]
            masks = [m.mask(receptors, f"measures.{j}.region") for j, m in mine]
            _owner(masks, receptors, kind, [j for j, _ in mine])
    except ScenarioError as exc:
        text = str(exc).removeprefix("plan: ")
        raise ScenarioError(f"plans: {plan!r}: {text}") from None


def cohorts(
    outdoor: ArrayLike,
    time_end_s: ArrayLike,
    dt_s: ArrayLike,
    receptors: Any,
    measures: Sequence[Any],
    peak: ArrayLike | None = None,
    dose_from_peak: ArrayLike | None = None,
) -> list[Cohort]:
    """Cohorts of people for a plan's shelter orders and evacuations.

    Parameters
    ----------
    outdoor : (time, receptor) outdoor concentration per transport step. [kg m-3]
    time_end_s : (time,) end of each step, seconds after the release start. [s]
    dt_s : step length, one value or one per step. [s]
    receptors : the receptor table (:class:`plumecast.receptors.Receptors`).
    measures : :class:`ShelterOrder`, :class:`Evacuation` (or their config models).
        Terminations and fronts act on the transport, not on people, and are
        skipped here.
    peak : (time, receptor) the most the outdoor air reaches within each step, or None; with it each
        cohort's :attr:`Cohort.top` is the most its people can breathe within each step (for the
        countdowns: the means of a cloud that passes within a step are late indoors too). [kg m-3]
    dose_from_peak : (time, receptor) or (time,) with ``peak``: the steps (and receptors) whose means may lag
        the air (where a point release's plume whose carrying wind has changed has air,
        :attr:`plumecast.exposure.ReceptorExposure.wind_changed`); a shelter then lets in the step's peak held
        over it, not the step's dose (:attr:`Cohort.top` only). None: none.

    Returns
    -------
    list of Cohort
        ``outdoors`` first (always present, its weight may be 0), then the other
        cohorts that hold anyone.
    """
    c_out = np.asarray(outdoor, dtype=float)
    if c_out.ndim != 2:
        raise ValueError(f"outdoor has shape {c_out.shape}; expected (time, receptor)")
    n_t, n_r = c_out.shape
    if len(np.asarray(receptors.lat)) != n_r:
        raise ValueError(f"outdoor has {n_r} receptors but the receptor table {len(np.asarray(receptors.lat))}")
    begin, end = step_edges(time_end_s, dt_s)
    if begin.size != n_t:
        raise ValueError(f"time_end_s has {begin.size} steps but outdoor {n_t}")
    built = [_as_measure(m) for m in measures]
    shelters = [m for m in built if isinstance(m, ShelterOrder)]
    evacs = [m for m in built if isinstance(m, Evacuation)]
    for m in built:
        if isinstance(m, ShelterOrder | Evacuation):
            continue
        kind = getattr(m, "type", None) or type(m).__name__
        if str(kind).lower() in ("termination", "front", "frontspec"):
            continue
        raise ScenarioError(f"plan: measure {kind!r} is not a countermeasure (termination, shelter, evacuation, front)")

    s_owner = _owner([s.mask(receptors) for s in shelters], receptors, "shelter order")
    e_owner = _owner([e.mask(receptors) for e in evacs], receptors, "evacuation")

    c_s = np.zeros(n_r)
    breathe = c_out.copy()  # what a shelter-complier breathes (outdoor where no order)
    top_out = None if peak is None else np.maximum(np.asarray(peak, dtype=float), c_out)
    top = None if top_out is None else top_out.copy()  # the most a shelter-complier breathes within a step
    dose = c_out  # the steps' outdoor means the shelters' tops let in: the peak's where the means may lag
    if top_out is not None and dose_from_peak is not None and np.any(dose_from_peak):
        flags = np.asarray(dose_from_peak, bool)
        dose = np.where(flags[:, None] if flags.ndim == 1 else flags, top_out, c_out)
    inside_from = np.full(n_r, np.inf)  # when they go in
    for i, s in enumerate(shelters):
        cols = s_owner == i
        if cols.any():
            c_s[cols] = s.compliance
            breathe[:, cols] = s.exposure(c_out[:, cols], end, end - begin)
            if top is not None and top_out is not None:
                top[:, cols] = s.peak(dose[:, cols], top_out[:, cols], end, end - begin)
            inside_from[cols] = float(s.start_h) * SECONDS_PER_HOUR
    c_e = np.zeros(n_r)
    k_of = np.ones(n_r, dtype=np.int64)
    for i, e in enumerate(evacs):
        cols = e_owner == i
        c_e[cols] = e.compliance
        k_of[cols] = e.cohorts

    out = [Cohort("outdoors", (1.0 - c_e) * (1.0 - c_s), c_out, np.full(n_r, np.inf), top_out)]
    if np.any((1.0 - c_e) * c_s > 0):
        out.append(Cohort("sheltered", (1.0 - c_e) * c_s, breathe, inside_from, top))
    k_max = max((e.cohorts for e in evacs), default=0)
    single = len(evacs) == 1
    for k in range(k_max):
        leave_s = np.full(n_r, np.inf)
        for i, e in enumerate(evacs):
            cols = (e_owner == i) & (k < e.cohorts)
            leave_s[cols] = float(e.leave_h[k]) * SECONDS_PER_HOUR
        has = np.isfinite(leave_s)
        base_w = np.where(has, c_e / k_of, 0.0)
        name = (f"evacuated, leaves {evacs[0].leave_h[k]:.3g} h" if single
                else f"evacuated (departure group {k + 1} of {k_max})")
        for suffix, w, series, most, until in (
            ("outdoors until leaving", base_w * (1.0 - c_s), c_out, top_out, leave_s),
            ("sheltered until leaving", base_w * c_s, breathe, top, np.minimum(leave_s, inside_from)),
        ):
            if not np.any(w > 0):
                continue
            exp = series.copy()
            gone = None if most is None else most.copy()  # the most they breathe: none after the step they leave in
            for t_leave in np.unique(leave_s[has]):
                cols = leave_s == t_leave
                exp[:, cols] = exposure_until(series[:, cols], begin, end, float(t_leave))
                if gone is not None:
                    gone[np.ix_(begin >= t_leave, cols)] = 0.0
            out.append(Cohort(f"{name} ({suffix})", w, exp, until, gone))
    return out
