"""The mass a receptor gets over a step when the cloud's air is spread along the wind.

The near field (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`) gives a
receptor at downwind distance x, over a step ``[t0, t1]``, the mass that left the source
in the emission window ``[a, b] = [t0 - x/u, t1 - x/u]``: a top hat, every kilogram
arriving exactly ``x/u`` after it left. A cloud passes a place over ``sqrt(2 pi) sigma_x / u``
(tens of minutes for a dense gas), so with short steps the top hat puts a short release's
whole dose into one step and overstates its toxic load (``sum C^n dt``, n ~ 2-3) many times.

Here each kilogram emitted at ``e`` arrives at ``e + x/u + s``, ``s`` Gaussian with standard
deviation ``sigma_t = sigma_x / u``, truncated at ``s >= s0 = -sqrt(2) sigma_t`` (nothing ahead of
the cloud's front, as :func:`plumecast.nearfield.zones.windowed.front_time_s`; the truncated
density renormalised so that mass is conserved, which puts the mean arrival
``0.159 sigma_t`` after ``e + x/u``). The mass reaching the place in the step is
``G(b) - G(a)``, ``G(y) = integral of E(y - s) g(s) ds``, with ``E`` the release's cumulative
emitted mass (:meth:`plumecast.release.SourceGroup.emitted_by`, from its knots
:attr:`~plumecast.release.SourceGroup._emitted_knots`).

``E`` is taken piecewise linear between its knots (0 before the first, the last value after
the last) and written as a sum of ramps, ``E(t) = sum_k dr_k max(t - t_k, 0)`` (``dr_k`` the
change of slope at knot k), so that ``G(y) = sum_k dr_k R(y - t_k)`` with ``R`` the truncated
Gaussian's integrated CDF, in closed form (:func:`_ramp_ends`): no quadrature.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

FloatArray = NDArray[np.float64]

#: The cloud's front leads the wind's air by this many along-wind spreads: the arrival delay is
#: truncated at ``-FRONT_LEAD_SIGMAS sigma_t`` (the same lead as
#: :data:`plumecast.nearfield.zones.windowed.FRONT_LEAD_SIGMAS`, not imported: that package is slow to load).
FRONT_LEAD_SIGMAS = math.sqrt(2.0)
#: Most knots of ``E`` the smear uses; a release with more is thinned to these
#: (:func:`thin_knots`: first and last kept, ``E`` exact at the kept ones): the cost is n x knots.
MAX_KNOTS = 257
#: ``sigma_t`` at or below this fraction of the window's length gives the top hat exactly: the
#: smear would move less than this fraction of a window's worth of mass. [1]
TOP_HAT_SIGMA = 1e-9
#: ``|w|`` (in ``sigma_t``) beyond which ``ndtr(w)`` is exactly 0 or 1 and the pdf exactly 0 (the pdf's
#: argument is clipped there: no overflow where ``sigma_t`` is small).
_ARRIVED = 40.0
#: Points x knots computed at once (temporaries of a few MB).
_CHUNK = 1 << 17

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

if ndtr(_ARRIVED) != 1.0 or ndtr(-_ARRIVED) != 0.0 or math.exp(-0.5 * _ARRIVED**2) != 0.0:  # pragma: no cover
    raise ImportError("ndtr(±40) is not exactly 1 and 0 or exp(-800) not 0; plumecast.near_field_smear relies on it")


def _checked(knots: FloatArray, cum: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The knots [s] and the cumulative mass at them [kg] as float arrays, checked: strictly
    increasing knots, ``E`` starting at 0 and never decreasing (mass is emitted, never taken back)."""
    t = np.asarray(knots, dtype=np.float64).reshape(-1)
    e = np.asarray(cum, dtype=np.float64).reshape(-1)
    if t.size == 0 or t.size != e.size:
        raise ValueError(f"knots ({t.size}) and cum ({e.size}) must be non-empty and of the same length")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(e))):
        raise ValueError("knots and cum must be finite")
    if np.any(np.diff(t) <= 0.0):
        raise ValueError("knots must be strictly increasing")
    if e[0] != 0.0 or np.any(np.diff(e) < 0.0):
        raise ValueError("cum must start at 0 and never decrease (E is the mass emitted so far)")
    return t, e


def thin_knots(knots: FloatArray, cum: FloatArray, max_knots: int = MAX_KNOTS) -> tuple[FloatArray, FloatArray]:
    """At most ``max_knots`` of the knots [s] of ``E`` and ``E`` at them [kg], for the smear, whose
    cost is points x knots. The first and last are kept (the release's start and its total mass) and
    ``E`` is exact at every kept knot. Knots where the slope does not change go first (``E`` stays as it
    was); then, one at a time, the knot whose removal moves the least mass in time: the triangle it
    makes with its current neighbours, ``|E - E interpolated| x (gap) / 2`` [kg s] (Visvalingam and
    Whyatt 1993's line simplification; the neighbours' triangles are recomputed after each removal,
    so that the removals do not pile up where the curve is nearly straight). A release with no more
    than ``max_knots`` knots is returned as it is. Thin a release once and pass the result: this loops
    over the knots in Python (a few ms per thousand)."""
    t, e = _checked(knots, cum)
    if max_knots < 2:
        raise ValueError("max_knots must be at least 2 (the first and the last knot)")
    if t.size <= max_knots:
        return t, e
    prev = list(range(-1, t.size - 1))
    nxt = list(range(1, t.size + 1))
    tl, el = t.tolist(), e.tolist()

    def area(k: int) -> float:
        p, q = prev[k], nxt[k]
        return 0.5 * abs((el[k] - el[p]) * (tl[q] - tl[p]) - (el[q] - el[p]) * (tl[k] - tl[p]))

    heap = [(area(k), k) for k in range(1, t.size - 1)]
    heapq.heapify(heap)
    current = {k: a for a, k in heap}
    left = t.size
    while left > max_knots:
        a_k, k = heapq.heappop(heap)
        if current.get(k) != a_k:
            continue  # an outdated entry: its knot's neighbours changed
        del current[k]
        p, q = prev[k], nxt[k]
        nxt[p], prev[q] = q, p
        left -= 1
        for j in (p, q):
            if j in current:
                current[j] = area(j)
                heapq.heappush(heap, (current[j], j))
    idx = np.array([0, *sorted(current), t.size - 1])
    return t[idx], e[idx]


def _slopes(knots: FloatArray, cum: FloatArray) -> FloatArray:
    """The slope of ``E`` on each side of every knot [kg s-1], (m + 1,): 0 before the first knot,
    each segment's, 0 after the last; ``s[searchsorted(knots, t, 'right')]`` is the slope just after ``t``."""
    return np.concatenate([[0.0], np.diff(cum) / np.diff(knots), [0.0]])


def _top_hat(knots: FloatArray, cum: FloatArray, a: FloatArray, b: FloatArray, lo: FloatArray,
             hi: FloatArray) -> FloatArray:
    """The top hat: the mass emitted in ``[a, b]`` and in ``[lo, hi]``, ``E(clip(b)) - E(clip(a))``
    with the piecewise-linear ``E`` [kg]."""
    return np.asarray(np.interp(np.clip(b, lo, hi), knots, cum) - np.interp(np.clip(a, lo, hi), knots, cum),
                      dtype=np.float64)


def _ramp_ends(z: FloatArray, after: NDArray[np.bool_], sigma: FloatArray, w0: FloatArray) -> FloatArray:
    """A unit ramp ``max(t, 0)`` [s] smeared by the truncated Gaussian ``g`` of ``sigma`` [s], at ``z``
    [s] after the ramp's start, in one of two forms whose differences across a window are its mass.

    Before (``after`` False): ``R(z) = integral over s in [s0, z] of (z - s) g(s) ds``,
    ``g(s) = phi(s / sigma) / (sigma (1 - Phi(-sqrt 2)))`` for ``s >= s0 = -sqrt(2) sigma``; with
    ``w = z / sigma``, ``R = [z (Phi(w) - Phi(-sqrt 2)) + sigma (phi(w) - phi(sqrt 2))] / (1 - Phi(-sqrt 2))``
    for ``w > -sqrt 2`` and 0 before (nothing ahead of the front). After (``z > 0``): the part still to
    come, ``T(z) = integral over s >= z of (s - z) g(s) ds = sigma [phi(w) - w Phi(-w)] / (1 - Phi(-sqrt 2))``,
    ``R(z) = z - mean + T(z)``: ``R`` long after the ramp's start is a large number whose window
    differences are the window's length and a small tail that ``R``'s difference would lose.
    Both are exactly 0 where nothing has arrived (``w <= -sqrt 2``) or, after, all has (``w >= 40``,
    where ``phi`` and ``Phi(-w)`` are exactly 0): only the others are evaluated (most, in a long run).
    ``w0`` (broadcast like ``sigma``): the front in ``sigma`` [-], ``-sqrt 2`` or, nearer the source,
    less far ahead (:func:`window_mass`'s ``lead_s``); ``sqrt 2`` above stands for ``-w0``."""
    sig = np.broadcast_to(sigma, z.shape)
    front = np.broadcast_to(w0, z.shape)
    w = z / sig
    aft = np.broadcast_to(after, z.shape)
    live = (w > front) & ~(aft & (w >= _ARRIVED))
    out = np.zeros(z.shape)
    w, zl, sl, al, fl = w[live], z[live], sig[live], aft[live], front[live]
    pdf = np.exp(-0.5 * np.square(np.minimum(w, _ARRIVED))) * _INV_SQRT_2PI
    p = ndtr(np.where(al, -w, w))
    phi0 = ndtr(fl)
    pdf0 = np.exp(-0.5 * np.square(fl)) * _INV_SQRT_2PI
    out[live] = np.where(al, sl * (pdf - w * p), zl * (p - phi0) + sl * (pdf - pdf0)) / (1.0 - phi0)
    return out


def _ramp_window(za: FloatArray, zb: FloatArray, sigma: FloatArray, w0: FloatArray) -> FloatArray:
    """A unit ramp's smeared mass arriving in a window whose ends are ``za < zb`` [s] after the ramp's
    start [kg per kg s-1 of slope]: ``R(zb) - R(za)`` where the window starts before the ramp
    (``za <= 0``); where it starts after, ``T(zb) - T(za)``, the window's length ``zb - za`` to be
    added (:func:`_smeared` adds the sum of those ramps' slopes times it, exactly)."""
    after = za > 0.0
    return _ramp_ends(zb, after, sigma, w0) - _ramp_ends(za, after, sigma, w0)


def _smeared(knots: FloatArray, cum: FloatArray, a: FloatArray, b: FloatArray, sigma: FloatArray,
             lo: FloatArray, hi: FloatArray, w0: FloatArray) -> FloatArray:
    """The smeared mass arriving in ``[a, b]`` of the emissions in ``[lo, hi]`` [kg], per point
    (all (n,), ``sigma > 0``). ``E`` restricted to emissions in ``[lo, hi]`` is
    ``r(lo) max(t - lo, 0) + sum over lo < t_k <= hi of dr_k max(t - t_k, 0) - r(hi) max(t - hi, 0)``
    (``r`` the slope just after a time): each ramp is smeared by :func:`_ramp_window`. The ramps that
    start before ``a`` add the window's length times their summed slope, which is the restricted ``E``'s
    slope just before ``a``, taken as it is: 0 once the restricted release is over, so that a window in
    the cloud's tail gets the tail's mass without the cancellation of two near-total masses."""
    t, e = thin_knots(knots, cum, MAX_KNOTS)
    s = _slopes(t, e)
    dr = np.diff(s)
    lo = np.clip(lo, t[0], t[-1])
    hi = np.clip(np.maximum(hi, lo), t[0], t[-1])
    r_lo = s[np.searchsorted(t, lo, side="right")]
    r_hi = s[np.searchsorted(t, hi, side="right")]
    slope_before_a = np.where((a > lo) & (a <= hi), s[np.searchsorted(t, a, side="left")], 0.0)
    out = ((b - a) * slope_before_a + r_lo * _ramp_window(a - lo, b - lo, sigma, w0)
           - r_hi * _ramp_window(a - hi, b - hi, sigma, w0))
    step = max(1, _CHUNK // t.size)
    for i in range(0, a.size, step):
        j = slice(i, i + step)
        weight = np.where((t[None, :] > lo[j, None]) & (t[None, :] <= hi[j, None]), dr[None, :], 0.0)
        ramps = _ramp_window(a[j, None] - t[None, :], b[j, None] - t[None, :], sigma[j, None], w0[j, None])
        out[j] += np.sum(weight * ramps, axis=1)
    return np.asarray(out, dtype=np.float64)


def _points(a: FloatArray, b: FloatArray, sigma_t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The windows' ends [s] and ``sigma_t`` [s] as float (n,) arrays, checked: one length,
    ``b > a`` (a step has a length), ``sigma_t >= 0``."""
    a_, b_, s_ = (np.asarray(x, dtype=np.float64).reshape(-1) for x in (a, b, sigma_t))
    if not a_.size == b_.size == s_.size:
        raise ValueError(f"a, b and sigma_t must have the same length, got {a_.size}, {b_.size}, {s_.size}")
    if np.any(~(b_ > a_)):
        raise ValueError("each window must have b > a")
    if np.any(~(s_ >= 0.0)):
        raise ValueError("sigma_t must be >= 0")
    return a_, b_, s_


def _per_point(x: FloatArray | None, n: int, default: float) -> FloatArray:
    """A time per point [s] as a float (n,) array (a scalar is broadcast; None: ``default``)."""
    if x is None:
        return np.full(n, default)
    out = np.asarray(x, dtype=np.float64).reshape(-1)
    if out.size not in (1, n) or np.any(np.isnan(out)):
        raise ValueError(f"since/edge must be one time or one per point ({n}), without NaN; got {out.size}")
    return np.array(np.broadcast_to(out, (n,)), dtype=np.float64)


def _window(knots: FloatArray, cum: FloatArray, a: FloatArray, b: FloatArray, sigma: FloatArray,
            lo: FloatArray, hi: FloatArray, lead: FloatArray) -> FloatArray:
    """The mass arriving in ``[a, b]`` of the emissions in ``[lo, hi]`` [kg]: the top hat where
    ``sigma`` is at most :data:`TOP_HAT_SIGMA` of the window, the smear elsewhere (its front
    ``min(sqrt 2 sigma, lead)`` ahead); never negative."""
    hi = np.maximum(hi, lo)
    out = _top_hat(knots, cum, a, b, lo, hi)
    smear = sigma > TOP_HAT_SIGMA * (b - a)
    if np.any(smear):
        w0 = -np.minimum(FRONT_LEAD_SIGMAS, lead[smear] / sigma[smear])
        out[smear] = np.maximum(_smeared(knots, cum, a[smear], b[smear], sigma[smear], lo[smear], hi[smear], w0),
                                0.0)
    return out


def window_mass(knots: FloatArray, cum: FloatArray, a: FloatArray, b: FloatArray, sigma_t: FloatArray,
                since: FloatArray | None = None, lead_s: FloatArray | None = None) -> FloatArray:
    """Mass reaching each point in its step [kg], (n,): of the emissions whose wind-carried arrival
    falls in the emission window ``[a, b]`` (``[t0 - x/u, t1 - x/u]``, seconds on the release's clock;
    ``b > a``), each kilogram's arrival smeared by ``s ~ N(0, sigma_t^2)`` truncated at
    ``s >= -sqrt(2) sigma_t`` and renormalised (``sigma_t = sigma_x / u`` [s], >= 0): ``G(b) - G(a)``,
    ``G(y) = integral of E(y - s) g(s) ds``. The cloud's passage, not the wind's, decides which step
    gets the dose: the top hat put a short release's whole dose into one step and overstated its toxic
    load 14-147 times.

    ``E`` is the piecewise-linear cumulative mass through ``(knots [s], cum [kg])``: 0 before
    ``knots[0]`` (``cum[0]`` must be 0), ``cum[-1]`` after ``knots[-1]``, linear in between (exact for
    :meth:`plumecast.release.SourceGroup.emitted_by` with a constant rate between knots; a profile's
    quadratic ``E`` is taken linear between its knots: add knots within its hours, ``E`` from
    ``emitted_by``, to bring that closer). A release of more than :data:`MAX_KNOTS` knots
    is smeared through at most that many (:func:`thin_knots`; ``E`` exact at the kept ones, the total
    kept). Where ``sigma_t`` is 0 or at most :data:`TOP_HAT_SIGMA` of the window, the result is exactly
    the top hat ``E(max(b, since)) - E(max(a, since))`` of the whole ``E``.

    ``since`` (n,), one time, or None: per point, the earliest emission time that counts [s] (a neutralisation
    front burnt the older air): ``E`` is replaced by ``max(E(t) - E(since), 0)``.

    ``lead_s`` (n,), one value, or None: per point, the most an arrival may lead the wind's [s]
    (``x/u``: no air arrives before it was emitted; near the source the front's ``sqrt(2) sigma_t``
    lead had let a puff's air arrive before the release, in steps not sampled, and 3-7 % of its
    mass was lost within 100 m; regression audit): the truncation is at ``-min(sqrt 2 sigma_t,
    lead_s)``, renormalised alike. None: ``sqrt(2) sigma_t``."""
    a, b, sigma = _points(a, b, sigma_t)
    t, e = _checked(knots, cum)
    return _window(t, e, a, b, sigma, _per_point(since, a.size, -np.inf), np.full(a.size, np.inf),
                   _per_point(lead_s, a.size, np.inf))


def also_before(knots: FloatArray, cum: FloatArray, a: FloatArray, b: FloatArray, sigma_t: FloatArray,
                edge: FloatArray, since: FloatArray | None = None, lead_s: FloatArray | None = None) -> FloatArray:
    """The part of :func:`window_mass` emitted before ``edge`` [s] (n,): the mass [kg] of the emissions
    in ``[since, edge)`` (``since`` None: from the release's start) that arrives in the window, smeared
    alike; for the emission-tag shares of a step whose window straddles a tag bin's start. 0 where
    ``edge <= since``; with ``sigma_t`` 0 exactly ``E(clip(b, since, edge)) - E(clip(a, since, edge))``.
    The rest of the window's mass is ``window_mass(..., since=max(since, edge))``."""
    a, b, sigma = _points(a, b, sigma_t)
    t, e = _checked(knots, cum)
    return _window(t, e, a, b, sigma, _per_point(since, a.size, -np.inf), _per_point(edge, a.size, np.inf),
                   _per_point(lead_s, a.size, np.inf))


def _arrived(t: FloatArray, e: FloatArray, y: FloatArray, sigma: FloatArray, lo: FloatArray, hi: FloatArray,
             lead: FloatArray) -> FloatArray:
    """``G(y)``: the mass of the emissions in ``[lo, hi]`` arrived by ``y`` [kg] (the wind's air of emission time
    ``y`` and all ahead of it), each kilogram smeared by ``sigma`` [s] with its front ``min(sqrt 2 sigma, lead)``
    ahead; ``sigma`` 0: the top hat, ``E(clip(y, lo, hi)) - E(lo)``. In the ramps of :func:`_smeared`, ``G =
    sum_j c_j R(y - tau_j)``; each ramp already started is ``z - mean + T(z)``, whose ``z`` terms sum to
    ``E_r(y)`` and ``mean`` terms to ``mean`` times ``E_r``'s slope just before ``y``. (t, e) thinned."""
    s = _slopes(t, e)
    dr = np.diff(s)
    lo = np.clip(lo, t[0], t[-1])
    hi = np.clip(np.maximum(hi, lo), t[0], t[-1])
    out = np.interp(np.clip(y, lo, hi), t, e) - np.interp(lo, t, e)
    smear = sigma > 0.0
    if not np.any(smear):
        return np.asarray(out, dtype=np.float64)
    y, sig, lo, hi = y[smear], sigma[smear], lo[smear], hi[smear]
    w0 = -np.minimum(FRONT_LEAD_SIGMAS, lead[smear] / sig)
    mean = sig * np.exp(-0.5 * np.square(w0)) * _INV_SQRT_2PI / (1.0 - ndtr(w0))
    r_lo = s[np.searchsorted(t, lo, side="right")]
    r_hi = s[np.searchsorted(t, hi, side="right")]
    slope_before = np.where((y > lo) & (y <= hi), s[np.searchsorted(t, y, side="left")], 0.0)
    z_lo, z_hi = y - lo, y - hi
    got = (-mean * slope_before + r_lo * _ramp_ends(z_lo, z_lo > 0.0, sig, w0)
           - r_hi * _ramp_ends(z_hi, z_hi > 0.0, sig, w0))
    step = max(1, _CHUNK // t.size)
    for i in range(0, y.size, step):
        j = slice(i, i + step)
        weight = np.where((t[None, :] > lo[j, None]) & (t[None, :] <= hi[j, None]), dr[None, :], 0.0)
        z = y[j, None] - t[None, :]
        got[j] += np.sum(weight * _ramp_ends(z, z > 0.0, sig[j, None], w0[j, None]), axis=1)
    out[smear] += got
    return np.asarray(out, dtype=np.float64)


def arrived_at(knots: FloatArray, cum: FloatArray, y: FloatArray, sigma_t: FloatArray, since: FloatArray | None,
               lead_s: FloatArray) -> FloatArray:
    """``G(y)`` [kg] (n,): the mass arrived by the wind's air of emission time ``y`` [s], each kilogram's arrival
    spread by ``sigma_t`` [s] (front ``min(sqrt 2 sigma_t, lead_s)`` ahead), of the emissions after ``since``
    (None: all); for the pieces of a step (:mod:`plumecast.near_field_dilution`); ``G(b) - G(a)`` is :func:`window_mass`
    (to rounding) where ``sigma_t`` and ``lead_s`` are the same at both."""
    y_ = np.asarray(y, dtype=np.float64).reshape(-1)
    n = y_.size
    t, e = thin_knots(knots, cum, MAX_KNOTS)
    sig = np.array(np.broadcast_to(np.asarray(sigma_t, dtype=np.float64).reshape(-1), (n,)))
    return _arrived(t, e, y_, sig, _per_point(since, n, -np.inf), np.full(n, np.inf), _per_point(lead_s, n, np.inf))
