"""A stopped dense release never breathes more than the longer one it is the first part of.

``compare`` reruns a plan's transport with the release cut where the release's near field is
zones' dense cloud (:mod:`plumecast.near_field_dense`): that cloud is not linear in its
emissions, so dropping the emission tags of the whole release would keep the whole release's
dose per kilogram. But the rerun sets zones up for the shorter release, and the workbook's
puff of a short release can be the more concentrated than its plume of a long one (Britter &
McQuaid 1988 fit the two regimes apart; the workbook takes the lower of the two between them).
Taken as it is, the rerun made stopping a leak read more deaths than letting it run: 5 t/s of
chlorine for 3 h in class F, "stop at 1 h" 1,319,649 deaths against 1,196,653 for doing
nothing at five towns 5-80 km downwind (session 38), its cost-of-delay curve falling as the
stop came later, and, stopped at 10 min, AEGL-2 at 5 km at 0 min instead of 10.

A release stopped at ``t`` *is* the whole release up to ``t``: the same gas left the source
and met the same weather until then, and afterwards nothing more follows it. Its air at a
place and time therefore cannot exceed the whole release's there and then (a cloud with no
gas behind it also spreads backwards, so it dilutes the faster). :class:`HeldToWhole` holds
each rerun's air, step by step and place by place, for the dense releases' emission tags and
their plumes' city-disc parts, no higher than the baseline transport's and no lower than the
baseline's of the emission before the stop (the emission tags' figure). Held from above
alone, the two clouds' different timing (the short release's puff clipped to the long one's
plateau, its lead ahead of the long one's front cut) had left early stops at city discs
11-32 % below both the tags' and the rerun's figures (second audit, session 38: 1,000 kg/s,
class F, 3 m/s, stop at 10 min: 126,025 deaths against 186,332 and 200,303).

Each rerun is held to the baseline alone, not to the member's other cuts (a later stop is the
whole of a sooner one too): a plan's figures stay those it gets compared alone, whichever
other plans and delays stand beside it. A cost-of-delay curve can then still fall somewhere
between two stops; ``compare`` says so where it does (none did in the audit's 33 dense cases:
chlorine at 10-5,000 kg/s for 3 h, classes B/D/F, 1.5-6 m/s).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray


class HeldToWhole:
    """The baseline's air of the dense releases (their tags' series and their plumes' city-disc parts),
    between which and its share of the emission before each cut a cut rerun of the member is held
    (:meth:`hold`)."""

    def __init__(self, base: Any, dense_groups: Any) -> None:
        self.dense = np.asarray(sorted({int(g) for g in dense_groups}), dtype=np.int64)
        self.tag_group = np.asarray(base.tag_group)
        self.n_groups = len(base.group_names)
        self._tag_bins = (np.asarray(base.tag_start_h), np.asarray(base.tag_end_h))
        # per dense release, its tags and their air (tag, step, receptor): held as a sum over its tags, not tag by
        # tag, so that the figures do not depend on the emission bins the plans beside it ask for
        self.groups = [np.flatnonzero(self.tag_group == g) for g in self.dense]
        self.series = [np.asarray(base.conc, dtype=float)[t] for t in self.groups]
        # the baseline's near-field fronts and other air, for the countdowns' floor of a held rerun (hold)
        self.floor_of = {k: getattr(base, k, None) for k in ("front_s", "part_front_s", "other_air")}
        # the most the baseline's air reaches within each step (its means plus the near-field air's peak above
        # them), at the receptors and at the discs' parts: a held rerun's peaks are held below it (hold)
        extra = getattr(base, "peak_extra", None)
        self.peak_top = None if extra is None else base.total() + extra
        self.part_peak = getattr(base, "part_peak", None)
        # and what the air emitted before a bin edge adds to them, its own peak's room (hold)
        self.edge_top, self.part_edge = getattr(base, "edge_extra", None), getattr(base, "part_edge", None)
        self.parts = None
        if base.part_c is not None and base.part_tag is not None:
            early = np.zeros_like(base.part_c) if base.part_early is None else np.asarray(base.part_early)
            self.parts = (np.asarray(base.part_c, dtype=float), np.asarray(base.part_tag), np.asarray(early, float))
            # the near-field sources that are dense releases (a part's air belongs to its source's group)
            tag, air = self.parts[1], self.parts[0] > 0.0
            self.dense_sources = np.array([bool(np.isin(self.tag_group[tag[:, k][air[:, k]]], self.dense).any())
                                           for k in range(tag.shape[1])], dtype=bool)

    def hold(self, exp: Any, linear: NDArray[np.float64]) -> tuple[Any, float]:
        """``exp`` (a rerun with some releases cut) with its dense releases' air, step by step and receptor by
        receptor, no more than the baseline's and no less than the baseline's weighted by ``linear`` (the
        emission tags' weights of the same cut: the whole release's air of the emission before the stop), and
        the largest change of a receptor's dose of them, as a share of its larger dose (0: nothing held).

        A receptor breathes the sum of a dense release's tags in ``conc`` (held above, its tags keep their
        shares; held below, they are the baseline's weighted ones). A city disc the plume's parts cover
        (``part_receptors``) holds the plume's air part by part instead (``part_c``), and its ``conc`` changes
        by what its parts' people-weighted mean changed, tag by tag as
        :func:`plumecast.exposure_parts.by_part_kinds` attributes it, so that the disc's particles keep
        their own air.

        The held rerun's countdowns take the baseline's floor (:meth:`plumecast.exposure.ReceptorExposure.arrival_floor`):
        held no higher than the baseline's air, its dense releases' near-field air is nowhere before the whole
        release's front, and its other air no more than the baseline's and its own together (a stop had read AEGL-2
        at 1 km 31 s before doing nothing, from the cut release's own front)."""
        same = (np.array_equal(exp.tag_group, self.tag_group) and np.array_equal(exp.tag_start_h, self._tag_bins[0])
                and np.array_equal(exp.tag_end_h, self._tag_bins[1])
                and all(exp.conc.shape[1:] == ref.shape[1:] for ref in self.series))
        if not same:
            raise RuntimeError("dense cuts: a rerun's emission tags differ from the baseline's")
        w = np.asarray(linear, dtype=float)
        conc = np.array(exp.conc, dtype=float, copy=True)
        n_steps, n_rec = conc.shape[1:]
        has_parts = not (self.parts is None or exp.part_c is None or exp.part_tag is None or exp.part_ptr is None
                         or exp.part_weight is None or exp.part_receptors is None)
        alone = np.ones(n_rec, bool)
        if has_parts:
            alone[np.asarray(exp.part_receptors)] = False
        cols = np.flatnonzero(alone)
        change = 0.0
        for tags, whole in zip(self.groups, self.series, strict=True):
            at = np.ix_(tags, np.arange(n_steps), cols)
            mine, top = conc[at], whole[:, :, cols]
            low = w[tags][:, None, None] * top
            held = _between(mine, low, top)
            change = max(change, _dose_change(mine.sum(axis=0), held.sum(axis=0)))
            conc[at] = held
        part_c, part_tag, part_early, part_peak = exp.part_c, exp.part_tag, exp.part_early, exp.part_peak
        part_edge = getattr(exp, "part_edge", None)
        if has_parts:
            assert self.parts is not None
            part_c, part_tag, part_early, part_change = self._hold_parts(exp, conc, w)
            change = max(change, part_change)
            part_peak, part_edge = self._hold_part_peaks(exp, part_c)
        peak_extra, edge_extra = exp.peak_extra, getattr(exp, "edge_extra", None)
        if peak_extra is not None and self.peak_top is not None:
            # the near-field air's peak within each step: the rerun's own (zones' cloud of the shorter release),
            # with its held means no higher than the baseline's peak there (the cut's air is the whole release's
            # first part at every moment, not only on the steps' means: its own peak had read AEGL-3 at 8 km 28 s
            # before doing nothing, and up to 3 min at a city's parts; session 46)
            room = np.maximum(self.peak_top - conc.sum(axis=0), 0.0)
            peak_extra = np.minimum(np.asarray(peak_extra, dtype=float), room)
            if edge_extra is not None:  # and with the air emitted before a bin edge (a plan's own cloud), below the
                # baseline's own peak with it
                more = room - peak_extra if self.edge_top is None else room + self.edge_top - peak_extra
                edge_extra = np.minimum(np.asarray(edge_extra, dtype=float), np.maximum(more, 0.0))
        floor = dict(self.floor_of)
        if floor["other_air"] is not None and exp.other_air is not None:  # its other releases' are its own
            floor["other_air"] = floor["other_air"] + exp.other_air
        return replace(exp, conc=conc, part_c=part_c, part_tag=part_tag, part_early=part_early, part_peak=part_peak,
                       peak_extra=peak_extra, edge_extra=edge_extra, part_edge=part_edge, **floor), change

    def _hold_part_peaks(self, exp: Any, held: NDArray[np.float64]) -> tuple[Any, Any]:
        """The rerun's near-field peaks above its means at the discs' parts (``part_peak``, (step, source,
        part)), for the dense releases' plumes with the held means ``held`` no higher than the baseline's peak
        there (its mean plus its peak above it), as :meth:`hold` holds the receptors', and what the air emitted
        before a bin edge adds to them (``part_edge``) held below the same with the baseline's own."""
        assert self.parts is not None
        edge = getattr(exp, "part_edge", None)
        if exp.part_peak is None or self.part_peak is None:
            return exp.part_peak, edge
        top = self.parts[0] + np.asarray(self.part_peak, dtype=float)
        cut = np.asarray(exp.part_peak, dtype=float)
        if top.shape != cut.shape:
            raise RuntimeError("dense cuts: a rerun's city-disc parts differ from the baseline's")
        dense = np.broadcast_to(self.dense_sources[None, :, None], cut.shape)
        peak = np.where(dense, np.minimum(cut, np.maximum(top - held, 0.0)), cut)
        if edge is not None:
            edge = np.asarray(edge, dtype=float)
            room = top - held - peak if self.part_edge is None else top + np.asarray(self.part_edge) - held - peak
            edge = np.where(dense, np.minimum(edge, np.maximum(room, 0.0)), edge)
        return peak, edge

    def _hold_parts(self, exp: Any, conc: NDArray[np.float64], w: NDArray[np.float64]) -> tuple[Any, Any, Any, float]:
        """:meth:`hold` of the city discs' parts (``part_c``, its tags and shares from the bin before), and
        each disc's ``conc`` moved by what its parts' mean moved."""
        assert self.parts is not None
        top, top_tag, top_early = self.parts
        if top.shape != exp.part_c.shape:
            raise RuntimeError("dense cuts: a rerun's city-disc parts differ from the baseline's")
        cut = np.asarray(exp.part_c, dtype=float)
        cut_tag = np.asarray(exp.part_tag)
        cut_early = np.zeros_like(cut) if exp.part_early is None else np.asarray(exp.part_early, dtype=float)
        dense = np.broadcast_to(self.dense_sources[None, :, None], cut.shape)
        w_late, w_early = w[top_tag] * (1.0 - top_early), w[np.maximum(top_tag - self.n_groups, 0)] * top_early
        low = top * (w_late + w_early)
        held = np.where(dense, np.clip(cut, low, top), cut)
        from_top = dense & (held != cut)  # the baseline's air (weighted below), with its tags
        tag = np.where(from_top, top_tag, cut_tag)
        with np.errstate(invalid="ignore", divide="ignore"):
            low_early = np.where(w_late + w_early > 0.0, w_early / (w_late + w_early), 0.0)
        early = np.where(from_top, np.where(held < cut, top_early, low_early), cut_early)
        change = 0.0
        if from_top.any():
            ptr, weight = np.asarray(exp.part_ptr), np.asarray(exp.part_weight)
            for j, rec in enumerate(np.asarray(exp.part_receptors)):
                sl = slice(int(ptr[j]), int(ptr[j + 1]))
                if not from_top[:, :, sl].any():
                    continue
                before = _disc_mean(cut[:, :, sl], cut_tag[:, :, sl], cut_early[:, :, sl], weight[sl], conc.shape,
                                    self.n_groups)
                after = _disc_mean(held[:, :, sl], tag[:, :, sl], early[:, :, sl], weight[sl], conc.shape,
                                   self.n_groups)
                conc[:, :, int(rec)] = np.maximum(conc[:, :, int(rec)] + after - before, 0.0)
                change = max(change, _dose_change(before.sum(axis=0), after.sum(axis=0)))
        return held, tag.astype(cut_tag.dtype), early, change


def _between(mine: NDArray[np.float64], low: NDArray[np.float64], top: NDArray[np.float64]) -> NDArray[np.float64]:
    """``mine`` (tag, step, ...) with its sum over the first axis held between ``low``'s and ``top``'s (their
    sums; ``low`` <= ``top``): scaled to ``top``'s sum where above it (its tags keep their shares), ``low``
    itself where below it."""
    total, hi, lo = mine.sum(axis=0), top.sum(axis=0), low.sum(axis=0)
    over = total > hi * (1.0 + 1e-9)
    under = total < lo * (1.0 - 1e-9)
    ratio = np.divide(hi, total, out=np.ones_like(total), where=over)  # below 1 where over
    return np.where(under[None], low, mine * ratio[None])


def _dose_change(before: NDArray[np.float64], after: NDArray[np.float64]) -> float:
    """The largest change of a receptor's summed air (step, receptor) as a share of the larger of the two."""
    a, b = before.sum(axis=0), after.sum(axis=0)
    big = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(big > 0.0, np.abs(b - a) / big, 0.0)
    return float(share.max()) if share.size else 0.0


def _disc_mean(c: NDArray[np.float64], tag: NDArray[np.int32], early: NDArray[np.float64], w: NDArray[np.float64],
               shape: tuple[int, ...], n_groups: int) -> NDArray[np.float64]:
    """A disc's parts' people-weighted mean air per tag and step (tag, step), its parts' air ``c`` (step,
    source, part) with their tags and shares from the bin before, as
    :func:`plumecast.exposure_parts._point_parts` adds them up."""
    n_steps = c.shape[0]
    every = np.broadcast_to(np.arange(n_steps)[:, None], (n_steps, c.shape[2]))
    mean = np.zeros(shape[:2])
    for src in range(c.shape[1]):
        t, e, d = tag[:, src, :], early[:, src, :], c[:, src, :] * w
        np.add.at(mean, (t, every), d * (1.0 - e))
        np.add.at(mean, (np.maximum(t - n_groups, 0), every), d * e)
    return mean
