"""The near field's dilution over a step whose weather changes within it.

A step's mean at a place (:meth:`plumecast.near_field_plume.NearFieldSource.step_mean_at`) is the mass that reaches
it in the step times the air per unit rate of the plume (``_per_rate``: the steady plume's ``1/u``, its class's
sigma_y and sigma_z; the dense cloud's dose per kilogram). The middle's weather had diluted the whole step's mass:
where the wind slows within the step, the air that comes late in it, in the slower wind, is thicker than that. 3 t
of chlorine over 600 s, class D, 4 slowing to 1 m/s at 15-20 min: the whole dose 2 and 3 km out read 649 and 613
mg.min/m3 with 600-s steps against 710 and 659 with 10-s steps (session 51; the step 10-20 min, diluted at 4 m/s,
held most of the cloud); now 692 and 651.

Here, where the weather differs within the step from its middle's, the step is cut into pieces of at most
:data:`PIECE_S` (and at the met's records within it: the wind is linear between them); each piece's mass is the
cumulative arrival at its end less that at its start (:func:`plumecast.near_field_smear.arrived_at`, the spread of
the weather then, the emission time of the air at the place read off the streak line's run, :func:`_emission_times`;
clipped at 0), and the step's air per unit rate is the pieces' own weighted by their masses. The step's mass is
unchanged (the middle's spread, ``window_mass``): the pieces only share it among the winds, and in a steady weather
the middle's air per unit rate is returned as it is, to the bit.

Not for a release that can be dense (``source.dense``): each piece's weather (on met files every piece's speed and
lid differ) is one more dense cloud to set up, and a 1-h run of 20 t of chlorine (``dense_gas: auto``) on the
synthetic ERA5 files of ``tests/met/style_files.py`` at 600-s steps took 84 s with them, 70 s of it here. Such a
release keeps the middle's dilution, as before session 51.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: The longest piece of a step whose weather changes [s] (a piece's air is diluted at its middle's weather, as a
#: step's; the wind is linear between the met's records, which are pieces' ends too). Not tuned.
PIECE_S = 60.0


def diluted_per_rate(source: Any, wind_at: Any, t0_s: float, t1_s: float, xs: FloatArray, ys: FloatArray,
                     middle: tuple[float, str, float], per_rate: FloatArray, spread_s: FloatArray,
                     window: tuple[FloatArray, FloatArray, FloatArray, FloatArray], since: FloatArray | None,
                     emitted: tuple[FloatArray, FloatArray], line: Any = None) -> FloatArray:
    """The step's air per unit rate [s m-3] for its mean: ``per_rate`` (the middle's weather's, ``middle`` its
    speed, class and lid; ``spread_s`` its sigma_t [s]) where the weather within the step is the middle's;
    elsewhere the mass-weighted mean of its pieces' (module docstring). ``window``: the emission window's ends
    ``a``, ``b`` [s] and the travel times at the step's start and end [s] (the front's most lead then);
    ``since`` as :func:`plumecast.near_field_smear.window_mass`'s; ``emitted``: the release's knots [s] and
    cumulative mass [kg]; ``line``: the streak line that carries the air (``start_travel_s``, ``path``), or None."""
    from plumecast.near_field_smear import arrived_at
    from plumecast.near_field_window import step_times

    if getattr(source, "dense", None) is not None:  # a dense-capable release: the middle's (module docstring)
        return per_rate
    dt = t1_s - t0_s
    pieces = max(1, math.ceil(dt / PIECE_S - 1e-9))
    times = sorted({*np.linspace(t0_s, t1_s, pieces + 1).tolist(), *step_times(wind_at, t0_s, t1_s)})
    times = [t for t in times if t0_s <= t <= t1_s]
    times[0], times[-1] = t0_s, t1_s

    def weather(t: float) -> tuple[float, str, float]:
        return (source.source_wind(wind_at, t)[2], *source.class_and_lid(t))

    if wind_at is None or xs.size == 0:
        return per_rate
    mids = [weather(0.5 * (p + q)) for p, q in zip(times[:-1], times[1:], strict=True)]
    if all(w == middle for w in mids):
        return per_rate
    a, b, lead0, lead1 = window
    ends = [weather(t) for t in times]  # read once: each end's spread and the line's run over the step
    ys_at = _emission_times(times, [w[0] for w in ends], xs, line, a, b)
    g_prev = None
    num = np.zeros(xs.size)
    den = np.zeros(xs.size)
    for j, (t, w) in enumerate(zip(times, ends, strict=True)):
        sig = spread_s if w == middle else np.asarray(source._per_rate(xs, ys, *w)[2], dtype=float)
        lead = lead0 + (lead1 - lead0) * (t - t0_s) / dt
        g = arrived_at(emitted[0], emitted[1], ys_at[j], sig, since, lead)
        if g_prev is not None:
            m = np.maximum(g - g_prev, 0.0)
            per = per_rate if mids[j - 1] == middle else np.asarray(source._per_rate(xs, ys, *mids[j - 1])[0],
                                                                     dtype=float)
            num += per * m
            den += m
        g_prev = g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(den > 0.0, num / den, per_rate), dtype=float)


def _emission_times(times: list[float], speeds: list[float], xs: FloatArray, line: Any, a: FloatArray,
                    b: FloatArray) -> list[FloatArray]:
    """The emission time of the air at ``xs`` at each of ``times`` (the step's ends and its pieces'; ``speeds``: the
    source's carrying speed at each [m/s]) [s]: ``a`` and
    ``b`` at the ends; within, along ``line`` the air that is at ``xs`` then has run ``R`` of the step's stretch
    (``path[1]``, shared as the source's carrying speeds run it) since the step's start, so left ``start_travel_s(xs
    - R)`` before that (a wind slowing within the step brings the window's late air slower), or within the step
    where ``R > xs``; without a line linear in time. Kept within ``[a, b]`` and nondecreasing."""
    f = [(t - times[0]) / (times[-1] - times[0]) for t in times]
    if line is None or getattr(line, "path", None) is None or len(line.path) < 2:
        raw = [a + (b - a) * x for x in f]
    else:
        u = np.asarray(speeds, dtype=float)
        run = np.concatenate([[0.0], np.cumsum(0.5 * (u[1:] + u[:-1]) * np.diff(times))])
        share = run / run[-1] if run[-1] > 0.0 else np.asarray(f)
        t0, ran = times[0], float(line.path[1]) * share  # the step's stretch run by each time [m]
        # air nearer than the run since the step's start left within it, where the run since is x
        raw = [np.where(xs >= r, t0 - line.start_travel_s(np.maximum(xs - r, 0.0)),
                        np.interp(r - xs, ran, times)) for r in ran]
    out = [a]
    for y in raw[1:-1]:
        out.append(np.minimum(np.maximum(np.asarray(y, dtype=float), out[-1]), b))
    out.append(b)
    return out
