"""The agent's AEGLs as the dashboard uses them: the tabulated values in kg m-3
and the AEGL curve of each city's series.

The curves follow :mod:`plumecast.consequence`: the AEGL is read for the exposure
duration elapsed since the onset (first value at or above
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
                agent: Any) -> dict[int, NDArray[np.float64]]:
    """AEGL of each level [kg m-3] for the exposure duration elapsed at each (time, receptor).

    As :mod:`plumecast.consequence`: the duration counts from the start of the first
    interval at or above the onset floor; before the onset (and for a series that
    never reaches it) the 10-min value applies (the shortest tabulated duration).
    """
    from plumecast.consequence import onset_floor
    from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate

    floor = onset_floor(agent)
    pos: NDArray[np.bool_] = np.asarray(conc >= floor if floor > 0 else conc > 0)
    has: NDArray[np.bool_] = np.asarray(pos.any(axis=0))
    onset = np.argmax(pos, axis=0)
    elapsed = end_s[:, None] - begin_s[onset][None, :]
    elapsed = np.where(has[None, :], np.maximum(elapsed, 1.0), 1.0)
    out: dict[int, NDArray[np.float64]] = {}
    for level, tab in aegl_tables_kg_m3(agent).items():
        if tab is not None:
            out[level] = np.asarray(aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab, elapsed), float)
    return out
