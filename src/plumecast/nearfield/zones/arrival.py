"""The air the receptors' countdowns are read from: each interval's exact mean of the zones'
plume, integrated in closed form, where the exposure series holds the mean of
:data:`~plumecast.nearfield.zones.plume.N_SUBSAMPLES` samples.

A countdown is the earliest the air can reach a level given the interval means
(``plumecast.consequence_metrics._lead_s``: air rising through ``L`` at ``t*`` in the
interval before the first one at or above ``L`` adds at least ``(end − t*) L`` to that
interval's integral). That bound needs the interval's true mean. The 4-sample mean falls
short of it on the convex rise of a front, and the countdown came late: against the same
scenarios on a 16 times finer axis, 13 of 260 arrivals later by 0.09 s to 12.9 s (3 t of
chlorine over 600 s, class F, AEGL-1 20 km out at 3 h 36 min; docs/consequence.md,
"Countdown audit (session 44)"). The plume's time profile is analytic, so the exact mean is:

* a finite release (Palazzi et al. 1982, passive or the dense cloud's):
  ``A ½[erf(z_lead) − erf(z_trail)]`` with ``z = (x − u (t − shift)) / (√2 σ_x)``, and
  ``∫ erf(z) dz = |z| + ierfc(|z|)`` (``ierfc(z) = e^{−z²}/√π − z erfc(z)``, which keeps the
  difference of two such terms free of cancellation);
* a puff (passive or the dense cloud's instantaneous regime):
  ``A exp(−(x − u t)²/2σ_x²)``, whose integral is an erf difference;

each from the advective front on (:func:`~plumecast.nearfield.zones.windowed.front_time_s`:
the series are zero before it), and a passive puff's mean at most the pure vapour's density
(the mean of the air held at the cap is no more than the cap, nor than the uncapped mean).

:func:`arrival_bounds` gives the larger of that and the sampled mean, interval by interval: an
upper bound of the true mean (so the countdown is never later than the air's), never below
the series the doses, the zones and the peaks are read from (so no level those reach is
missed or dated later than before). Only the countdowns read it
(``plumecast.consequence.assess``'s ``arrival_series``). It also gives, for the sheltered
countdowns, the most of the air within each interval (:func:`interval_peaks`, in closed form:
both profiles rise to one peak and fall), at least that: the sheltered countdowns
are read from the building fed with it (``assess``'s ``arrival_peak``,
``plumecast.consequence_metrics.sheltered_bound``), an indoor air nowhere lower than the
building's under the air itself. The interval means through the building are not such a bound
(the building weights the recent air more, and where people go inside within an interval its
mix of outdoor and indoor means can stay below a level the outdoor air reached before they did).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf, erfc

from plumecast.nearfield.zones.plume import place_profile
from plumecast.nearfield.zones.setup import PlumeSetup
from plumecast.nearfield.zones.windowed import ERF_WINDOW, GAUSS_WINDOW, front_time_s, ragged

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
_SQRT_PI = math.sqrt(math.pi)


def ierfc(z: FloatArray) -> FloatArray:
    """``∫_z^∞ erfc(s) ds = e^{−z²}/√π − z erfc(z)`` (z >= 0 here)."""
    return np.asarray(np.exp(-z * z) / _SQRT_PI - z * erfc(z), dtype=float)


def _edge_integrals(tb: FloatArray, x: FloatArray, s2: FloatArray, u: float, shift: float,
                    b0: IntArray) -> FloatArray:
    """Per interval ``[tb[b0], tb[b0 + 1]]``, ``∫ erf((x − u (max(t, shift) − shift)) / s2) dt`` over
    the part after ``shift`` (``x``, ``s2`` per boundary; each boundary's ierfc taken once). [s]

    With ``z(t)`` that argument, ``dt = −(s2/u) dz`` and ``∫ erf(z) dz = |z| + ierfc(|z|)`` (the
    antiderivative ``z erf(z) + e^{−z²}/√π`` written so that the difference of two values is taken
    on the small ``ierfc`` terms, and on ``|z1| − |z2|``, which is ``±u (t2 − t1)/s2`` where both
    have one sign)."""
    tc = np.maximum(tb, shift)
    z = (x - u * (tc - shift)) / s2
    a = np.abs(z)
    ia = ierfc(a)
    b1 = b0 + 1
    z1, z2 = z[b0], z[b1]
    same = np.sign(z1) * np.sign(z2) >= 0
    lin = np.where(same, np.sign(z1 + z2) * u * (tc[b1] - tc[b0]) / s2[b0], a[b0] - a[b1])
    return np.asarray((s2[b0] / u) * (lin + ia[b0] - ia[b1]), dtype=float)


def palazzi_means(tb: FloatArray, x: FloatArray, u: float, duration_s: float, s2: FloatArray,
                  b0: IntArray) -> FloatArray:
    """Exact mean over each interval ``[tb[b0], tb[b0 + 1]]`` of
    ``½[erf((x − u max(t − T, 0))/s2) − erf((x − u t)/s2)]``
    (:func:`plumecast.nearfield.gaussian.finite_duration_factor`; 0 where the interval is empty)."""
    t1, t2 = tb[b0], tb[b0 + 1]
    span = t2 - t1
    trail = _edge_integrals(tb, x, s2, u, 0.0, b0)
    # the lead edge is still at the source up to the release end, then moves with the wind
    held = np.clip(duration_s, t1, t2) - t1
    lead = held * erf(x[b0] / s2[b0]) + _edge_integrals(tb, x, s2, u, duration_s, b0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = 0.5 * (lead - trail) / span
    return np.asarray(np.where(span > 0, np.clip(mean, 0.0, 1.0), 0.0), dtype=float)


def gauss_means(tb: FloatArray, x: FloatArray, u: float, sx: FloatArray, b0: IntArray) -> FloatArray:
    """Exact mean over each interval ``[tb[b0], tb[b0 + 1]]`` of ``exp(−(x − u t)²/2σ_x²)`` (0 where
    the interval is empty): ``√π s2/(2u) [erf(a2) − erf(a1)]``, ``a = (u t − x)/s2``, ``s2 = √2 σ_x``,
    through ``erfc(|a|)`` at each boundary (no cancellation where both are on one side)."""
    s2 = math.sqrt(2.0) * sx
    a = (u * tb - x) / s2
    ec = erfc(np.abs(a))
    b1 = b0 + 1
    a1, a2, e1, e2 = a[b0], a[b1], ec[b0], ec[b1]
    diff = np.where((a1 > 0) & (a2 > 0), e1 - e2,
                    np.where((a1 < 0) & (a2 < 0), e2 - e1, np.sign(a2) * (1.0 - e2) - np.sign(a1) * (1.0 - e1)))
    span = tb[b1] - tb[b0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (_SQRT_PI * s2[b0] / (2.0 * u)) * diff / span
    return np.asarray(np.where(span > 0, np.maximum(mean, 0.0), 0.0), dtype=float)


@dataclass(frozen=True)
class _Windows:
    """The zones' plume at some places as an amplitude times a time profile (``kind``: "palazzi", the
    finite release's factor; "gauss", a puff's ``exp(−(x − u t)²/2σ_x²)``), held at most at ``cap``, and
    each place's intervals from its advective front to where the air has gone by (every other interval
    0): interval ``k`` of place ``own`` spans the boundaries ``tb[b0]`` to ``tb[b0 + 1]`` (its start, or
    the front within it, and its end), those of place ``owner_b``."""

    kind: str
    amplitude: FloatArray
    xp: FloatArray
    sx: FloatArray
    u: float
    cap: float
    own: IntArray
    k: IntArray
    owner_b: IntArray
    tb: FloatArray
    b0: IntArray


def _windows(setup: PlumeSetup, x: FloatArray, y: FloatArray, ends: FloatArray) -> _Windows:
    """The profile of :func:`~plumecast.nearfield.zones.plume.concentration_series` at (x, y) and the
    intervals of ``ends`` where it can be non-zero (:class:`_Windows`)."""
    p = place_profile(setup, x, y)
    xp, u = p.xp, setup.wind_speed_m_s
    begins = np.concatenate([[0.0], ends[:-1]])
    kind, amplitude, cap = p.kind, p.amplitude, math.inf
    if p.kind == "puff":  # M across V / (√(2π) σ_x) times the along-wind exp, held at most at the pure vapour
        assert p.factors is not None
        amplitude = p.amplitude * p.factors[0] * p.factors[1] / (np.sqrt(2 * np.pi) * np.maximum(p.sx, 1e-9))
        kind, cap = "gauss", p.cap
    sx = np.maximum(np.asarray(p.sx, dtype=float), 1e-9)
    front = front_time_s(xp, sx, u)
    # only the intervals from the front to where the air has gone by (the series' windows, windowed.py:
    # erf is ±1 from 6.05 on, and the Gaussian 0 from 38.7 σ; what the integrals hold beyond, after the
    # cloud has passed, is some 1e-15 of the amplitude at most, far below any onset floor): the others 0
    if kind == "palazzi":
        gone = setup.duration_s + (xp + ERF_WINDOW * math.sqrt(2.0) * sx) / u
    else:
        gone = (xp + GAUSS_WINDOW * sx) / u
    i0 = np.searchsorted(ends, front, side="right")
    i1 = np.minimum(np.searchsorted(begins, gone, side="left") + 1, ends.size)
    i1 = np.where(x > 0, np.maximum(i1, i0), i0)
    own, k, _ = ragged(i0, i1)
    # each place's boundaries: its first interval's start (or the front within it), then the ends
    owner_b, m, off = ragged(np.zeros_like(i0), np.where(i1 > i0, i1 - i0 + 1, 0))
    kb = i0[owner_b] + m - 1
    tb = np.where(m == 0, np.maximum(begins[i0[owner_b]] if ends.size else 0.0, front[owner_b]),
                  ends[np.maximum(kb, 0)])
    b0 = off[:-1][own] + (k - i0[own])  # the boundary each interval starts at
    return _Windows(kind, np.asarray(amplitude, dtype=float), xp, sx, u, cap, own, k, owner_b, tb, b0)


def exact_means(setup: PlumeSetup, x_m: Any, y_m: Any, ends_s: FloatArray) -> FloatArray:
    """Exact interval means of the zones' concentration at (x, y), shape (time, place): the
    profile of :func:`~plumecast.nearfield.zones.plume.concentration_series` integrated over
    each interval from its advective front on (a passive puff's mean held at the pure vapour's
    density). The intervals run from the release start to each of ``ends_s``. [kg m-3]"""
    x, y, ends = _places(x_m, y_m, ends_s)
    return _exact_means(setup, _windows(setup, x, y, ends), ends, x.size)


def _places(x_m: Any, y_m: Any, ends_s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``x_m``, ``y_m`` as 1-D float arrays and ``ends_s`` as a float array."""
    return (np.atleast_1d(np.asarray(x_m, dtype=float)), np.atleast_1d(np.asarray(y_m, dtype=float)),
            np.asarray(ends_s, dtype=float))


def _exact_means(setup: PlumeSetup, w: _Windows, ends: FloatArray, n_places: int) -> FloatArray:
    """:func:`exact_means` on the windows ``w`` of :func:`_windows`."""
    begins = np.concatenate([[0.0], ends[:-1]])
    own, k, tb, b0, ob = w.own, w.k, w.tb, w.b0, w.owner_b
    t1, t2 = tb[b0], tb[b0 + 1]
    if w.kind == "palazzi":
        g = palazzi_means(tb, w.xp[ob], w.u, setup.duration_s, math.sqrt(2.0) * w.sx[ob], b0)
    else:
        g = gauss_means(tb, w.xp[ob], w.u, w.sx[ob], b0)
    # times the share of the interval from the front on
    c = w.amplitude[own] * g * ((t2 - t1) / (ends[k] - begins[k]))
    out = np.zeros((ends.size, n_places))
    out[k, own] = np.minimum(c, w.cap)
    return out


def interval_peaks(setup: PlumeSetup, x_m: Any, y_m: Any, ends_s: FloatArray) -> FloatArray:
    """The most of the zones' concentration at (x, y) within each interval, shape (time, place): the
    largest of :func:`~plumecast.nearfield.zones.plume.concentration_series` over the interval from
    its advective front on, in closed form. Both profiles rise to one peak and then fall: a puff's
    ``exp(−(x − u t)²/2σ_x²)`` peaks at ``x/u``; Palazzi's factor ``½[erf((x − u max(t − T, 0))/s) −
    erf((x − u t)/s)]`` rises while the release lasts (its trailing erf falls) and afterwards while
    ``|x − u t| < |x − u (t − T)|`` (its derivative is ``u/(s√π) (e^{−b²} − e^{−a²})``), so it peaks
    at ``max(T, x/u + T/2)``. An interval's most is then the value at the peak where it lies inside,
    else the larger of the values at its ends (a passive puff's held at the pure vapour's density).
    The intervals run from the release start to each of ``ends_s``. [kg m-3]"""
    x, y, ends = _places(x_m, y_m, ends_s)
    return _interval_peaks(setup, _windows(setup, x, y, ends), ends, x.size)


def _interval_peaks(setup: PlumeSetup, w: _Windows, ends: FloatArray, n_places: int) -> FloatArray:
    """:func:`interval_peaks` on the windows ``w`` of :func:`_windows`."""
    from plumecast.nearfield.gaussian import finite_duration_factor

    xb, sb = w.xp[w.owner_b], w.sx[w.owner_b]
    xi, si = w.xp[w.own], w.sx[w.own]
    T = setup.duration_s
    if w.kind == "palazzi":
        at_b = finite_duration_factor(xb, w.tb, w.u, T, sb)
        t_peak = np.maximum(T, xi / w.u + 0.5 * T)
        at_peak = finite_duration_factor(xi, t_peak, w.u, T, si)
    else:
        at_b = np.exp(-((xb - w.u * w.tb) ** 2) / (2 * sb**2))
        t_peak = xi / w.u
        at_peak = np.ones_like(xi)
    t1, t2 = w.tb[w.b0], w.tb[w.b0 + 1]
    g = np.maximum(at_b[w.b0], at_b[w.b0 + 1])
    g = np.where((t1 < t_peak) & (t_peak < t2), np.maximum(g, at_peak), g)
    out = np.zeros((ends.size, n_places))
    out[w.k, w.own] = np.minimum(w.amplitude[w.own] * g, w.cap)
    return out


def arrival_bounds(setup: PlumeSetup, x_m: Any, y_m: Any, ends_s: FloatArray,
                   sampled: FloatArray) -> tuple[FloatArray, FloatArray]:
    """What the countdowns are read from (``plumecast.consequence.assess``'s ``arrival_series`` and
    ``arrival_peak``), (time, place) each, the places' windows made once: per interval, the larger of the
    exact mean (:func:`exact_means`) and the ``sampled`` mean (the exposure series), and the larger of that
    and the air's most within the interval (:func:`interval_peaks`); both keep the sampled unknowns (NaN).
    [kg m-3]"""
    x, y, ends = _places(x_m, y_m, ends_s)
    w = _windows(setup, x, y, ends)
    bound = np.where(np.isnan(sampled), np.nan, np.fmax(sampled, _exact_means(setup, w, ends, x.size)))
    most = np.where(np.isnan(bound), np.nan, np.fmax(bound, _interval_peaks(setup, w, ends, x.size)))
    return np.asarray(bound, dtype=float), np.asarray(most, dtype=float)
