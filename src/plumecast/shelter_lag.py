"""Where a building's air is fed the step's peak held over the step rather than the step's dose (session 49).

A step's near-field mean is the steady plume of the step's middle weather; where the weather carrying a point
release's plume has changed since its release began, the steps' means can lag the air of finer steps (3 t of
chlorine, the wind slowing from 4 to 1 m/s 15-20 min after the start: 12 km out the 300-s steps' mean at 125 min
0.78 of the 10-s steps'; docs/exposure.md, "The weather within a step"), and so the dose a building lets in. From
session 48 the building then took the step's peak held over the step (it bounds the outdoor air at every moment),
from the first changed step on, at every receptor of the run. Since session 49 that is per receptor (and per part
of a city's disc) and step: only where such a release's near-field plume can have air above its own particles'
there in the step (its peak, weighted as it is breathed, above them). Elsewhere (the particles' air alone, the area
plumes', another release's steady plume) the building keeps the dose let in as fast as the peak allows. Re-measured
after session 50's carried air (session 51): the means no longer lag within the cloud (1.00 of the 10-s steps' there),
but still lag at the first and last steps of its passage, in a wind that only changes speed as well (the slowing wind
above, 600-s steps: 0.27 and 0.39 of the 10-s steps' 2 and 3 km out as the cloud leaves; the whole dose, 0.91 and 0.93
then, is 0.975 and 0.99 since the step's dilution by the wind its air arrives in, :mod:`plumecast.near_field_dilution`),
so the flag covers every change (docs/exposure.md, "Re-measured after the carried air").

The flags are kept by :class:`plumecast.exposure.ExposureSampler` (``nf_lag`` per step and receptor, a disc's when
any of its parts is; ``part_lag`` per step and part), in checkpoints; :attr:`ReceptorExposure.wind_changed` and
``part_wind_changed`` are them with the run's :func:`plumecast.near_field_track.changed_wind_steps` (a checkpoint
written before they were kept resumes with them set in the steps before the resume: session 48's rule there).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plumecast.near_field_track import row_changes

__all__ = ["lag_columns", "note_lagging"]


def source_changed(sampler: Any, si: int, step: int) -> bool:
    """Whether the weather carrying near-field source ``si``'s plume has changed since its release began, by the
    end of ``step``: :func:`plumecast.near_field_track.changed_wind_steps`'s flag of that step for that source
    (causal), read row by row from the last call's step on (each source's first known rows and whether it has
    changed are kept on the sampler, ``lag_seen``; a whole run's rows on every call had taken 5 ms a step at
    8,640 steps)."""
    seen: dict[int, list[Any]] = sampler.lag_seen
    start_s = sampler.near[si].start_s
    first = int(max(start_s // sampler.dt_s, 0)) if math.isfinite(start_s) else 0
    done, changed, refs = seen.get(si, [first - 1, False, [None] * 4])
    if not changed and step > done:
        lo = max(done + 1, first)
        for k, (rows, span) in enumerate(((sampler.nf_track[si], False), (sampler.nf_speeds[si], True),
                                          (sampler.source_wind[si, :, 3:5], False), (sampler.nf_classes[si], True))):
            r = np.asarray(rows[lo:step + 1], dtype=np.float64)
            if refs[k] is None:  # the first known row from the release's step
                known = np.isfinite(r).all(axis=1)
                refs[k] = r[int(np.argmax(known))].copy() if known.any() else None
            if refs[k] is not None and row_changes(r, refs[k], span).any():
                changed = True
                break
        seen[si] = [step, changed, refs]
    return bool(changed)


def note_lagging(sampler: Any, si: int, step: int, c: NDArray[np.float64], peak: NDArray[np.float64],
                 there: NDArray[np.float64]) -> None:
    """Flag, for ``step``, the sample points (the points, then the discs' parts: ``sampler.where``) where source
    ``si``'s near-field plume (its mean ``c`` and peak ``peak`` within the step, before its weight) can rise above
    its release's particles' air ``there``, if the weather carrying it has changed since its release began."""
    w = sampler.nf_weight[si]
    air = w * np.maximum(c, peak) > there
    if not air.any() or not source_changed(sampler, si, step):
        return
    n_pts = sampler.point_receptors.size
    owner = sampler.where[2]
    sampler.nf_lag[step, owner[air]] = True  # a point's own, a disc's where any of its parts is
    sampler.part_lag[step, np.flatnonzero(air[n_pts:])] = True


def lag_columns(exposure: Any, cols: list[tuple[int, int]], slot: NDArray[np.int64],
                point_split: set[int]) -> NDArray[np.bool_] | None:
    """Per column of :func:`plumecast.exposure_parts.by_part_kinds` (``cols``: (receptor, part)), whether its
    building takes the step's peak held over the step (:attr:`ReceptorExposure.wind_changed`), (n_steps,
    n_columns): a point release's part its own flag, every other column (the receptor as it is, the rest of a
    split disc, a spot, an area plume's part) its receptor's (a disc's: any of its parts')."""
    flags = getattr(exposure, "wind_changed", None)
    if flags is None:
        return None
    flags = np.asarray(flags, bool)
    if flags.ndim == 1:  # one flag per step (an exposure made before session 49)
        return np.repeat(flags[:, None], len(cols), axis=1)
    out = flags[:, [rec for rec, _ in cols]]
    parts, ptr = getattr(exposure, "part_wind_changed", None), exposure.part_ptr
    if parts is not None and ptr is not None:
        for col, (rec, part) in enumerate(cols):
            if rec in point_split and part >= 0:
                out[:, col] = parts[:, int(ptr[slot[rec]]) + part]
    return out


def step_flags(changed: Any, n_cols: int) -> NDArray[np.bool_] | None:
    """``changed`` (ReceptorExposure.wind_changed, (n_steps, n_columns), or one flag per step) as (n_steps,
    n_columns); None where it is None or all False."""
    if changed is None or not np.any(changed):
        return None
    flags = np.asarray(changed, bool)
    return np.repeat(flags[:, None], n_cols, axis=1) if flags.ndim == 1 else flags
