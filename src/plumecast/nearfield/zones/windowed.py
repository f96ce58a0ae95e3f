"""Exposure series stored only where they can be non-zero, and the level ratio on them.

The zones' exposure convention (:func:`plumecast.nearfield.zones.plume.exposure_series`,
:func:`~plumecast.nearfield.zones.plume.level_ratio`) works on interval means on a fixed
geometric time axis of :data:`~plumecast.nearfield.zones.plume.N_TIME_INTERVALS`
intervals. A cloud passes a place within a short stretch of that axis; before and
after it the series is exactly zero. This module evaluates and stores each place's
series only on that stretch (its *window*) and computes the level ratio on it.
The Gaussian (puff) series take the same floating-point operations per value as the
dense formulation (bit for bit); the Palazzi series of a finite release is summed by
:mod:`plumecast.nearfield.zones.palazzi` (one erf per interval side and a series about
the interval centre with a bounded remainder), within rounding of the sampled mean
(``tests/nearfield/test_palazzi_means.py``).

Where the window ends is exact, not a truncation: Palazzi's factor is
``½[erf(a_lead) − erf(a_trail)]`` and ``scipy.special.erf`` returns exactly ±1 for
``|a| >= 5.93`` (checked at import), so outside the interval where either argument
is within ``±6.05`` (a margin over 5.93) the factor is exactly 0 (or 1 on the
plateau of a long release, where no erf is evaluated either). A puff's
``exp(−(x − u t)²/2σ²)`` is exactly 0 in double precision beyond ``38.7 σ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf

from plumecast.nearfield.zones.level_most import aegl_like, most_lower, most_ratios
from plumecast.nearfield.zones.onset_time import REL_TOL, PlaceAir, onset_times

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: |argument| from which ``scipy.special.erf`` is exactly ±1 (it is from 5.93 on), with a margin.
ERF_WINDOW = 6.05
#: |x − u t| / σ beyond which ``exp(−(x − u t)²/2σ²)`` underflows to exactly 0 (sqrt(2 × 746) = 38.63).
GAUSS_WINDOW = 38.7

#: The advective front's lead, in along-wind spreads: no air is counted at a place before the wind
#: has carried the release's first air (a puff's centre) to within ``FRONT_LEAD_SIGMAS σ_x`` of it
#: (:func:`front_time_s`). √2 σ_x is the radius ``R`` of a slumped dense puff whose Gaussian
#: equivalent is σ_x (``π R² = 2π σ²``), the farthest any cloud of the zones reaches ahead of its
#: centre: the gravity front of the workbook's puff (``R² = R0² + 1.2 √(g0' V0) t``) reaches a
#: place no sooner, since σ_x is the spread the cloud has when its centre gets there.
FRONT_LEAD_SIGMAS = math.sqrt(2.0)

#: Relative margin for the rounding of a ratio (a few units in the last place).
_ROUNDING = 1e-14
#: Samples computed at once (temporaries of a few hundred kB).
_CHUNK = 16384

_probe = np.array([5.93, 6.0, ERF_WINDOW, 8.0, 30.0, 1e300, np.inf])
if not (np.all(erf(_probe) == 1.0) and np.all(erf(-_probe) == -1.0)):  # pragma: no cover - scipy changed
    raise ImportError("scipy.special.erf no longer saturates to exactly ±1 at |x| >= 5.93; "
                      "plumecast.nearfield.zones.windowed relies on it")
if np.exp(-(GAUSS_WINDOW**2) / 2.0) != 0.0:  # pragma: no cover
    raise ImportError("exp(-GAUSS_WINDOW**2 / 2) does not underflow to 0")


def ragged(starts: IntArray, stops: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Concatenated ranges ``[starts[i], stops[i])``: (owner i, value, offsets of each range)."""
    starts = np.asarray(starts, dtype=np.intp)
    lengths = np.maximum(np.asarray(stops) - starts, 0)
    offsets = np.zeros(lengths.size + 1, dtype=np.intp)
    np.cumsum(lengths, out=offsets[1:])
    owner = np.repeat(np.arange(lengths.size, dtype=np.intp), lengths)
    value = np.arange(offsets[-1], dtype=np.intp) + np.repeat(starts - offsets[:-1], lengths)
    return owner, value, offsets


@dataclass
class WindowSeries:
    """Interval-mean series of many places, stored from each place's first to its last
    possibly non-zero interval (zero elsewhere). [kg m-3]

    ``values[offsets[j]:offsets[j + 1]]`` are intervals ``start[j] .. stop[j] - 1`` of
    place ``j``; ``nt`` intervals in all.
    """

    nt: int
    start: IntArray
    stop: IntArray
    offsets: IntArray
    values: FloatArray
    _cummax: FloatArray | None = None
    _oi: tuple[IntArray, IntArray] | None = None
    #: the most of the air from the release start to the end of each stored interval (as ``values``), and of the
    #: interval before each window (per place; the front may fall within it after its last sub-sample): the onset
    #: of :class:`LevelRatio` (:mod:`plumecast.nearfield.zones.window_peaks`); None: the means' running maximum
    most: FloatArray | None = None
    most_before: FloatArray | None = None
    #: what the level ratio reads (:meth:`for_levels`): the air's most within each interval (at least its mean), from
    #: the interval the front falls in, with its own onset values; None: these means
    level: WindowSeries | None = None
    #: the air the values are sampled from (:class:`~plumecast.nearfield.zones.onset_time.PlaceAir`), for the onset
    #: time within the onset interval (:meth:`LevelRatio.onset_time`); None: the onset interval's start
    air: PlaceAir | None = None

    @property
    def n(self) -> int:
        return int(self.start.size)

    @property
    def owner(self) -> IntArray:
        return np.repeat(np.arange(self.n, dtype=np.intp), np.diff(self.offsets))

    def interval(self) -> IntArray:
        """Interval index of each stored value."""
        owner = self.owner
        return np.arange(self.values.size, dtype=np.intp) - self.offsets[:-1][owner] + self.start[owner]

    def owner_interval(self) -> tuple[IntArray, IntArray]:
        """Place and interval index of each stored value (cached)."""
        if self._oi is None:
            owner, interval, _ = ragged(self.start, self.stop)
            self._oi = (owner, interval)
        return self._oi

    def dense(self) -> FloatArray:
        """The full (time, place) array."""
        out = np.zeros((self.nt, self.n))
        if self.values.size:
            out[self.interval(), self.owner] = self.values
        return out

    @classmethod
    def from_dense(cls, series: FloatArray) -> WindowSeries:
        """Windows from the first to the last non-zero value of each column."""
        s = np.asarray(series, dtype=float)
        nt, n = s.shape
        nz = s != 0
        anyv = nz.any(axis=0)
        first = np.where(anyv, np.argmax(nz, axis=0), 0)
        last = np.where(anyv, nt - np.argmax(nz[::-1], axis=0), 0)
        owner, t, offsets = ragged(first, last)
        return cls(nt, first.astype(np.intp), last.astype(np.intp), offsets, s[t, owner])

    def take(self, idx: IntArray) -> WindowSeries:
        """The places ``idx`` (in that order, repeats allowed)."""
        idx = np.asarray(idx, dtype=np.intp)
        _, pos, offsets = ragged(self.offsets[:-1][idx], self.offsets[1:][idx])
        cm = None if self._cummax is None else self._cummax[pos]
        most = None if self.most is None or self.most_before is None else self.most[pos]
        before = None if most is None or self.most_before is None else self.most_before[idx]
        level = None if self.level is None else self.level.take(idx)
        air = None if self.air is None else self.air.take(idx)
        return WindowSeries(self.nt, self.start[idx], self.stop[idx], offsets, self.values[pos], cm, None, most, before,
                            level, air)

    @classmethod
    def concat(cls, parts: list[WindowSeries]) -> WindowSeries:
        nt = parts[0].nt
        offsets = [np.zeros(1, dtype=np.intp)]
        total = 0
        for p in parts:
            offsets.append(p.offsets[1:] + total)
            total += int(p.offsets[-1])
        cms = [p._cummax for p in parts]
        has_most = any(p.most is not None for p in parts)
        return cls(
            nt,
            np.concatenate([p.start for p in parts]),
            np.concatenate([p.stop for p in parts]),
            np.concatenate(offsets),
            np.concatenate([p.values for p in parts]),
            None if any(c is None for c in cms) else np.concatenate(cms),  # type: ignore[arg-type]
            None,
            # a part without its air's most: its means' running maximum, as before (nothing before the window)
            np.concatenate([p.onset_values()[0] for p in parts]) if has_most else None,
            np.concatenate([p.onset_values()[1] for p in parts]) if has_most else None,
            # a part without the air's most within its intervals: its means, as before
            cls.concat([p.for_levels() for p in parts]) if any(p.level is not None for p in parts) else None,
            PlaceAir.concat([p.air for p in parts]),
        )

    def for_levels(self) -> WindowSeries:
        """The series :class:`LevelRatio` reads: :attr:`level` where known, else these means."""
        return self if self.level is None else self.level

    def onset_values(self) -> tuple[FloatArray, FloatArray]:
        """What :meth:`LevelRatio.onset` compares with the onset floor: the air's most up to the end of each stored
        interval (:attr:`most`, at least the means' running maximum) and in the interval before each window; the
        means' running maximum (and zeros) where the air's most is not known."""
        if self.most is None or self.most_before is None:
            return self.cummax(), np.zeros(self.n)
        return self.most, self.most_before

    def cummax(self) -> FloatArray:
        """Running maximum of each place's values (within its window)."""
        if self._cummax is None:
            cm = np.empty_like(self.values)
            off = self.offsets.tolist()
            v = self.values
            for a, b in zip(off[:-1], off[1:], strict=True):
                if b > a:
                    np.maximum.accumulate(v[a:b], out=cm[a:b])
            self._cummax = cm
        return self._cummax

    def peak(self) -> FloatArray:
        """Largest value of each place's whole series (zeros outside the window count)."""
        length = np.diff(self.offsets)
        out = np.zeros(self.n)
        has = length > 0
        if has.any():
            out[has] = np.maximum.reduceat(self.values, self.offsets[:-1][has])
        if self.nt:
            partial = length < self.nt
            out[partial] = np.maximum(out[partial], 0.0)
        return out


# --------------------------------------------------------------------------- series


def front_time_s(x_m: Any, sigma_x_m: Any, wind_speed_m_s: float) -> FloatArray:
    """The earliest time anything of the cloud is counted at downwind distance ``x_m``:
    when the release's first air (a puff's centre), carried at the wind speed, is
    :data:`FRONT_LEAD_SIGMAS` along-wind spreads ``σ_x`` (the model's own, at that place)
    short of it; 0 within that reach of the source. [s after the release start]

    Palazzi's factor and the puff hold the cloud at its spread at the place, σ_x(x),
    whenever they are evaluated: before the cloud gets there its Gaussian tail stretches
    ``x/σ_x`` spreads ahead of it, and at 2 km from a dense chlorine release (σ_x 560 m)
    it read 0.0009 ppm 1 s after the release start and the onset floor at 25 s, starting
    the AEGL clock 20 min before the cloud (an apparent front at 6.5 m/s in a 1.5 m/s wind;
    cell audit). The cloud is then metres from the source, its own spread far smaller: the
    tail ahead of the front is the frozen spread's, not air, and the series are zero
    before this time. The dose it held (at most 7.9 % of a puff's, ``1 − Φ(√2)``, and
    ``0.036 σ_x/(u T)`` of a release of duration T; its toxic load ``C^n`` far less) is
    left out: in the air it arrives with the cloud."""
    x = np.asarray(x_m, dtype=float)
    sx = np.asarray(sigma_x_m, dtype=float)
    return np.asarray(np.maximum((x - FRONT_LEAD_SIGMAS * sx) / wind_speed_m_s, 0.0), dtype=float)


def subsample_times(ends_s: FloatArray, n_sub: int) -> FloatArray:
    """Mid-points of ``n_sub`` equal parts of each interval (the first begins at 0). [s]"""
    begins = np.concatenate([[0.0], ends_s[:-1]])
    frac = (np.arange(n_sub) + 0.5) / n_sub
    return np.asarray((begins[:, None] + (ends_s - begins)[:, None] * frac[None, :]).reshape(-1), dtype=float)


def windowed_interval_means(
    kind: str,
    amplitude: FloatArray,
    x_m: FloatArray,
    sigma_x_m: FloatArray,
    wind_speed_m_s: float,
    duration_s: float,
    ends_s: FloatArray,
    n_sub: int,
    alive: NDArray[np.bool_],
    factors: tuple[FloatArray, FloatArray] | None = None,
    cap_kg_m3: float = math.inf,
) -> WindowSeries:
    """Interval means of ``amplitude × g(x, t)`` where they can be non-zero, and zero before
    the advective front (:func:`front_time_s`, sample by sample). [kg m-3]

    ``kind``:

    * ``"palazzi"``: ``g`` is :func:`plumecast.nearfield.gaussian.finite_duration_factor`
      (same expression per value);
    * ``"gauss"``: ``g = exp(−(x − u t)²/2σ_x²)`` (the dense puff's time factor);
    * ``"puff"``: ``g = exp(−(x − u t)²/2σ_x²)/(√(2π) σ_x)`` multiplied as
      :func:`plumecast.nearfield.gaussian.puff_concentration` does (``M × along ×
      across × V`` with ``amplitude = M`` and ``factors = (across, V)``, per place), each
      sample at most ``cap_kg_m3`` (:func:`plumecast.nearfield.gaussian.cap_at_pure_vapour`;
      the other kinds take an amplitude already held below it).

    Places where ``alive`` is False get an empty window (zero series). The mean of
    the ``n_sub`` sub-samples is summed in order and divided by ``n_sub``, as
    ``numpy.mean`` over that axis does.
    """
    sub = subsample_times(ends_s, n_sub)
    nt = ends_s.size
    u = wind_speed_m_s
    x = np.asarray(x_m, dtype=float)
    sx = np.maximum(np.asarray(sigma_x_m, dtype=float), 1e-9)
    if kind == "palazzi":
        reach = ERF_WINDOW * np.sqrt(2.0) * sx
        t_trail_end = (x + reach) / u
        k_first = np.searchsorted(sub, (x - reach) / u, side="right")
        k_last = np.searchsorted(sub, duration_s + t_trail_end, side="left")
    else:
        reach = GAUSS_WINDOW * sx
        k_first = np.searchsorted(sub, (x - reach) / u, side="right")
        k_last = np.searchsorted(sub, (x + reach) / u, side="left")
    # nothing before the advective front (front_time_s): its first sample at or after it
    front = front_time_s(x, sx, u)
    k_front = np.searchsorted(sub, front, side="left")
    k_first = np.maximum(k_first, k_front)
    i0 = k_first // n_sub
    i1 = -(-k_last // n_sub)
    empty = (~np.asarray(alive, dtype=bool)) | (i1 <= i0)
    i0 = np.where(empty, 0, i0).astype(np.intp)
    i1 = np.where(empty, 0, i1).astype(np.intp)
    # Palazzi plateau of a long release: both erfs saturated, factor exactly 1 on whole intervals [p0, p1)
    p0 = i1.copy()
    p1 = i1.copy()
    k_trail_end = k_lead_start = k_first
    if kind == "palazzi":
        k_lead_start = np.searchsorted(sub, np.where(x - reach > 0, duration_s + (x - reach) / u, -np.inf), side="right")
        k_trail_end = np.searchsorted(sub, t_trail_end, side="left")
        p0 = np.minimum(np.maximum(-(-k_trail_end // n_sub), i0), i1)
        p1 = np.maximum(np.minimum(k_lead_start // n_sub, i1), p0)
    offsets = np.zeros(i0.size + 1, dtype=np.intp)
    np.cumsum(i1 - i0, out=offsets[1:])
    values = np.empty(int(offsets[-1]))
    # places in chunks of about _CHUNK samples (Palazzi: intervals, one erf per interval side),
    # so that the temporaries stay in the cache
    cum = np.cumsum(((p0 - i0) + (i1 - p1)) * (1 if kind == "palazzi" else n_sub))
    cuts = [0]
    while cuts[-1] < i0.size:
        done = int(cum[cuts[-1] - 1]) if cuts[-1] else 0
        nxt = int(np.searchsorted(cum, done + _CHUNK, side="right"))
        cuts.append(min(max(nxt, cuts[-1] + 1), i0.size))
    if kind == "palazzi":
        from plumecast.nearfield.zones.palazzi import palazzi_chunk

        begins = np.concatenate([[0.0], ends_s[:-1]])
        k_release_end = int(np.searchsorted(sub, duration_s, side="right"))
        s2 = np.sqrt(2) * sx  # per place, as finite_duration_factor's np.sqrt(2) * sx per value
    for ja, jb in zip(cuts[:-1], cuts[1:], strict=True):
        sl = slice(ja, jb)
        if kind == "palazzi":
            own, interval, computed = palazzi_chunk(
                sub, begins, ends_s, n_sub, u, duration_s, k_release_end, amplitude[sl], x[sl], s2[sl],
                i0[sl], i1[sl], p0[sl], p1[sl], k_first[sl], k_trail_end[sl], k_lead_start[sl], k_last[sl],
            )
        else:
            own, interval, computed = _chunk(
                kind, sub, n_sub, u, amplitude[sl], x[sl], sx[sl], i0[sl], i1[sl],
                None if factors is None else (factors[0][sl], factors[1][sl]), front[sl], cap_kg_m3,
            )
        values[offsets[ja:jb][own] + interval - i0[sl][own]] = computed
    if kind == "palazzi":
        # the plateau's mean, summed as its samples (each amplitude × 1.0) would be
        a1 = amplitude * np.clip(0.5 * (1.0 - -1.0), 0.0, 1.0)
        plateau = a1.copy()
        for _ in range(1, n_sub):
            plateau += a1
        plateau = plateau / n_sub
        own_p, ip, _ = ragged(p0, p1)
        values[offsets[:-1][own_p] + ip - i0[own_p]] = plateau[own_p]
        # the interval the front falls within: its samples before the front are zero, the others sampled
        # (finite_duration_factor's expression per sample, as the sampled formulation)
        cut = np.nonzero(~empty & (k_front > 0) & (k_front == k_first) & (k_front % n_sub != 0) & (i0 < p0))[0]
        if cut.size:
            from plumecast.nearfield.gaussian import finite_duration_factor

            t = sub[i0[cut, None] * n_sub + np.arange(n_sub)[None, :]]
            f = finite_duration_factor(x[cut, None], t, u, duration_s, sx[cut, None])
            c = np.where(t >= front[cut, None], amplitude[cut, None] * f, 0.0)
            total = c[:, 0].copy()
            for m in range(1, n_sub):
                total += c[:, m]
            values[offsets[:-1][cut]] = total / n_sub
    # the air's most within and up to each interval (window_peaks), on the intervals from the one the front falls in
    # (it may fall after the last sub-sample of the interval before the window; that interval's mean is 0)
    from plumecast.nearfield.zones.window_peaks import air_most

    out = WindowSeries(nt, i0, i1, offsets, values)
    plateau = (p0, p1) if kind == "palazzi" else None  # the factor exactly 1 on [p0, p1)
    lead = ~empty & (i0 > 0) & (np.where(i0 > 0, ends_s[np.maximum(i0 - 1, 0)], 0.0) > front)
    start = np.where(lead, i0 - 1, i0).astype(np.intp)
    owner, interval, off = ragged(start, i1)
    within, upto = air_most(kind, amplitude, x, sx, u, duration_s, ends_s, owner, interval, front, factors,
                            cap_kg_m3, plateau)
    in_means = interval >= i0[owner]
    at_mean = (offsets[:-1][owner] + interval - i0[owner])[in_means]
    out.most = np.fmax(upto[in_means], out.cummax())  # at least the means' running maximum
    out.most_before = np.zeros(i0.size)
    out.most_before[lead] = upto[off[:-1][lead]]
    # what the level ratio reads: the air's most within each interval, at least its mean (LevelRatio)
    within[in_means] = np.fmax(within[in_means], values[at_mean])
    level = WindowSeries(nt, start, i1, off, within)
    level.most = np.fmax(upto, level.cummax())
    level.most_before = np.zeros(i0.size)
    level.air = out.air = PlaceAir(kind, np.asarray(amplitude, dtype=float), x, sx, u, duration_s, front, factors,
                                   cap_kg_m3)
    out.level = level
    return out


def _chunk(
    kind: str, sub: FloatArray, n_sub: int, u: float, amplitude: FloatArray, x: FloatArray, sx: FloatArray,
    i0: IntArray, i1: IntArray, factors: tuple[FloatArray, FloatArray] | None, front: FloatArray,
    cap_kg_m3: float = math.inf,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Interval means over ``[i0, i1)`` of some places (Gaussian kinds): (place, interval, mean);
    zero before each place's ``front`` [s], a puff's samples at most ``cap_kg_m3``."""
    from plumecast.nearfield.gaussian import cap_at_pure_vapour

    lengths = i1 - i0
    starts = np.zeros(i0.size + 1, dtype=np.intp)
    np.cumsum(lengths, out=starts[1:])
    own_i = np.repeat(np.arange(i0.size, dtype=np.intp), lengths)
    interval = i0[own_i] + np.arange(starts[-1], dtype=np.intp) - starts[:-1][own_i]
    owner = np.repeat(own_i, n_sub)
    t = sub[(interval[:, None] * n_sub + np.arange(n_sub)[None, :]).reshape(-1)]
    if kind == "gauss":
        c = amplitude[owner] * np.exp(-((x[owner] - u * t) ** 2) / (2 * sx[owner] ** 2))
    elif kind == "puff":
        assert factors is not None
        so = sx[owner]
        along = np.exp(-((x[owner] - u * t) ** 2) / (2 * so**2)) / (np.sqrt(2 * np.pi) * so)
        c = amplitude[owner] * along * factors[0][owner] * factors[1][owner]
        c = np.where(t > 0, cap_at_pure_vapour(c, cap_kg_m3), 0.0)
    else:  # pragma: no cover
        raise ValueError(kind)
    c = np.where(t >= front[owner], c, 0.0)
    c = c.reshape(-1, n_sub)
    total = c[:, 0].copy()
    for m in range(1, n_sub):
        total += c[:, m]
    return own_i, interval, total / n_sub


# --------------------------------------------------------------------------- level ratio


class LevelRatio:
    """Peak ratio to a level under the onset convention, for many columns at once.

    A column is a place of a :class:`WindowSeries` and a row of ``tables`` (the
    level at the five AEGL durations). For lateral factors ``f`` (one per column)
    :meth:`__call__` gives ``max_t f C(t) / level(t − onset)`` with the onset the
    first interval with ``C >= floor / f`` (``C > 0`` for a zero floor; the first
    interval when there is none), and the elapsed duration at the first maximum:
    :func:`plumecast.nearfield.zones.plume.level_ratio`. ``C`` is :meth:`WindowSeries.for_levels`: for the zones'
    windows the air's most within each interval (session 51) with the level when it comes (level_most), else the means.

    Only intervals within the factor min/max of the level's table of the peak can
    hold the largest ratio, so the others are skipped (exact). With ``ratio_only``
    the elapsed durations returned are those of *a* maximum, not necessarily the
    first, which lets runs of equal values (the plateau of a long release) be
    skipped but their last value.
    """

    def __init__(
        self,
        series: WindowSeries,
        ends_s: FloatArray,
        tables: FloatArray,
        floor: float,
        place: IntArray | None = None,
        level: IntArray | None = None,
        ratio_only: bool = False,
        candidates: tuple[IntArray, IntArray] | None = None,
    ) -> None:
        """``candidates``: the (column, flat position) pairs :meth:`candidate_pairs` of other
        ratios gave for these columns' (place, level) (the same for the same series, tables and
        ``ratio_only``), in column order; they are then not searched again."""
        from plumecast.toxicology import AEGL_DURATIONS_S

        self.ratio_only = ratio_only
        series = series.for_levels()
        self.series = series
        self.ends = np.asarray(ends_s, dtype=float)
        self.begins = np.concatenate([[0.0], self.ends[:-1]])
        self.tables = np.atleast_2d(np.asarray(tables, dtype=float))
        self.durations = list(AEGL_DURATIONS_S.values())
        self.floor = float(floor)
        if place is None:
            place = np.tile(np.arange(series.n, dtype=np.intp), self.tables.shape[0])
            level = np.repeat(np.arange(self.tables.shape[0], dtype=np.intp), series.n)
        assert level is not None
        self.place = np.asarray(place, dtype=np.intp)
        self.level = np.asarray(level, dtype=np.intp)
        if self.level.size > 1 and np.any(np.diff(self.level) < 0):
            raise ValueError("LevelRatio columns must be grouped by level (non-decreasing level index)")
        if candidates is None and self.place.size and self.place.size < series.n:
            # columns on a few of the places: keep only those places' values (the same values)
            used = np.unique(self.place)
            if 2 * used.size <= series.n:
                series = series.take(used)
                self.series = series
                self.place = np.searchsorted(used, self.place).astype(np.intp)
        self.m = self.place.size
        self._xp = np.log(np.asarray(self.durations, dtype=float))
        # levels that do not rise with exposure duration (AEGLs, fixed levels): the bounds below hold
        self.monotone = np.all(np.diff(self.tables, axis=1) <= 0, axis=1)
        self._fp = np.log(self.tables)
        # onset search range per column, as positions in the series' flat values
        off = series.offsets
        self.lo = off[:-1][self.place].copy()
        self.hi = off[1:][self.place].copy()
        self.window_end = self.hi.copy()
        with np.errstate(divide="ignore"):
            self.thr_end = np.array([self._threshold_one(k, self.ends) for k in range(self.tables.shape[0])])
        if candidates is None:
            self._candidates()
        else:
            self._set(*candidates)

    def _threshold_one(self, k: int, elapsed: FloatArray) -> FloatArray:
        """Level ``k`` at exposure durations ``elapsed`` (:func:`plumecast.toxicology.aegl_loglog_interpolate`)."""
        from plumecast.toxicology import aegl_loglog_interpolate

        if np.all(np.isfinite(self._fp[k])):
            # aegl_loglog_interpolate's own operations, with the table's logs taken once
            with np.errstate(divide="ignore", invalid="ignore"):
                logt = np.log(elapsed)
            return np.asarray(np.exp(np.interp(logt, self._xp, self._fp[k])), dtype=float)
        return aegl_loglog_interpolate(self.durations, self.tables[k], elapsed)

    def _slices(self, lev: IntArray) -> list[tuple[int, int, int]]:
        out = []
        for k in range(self.tables.shape[0]):
            a, b = int(np.searchsorted(lev, k, side="left")), int(np.searchsorted(lev, k, side="right"))
            if b > a:
                out.append((k, a, b))
        return out

    def _candidates(self) -> None:
        """Candidates per column: values that can hold the column's largest ratio for some ``f``.

        A value below ``0.5 × (level min / level max)`` of the place's peak cannot; nor,
        for a level that does not rise with duration, a value whose ratio bound with the
        longest possible exposure (onset at the release start: the level at the interval
        end) is below the ratio the peak has at least (the peak over the level's
        10-min value); both with a margin for rounding.
        """
        s = self.series
        peak = s.peak()
        v = s.values
        lengths = np.diff(s.offsets)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = v / np.repeat(peak, lengths)  # NaN where the peak is 0 (then so is every value)
        n_lv = self.tables.shape[0]
        spreads = []
        for k in range(n_lv):
            t = self.tables[k]
            spreads.append(float(np.nanmin(t) / np.nanmax(t)) if np.isfinite(t).any() else 1.0)
        # the loosest first test of all levels, then each level's tests on those values only
        base = np.nonzero(rel >= 0.5 * min(spreads, default=1.0))[0]
        base = base[v[base] > 0]
        rel_b = rel[base]
        owner_b = np.searchsorted(s.offsets, base, side="right") - 1
        interval_b = base - s.offsets[owner_b] + s.start[owner_b]
        # a value equal to the next one of its place: the later one has the longer exposure, so its
        # ratio is at least as large (levels that do not rise with duration) - enough for the ratio alone
        repeated_b = np.zeros(base.size, dtype=bool)
        if self.ratio_only and base.size:
            nxt = np.minimum(base + 1, v.size - 1)
            repeated_b = (base + 1 < s.offsets[owner_b + 1]) & (v[nxt] == v[base])
        cols: list[IntArray] = []
        poss: list[IntArray] = []
        for k in range(n_lv):
            sel = np.nonzero(self.level == k)[0]
            if sel.size == 0:
                continue
            t = self.tables[k]
            ok = rel_b >= 0.5 * spreads[k]
            if self.monotone[k] and np.isfinite(t).all():
                # v / level(interval end) >= peak / level(10 min), as v/peak >= level(end)/level(10 min)
                with np.errstate(invalid="ignore", divide="ignore"):
                    ok &= rel_b * (t[0] / self.thr_end[k][interval_b]) >= 1.0 - _ROUNDING
                ok &= ~repeated_b
            kept = base[ok]
            # kept values of each place, then the places of this level's columns in column order
            bounds = np.searchsorted(kept, s.offsets)
            pl = self.place[sel]
            c, j, _ = ragged(bounds[pl], bounds[pl + 1])
            cols.append(sel[c])
            poss.append(kept[j])
        col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.intp)
        pos = np.concatenate(poss) if poss else np.zeros(0, dtype=np.intp)
        self._set(col, pos)

    def candidate_pairs(self, columns: IntArray, place_shift: int = 0) -> tuple[IntArray, IntArray]:
        """The candidates of ``columns`` (in that order) as (rank in ``columns``, flat position + ``place_shift``).

        With ``place_shift`` the positions of a series this one's is the start of
        (:meth:`WindowSeries.concat`), for :class:`LevelRatio`'s ``candidates``.
        """
        columns = np.asarray(columns, dtype=np.intp)
        first = np.full(self.m + 1, self.cc.size, dtype=np.intp)
        first[self.ccols] = self.cstarts
        first = np.minimum.accumulate(first[::-1])[::-1]  # columns without candidates: an empty range
        rank, k, _ = ragged(first[columns], first[columns + 1])
        s = self.series
        pl = self.place[self.cc[k]]
        pos = s.offsets[:-1][pl] + self.cti[k] - s.start[pl]
        return rank, pos + place_shift

    def _set(self, col: IntArray, pos: IntArray) -> None:
        s = self.series
        owner_start = s.start[self.place[col]]
        self.cc = col  # candidate column
        self.cv = s.values[pos]
        self.cti = (pos - s.offsets[:-1][self.place[col]] + owner_start).astype(np.intp)  # interval index
        self.has = np.zeros(self.m, dtype=bool)
        if col.size:
            self.cstarts = np.concatenate(([0], np.nonzero(np.diff(col))[0] + 1)).astype(np.intp)
            self.ccols = col[self.cstarts]
            self.has[self.ccols] = True
        else:
            self.cstarts = np.zeros(0, dtype=np.intp)
            self.ccols = np.zeros(0, dtype=np.intp)
        # candidates of each level form one slice (columns grouped by level)
        self.slices = self._slices(self.level[col])
        # each column's first largest value (the candidate the bounds of __call__ are checked against)
        if col.size:
            cmax = np.maximum.reduceat(self.cv, self.cstarts)
            counts = np.diff(np.append(self.cstarts, col.size))
            at = self.cv == np.repeat(cmax, counts)
            self.cpeak = np.minimum.reduceat(np.where(at, np.arange(col.size), col.size), self.cstarts)
        else:
            self.cpeak = np.zeros(0, dtype=np.intp)

    def threshold(self, elapsed: FloatArray, lv_slices: list[tuple[int, int, int]] | None = None) -> FloatArray:
        """The level for ``elapsed`` per candidate (log-log between the tabulated durations). [kg m-3]"""
        out = np.empty_like(elapsed)
        for k, a, b in self.slices if lv_slices is None else lv_slices:
            out[a:b] = self._threshold_one(k, elapsed[a:b])
        return out

    def onset(self, f: FloatArray) -> tuple[IntArray, NDArray[np.bool_]]:
        """First interval in which ``f`` times the air can reach the floor, per column (0 when none), and whether
        there is one: the first whose air's most (:meth:`WindowSeries.onset_values`: from the release start to
        its end, closed form; the interval before the window included) reaches ``floor / f`` (``> 0`` for a zero
        floor). Where the series holds means alone, the first whose mean does.

        The means' onset (before session 50) came an interval late where the air reached the floor near an
        interval's end: the exposure read shorter, the level higher, the zone shorter (3 t of chlorine over
        600 s, class F, 1.5 m/s: AEGL-2 59.0 km against 60.4 km on a 16 times finer axis)."""
        cm, before = self.series.onset_values()
        if self.floor > 0:
            target = self.floor / np.asarray(f, dtype=float)
        else:
            target = np.full(self.m, np.nextafter(0.0, 1.0))  # C > 0
        lo, hi = self.lo.copy(), self.hi.copy()
        last = max(cm.size - 1, 0)
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) >> 1
            below = cm[np.minimum(mid, last)] < target if cm.size else np.zeros(self.m, dtype=bool)
            lo = np.where(active & below, mid + 1, lo)
            hi = np.where(active & ~below, mid, hi)
        found = lo < self.window_end
        s = self.series
        first = s.start[self.place] + lo - s.offsets[:-1][self.place]
        # the front within the interval before the window, after its last sub-sample (its mean 0)
        early = before[self.place] >= target
        first = np.where(early, s.start[self.place] - 1, first)
        found = found | early
        return np.where(found, first, 0).astype(np.intp), found

    def onset_time(self, f: FloatArray) -> tuple[FloatArray, IntArray, NDArray[np.bool_]]:
        """The onset as a time, per column, with :meth:`onset`'s interval and whether there is one: where the series
        knows its air (:attr:`WindowSeries.air`), within the onset interval no later than the air first reaches the
        floor (:func:`~plumecast.nearfield.zones.onset_time.onset_times`; session 52), else the interval's start.
        Read from the interval's start (before session 52) it is up to an interval, ~0.9 % of the time since the
        release, before the air's own onset, the exposure that much longer, the zone longer: Graniteville's class F
        dense AEGL-3 at the 100-km search limit against 85.6 km on a 16 times finer axis. [s]"""
        onset, found = self.onset(f)
        return self._times(f, onset, found), onset, found

    def _times(self, f: FloatArray, onset: IntArray, found: NDArray[np.bool_]) -> FloatArray:
        """:meth:`onset_time`'s times for :meth:`onset`'s ``onset`` and ``found`` at ``f``. [s]"""
        t = self.begins[onset]
        air = self.series.air
        if air is not None and found.any():
            k = np.nonzero(found)[0]
            f = np.asarray(f, dtype=float)
            target = self.floor / f[k] if self.floor > 0 else np.full(k.size, np.nextafter(0.0, 1.0))
            t[k] = onset_times(air, self.place[k], onset[k], target, self.begins, self.ends)
        return np.asarray(t, dtype=float)

    def __call__(self, f: FloatArray, against: float | FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
        f = np.asarray(f, dtype=float)
        ratio_max = np.zeros(self.m)
        elapsed_max = np.full(self.m, np.nan)
        if self.cc.size == 0:
            return ratio_max, elapsed_max
        t_on, _, _ = self.onset_time(f)
        cc, cv, cti, starts, cols = self.cc, self.cv, self.cti, self.cstarts, self.ccols
        slices = self.slices
        if cc.size > 8 * cols.size and self.monotone.all():
            # The onset is >= 0, so the elapsed time is <= the interval end and (levels not rising
            # with duration) each ratio <= f v / level(end). Candidates whose bound is below the
            # exact ratio of their column's peak candidate (or equal to it, after it) cannot be
            # the first maximum: skip them.
            p = self.cpeak
            e_p = self.ends[cti[p]] - t_on[cc[p]]
            lev_p = self.level[cc[p]]
            counts = np.diff(np.append(starts, cc.size))
            thr_p = np.repeat(self.threshold(e_p, self._slices(lev_p)), counts)
            thr_end = self.thr_end[self.level[cc], cti]
            with np.errstate(invalid="ignore", divide="ignore"):
                r_p = np.repeat(cv[p], counts) / thr_p
                upper = cv / thr_end
            r_p = np.where(np.isnan(r_p), -np.inf, r_p)
            after = np.arange(cc.size) > np.repeat(p, counts)
            # below by more than the rounding, or (after the peak) a smaller value over a higher level; where the
            # ratio is the most within the interval (level_most) the peak's is bounded below by its air's most alone
            drop = (after & (thr_end >= thr_p))
            if self.series.air is not None:
                r_p = np.repeat(most_lower(self, t_on, cc[p], cv[p], cti[p], r_p[starts]), counts)
                drop[:] = False
            drop |= upper < r_p * (1.0 - _ROUNDING)
            keep = ~drop | ~np.isfinite(upper)
            keep[p] = True
            cc, cv, cti = cc[keep], cv[keep], cti[keep]
            starts = np.concatenate(([0], np.nonzero(np.diff(cc))[0] + 1)).astype(np.intp)
            slices = self._slices(self.level[cc])
        elapsed = self.ends[cti] - t_on[cc]
        thr = self.threshold(elapsed, slices)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = f[cc] * cv / thr
        ratio = np.where(np.isnan(ratio), -np.inf, ratio)
        ratio, elapsed = most_ratios(self, f, t_on, cc, cv, cti, starts, ratio, elapsed, against)
        seg_max = np.maximum.reduceat(ratio, starts)
        counts = np.diff(np.append(starts, ratio.size))
        at_max = ratio == np.repeat(seg_max, counts)
        first = np.minimum.reduceat(np.where(at_max, np.arange(ratio.size), ratio.size), starts)
        ratio_max[cols] = np.maximum(seg_max, 0.0)
        elapsed_max[cols] = elapsed[first]
        return ratio_max, elapsed_max

    def restricted(self, f_low: FloatArray, f_high: FloatArray) -> LevelRatio:
        """A copy valid for ``f_low <= f <= f_high`` only (per column), for the ratio only.

        The onset can then only lie between its values at ``f_high`` and ``f_low``,
        which bounds each candidate's ratio from above (``U``, earliest onset:
        longest exposure, lowest level) and below (``L``). A candidate with ``U``
        not above the column's largest ``L`` can never exceed the candidate that
        attains that ``L``, so it is dropped; the maximum ratio is unchanged (to the
        rounding of the level's interpolation), though among equal ratios the elapsed
        duration returned may be another's. Needs tables that do not rise
        with duration (AEGLs); otherwise nothing is dropped.
        """
        new = object.__new__(LevelRatio)
        new.__dict__.update(self.__dict__)
        new.ratio_only = True
        f_low = np.asarray(f_low, dtype=float)
        f_high = np.asarray(f_high, dtype=float)
        o_hi, found_hi = self.onset(f_high)
        o_lo, found_lo = self.onset(f_low)
        s = self.series
        base = s.offsets[:-1][self.place] - s.start[self.place]
        # onset search only between the two (positions in the flat values)
        # (an onset in the interval before the window, start - 1, is found before the search: from the window's start)
        start = s.start[self.place]
        new.lo = np.where(found_hi, base + np.maximum(o_hi, start), self.window_end).astype(np.intp)
        new.hi = np.where(found_lo, base + np.maximum(o_lo + 1, start), self.window_end).astype(np.intp)
        if self.cc.size == 0:
            return new
        # the onset times at f_high and f_low (onset_time), widened by the bisection's last bracket
        t_hi = self._times(f_high, o_hi, found_hi) - 2.0 * REL_TOL * self.ends[o_hi]
        t_lo = self._times(f_low, o_lo, found_lo) + 2.0 * REL_TOL * self.ends[o_lo]
        t_min = np.where(found_lo, np.maximum(t_hi, 0.0), 0.0)
        last_interval = np.maximum(s.stop[self.place] - 1, 0)
        t_max = np.where(found_lo, t_lo, np.where(found_hi, self.ends[last_interval], 0.0))
        e_long = self.ends[self.cti] - t_min[self.cc]
        e_short = self.ends[self.cti] - t_max[self.cc]
        if s.air is not None:  # the most within the interval (level_most): the air's most, read when it comes
            pl = self.place[self.cc]
            t_c = np.clip(s.air.t_peak(pl), np.maximum(self.begins[self.cti], s.air.front[pl]), self.ends[self.cti])
            e_short = np.where(aegl_like(self)[self.level[self.cc]], t_c - t_max[self.cc], e_short)
        thr_long = self.threshold(np.maximum(e_long, 0.0))  # lowest level a candidate can meet
        valid = e_short > 0
        thr_short = np.where(valid, self.threshold(np.where(valid, e_short, 1.0)), np.inf)  # highest
        with np.errstate(invalid="ignore", divide="ignore"):
            upper = self.cv / thr_long
            lower = np.where(valid, self.cv / thr_short, -np.inf)
        monotone = self.monotone
        lmax = np.maximum.reduceat(lower, self.cstarts)
        counts = np.diff(np.append(self.cstarts, lower.size))
        at = lower == np.repeat(lmax, counts)
        best = np.minimum.reduceat(np.where(at, np.arange(lower.size), lower.size), self.cstarts)
        v_best = np.repeat(self.cv[best], counts)
        thr_best = np.repeat(thr_short[best], counts)
        # below the best's lower bound by more than the rounding, or a value not above the best's over a
        # level at least as high as the best's highest (then never above the best's ratio, ties included)
        drop = (upper < np.repeat(lmax, counts) * (1.0 - _ROUNDING)) | ((self.cv <= v_best) & (thr_long >= thr_best))
        drop[best] = False
        keep = ~drop | ~monotone[self.level[self.cc]]
        keep |= ~np.isfinite(upper)
        pos = s.offsets[:-1][self.place[self.cc]] + (self.cti - s.start[self.place[self.cc]])
        new._set(self.cc[keep], pos[keep])
        return new


def as_windows(series: Any) -> WindowSeries:
    """A :class:`WindowSeries` from one, or from a dense (time, place) array."""
    if isinstance(series, WindowSeries):
        return series
    return WindowSeries.from_dense(np.asarray(series, dtype=float))
