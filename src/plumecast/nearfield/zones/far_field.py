"""A dense release's passive far field beyond the workbook curves (:func:`far_field_match`: virtual
sources matched where the curves end; :func:`far_sigma_z`: its σ_z), for one setup or, with the same
arithmetic per setup, for many at once (:func:`far_field_matches`: a finite release's twins, the same
rate over the ~50 longer durations of :func:`~plumecast.nearfield.zones.dense_finite.longer_durations`,
each bisection stepped for all of them in one numpy call; :func:`_inverse_increasing_many`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.gaussian import (
    briggs_sigma_y,
    briggs_sigma_z,
    vertical_term,
)

#: The lag table of the stratified far field spans x_c to this many times x_c (beyond: held). [-]
FAR_LAG_SPAN = 1.0e4
#: Points of that table (geometric in x; trapezoidal rule). [-]
FAR_LAG_POINTS = 4000


def _lag_grid() -> NDArray[np.float64]:
    """``np.geomspace(1, FAR_LAG_SPAN, FAR_LAG_POINTS)``, the lag table's places over ``x_c``, computed once
    (each of a release's ~52 twins had built its own, a tenth of their far fields' matching). [-]"""
    global _LAG_GRID
    if _LAG_GRID is None or _LAG_GRID[0] != (FAR_LAG_SPAN, FAR_LAG_POINTS):
        grid = np.geomspace(1.0, FAR_LAG_SPAN, FAR_LAG_POINTS)
        grid.flags.writeable = False  # shared: each table is x_c times it, a new array
        _LAG_GRID = ((FAR_LAG_SPAN, FAR_LAG_POINTS), grid)
    return _LAG_GRID[1]


#: :func:`_lag_grid`'s grid and the (span, points) it was built for
_LAG_GRID: tuple[tuple[float, int], NDArray[np.float64]] | None = None


def _inverse_increasing_many(f: Any, target: NDArray[np.float64], lo: NDArray[np.float64], hi: float,
                             rtol: float = 1e-14) -> NDArray[np.float64]:
    """:func:`~plumecast.nearfield.zones.setup._inverse_increasing` for many targets at once: element ``i``
    is the smallest ``x`` in ``[lo[i], hi]`` with ``f(x) >= target[i]``, by the same bisection in ``ln x``
    (the same midpoints, comparisons and stop), each step's ``f`` one call on the elements not yet done.
    ``f(x, i)`` gives the values at ``x`` of the elements ``i`` (indices into ``target``), element by element. [m]"""
    target = np.asarray(target, dtype=float)
    lo = np.array(np.broadcast_to(np.asarray(lo, dtype=float), target.shape))
    hi_a = np.full(target.shape, float(hi))
    every = np.arange(target.size)
    at_lo = np.asarray(f(lo, every), dtype=float) >= target
    never = ~at_lo & (np.asarray(f(hi_a, every), dtype=float) < target)
    out = np.where(at_lo, lo, np.where(never, math.inf, np.nan))
    todo = np.nonzero(~at_lo & ~never)[0]
    a, b = lo[todo], hi_a[todo]
    for _ in range(200):
        if todo.size == 0:
            break
        mid = np.sqrt(a * b)
        below = np.asarray(f(mid, todo), dtype=float) < target[todo]
        a = np.where(below, mid, a)
        b = np.where(below, b, mid)
        done = b / a < 1.0 + rtol
        out[todo[done]] = b[done]
        keep = ~done
        todo, a, b = todo[keep], a[keep], b[keep]
    out[todo] = b  # (200 steps without reaching rtol: the scalar loop's last hi)
    return out


def far_field_match(setup: Any, dense: Any, friction_velocity_m_s: float = math.nan) -> Any:
    """The dense release's far field: virtual sources of the passive plume (puff) at the curves' end.

    Where the workbook's curves end (C_m/C_0 = 0.002 plume, 0.001 puff; ``x_c``) the cloud
    goes over to the passive Gaussian plume (puff) of the release, from virtual sources
    (the virtual source method, CCPS process safety glossary; as DEGADIS, ALOHA's heavy gas
    model and HEGADAS go over to a Gaussian far field, see :mod:`plumecast.nearfield.dense_gas`):

    * σ_y: ``σ_y(x) = σ_y,B(x + x_vy)`` (the ambient Briggs σ_y of the scenario's class and
      terrain, with the averaging-time factor), ``x_vy >= 0`` such that it equals the
      cloud's Gaussian-equivalent width at ``x_c`` (the larger of its gravity spreading and
      the ambient σ_y);
    * σ_z: ``σ_z(x) = σ_z,B(x + x_vz)``, ``x_vz`` such that the ground-level value of the
      passive plume of the release rate (puff: its mass) with those σ's equals the workbook
      value at ``x_c``: σ_z there is the cloud's mass-consistent depth (Farrell 2023), and
      ``x_vz`` is negative where the cloud is shallower than an ambient plume that far out
      (all cases tried). Where the Briggs σ_z never reaches that depth (E, F level off at
      100 m, 53 m) the depth is held (``far_shift_z_m`` inf).

    * stratification (with a finite ``friction_velocity_m_s``): beyond ``x_c`` the cloud deepens
      ``phi(Ri*)/phi(0)`` times more slowly than the ambient plume of the same depth (DEGADIS 2.1's
      entrainment law, :func:`~plumecast.nearfield.dense_gas.stratification_factor`):
      ``dσ_z/dx = σ_z,B'(s)/φ̂``, ``s`` the ambient distance where ``σ_z,B(s) = σ_z``, i.e.
      ``ds/dx = 1/φ̂`` and ``σ_z(x) = σ_z,B(x + x_vz - lag(x))`` with
      ``lag(x) = ∫_{x_c}^{x} (1 - 1/φ̂(Ri*(x'))) dx'``. ``Ri*`` is the cloud's at its centre
      (:func:`~plumecast.nearfield.dense_gas.richardson_star`): its column there, the release rate over
      ``u √(2π) σ_y`` (puff: its mass over ``2π σ_y²``), with this far field's σ_y, so it does not depend on
      σ_z and the lag is a quadrature, tabulated once (:data:`FAR_LAG_POINTS` points, geometric, from
      ``x_c`` to :data:`FAR_LAG_SPAN` ``x_c``). ``φ̂ ≡ 1`` gives ``lag ≡ 0``, the ambient rate. Continuous
      at ``x_c`` (lag 0 there).

    Returns ``dense`` with ``far_shift_y_m``, ``far_shift_z_m``, ``far_sigma_z_m`` and (stratified) the lag
    table set.
    """
    return far_field_matches([(setup, dense, friction_velocity_m_s)])[0]


def far_field_matches(items: list[tuple[Any, Any, float]]) -> list[Any]:
    """:func:`far_field_match` of each ``(setup, dense, friction_velocity_m_s)``: the same values to the bit,
    the three bisections (σ_y's virtual source, the depth σ_z, σ_z's virtual source) stepped together for the
    setups that share a class, terrain, averaging factor and lid (a release's twins: the same rate over
    longer durations, its whole mass at once), one numpy call a step instead of one per setup."""
    out: list[Any] = [None] * len(items)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, (setup, _, _) in enumerate(items):
        key = (setup.pg_class, setup.terrain, setup.sigma_y_factor, setup.mixing_height_m)
        groups.setdefault(key, []).append(i)
    for idx in groups.values():
        for i, d in zip(idx, _matches([items[i] for i in idx]), strict=True):
            out[i] = d
    return out


def _matches(items: list[tuple[Any, Any, float]]) -> list[Any]:
    """:func:`far_field_matches` for setups of one class, terrain, averaging factor and lid."""
    from dataclasses import replace

    first = items[0][0]
    cls, terrain, fy, lid = first.pg_class, first.terrain, first.sigma_y_factor, first.mixing_height_m
    x_cs, sy_cs, v_targets = [], [], []
    for setup, dense, _ in items:
        x_c = float(dense.curves_end_m)
        u = setup.wind_speed_m_s
        xa = np.array([x_c])
        c_c = float(dense.concentration_kg_m3(xa)[0])
        sy_b = float(briggs_sigma_y(xa, setup.pg_class, setup.terrain)[0]) * setup.sigma_y_factor
        sy_c = max(float(dense.sigma_y_equivalent(xa, u)[0]), sy_b, 1e-3)
        # the vertical factor V(σ_z) that gives the workbook value with the cloud's width
        if dense.kind == "continuous":
            v_target = c_c * u * math.sqrt(2.0 * math.pi) * sy_c / (setup.mass_kg / setup.duration_s)
        else:
            v_target = c_c * 2.0 * math.pi * sy_c * sy_c / setup.mass_kg
        x_cs.append(x_c)
        sy_cs.append(sy_c)
        v_targets.append(v_target)
    x_c_a = np.array(x_cs)
    x_y = _inverse_increasing_many(lambda x, _: briggs_sigma_y(x, cls, terrain) * fy, np.array(sy_cs), x_c_a, 1e12)
    sz_c = _inverse_increasing_many(lambda sz, _: -vertical_term(0.0, 0.0, sz, lid), -np.array(v_targets),
                                    np.full(len(items), 1e-6), 1e7)
    sz_c = np.where(np.isfinite(sz_c), sz_c, 1e7)
    x_z = _inverse_increasing_many(lambda x, _: briggs_sigma_z(x, cls, terrain), sz_c, np.full(len(items), 1e-9),
                                   1e12)
    out = []
    for k, (setup, dense, friction_velocity_m_s) in enumerate(items):
        x_c, u = x_cs[k], setup.wind_speed_m_s
        shift_y = max(float(x_y[k]) - x_c, 0.0) if math.isfinite(x_y[k]) else 0.0
        shift_z = float(x_z[k]) - x_c if math.isfinite(x_z[k]) else math.inf
        lag_x = lag = ri = None
        if math.isfinite(friction_velocity_m_s) and friction_velocity_m_s > 0.0 and math.isfinite(shift_z):
            from plumecast.nearfield import dense_gas as dg

            lag_x = x_c * _lag_grid()
            sy = np.maximum(briggs_sigma_y(lag_x + shift_y, setup.pg_class, setup.terrain) * setup.sigma_y_factor,
                            1e-3)
            if dense.kind == "continuous":
                column = setup.mass_kg / setup.duration_s / (u * math.sqrt(2.0 * math.pi) * sy)
            else:
                column = setup.mass_kg / (2.0 * math.pi * sy * sy)
            ri = dg.richardson_star(column, dense.molecular_weight_kg_mol, dense.air_temperature_k,
                                    friction_velocity_m_s)
            slow = 1.0 - 1.0 / dg.stratification_factor(ri)
            lag = np.concatenate(([0.0], np.cumsum(0.5 * (slow[1:] + slow[:-1]) * np.diff(lag_x))))
        out.append(replace(dense, far_shift_y_m=shift_y, far_shift_z_m=shift_z, far_sigma_z_m=float(sz_c[k]),
                           far_lag_x_m=lag_x, far_lag_m=lag, far_friction_velocity_m_s=friction_velocity_m_s,
                           far_richardson_c=math.nan if lag is None or ri is None else float(ri[0])))
    return out


def far_sigma_z(setup: Any, x_m: NDArray[np.float64], where: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
    """σ_z of a dense release's passive far field (:func:`far_field_match`) at ``x_m`` beyond the curves; with
    ``where``, at ``x_m[where]`` only (flattened, ``x_m`` broadcast to its shape). A release's twins stacked one a
    row (:class:`~plumecast.nearfield.zones.dense_twins.TwinStack`: ``where`` given) are read row by row, each
    with its own lag table. [m]"""
    if where is not None:
        x_all = np.broadcast_to(np.asarray(x_m, dtype=float), where.shape)
        rows = getattr(setup, "rows", None)
        if rows is None:
            return far_sigma_z(setup, x_all[where])
        return np.concatenate([far_sigma_z(r, x_r[w]) for r, x_r, w in zip(rows, x_all, where, strict=True)])
    d = setup.dense
    x = np.asarray(x_m, dtype=float)
    if not math.isfinite(d.far_shift_z_m):
        return np.full(x.shape, d.far_sigma_z_m)
    s = x + d.far_shift_z_m
    if d.far_lag_x_m is not None:  # the stratified cloud's lag behind the ambient rate (far_field_match)
        s = s - np.interp(x, d.far_lag_x_m, d.far_lag_m, left=0.0, right=float(d.far_lag_m[-1]))
    sz = briggs_sigma_z(np.maximum(s, 1e-9), setup.pg_class, setup.terrain)
    return np.asarray(np.maximum(sz, 1e-3), dtype=float)


def puff_transitions(setup: Any, puffs: list[Any]) -> dict[tuple[float, float], float]:
    """``setup.passive_transition_distance`` of dense puffs (``DenseSetup``'s of kind instantaneous) in
    ``setup``'s wind, class and terrain, bisected together: ``{(g0', V0): distance}``, the same values
    (a release's twins: their whole masses at once, :func:`~plumecast.nearfield.zones.setup.with_dense_regime`). [m]"""
    from plumecast.nearfield import dense_gas as dg
    from plumecast.nearfield.zones.setup import MAX_DISTANCE_M

    if not puffs:
        return {}
    u = setup.wind_speed_m_s
    sigma_p = np.array([math.sqrt(dg.passive_transition_area_m2(d.g0p, d.source_volume, u) / (2.0 * math.pi))
                        for d in puffs])
    slump = [d.puff_slumping() for d in puffs]
    r0sq, c = np.array([r0**2 for r0, _ in slump]), np.array([cc for _, cc in slump])

    def size(x: NDArray[np.float64], i: NDArray[np.int64]) -> NDArray[np.float64]:
        # the larger of the puff's Gaussian-equivalent radius (sigma_y_equivalent) and the ambient σ_y
        s_dense = dg.puff_sigma_y_equivalent(x, r0sq[i], c[i], u)
        return np.asarray(np.maximum(s_dense, briggs_sigma_y(x, setup.pg_class, setup.terrain) * setup.sigma_y_factor),
                          dtype=float)

    x_p = _inverse_increasing_many(size, sigma_p, np.full(len(puffs), 1e-3), float(MAX_DISTANCE_M), rtol=1e-6)
    return {(d.g0p, d.source_volume): float(v) for d, v in zip(puffs, x_p, strict=True)}
