"""A finite dense release's twins read together (:func:`twin_reads`): its whole mass at once and the same rate
over the ~50 longer durations of :func:`~plumecast.nearfield.zones.dense_finite.longer_durations`, each a
slumping dense puff of its own mass. :func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts` needs
each one's peak bound, puff radius, continuous weight and width at the same places; here they are stacked, one
row a twin, so that each numpy call covers all of them, with the arithmetic of the one-by-one code
(``_peak_over``, ``_width``, ``setup._sigmas``, ``DenseSetup.sigma_y_equivalent``, ``setup.dense_axis_parts``,
``plume.dense_axis_concentration``) element by element: the same values to the bit. Twins of another kind (a
passive puff, another air) are read one by one as before."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.gaussian import (
    briggs_sigma_y,
    cap_at_pure_vapour,
    peak_finite_duration_factor,
    vertical_term,
)
from plumecast.nearfield.zones.far_field import far_sigma_z

Read = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def twin_reads(setup: Any, rows: list[tuple[float, Any]], xp: NDArray[np.float64], axis: NDArray[np.float64],
               amb: NDArray[np.float64], air: Any, sy: NDArray[np.float64]) -> list[Read]:
    """For each ``(duration, twin)`` of ``rows``, at ``xp``: ``dense_finite._peak_over``'s peak, puff radius
    and continuous weight, and ``dense_finite._width`` of them (``axis``, ``amb``, ``air`` and the steady
    plume's width ``sy`` as :func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts` has them)."""
    from plumecast.nearfield.zones.dense_finite import _peak_over, _same_air, _width

    out: list[Any] = [None] * len(rows)
    fast = []
    for k, (t_s, part) in enumerate(rows):
        d = part.dense
        if (d is not None and d.kind == "instantaneous" and part.duration_s <= 0 and _same_air(setup, part)
                and part.wind_speed_m_s == setup.wind_speed_m_s
                and part.pure_vapour_kg_m3 == setup.pure_vapour_kg_m3):
            fast.append(k)
        else:
            p, s, f = _peak_over(setup, part, t_s, xp, axis, amb, air)
            out[k] = (p, s, f, _width(sy, part, t_s, xp, s, f))
    if fast:
        for k, read in zip(fast, _stacked(setup, [rows[k] for k in fast], xp, axis, amb, air, sy), strict=True):
            out[k] = read
    return out


def _puff_sigma_y(x: NDArray[np.float64], x_c: NDArray[np.float64], shift: NDArray[np.float64],
                  r0sq: NDArray[np.float64], c: NDArray[np.float64], u: float, setup: Any,
                  sy_amb: NDArray[np.float64]) -> NDArray[np.float64]:
    """``setup._sigmas``' σ_y of dense puffs (one a row: curves' end ``x_c``, far shift, ``R0²``, slumping rate
    ``c``) at ``x``, the Briggs σ_y there (with the factor) ``sy_amb`` given. [m]"""
    # DenseSetup.sigma_y_equivalent of a puff: R² = R0² + c x/u, σ = sqrt(R²/2)
    xs = np.maximum(np.minimum(x, x_c), 0.0)
    within = np.maximum(sy_amb, np.asarray(np.sqrt((r0sq + c * xs / u) / 2.0), dtype=float))
    far = briggs_sigma_y(np.maximum(x, x_c) + shift, setup.pg_class, setup.terrain)
    return np.asarray(np.maximum(np.where(x <= x_c, within, far * setup.sigma_y_factor), 1e-3), dtype=float)


def _stacked(setup: Any, rows: list[tuple[float, Any]], xp: NDArray[np.float64], axis: NDArray[np.float64],
             amb: NDArray[np.float64], air: Any, sy: NDArray[np.float64]) -> list[Read]:
    """:func:`twin_reads` of dense puffs with ``setup``'s air, wind and cap, stacked (rows: twins, columns: the
    places of ``xp`` flattened)."""
    from plumecast.nearfield.zones.dense_finite import (
        BM_CONTINUOUS_MIN,
        BM_INSTANTANEOUS_MAX,
        _between,
    )

    u = setup.wind_speed_m_s
    x = np.asarray(xp, dtype=float).reshape(-1)
    (sy_b, _), v_passive = air
    sy_b = np.asarray(sy_b, dtype=float).reshape(-1)
    v_passive = np.asarray(v_passive, dtype=float).reshape(-1)
    ax, am, sy_f = (np.asarray(a, dtype=float).reshape(-1) for a in (axis, amb, sy))
    dense = [p.dense for _, p in rows]

    def col(values: list[float]) -> NDArray[np.float64]:
        return np.array(values, dtype=float)[:, None]

    t = col([t_s for t_s, _ in rows])
    x_c = col([float(d.curves_end_m) for d in dense])
    shift = col([d.far_shift_y_m for d in dense])
    slump = [d.puff_slumping() for d in dense]
    r0sq, c = col([r0**2 for r0, _ in slump]), col([cc for _, cc in slump])
    mass = col([p.mass_kg for _, p in rows])
    handover = col([d.handover_m for d in dense])
    # _peak_over: the steady plume's part, the puff's radius and time factor
    c_cont = ax * peak_finite_duration_factor(u, t, am)
    s_inst = _puff_sigma_y(x, x_c, shift, r0sq, c, u, setup, sy_b)
    f_inst = peak_finite_duration_factor(u, t, s_inst)
    # the puff's axis value (dense_axis_parts, dense_axis_concentration, _axis_peak); its passive candidate's
    # vertical term (at the ground source's σ_z, the same for every twin) is v_passive
    beyond = x > x_c
    workbook = np.stack([d.concentration_kg_m3(np.where(b, xc, x)) for d, b, xc in zip(dense, beyond, x_c[:, 0],
                                                                                          strict=True)])
    dense_c = np.array(workbook, dtype=float)
    if np.any(beyond):
        far_sz = np.concatenate([far_sigma_z(p, x[b]) for (_, p), b in zip(rows, beyond, strict=True)])
        s_far = s_inst[beyond]
        v = vertical_term(0.0, 0.0, far_sz, setup.mixing_height_m)
        dense_c[beyond] = np.broadcast_to(mass, beyond.shape)[beyond] * v / (2 * np.pi * s_far * s_far)
    passive = mass * v_passive / (2 * np.pi * s_inst * s_inst)
    c_axis = cap_at_pure_vapour(np.where(x < handover, dense_c, np.maximum(dense_c, passive)),
                                setup.pure_vapour_kg_m3)
    c_puff = np.where(x > 0, c_axis, 0.0)
    c_inst = c_puff * np.sqrt(2.0 * np.pi) * s_inst / (u * t) * f_inst
    r = u * t / x
    f = np.clip(np.log(np.maximum(r, 1e-300) / BM_INSTANTANEOUS_MAX) / math.log(BM_CONTINUOUS_MIN / BM_INSTANTANEOUS_MAX),
                0.0, 1.0)
    peak = np.minimum(np.minimum(_between(f, c_cont, c_inst), c_puff), ax)
    # _width: the puff's radius when the last of the release passes
    x_last = x + u * t
    s_last = _puff_sigma_y(x_last, x_c, shift, r0sq, c, u, setup,
                           briggs_sigma_y(x_last, setup.pg_class, setup.terrain) * setup.sigma_y_factor)
    width = _between(f, np.minimum(sy_f, np.maximum(s_last, s_inst)), np.maximum(s_inst, 1e-3))
    shape = np.shape(xp)
    return [(np.asarray(peak[k].reshape(shape), dtype=float), np.asarray(s_inst[k].reshape(shape), dtype=float),
             np.asarray(f[k].reshape(shape), dtype=float), np.asarray(width[k].reshape(shape), dtype=float))
            for k in range(len(rows))]


def passive_takeovers(items: list[tuple[Any, float]]) -> list[tuple[float, str | None]]:
    """``setup._passive_takeover`` of each ``(setup, x_first)`` (a release's twins, each with its probed dense
    puff and far field): the hand-over distance and the note it adds (None: none), the same values. Dense puffs
    in one air (class, terrain, averaging factor, lid) and wind have their 400-place grids' σ's, vertical terms and
    passive candidates computed stacked, one row a twin, with :func:`setup.dense_axis_parts`' arithmetic element
    by element; the first crossing refined one by one as before. Any other setup is read by
    ``_passive_takeover`` itself."""
    from plumecast.nearfield.gaussian import briggs_sigma_z
    from plumecast.nearfield.zones.dense_finite import _same_air
    from plumecast.nearfield.zones.setup import MAX_DISTANCE_M, _passive_takeover, _takeover_refined

    out: list[Any] = [None] * len(items)
    fast = []
    for k, (part, x_first) in enumerate(items):
        d = part.dense
        if (d is not None and d.kind == "instantaneous" and _same_air(items[0][0], part)
                and part.wind_speed_m_s == items[0][0].wind_speed_m_s):
            fast.append(k)
        else:
            notes: list[str] = []
            out[k] = (_passive_takeover(part, x_first, notes), notes[0] if notes else None)
    if not fast:
        return out
    first = items[fast[0]][0]
    setups = [items[k][0] for k in fast]
    dense = [p.dense for p in setups]

    def col(values: list[float]) -> NDArray[np.float64]:
        return np.array(values, dtype=float)[:, None]

    xs = np.stack([np.geomspace(items[k][1], MAX_DISTANCE_M, 400) for k in fast])
    x = np.maximum(xs, 1e-3)
    u = first.wind_speed_m_s
    x_c = col([float(d.curves_end_m) for d in dense])
    slump = [d.puff_slumping() for d in dense]
    sy_b = briggs_sigma_y(x, first.pg_class, first.terrain) * first.sigma_y_factor
    sz = np.maximum(briggs_sigma_z(x, first.pg_class, first.terrain), 1e-3)
    sy = _puff_sigma_y(x, x_c, col([d.far_shift_y_m for d in dense]), col([r0**2 for r0, _ in slump]),
                            col([cc for _, cc in slump]), u, first, sy_b)
    mass = col([p.mass_kg for p in setups])
    # the workbook curve to its end, beyond it the far field's puff (dense_axis_parts' ground of far_sigma_z)
    beyond = x > x_c
    dense_c = np.stack([d.concentration_kg_m3(np.where(b, xc, xr)) for d, b, xc, xr in
                        zip(dense, beyond, x_c[:, 0], x, strict=True)])
    if np.any(beyond):
        far_sz = np.concatenate([far_sigma_z(p, xr[b]) for p, xr, b in zip(setups, x, beyond, strict=True)])
        s_far = sy[beyond]
        v = vertical_term(0.0, 0.0, far_sz, first.mixing_height_m)
        dense_c[beyond] = np.broadcast_to(mass, beyond.shape)[beyond] * v / (2 * np.pi * s_far * s_far)
    passive = mass * vertical_term(0.0, 0.0, sz, first.mixing_height_m) / (2 * np.pi * sy * sy)
    over = passive >= dense_c
    for row, k in enumerate(fast):
        part, x_first = items[k]
        hits = np.nonzero(over[row])[0]
        notes = []
        x_pass = math.inf if hits.size == 0 else _takeover_refined(part, x_first, xs[row], int(hits[0]), notes)
        out[k] = (x_pass, notes[0] if notes else None)
    return out

