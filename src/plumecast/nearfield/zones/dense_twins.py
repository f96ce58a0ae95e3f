"""A finite dense release's twins read together: its whole mass at once and the same rate over the ~50 longer
durations of :func:`~plumecast.nearfield.zones.dense_finite.longer_durations`, each a slumping dense puff of its
own mass. :func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts` needs each one's peak bound, puff
radius, continuous weight and width at the same places (:func:`twin_reads`), and the release's setup each one's
hand-over to the passive plume (:func:`passive_takeovers`). The puffs that share the release's air (class,
terrain, averaging factor, lid) and wind are stacked, one a row (:class:`TwinStack`), and read by the one-by-one
code itself (``dense_finite._peak_over`` and ``_width``, ``setup._sigmas``, ``setup.dense_axis_parts``,
``plume.dense_axis_concentration``, :func:`~plumecast.nearfield.dense_gas.puff_sigma_y_equivalent`): a puff's
numbers are columns that broadcast against the places, so each numpy call covers all of them, and a row holds the
values of that puff read alone. Only the workbook curve and the far field's σ_z (a lag table each) are read row by
row. Twins of another kind (a passive puff, another air) are read one by one."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.nearfield.dense_gas import puff_sigma_y_equivalent

Read = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def _column(values: list[float]) -> NDArray[np.float64]:
    return np.array(values, dtype=float)[:, None]


@dataclass(frozen=True)
class PuffStack:
    """Dense puffs (``DenseSetup`` of kind instantaneous, ``rows``) as one ``DenseSetup`` to the zones' dense
    code: their curves' end, far field's σ_y shift and hand-over one a row (columns), read at places broadcast
    to one row a puff."""

    rows: tuple[Any, ...]
    curves_end_m: NDArray[np.float64]
    far_shift_y_m: NDArray[np.float64]
    handover_m: NDArray[np.float64]
    r0_sq_m2: NDArray[np.float64]  # R0² of each puff's slumping (DenseSetup.puff_slumping)
    slump_m2_s: NDArray[np.float64]  # c of each
    kind: str = "instantaneous"

    @classmethod
    def of(cls, dense: list[Any]) -> PuffStack:
        slump = [d.puff_slumping() for d in dense]  # R0² squared as one by one (a Python float each)
        return cls(tuple(dense), _column([float(d.curves_end_m) for d in dense]),
                   _column([d.far_shift_y_m for d in dense]), _column([d.handover_m for d in dense]),
                   _column([r0**2 for r0, _ in slump]), _column([c for _, c in slump]))

    def sigma_y_equivalent(self, x_m: Any, wind_speed_m_s: float) -> NDArray[np.float64]:
        """``DenseSetup.sigma_y_equivalent`` of each puff, one a row. [m]"""
        return puff_sigma_y_equivalent(x_m, self.r0_sq_m2, self.slump_m2_s, wind_speed_m_s)

    def concentration_kg_m3(self, x_m: Any) -> NDArray[np.float64]:
        """``DenseSetup.concentration_kg_m3`` of each puff at its row of ``x_m``. [kg m-3]"""
        x = np.broadcast_to(np.asarray(x_m, dtype=float), (len(self.rows), *np.shape(x_m)[-1:]))
        return np.stack([d.concentration_kg_m3(x_r) for d, x_r in zip(self.rows, x, strict=True)])


@dataclass(frozen=True)
class TwinStack:
    """A release's dense puffs in one air and wind (``rows``: their ``PlumeSetup``'s) as one setup to the zones'
    dense code: the shared air, wind and cap as they are, each puff's mass and ``dense`` one a row."""

    rows: tuple[Any, ...]
    dense: PuffStack
    mass_kg: NDArray[np.float64]
    pg_class: Any
    terrain: Any
    sigma_y_factor: float
    mixing_height_m: float
    wind_speed_m_s: float
    pure_vapour_kg_m3: float
    duration_s: float = 0.0

    @classmethod
    def of(cls, setups: list[Any]) -> TwinStack:
        s = setups[0]
        return cls(tuple(setups), PuffStack.of([p.dense for p in setups]), _column([p.mass_kg for p in setups]),
                   s.pg_class, s.terrain, s.sigma_y_factor, s.mixing_height_m, s.wind_speed_m_s, s.pure_vapour_kg_m3)


def _stackable(base: Any, part: Any) -> bool:
    """Whether ``part`` is a dense puff in ``base``'s air and wind (a row of a :class:`TwinStack` with it)."""
    from plumecast.nearfield.zones.dense_finite import _same_air

    d = part.dense
    return (d is not None and d.kind == "instantaneous" and part.duration_s <= 0 and _same_air(base, part)
            and part.wind_speed_m_s == base.wind_speed_m_s)


def twin_reads(setup: Any, rows: list[tuple[float, Any]], xp: NDArray[np.float64], axis: NDArray[np.float64],
               amb: NDArray[np.float64], air: Any, sy: NDArray[np.float64]) -> list[Read]:
    """For each ``(duration, twin)`` of ``rows``, at ``xp``: ``dense_finite._peak_over``'s peak, puff radius
    and continuous weight, and ``dense_finite._width`` of them (``axis``, ``amb``, ``air`` and the steady
    plume's width ``sy`` as :func:`~plumecast.nearfield.zones.dense_finite.dense_finite_parts` has them); the
    dense puffs in ``setup``'s air, wind and cap read as one :class:`TwinStack` on ``xp`` flattened."""
    from plumecast.nearfield.zones.dense_finite import _peak_over, _width

    out: list[Any] = [None] * len(rows)
    fast = []
    for k, (t_s, part) in enumerate(rows):
        if _stackable(setup, part) and part.pure_vapour_kg_m3 == setup.pure_vapour_kg_m3:
            fast.append(k)
        else:
            p, s, f = _peak_over(setup, part, t_s, xp, axis, amb, air)
            out[k] = (p, s, f, _width(sy, part, t_s, xp, s, f))
    if fast:
        twins = TwinStack.of([rows[k][1] for k in fast])
        t = _column([rows[k][0] for k in fast])

        def flat(a: Any) -> NDArray[np.float64]:
            return np.asarray(a, dtype=float).reshape(-1)

        x = flat(xp)
        (sy_b, sz_b), v_passive = air
        p, s, f = _peak_over(setup, twins, t, x, flat(axis), flat(amb), ((flat(sy_b), flat(sz_b)), flat(v_passive)))
        w = _width(flat(sy), twins, t, x, s, f)
        shape = np.shape(xp)
        for row, k in enumerate(fast):
            out[k] = tuple(np.asarray(a[row].reshape(shape), dtype=float) for a in (p, s, f, w))
    return out


def passive_takeovers(items: list[tuple[Any, float]]) -> list[tuple[float, str | None]]:
    """``setup._passive_takeover`` of each ``(setup, x_first)`` (a release's twins, each with its probed dense
    puff and far field): the hand-over distance and the note it adds (None: none), the same values. Dense puffs
    in the first one's air and wind are read on their 400-place grids as one :class:`TwinStack`
    (``dense_axis_parts``, a grid a row); the first crossing is refined one by one as before. Any other setup is
    read by ``_passive_takeover`` itself."""
    from plumecast.nearfield.zones.setup import (
        MAX_DISTANCE_M,
        _passive_takeover,
        _takeover_refined,
        dense_axis_parts,
    )

    out: list[Any] = [None] * len(items)
    fast = []
    for k, (part, x_first) in enumerate(items):
        if _stackable(items[0][0], part):
            fast.append(k)
        else:
            notes: list[str] = []
            out[k] = (_passive_takeover(part, x_first, notes), notes[0] if notes else None)
    if not fast:
        return out
    xs = np.stack([np.geomspace(items[k][1], MAX_DISTANCE_M, 400) for k in fast])
    dense_c, passive_c = dense_axis_parts(TwinStack.of([items[k][0] for k in fast]), xs)
    over = passive_c >= dense_c
    for row, k in enumerate(fast):
        part, x_first = items[k]
        hits = np.nonzero(over[row])[0]
        notes = []
        x_pass = math.inf if hits.size == 0 else _takeover_refined(part, x_first, xs[row], int(hits[0]), notes)
        out[k] = (x_pass, notes[0] if notes else None)
    return out
