"""The agent's AEGLs as the dashboard uses them: the tabulated values in kg m-3
and the AEGL curve of each city's series.

The curves are those of :mod:`plumecast.consequence` (its own kernel,
:mod:`plumecast.consequence_metrics`): the AEGL is read for the exposure duration
elapsed since the onset (first value at or above
:func:`plumecast.consequence.onset_floor`), log-log interpolated between the
tabulated durations (:func:`plumecast.toxicology.aegl_loglog_interpolate`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

AEGL_LEVELS = (1, 2, 3)


def aegl_tables_kg_m3(agent: Any) -> dict[int, NDArray[np.float64] | None]:
    """The five tabulated AEGL values per level [kg m-3]; None where the level is absent."""
    from plumecast.units import ppm_to_kg_m3

    out: dict[int, NDArray[np.float64] | None] = {}
    for level in AEGL_LEVELS:
        tab = np.asarray(agent.aegl_table_ppm(level), dtype=float)
        out[level] = None if not np.isfinite(tab).any() else np.asarray(
            ppm_to_kg_m3(tab, agent.molecular_weight_g_mol), dtype=float)
    return out


def aegl_curves(conc: NDArray[np.float64], end_s: NDArray[np.float64], begin_s: NDArray[np.float64],
                agent: Any, reference_state: tuple[float, float] | None = None) -> dict[int, NDArray[np.float64]]:
    """AEGL of each level [kg m-3] for the exposure duration elapsed at each (time, receptor).

    The thresholds of :func:`plumecast.consequence_metrics.series_metrics` itself (its
    :func:`~plumecast.consequence_metrics.exposure_context` and
    :func:`~plumecast.consequence_metrics.aegl_threshold`), so that the page's % of AEGL-3
    is the files' ``peak_percent_aegl3``: the onset is the first interval at or above the
    onset floor (the first interval for a series that never reaches it); with uniform
    steps the AEGL is read at ``step * (1 + steps since the onset)`` (one step before the
    onset), else at the time elapsed since the onset interval's start.

    ``reference_state``: (T [K], P [Pa]) of the ppm <-> kg m-3 conversion
    (``consequences.nc``'s ``ppm_reference_state``); default the standard state.
    """
    from plumecast.consequence_inputs import TimeAxis
    from plumecast.consequence_metrics import aegl_threshold, exposure_context, onset_floor
    from plumecast.units import P_STANDARD_PA, T_STANDARD_K

    conc = np.asarray(conc, dtype=float)
    end_s = np.asarray(end_s, dtype=float)
    begin_s = np.asarray(begin_s, dtype=float)
    if conc.ndim != 2 or conc.shape[0] == 0 or end_s.size != conc.shape[0]:
        return {}
    t_k, p_pa = reference_state or (T_STANDARD_K, P_STANDARD_PA)
    floor = onset_floor(agent, t_k, p_pa)
    axis = TimeAxis(stamps=end_s, is_datetime=False, release_start=0.0, begin_s=begin_s, end_s=end_s)
    ctx = exposure_context(agent, axis, None, floor, t_k, p_pa)
    ntime = conc.shape[0]
    pos = conc >= ctx.floor if ctx.floor > 0 else conc > 0
    onset = np.argmax(pos, axis=0)
    lag = None
    if ctx.uniform:
        lag = np.maximum(np.arange(ntime, dtype=np.intp)[:, None] - onset[None, :], 0)
    out: dict[int, NDArray[np.float64]] = {}
    for level in AEGL_LEVELS:
        thr = aegl_threshold(ctx, level, lag, onset)
        if thr is not None:
            out[level] = np.broadcast_to(np.asarray(thr, dtype=float), conc.shape).copy()
    return out
