"""Interval means of Palazzi's finite-duration factor with one erf per interval side.

The zones' exposure series (:func:`plumecast.nearfield.zones.windowed.windowed_interval_means`)
is the mean of ``N`` mid-point samples per interval of ``½[erf(z_lead(t)) − erf(z_trail(t))]``
with ``z(t) = (x − u (t − shift))/(√2 σ_x)`` (Palazzi et al. 1982;
:func:`plumecast.nearfield.gaussian.finite_duration_factor`). The slumped cloud of a dense
release has σ_x = σ_y of 1–2 km, so a place's window spans most of the 1,200 intervals and
a grid of 240 places took about 1.1 million erf evaluations, 60 % of a zones run. Here each
side of an interval costs one erf and one exp instead of ``N`` erfs.

The samples sit at ``z_c + h d_k`` about the interval centre ``z_c``, with
``h = u Δt/(√2 σ_x)`` (Δt the interval length) and ``d_k = ½ − (k + ½)/N``, symmetric about
0, so the odd terms of the Taylor series cancel and

    mean_k erf(z_c + h d_k) = Σ_{m=0}^{M} a_{2m}(z_c) h^{2m} mean_k(d_k^{2m}) + R,

``a_n = erf⁽ⁿ⁾(z_c)/n!``: ``a_0 = erf(z_c)`` and, with ``erf⁽ⁿ⁾ = (2/√π)(−1)^{n−1}
H_{n−1}(z) e^{−z²}``, ``a_{2m} = −(2/√π) e^{−z_c²} H_{2m−1}(z_c)/(2m)!`` (physicists'
Hermite polynomials). The remainder is bounded by ``|R| <= max|erf⁽²ᴹ⁺²⁾| r^{2M+2}/(2M+2)!``
with ``r = h max|d_k|``, and ``|erf⁽ᵏ⁾(z)| <= (2/√π) K 2^{(k−1)/2} √((k−1)!)`` by Cramér's
inequality (K = 1.086435; Abramowitz & Stegun 1964, 22.14.17). With :data:`TERMS` = 4 the
series is used where that bound is at most :data:`SERIES_TOL` = 1e-18 (``r <= 0.027``), far
below the rounding of erf itself (≈ 1.1e-16); a longer interval, or one whose lead edge has
the ``max(t − T, 0)`` kink inside, is sampled as before. A mean so differs from the sampled
mean by rounding only (``tests/nearfield/test_palazzi_means.py``). Each value depends on its
own place and interval alone, so a place's series is the same whichever places it is
evaluated with.

Why not numba: the same series compiled was twice as fast again, but the first compiled
call of a process initialises numba's JIT (about 0.45 s here, cached or not), which every
fresh ``plumecast zones`` process would pay.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.polynomial import hermite
from numpy.typing import NDArray
from scipy.special import erf

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Bound on the truncation error of the series mean of erf (absolute; erf's rounding is ≈ 1.1e-16).
SERIES_TOL = 1e-18
#: Even terms a_2 ... a_{2 TERMS} of the series.
TERMS = 4
#: Cramér's constant: |H_n(z)| <= K 2^(n/2) √(n!) e^(z²/2) (Abramowitz & Stegun 1964, 22.14.17).
CRAMER_K = 1.086435
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def derivative_bound(k: int) -> float:
    """Upper bound of ``|d^k erf / dz^k| / k!`` over all real z (Cramér's inequality), k >= 1."""
    return _TWO_OVER_SQRT_PI * CRAMER_K * 2.0 ** ((k - 1) / 2) * math.sqrt(math.factorial(k - 1)) / math.factorial(k)


def series_radius(terms: int = TERMS, tol: float = SERIES_TOL) -> float:
    """Largest ``r = h max|d_k|`` at which the series through ``a_{2 terms}`` is within ``tol``."""
    k = 2 * terms + 2
    return float((tol / derivative_bound(k)) ** (1.0 / k))


def sample_moments(n_sub: int, terms: int = TERMS) -> FloatArray:
    """``mean_k d_k^{2m}`` for m = 0 .. terms, ``d_k = ½ − (k + ½)/n_sub`` (the sample offsets)."""
    d = 0.5 - (np.arange(n_sub) + 0.5) / n_sub
    return np.array([float(np.mean(d ** (2 * m))) for m in range(terms + 1)])


@lru_cache(maxsize=16)
def _coefficients(n_sub: int, terms: int) -> tuple[tuple[float, ...], ...]:
    """Per m = 1 .. terms, the coefficients (in s = z², lowest first) of
    ``mean(d^{2m}) H_{2m−1}(z) / (z (2m)!)``."""
    mom = sample_moments(n_sub, terms)
    out = []
    for m in range(1, terms + 1):
        h_odd = hermite.herm2poly(np.eye(2 * m)[2 * m - 1])[1::2]  # H_{2m-1}(z) / z in powers of z²
        out.append(tuple(float(c) * mom[m] / math.factorial(2 * m) for c in h_odd))
    return tuple(out)


def erf_mean(z_c: FloatArray, h: FloatArray, n_sub: int, terms: int = TERMS) -> FloatArray:
    """The series for ``mean_k erf(z_c + h d_k)`` (see the module docstring), elementwise."""
    z = np.asarray(z_c, dtype=float)
    w = np.asarray(h, dtype=float) ** 2
    s = z * z
    acc = np.zeros_like(z)
    for q in reversed(_coefficients(n_sub, terms)):  # Horner in w, each coefficient Horner in s
        poly = np.full_like(s, q[-1])
        for c in q[-2::-1]:
            poly = poly * s + c
        acc = (acc + poly) * w
    return np.asarray(erf(z) - _TWO_OVER_SQRT_PI * np.exp(-s) * z * acc, dtype=float)


def side_means(
    sub: FloatArray, begins: FloatArray, ends: FloatArray, n_sub: int, u: float, shift: float,
    x: FloatArray, s2: FloatArray, interval: IntArray,
) -> FloatArray:
    """Per entry, the mean over interval ``interval``'s samples of ``erf((x − u max(t − shift, 0))/s2)``:
    the series where every sample has ``t >= shift`` and ``r <= series_radius()``, else the samples."""
    b = begins[interval]
    dt = ends[interval] - b
    h = u * dt / s2
    series = (h * (0.5 - 0.5 / n_sub) <= series_radius()) & (sub[interval * n_sub] >= shift)
    if n_sub == 1:
        series[:] = False
    out = np.empty(interval.size)
    sel = np.nonzero(series)[0]
    if sel.size:
        out[sel] = erf_mean((x[sel] - u * (b[sel] + 0.5 * dt[sel] - shift)) / s2[sel], h[sel], n_sub)
    rest = np.nonzero(~series)[0]
    if rest.size:
        t = sub[interval[rest, None] * n_sub + np.arange(n_sub)[None, :]]
        v = erf((x[rest, None] - u * np.maximum(t - shift, 0.0)) / s2[rest, None])
        total = v[:, 0].copy()
        for k in range(1, n_sub):
            total += v[:, k]
        out[rest] = total / n_sub
    return out


def palazzi_chunk(
    sub: FloatArray, begins: FloatArray, ends: FloatArray, n_sub: int, u: float, duration_s: float,
    k_release_end: int, amplitude: FloatArray, x: FloatArray, s2: FloatArray, i0: IntArray, i1: IntArray,
    p0: IntArray, p1: IntArray, k_first: IntArray, k_trail_end: IntArray, k_lead_start: IntArray, k_last: IntArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Interval means of ``amplitude × ½[erf(lead) − erf(trail)]`` (clipped to [0, 1]) over
    ``[i0, p0)`` and ``[p1, i1)`` of some places: (place, interval, mean).

    The sample-index limits are those of
    :func:`~plumecast.nearfield.zones.windowed.windowed_interval_means`: the trail erf is +1
    before ``k_first`` and −1 from ``k_trail_end`` on; the lead erf is ``erf(x/s2)`` up to the
    release end (sample ``k_release_end``), +1 before ``k_lead_start`` and −1 from ``k_last`` on;
    an interval all of whose samples are in one such stretch takes that value.
    """
    n_a = p0 - i0
    lengths = n_a + (i1 - p1)
    starts = np.zeros(i0.size + 1, dtype=np.intp)
    np.cumsum(lengths, out=starts[1:])
    own = np.repeat(np.arange(i0.size, dtype=np.intp), lengths)
    rank = np.arange(starts[-1], dtype=np.intp) - starts[:-1][own]
    interval = np.where(rank < n_a[own], i0[own] + rank, p1[own] + rank - n_a[own])
    ks = interval * n_sub
    ke = ks + n_sub
    before = ke <= k_first[own]
    trail = np.where(before, 1.0, -1.0)
    t_erf = np.nonzero(~before & (ks < k_trail_end[own]))[0]
    o = own[t_erf]
    trail[t_erf] = side_means(sub, begins, ends, n_sub, u, 0.0, x[o], s2[o], interval[t_erf])
    const = ke <= k_release_end
    gone = ks >= k_last[own]
    lead = np.where(const, erf((x - u * 0.0) / s2)[own], np.where(gone, -1.0, 1.0))
    l_erf = np.nonzero(~const & ~gone & (ke > k_lead_start[own]))[0]
    o = own[l_erf]
    lead[l_erf] = side_means(sub, begins, ends, n_sub, u, duration_s, x[o], s2[o], interval[l_erf])
    return own, interval, amplitude[own] * np.clip(0.5 * (lead - trail), 0.0, 1.0)
