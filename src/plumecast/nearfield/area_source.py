"""Concentration in and near a uniformly emitting disc (a city's vehicle fleet).

A particle cloud cannot resolve the air a city breathes from its own emissions
unless hundreds of its particles sit inside the city's disc at every step: with
thousands of emitting cities and a few particles per city, the kernel estimate
grows its disc until it finds enough particles, and the city's self-exposure is
diluted over an area many times its own (a global run's casualty figures then
rise with the particle count instead of converging). Near its own disc an area
source is therefore modelled here as the classical urban area-source plume, and
its young particles are left out of the receptors this plume covers
(:mod:`plumecast.exposure`), the way the point releases' Gaussian plume stands in
for their first kilometres.

Narrow-plume form (Gifford & Hanna 1973; Hanna, Briggs & Hosker 1982, §9.2)
    The emission per unit area ``q`` [kg m-2 s-1] varies little across the wind
    over the lateral spread of a plume from one element, so the concentration at a
    point P is that of the crosswind line sources upwind of it:

        C(P) = (q / u) ∫ V(z; h, σ_z(d), H) dd     over the travel distances d
                                                  from P upwind that lie in the disc

    with ``V`` the vertical factor of the Gaussian plume (ground and lid
    reflections, :func:`plumecast.nearfield.gaussian.vertical_term`), σ_z the
    Briggs (1973) curve of the stability class, ``h`` the release heights
    (uniform in ``[0, top]``, as the particles start) and ``z`` the breathing
    height. With the integral ``G(d) = ∫_0^d V dd'`` tabulated once, a point at
    downwind coordinate ``x`` and crosswind ``y`` from the centre of a disc of
    radius ``R`` gets ``(q/u) [G(x + c) - G(max(0, x - c))]`` with ``c = sqrt(R² -
    y²)``, and nothing where ``|y| >= R``. For ``σ_z = a d^b`` and no lid this is
    the ATDL model's ``C = sqrt(2/π) q X^(1-b) / (u a (1-b))`` at fetch ``X``
    (Gifford & Hanna 1973, eq. 3). Air at travel distance ``d`` left its element
    ``d / u`` earlier: the rate is taken at that time (the particles' emitted mass
    per time step), decay is applied over the travel time, and each part is
    credited to the emission tag of its time, so that a termination removes it
    exactly.

References
----------
* Gifford, F.A. & Hanna, S.R. (1973) Modelling urban air pollution. Atmos.
  Environ. 7, 131-136.
* Hanna, S.R., Briggs, G.A. & Hosker, R.P. (1982) *Handbook on Atmospheric
  Diffusion*, DOE/TIC-11223, §9.2 (area sources, the narrow-plume hypothesis).
* Briggs, G.A. (1973) Diffusion estimation for small emissions, ATDL-106 (σ_z).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.special import erf

from plumecast.nearfield.gaussian import briggs_sigma_z, vertical_term

#: Points of the travel-distance table ``G(d)``, evenly spaced in ``sqrt(d)`` (fine near the
#: source, where ``G`` changes fastest; found by a square root, not a search). [-]
TABLE_POINTS = 2000


def layer_vertical_term(z_m: float, top_m: float, sigma_z_m: NDArray[np.float64], mixing_height_m: float,
                        n_images: int = 3) -> NDArray[np.float64]:
    """The Gaussian plume's vertical factor averaged over release heights uniform in
    ``[0, top_m]``, in closed form. [m-1]

    Each image term of :func:`plumecast.nearfield.gaussian.vertical_term` averaged
    over ``h``: ``(1/T) ∫_0^T exp(-(a - h)²/2σ²) dh / (sqrt(2π) σ) = [erf((T - a)/(√2 σ))
    + erf(a/(√2 σ))] / (2T)``, and ``[erf((T + a)/(√2 σ)) - erf(a/(√2 σ))] / (2T)`` for
    the terms in ``a + h``, with the same ground and lid reflections and well-mixed
    limit (``σ_z > 1.6 H``: ``1/H``). Heights above the lid reach nothing below it
    (ISC3 §1.1.6); ``top_m`` 0 is a ground release.
    """
    sz = np.maximum(np.asarray(sigma_z_m, dtype=float), 1e-9)
    if top_m <= 0.0:
        return vertical_term(z_m, 0.0, sz, mixing_height_m, n_images)
    s = np.sqrt(2.0) * sz
    big_h = mixing_height_m
    t = top_m if not np.isfinite(big_h) else min(top_m, big_h)

    def pair(a: float) -> NDArray[np.float64]:
        """∫_0^t of the image terms in (a - h) and (a + h), times 2 sqrt(2π) σ / 2."""
        return np.asarray(0.5 * (erf((t - a) / s) + erf(a / s)) + 0.5 * (erf((t + a) / s) - erf(a / s)), dtype=float)

    if not np.isfinite(big_h):
        return np.asarray(pair(z_m) / top_m, dtype=float)
    if z_m > big_h:
        return np.zeros_like(sz)
    total = sum((pair(z_m + 2 * n * big_h) for n in range(-n_images, n_images + 1)), np.zeros_like(sz))
    return np.asarray(np.where(sz > 1.6 * big_h, t / (top_m * big_h), total / top_m), dtype=float)


def front_distance(d_m: NDArray[np.float64], pg_class: str, terrain: str) -> NDArray[np.float64]:
    """The wind's distance ``S(d) = d - sqrt(2) sigma_y(d)`` [m] whose travel time ``S/u`` is that of
    zones' front at travel distance ``d`` (:func:`plumecast.nearfield.zones.windowed.front_time_s`,
    sigma_x = sigma_y, Palazzi et al. 1982): the air from an element ``d`` upwind arrives ``S(d)/u``
    after it left, not ``d/u``, so that the countdowns err early as the point releases' plumes do.
    Strictly increasing for Briggs's curves (``sqrt(2) d sigma_y/dd <= sqrt(2) 0.32 < 1``)."""
    from plumecast.nearfield.gaussian import briggs_sigma_y

    d = np.asarray(d_m, dtype=float)
    sy = np.asarray(briggs_sigma_y(d, pg_class, terrain), dtype=np.float64)  # type: ignore[arg-type]
    out = d - math.sqrt(2.0) * sy
    if np.any(np.diff(out) <= 0.0) or out[0] < 0.0:
        raise ValueError("front distance not increasing from 0: the sigma_y curve grows too fast")
    return np.ascontiguousarray(out)


@numba.njit(cache=True, error_model="numpy")
def _from_front(d, s_tab, s):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The travel distance ``d`` [m] whose front distance is ``s`` (inverse of ``S`` by linear
    interpolation in the table; the table's end beyond it)."""
    n = d.size
    if s <= 0.0:
        return 0.0
    if s >= s_tab[n - 1]:
        return d[n - 1]
    i = np.searchsorted(s_tab, s) - 1
    i = min(max(i, 0), n - 2)
    f = (s - s_tab[i]) / (s_tab[i + 1] - s_tab[i])
    return d[i] + f * (d[i + 1] - d[i])


def travel_integral(
    max_distance_m: float, top_m: float, receptor_height_m: float, pg_class: str, terrain: str,
    mixing_height_m: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The table ``(d, G(d))``: ``G(d) = ∫_0^d V(z; h, σ_z(s), H) ds`` with ``V`` the
    Gaussian vertical factor averaged over release heights uniform in ``[0, top_m]``.

    ``d`` runs from 0 to ``max_distance_m``, evenly spaced in ``sqrt(d)``;
    ``(q / u) (G(b) - G(a))`` is the concentration from the crosswind line
    sources at travel distances ``a..b``. [m], [-]
    """
    if not (max_distance_m > 1.0):
        raise ValueError(f"max_distance_m: {max_distance_m!r}; expected more than 1 m")
    # the integrand between the table's points, by the midpoint rule on a grid 8 times finer
    fine = np.linspace(0.0, math.sqrt(max_distance_m), 8 * (TABLE_POINTS - 1) + 1) ** 2
    mid = 0.5 * (fine[1:] + fine[:-1])
    sz = briggs_sigma_z(mid, pg_class, terrain)  # type: ignore[arg-type]
    v = layer_vertical_term(receptor_height_m, top_m, sz, mixing_height_m)
    g_fine = np.concatenate([[0.0], np.cumsum(v * np.diff(fine))])
    return np.ascontiguousarray(fine[::8]), np.ascontiguousarray(g_fine[::8])


@numba.njit(cache=True, error_model="numpy")
def _table(d, g, x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``G(x)`` by linear interpolation in the table (evenly spaced in ``sqrt(d)``;
    constant beyond its end)."""
    n = d.size
    if x <= 0.0:
        return 0.0
    if x >= d[n - 1]:
        return g[n - 1]
    i = int(math.sqrt(x / d[n - 1]) * (n - 1))
    i = min(max(i, 0), n - 2)
    f = (x - d[i]) / (d[i + 1] - d[i])
    return g[i] + f * (g[i + 1] - g[i])


@numba.njit(cache=True, error_model="numpy")
def _table2(d, ga, gb, wb, x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``(1 - wb) G_a(x) + wb G_b(x)`` from two tables on the same points ``d``."""
    if wb == 0.0:
        return _table(d, ga, x)
    return (1.0 - wb) * _table(d, ga, x) + wb * _table(d, gb, x)


@numba.njit(cache=True, error_model="numpy", parallel=True)
def area_plume_step(t_s, dt_s, rec_ptr, pair_src, pair_de, pair_dn, pair_ext, pair_k0, pair_nk, disc_x, disc_y,
                    row_a, row_b, w_b, src_q, src_radius, src_reach, src_group, u_e, v_n, min_wind, tab_d, tab_g,
                    tab_s, cum, bin_of_step, n_groups, decay_s, v_dep, rec_burn_s, conc,
                    hit, spot, spot_col, parts, part_col):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Add the area sources' plumes at time ``t_s`` (the end of a step) to ``conc``
    ``(tag, receptor)``, and to ``spot`` ``(tag, spot_col[r])`` the air of each pair at its
    most exposed sample point, for the receptors with ``spot_col[r] >= 0`` (the largest sum
    over the tags; its air by tag); to ``parts`` ``(tag, part_col[r] + i)`` each pair's air
    at its ``i``-th sample point, for the receptors with ``part_col[r] >= 0`` (their pairs
    all sampled at the same points).

    The pairs of receptor ``r`` are ``rec_ptr[r] .. rec_ptr[r + 1]`` (one thread per
    receptor). Pair ``p`` is area source ``pair_src[p]`` and a receptor whose
    centre lies ``(pair_de[p], pair_dn[p])`` east and north of the source's centre
    [m], sampled at the centre plus ``pair_ext[p]`` times the ``pair_nk[p]`` points
    of ``(disc_x, disc_y)`` from ``pair_k0[p]`` on (the mean over them is added).
    ``src_q``: base emission per unit area [kg m-2 s-1]; ``cum[g, k]``: group ``g``'s
    emission before step ``k`` over its base rate (:func:`emission_integral`);
    ``bin_of_step[k]``: the emission-tag bin of step ``k`` (tag ``bin * n_groups + g``);
    ``tab_d``, ``tab_g``: tables of :func:`travel_integral` on the points ``tab_d``:
    source ``s`` uses ``(1 - w_b[s]) tab_g[row_a[s]] + w_b[s] tab_g[row_b[s]]`` (its
    group's table, or the two that bracket its mixing height at this step); ``u_e``,
    ``v_n``: wind at each source [m s-1] (NaN: off the wind domain, no plume). Points
    beyond ``src_reach`` from the centre get nothing (the particles cover them).
    ``rec_burn_s[r]``: when a neutralisation front burnt receptor ``r``'s air (``inf``:
    not yet): from then on its plumes carry only the air of the bins emitted wholly
    after it (:func:`_burn_bins`). ``hit[r]`` is set where a plume reached.

    Travel distance is cut into bins of one emission step (or ``m`` equal parts of one,
    so that a bin is at most ``0.01 / λ`` of travel time): within a bin the emission
    rate and tag are those of one step, so each bin's share is exact, and the decay
    ``exp(-λ d/u)`` and the dry deposition ``exp(-v_dep G(d)/u)`` (source depletion: the
    column loses ``v_dep`` times its ground-level share, Chamberlain 1953) are taken at
    its middle. The bins' weights and their running sums are made once per source
    (:func:`_source_bins`); a sample point then costs two table lookups and a sum over
    the tags its travel distances span.
    """
    tau = bin_time(dt_s, decay_s)
    speed, n_bins, ptr, g_edge, run_sum, weight, tag_of, tag_end = _source_bins(
        t_s, dt_s, tau, pair_src, row_a, row_b, w_b, src_q, src_radius, src_reach, src_group, u_e, v_n, min_wind,
        tab_d, tab_g, tab_s, cum, bin_of_step, n_groups, decay_s, v_dep)
    for r in numba.prange(rec_ptr.size - 1):
        for p in range(rec_ptr[r], rec_ptr[r + 1]):
            s = pair_src[p]
            nb = n_bins[s]
            if nb == 0:
                continue  # off the wind domain, or nothing emitted yet
            o = ptr[s]
            ga = tab_g[row_a[s]]
            gb = tab_g[row_b[s]]
            wb = w_b[s]
            ex, ey = _unit(u_e[s], v_n[s])
            length = speed[s] * tau  # travel distance of a bin
            d_end = _burn_bins(t_s, tau, rec_burn_s[r], nb) * length  # burnt: only the air emitted since
            n_samples = pair_nk[p]
            best = 0.0  # the most exposed sample point's air so far, and its bins
            b_lo, b_hi, bg_lo, bg_hi = -1, -1, 0.0, 0.0
            for k in range(pair_k0[p], pair_k0[p] + n_samples):
                k_lo, k_hi, g_lo, g_hi = _sample_bins(pair_de[p] + pair_ext[p] * disc_x[k],
                                                      pair_dn[p] + pair_ext[p] * disc_y[k], ex, ey, src_radius[s],
                                                      src_reach[s], d_end, length, nb, tab_d, ga, gb, wb,
                                                      tab_s[row_a[s]])
                if k_lo < 0:
                    continue
                air = _sample_air(conc, r, n_samples, True, k_lo, k_hi, g_lo, g_hi, o, weight, tag_of, g_edge,
                                  run_sum, tag_end)
                if part_col[r] >= 0:
                    _sample_air(parts, part_col[r] + k - pair_k0[p], 1.0, True, k_lo, k_hi, g_lo, g_hi, o, weight,
                                tag_of, g_edge, run_sum, tag_end)
                if air > 0.0:
                    hit[r] = True
                if air > best:
                    best, b_lo, b_hi, bg_lo, bg_hi = air, k_lo, k_hi, g_lo, g_hi
            if spot_col[r] < 0:
                continue
            for m in range(SPOT_POINTS):  # and the points of the disc's crosswind lines (_line_point)
                ok, e, n = _line_point(pair_de[p], pair_dn[p], pair_ext[p], ex, ey, src_radius[s], m)
                if not ok:
                    continue
                k_lo, k_hi, g_lo, g_hi = _sample_bins(e, n, ex, ey, src_radius[s], src_reach[s], d_end, length, nb,
                                                      tab_d, ga, gb, wb, tab_s[row_a[s]])
                if k_lo < 0:
                    continue
                air = _sample_air(conc, r, n_samples, False, k_lo, k_hi, g_lo, g_hi, o, weight, tag_of, g_edge,
                                  run_sum, tag_end)
                if air > best:
                    best, b_lo, b_hi, bg_lo, bg_hi = air, k_lo, k_hi, g_lo, g_hi
            if b_lo >= 0:
                _sample_air(spot, spot_col[r], 1.0, True, b_lo, b_hi, bg_lo, bg_hi, o, weight, tag_of, g_edge,
                            run_sum, tag_end)


@numba.njit(cache=True, error_model="numpy", parallel=True)
def _source_bins(t_s, dt_s, tau, pair_src, row_a, row_b, w_b, src_q, src_radius, src_reach, src_group, u_e, v_n,
                 min_wind, tab_d, tab_g, tab_s, cum, bin_of_step, n_groups, decay_s,
                 v_dep):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The bins of the sources of ``pair_src`` at ``t_s`` (:func:`area_plume_step`): each
    source's speed, number of bins and offset (:func:`_bin_layout`), G at the bins' edges,
    the running sum of weight x ΔG up to each edge, each bin's weight (q x mean rate factor
    x loss / u) and tag, and where each bin's run of one tag ends."""
    speed, n_bins, ptr = _bin_layout(t_s, tau, pair_src, src_q.size, u_e, v_n, min_wind, src_reach, src_radius, True)
    g_edge = np.zeros(ptr[-1])
    run_sum = np.zeros(ptr[-1])
    weight = np.zeros(ptr[-1])
    tag_of = np.zeros(ptr[-1], np.int64)
    tag_end = np.zeros(ptr[-1], np.int64)
    for s in numba.prange(src_q.size):
        if n_bins[s] > 0:
            _edges(speed[s] * tau, n_bins[s], ptr[s], tab_d, tab_g[row_a[s]], tab_g[row_b[s]], w_b[s],
                   tab_s[row_a[s]], g_edge)
            _bin_weights(t_s, dt_s, tau, speed[s], n_bins[s], ptr[s], src_q[s], src_group[s], n_groups, tab_d,
                         tab_g[row_a[s]], tab_g[row_b[s]], w_b[s], tab_s[row_a[s]], cum, bin_of_step, decay_s, v_dep,
                         weight, tag_of)
            _tag_runs(n_bins[s], ptr[s], g_edge, weight, tag_of, run_sum, tag_end)
    return speed, n_bins, ptr, g_edge, run_sum, weight, tag_of, tag_end


@numba.njit(cache=True, error_model="numpy")
def source_full_bins(dt_s, pt_src, n_src, row_a, row_b, w_b, src_q, src_radius, src_reach, u_e, v_n, min_wind, tab_d,
                     tab_g, tab_s, decay_s, v_dep):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The overlap of a whole bin of each source of ``pt_src`` (:func:`area_plume_overlaps`'
    value for a point whose span covers the bin: ΔG of the bin times ``q``, decay and
    depletion over ``u``), on the layout of :func:`area_plume_overlaps` (``ptr``: each
    source's bins from ``ptr[s]`` on, ``n_bins``)."""
    tau = bin_time(dt_s, decay_s)
    speed, n_bins, ptr = _bin_layout(0.0, tau, pt_src, n_src, u_e, v_n, min_wind, src_reach, src_radius, False)
    g_edge = np.zeros(ptr[-1])
    full = np.zeros(ptr[-1])
    for s in range(n_src):
        nb = n_bins[s]
        if nb == 0:
            continue
        o = ptr[s]
        ga = tab_g[row_a[s]]
        gb = tab_g[row_b[s]]
        length = speed[s] * tau
        _edges(length, nb, o, tab_d, ga, gb, w_b[s], tab_s[row_a[s]], g_edge)
        for k in range(nb):
            loss = _bin_loss(k, length, speed[s], tab_d, ga, gb, w_b[s], tab_s[row_a[s]], decay_s, v_dep)
            full[o + k] = (g_edge[o + k + 1] - g_edge[o + k]) * (src_q[s] * loss / speed[s])
    return full, n_bins, ptr


#: Crosswind lines of a receptor disc on which :func:`_line_point` places the points its
#: spot is also searched among (and one more through the source's axis, where the disc
#: crosses it).
SPOT_LINES = 8
#: ... their points: three on each line, and the disc's point nearest the source's centre
SPOT_POINTS = 3 * (SPOT_LINES + 1) + 1


@numba.njit(cache=True, error_model="numpy")
def _line_point(de, dn, ext, ex, ey, radius, m):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Point ``m`` (``0 .. SPOT_POINTS - 1``) of a receptor disc (centre ``(de, dn)``
    east and north of the source's centre, radius ``ext``) for its spot: ``(ok, e, n)``.

    Along a line parallel to the wind at crosswind offset ``y`` from the source's centre, a
    point's air comes from the travel distances ``[max(0, x - c), x + c]`` upwind of it inside
    the source's disc (``c = sqrt(R^2 - y^2)``): it grows with ``x`` up to the source's
    downwind edge ``x = c`` and, beyond it, falls where the recent emission is the larger
    and rises where the older is (a stopped source). The most exposed point of the disc's
    chord on that line is then its upwind end, its downwind end or the edge ``c`` clamped
    into it: the three points of each of ``SPOT_LINES`` lines spread over the disc's
    crosswind extent inside the source's, and of the line nearest the source's axis
    (the longest fetch); last, the disc's point nearest the source's centre (where a disc
    beside the source's touches it, the air of the source's edge: no line need pass through
    it). The sample points of a small disc (4 or 16) lie inside its rim, where
    the air past a source's edge falls fastest: its countdown had come 10-30 min after the
    air at its rim (audit)."""
    if m == SPOT_POINTS - 1:
        dist = math.hypot(de, dn)
        if ext <= 0.0:
            return False, 0.0, 0.0
        f = max(1.0 - ext / dist, 0.0) if dist > 0.0 else 0.0
        return True, de * f, dn * f
    xc = de * ex + dn * ey
    yc = -de * ey + dn * ex
    y_lo = max(yc - ext, -radius)
    y_hi = min(yc + ext, radius)
    if not (y_hi > y_lo) or ext <= 0.0:
        return False, 0.0, 0.0
    line = m // 3
    if line < SPOT_LINES:
        y = y_lo + (line + 0.5) / SPOT_LINES * (y_hi - y_lo)
    else:
        y = min(max(0.0, y_lo), y_hi)
    h = math.sqrt(max(ext * ext - (y - yc) * (y - yc), 0.0))
    x1 = xc - h
    x2 = xc + h
    which = m % 3
    if which == 0:
        x = x1
    elif which == 1:
        x = x2
    else:
        x = min(max(math.sqrt(max(radius * radius - y * y, 0.0)), x1), x2)
    return True, x * ex - y * ey, x * ey + y * ex


@numba.njit(cache=True, error_model="numpy", parallel=True)
def area_plume_overlaps(dt_s, rec_ptr, pair_src, pair_de, pair_dn, pair_ext, pair_k0, pair_nk, disc_x, disc_y,
                        row_a, row_b, w_b, src_q, src_radius, src_reach, u_e, v_n, min_wind, tab_d, tab_g, tab_s,
                        decay_s, v_dep):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """What stays the same from step to step while the winds and tables do:
    ``overlap[pair_ptr[p] + k]``, the mean over pair ``p``'s sample points of the part
    ``ΔG`` of the travel integral that falls in its source's bin ``k`` (the bins of
    :func:`area_plume_step`, to the farthest sample point whatever the time), times the
    source's ``q`` and the bin's decay and depletion over ``u``. Then
    :func:`area_plume_apply` gives a step's plumes as the sum over bins of the emission
    rate of each bin's step times the overlap: the sums of :func:`area_plume_step` in
    another order, without the sample points. Returns ``(overlap, pair_ptr)``."""
    tau = bin_time(dt_s, decay_s)
    speed, n_bins, ptr = _bin_layout(0.0, tau, pair_src, src_radius.size, u_e, v_n, min_wind, src_reach, src_radius,
                                     False)
    g_edge = np.zeros(ptr[-1])
    for s in numba.prange(src_radius.size):
        if n_bins[s] > 0:
            _edges(speed[s] * tau, n_bins[s], ptr[s], tab_d, tab_g[row_a[s]], tab_g[row_b[s]], w_b[s],
                   tab_s[row_a[s]], g_edge)
    pair_ptr = np.zeros(pair_src.size + 1, np.int64)
    for p in range(pair_src.size):
        pair_ptr[p + 1] = pair_ptr[p] + n_bins[pair_src[p]]
    overlap = np.zeros(pair_ptr[-1])
    for r in numba.prange(rec_ptr.size - 1):
        for p in range(rec_ptr[r], rec_ptr[r + 1]):
            s = pair_src[p]
            nb = n_bins[s]
            if nb == 0:
                continue
            o = ptr[s]
            a = pair_ptr[p]
            ga = tab_g[row_a[s]]
            gb = tab_g[row_b[s]]
            wb = w_b[s]
            ex, ey = _unit(u_e[s], v_n[s])
            length = speed[s] * tau
            d_end = nb * length
            n_samples = pair_nk[p]
            for k in range(pair_k0[p], pair_k0[p] + n_samples):
                k_lo, k_hi, g_lo, g_hi = _sample_bins(pair_de[p] + pair_ext[p] * disc_x[k],
                                                      pair_dn[p] + pair_ext[p] * disc_y[k], ex, ey, src_radius[s],
                                                      src_reach[s], d_end, length, nb, tab_d, ga, gb, wb,
                                                      tab_s[row_a[s]])
                if k_lo < 0:
                    continue
                if k_lo == k_hi:
                    overlap[a + k_lo] += (g_hi - g_lo) / n_samples
                    continue
                overlap[a + k_lo] += (g_edge[o + k_lo + 1] - g_lo) / n_samples
                overlap[a + k_hi] += (g_hi - g_edge[o + k_hi]) / n_samples
                for j in range(k_lo + 1, k_hi):
                    overlap[a + j] += (g_edge[o + j + 1] - g_edge[o + j]) / n_samples
            for k in range(nb):  # the emission per unit area, decay and depletion, as _bin_weights
                overlap[a + k] *= src_q[s] * _bin_loss(k, length, speed[s], tab_d, ga, gb, wb, tab_s[row_a[s]],
                                                       decay_s, v_dep) / speed[s]
    return overlap, pair_ptr


@numba.njit(cache=True, error_model="numpy")
def _burn_bins(t_s, tau, burn_s, nb):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """How many of ``nb`` bins a receptor whose air a front burnt at ``burn_s`` keeps at
    ``t_s``: those emitted wholly after the burn (all ``nb`` before it). The front itself
    burns at the end of an output interval, so the cut is at a bin's edge too."""
    if not t_s > burn_s:
        return nb
    return min(nb, int(math.floor((t_s - burn_s) / tau + 1e-9)))


@numba.njit(cache=True, error_model="numpy")
def bin_time(dt_s, decay_s):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Travel time of a bin: one step, or ``dt_s / m`` with ``m`` the fewest parts of a
    step that keep a bin within ``0.01 / λ``. [s]"""
    m = max(1, int(math.ceil(decay_s * dt_s / 0.01 - 1e-12))) if decay_s > 0.0 else 1
    return dt_s / m


@numba.njit(cache=True, error_model="numpy")
def _bin_layout(t_s, tau, pair_src, n_src, u_e, v_n, min_wind, src_reach, src_radius,
                by_time):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Each source's wind speed (floored), number of bins (up to its farthest sample
    point and, ``by_time``, no further back than the run start) and offset of its
    ``n + 1`` bin edges in the flat arrays; sources in no pair or off the wind domain
    have none."""
    used = np.zeros(n_src, np.bool_)
    for p in range(pair_src.size):
        used[pair_src[p]] = True
    speed = np.zeros(n_src)
    n_bins = np.zeros(n_src, np.int64)
    for s in range(n_src):
        sp = math.hypot(u_e[s], v_n[s])
        if not used[s] or not math.isfinite(sp):
            continue
        sp = max(sp, min_wind)
        speed[s] = sp
        nb = int(math.ceil((src_reach[s] + src_radius[s]) / (sp * tau)))
        if by_time:
            nb = min(nb, int(math.floor(t_s / tau + 1e-9)))
        n_bins[s] = max(nb, 0)
    ptr = np.zeros(n_src + 1, np.int64)
    for s in range(n_src):
        ptr[s + 1] = ptr[s] + n_bins[s] + 1
    return speed, n_bins, ptr


@numba.njit(cache=True, error_model="numpy")
def _unit(u, v):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The wind's direction (east, north); east when calm."""
    sp = math.hypot(u, v)
    if sp > 0.0:
        return u / sp, v / sp
    return 1.0, 0.0


@numba.njit(cache=True, error_model="numpy")
def _sample_bins(e, n, ex, ey, radius, reach, s_end, length, nb, tab_d, ga, gb,
                 wb, s_tab):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The first and last bin of the travel distances upwind of the point ``(e, n)`` that
    lie in the disc and whose front distance (:func:`front_distance`, the table ``s_tab``)
    is below ``s_end``, and G at their two ends; ``(-1, -1, 0, 0)`` where there are none.
    Bins are in front distance: bin k holds the air that left ``k`` to ``k + 1`` bin times ago."""
    d_lo, d_hi = _span(e, n, ex, ey, radius, reach)
    if d_hi <= d_lo:
        return -1, -1, 0.0, 0.0
    s_lo = _table(tab_d, s_tab, d_lo)
    s_hi = _table(tab_d, s_tab, d_hi)
    if s_hi > s_end:
        s_hi = s_end
        d_hi = _from_front(tab_d, s_tab, s_end)
    if s_hi <= s_lo or d_hi <= d_lo:
        return -1, -1, 0.0, 0.0
    return (min(int(s_lo / length), nb - 1), min(int(s_hi / length), nb - 1), _table2(tab_d, ga, gb, wb, d_lo),
            _table2(tab_d, ga, gb, wb, d_hi))


@numba.njit(cache=True, error_model="numpy")
def _span(e, n, ex, ey, radius, reach):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The travel distances ``(d_lo, d_hi)`` upwind of the point ``(e, n)`` [m] from a
    disc's centre that lie in the disc (wind direction ``(ex, ey)``); ``d_hi <= d_lo``
    where none do or the point is beyond ``reach``."""
    if math.hypot(e, n) >= reach:
        return 0.0, -1.0
    x = e * ex + n * ey
    y = -e * ey + n * ex
    if abs(y) >= radius:
        return 0.0, -1.0
    c = math.sqrt(radius * radius - y * y)
    return max(0.0, x - c), x + c


@numba.njit(cache=True, error_model="numpy")
def spot_candidates(pair_src, pair_de, pair_dn, pair_ext, pair_k0, pair_nk, disc_x, disc_y, src_radius, src_reach,
                    u_e, v_n):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Per pair, the points that can be its most exposed one for these winds among its
    sample points and its lines' points (:func:`_line_point`), ``(cand_ptr, cand_e,
    cand_n)`` (CSR over the pairs; east and north of the source's centre [m]): a point's
    air is ``∫ w dG`` over the travel distances ``[d_lo, d_hi]`` upwind of it inside the
    source's disc (:func:`_span`), with ``w >= 0`` and G rising, so a point whose span lies
    inside another's gets no more air than that one whatever the emission, decay, front or
    burn (they cut both spans at the same travel distance or front distance). The points
    whose span lies in no other's are the candidates (of two equal spans, the first)."""
    n_pairs = pair_src.size
    n_line = SPOT_POINTS
    cand_ptr = np.zeros(n_pairs + 1, np.int64)
    cap = int(np.sum(pair_nk)) + n_pairs * n_line
    out_e = np.zeros(cap)
    out_n = np.zeros(cap)
    n_max = int(pair_nk.max()) + n_line if n_pairs else 0
    pe = np.zeros(n_max)
    pn = np.zeros(n_max)
    lo = np.zeros(n_max)
    hi = np.zeros(n_max)
    keep = np.zeros(n_max, np.bool_)
    for p in range(n_pairs):
        s = pair_src[p]
        ex, ey = _unit(u_e[s], v_n[s])
        n = 0
        for k in range(pair_k0[p], pair_k0[p] + pair_nk[p]):
            pe[n] = pair_de[p] + pair_ext[p] * disc_x[k]
            pn[n] = pair_dn[p] + pair_ext[p] * disc_y[k]
            n += 1
        for m in range(n_line):
            ok, e, nn = _line_point(pair_de[p], pair_dn[p], pair_ext[p], ex, ey, src_radius[s], m)
            if ok:
                pe[n] = e
                pn[n] = nn
                n += 1
        for k in range(n):
            lo[k], hi[k] = _span(pe[k], pn[k], ex, ey, src_radius[s], src_reach[s])
            keep[k] = hi[k] > lo[k]
        for k in range(n):
            if not keep[k]:
                continue
            for j in range(n):
                if j != k and keep[j] and lo[j] <= lo[k] and hi[j] >= hi[k] and (lo[j] < lo[k] or hi[j] > hi[k] or j < k):
                    keep[k] = False
                    break
        c = cand_ptr[p]
        for k in range(n):
            if keep[k]:
                out_e[c] = pe[k]
                out_n[c] = pn[k]
                c += 1
        cand_ptr[p + 1] = c
    return cand_ptr, out_e[:cand_ptr[n_pairs]].copy(), out_n[:cand_ptr[n_pairs]].copy()


@numba.njit(cache=True, error_model="numpy")
def _sample_air(out, col, n_samples, write, k_lo, k_hi, g_lo, g_hi, o, weight, tag_of, g_edge, run_sum,
                tag_end):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The air of one sample point (its bins ``k_lo .. k_hi`` of a source's bins from ``o``
    on, G ``g_lo`` and ``g_hi`` at its ends) over ``n_samples``, added tag by tag to
    ``out[tag, col]`` where ``write``; returns its sum over the tags."""
    if k_lo == k_hi:
        return _put(out, col, write, tag_of[o + k_lo], weight[o + k_lo] * (g_hi - g_lo) / n_samples)
    air = _put(out, col, write, tag_of[o + k_lo], weight[o + k_lo] * (g_edge[o + k_lo + 1] - g_lo) / n_samples)
    air += _put(out, col, write, tag_of[o + k_hi], weight[o + k_hi] * (g_hi - g_edge[o + k_hi]) / n_samples)
    j = k_lo + 1
    while j < k_hi:  # the whole bins between, tag by tag
        j_end = min(tag_end[o + j], k_hi)
        air += _put(out, col, write, tag_of[o + j], (run_sum[o + j_end] - run_sum[o + j]) / n_samples)
        j = j_end
    return air


@numba.njit(cache=True, error_model="numpy")
def _put(out, col, write, tag, val):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``val`` added to ``out[tag, col]`` where it is positive and ``write``; its positive part."""
    if val > 0.0:
        if write:
            out[tag, col] += val
        return val
    return 0.0


@numba.njit(cache=True, error_model="numpy")
def _add(conc, hit, r, tag, val):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    if val > 0.0:
        conc[tag, r] += val
        hit[r] = True


@numba.njit(cache=True, error_model="numpy")
def _edges(length, nb, o, tab_d, ga, gb, wb, s_tab, g_edge):  # type: ignore[no-untyped-def]  # pragma: no cover
    """G at the ``nb + 1`` edges of a source's bins of ``length`` [m] of front distance, from ``o`` on."""
    for k in range(nb + 1):
        g_edge[o + k] = _table2(tab_d, ga, gb, wb, _from_front(tab_d, s_tab, k * length))


@numba.njit(cache=True, error_model="numpy")
def _bin_weights(t_s, dt_s, tau, speed, nb, o, q, g, n_groups, tab_d, ga, gb, wb, s_tab, cum, bin_of_step, decay_s,
                 v_dep, weight, tag_of):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Each of a source's ``nb`` bins at ``t_s``: its weight ``q x mean rate factor x loss
    / u`` (decay and depletion at its middle) and its tag, from ``o`` on."""
    n_steps = cum.shape[1] - 1
    length = speed * tau
    for k in range(nb):
        t_hi = t_s - k * tau  # the bin's air left the source between t_lo and t_hi
        t_lo = t_s - (k + 1) * tau
        factor = (_emitted(cum, g, t_hi, dt_s) - _emitted(cum, g, t_lo, dt_s)) / tau
        weight[o + k] = q * factor * _bin_loss(k, length, speed, tab_d, ga, gb, wb, s_tab, decay_s, v_dep) / speed
        step = max(min(int(math.floor(0.5 * (t_lo + t_hi) / dt_s)), n_steps - 1), 0)
        tag_of[o + k] = bin_of_step[step] * n_groups + g


@numba.njit(cache=True, error_model="numpy")
def _tag_runs(nb, o, g_edge, weight, tag_of, run_sum, tag_end):  # type: ignore[no-untyped-def]  # pragma: no cover
    """The running sum of weight x ΔG over a source's bins, and where each bin's run of
    one tag ends (local index)."""
    run_sum[o] = 0.0
    for k in range(nb):
        run_sum[o + k + 1] = run_sum[o + k] + weight[o + k] * (g_edge[o + k + 1] - g_edge[o + k])
    _tag_ends(nb, o, tag_of, tag_end)


@numba.njit(cache=True, error_model="numpy")
def _tag_ends(nb, o, tag_of, tag_end):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Where each of a source's ``nb`` bins' run of one tag ends (local index), from ``o`` on."""
    end = nb
    for k in range(nb - 1, -1, -1):
        if k < nb - 1 and tag_of[o + k] != tag_of[o + k + 1]:
            end = k + 1
        tag_end[o + k] = end


@numba.njit(cache=True, error_model="numpy")
def _bin_loss(k, length, speed, tab_d, ga, gb, wb, s_tab, decay_s, v_dep):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Bin ``k``'s (of ``length`` [m] of front distance) decay and dry depletion at its middle
    over the wind's travel time ``d/u`` (source depletion: ``v_dep`` times the ground-level
    share G)."""
    mid = _from_front(tab_d, s_tab, (k + 0.5) * length)
    arg = -decay_s * mid / speed
    if v_dep > 0.0:
        arg -= v_dep * _table2(tab_d, ga, gb, wb, mid) / speed
    return math.exp(arg)


@numba.njit(cache=True, error_model="numpy")
def _emitted(cum, g, t, dt_s):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Group ``g``'s emission from the run start to ``t`` over its base rate [s], from
    ``cum`` (:func:`emission_integral`; rates are constant within a step)."""
    n = cum.shape[1] - 1
    if t <= 0.0:
        return 0.0
    k = int(t / dt_s)
    if k >= n:
        return cum[g, n]
    return cum[g, k] + (t - k * dt_s) / dt_s * (cum[g, k + 1] - cum[g, k])


def emission_integral(factor: NDArray[np.float64], dt_s: float) -> NDArray[np.float64]:
    """``cum[g, k]``: group ``g``'s emission over its base rate from the run start to
    the start of step ``k`` [s] (``factor[g, k]``: its rate in step ``k`` over the base
    rate), shape ``(n_groups, n_steps + 1)``."""
    cum = np.zeros((factor.shape[0], factor.shape[1] + 1))
    cum[:, 1:] = np.cumsum(factor * dt_s, axis=1)
    return cum

def sunflower(n: int) -> NDArray[np.float64]:
    """``n`` points of equal area on the unit disc (Vogel's spiral), shape (2, n)."""
    k = np.arange(n) + 0.5
    r = np.sqrt(k / n)
    theta = k * math.pi * (3.0 - math.sqrt(5.0))
    return np.stack([r * np.cos(theta), r * np.sin(theta)])

