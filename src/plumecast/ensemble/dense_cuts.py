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
each rerun's air, step by step and place by place, to the baseline transport's, for the dense
releases' emission tags and their plumes' city-disc parts. Where the shorter release's cloud
is the lower, it is kept: stopping then saves more than the emission tags would say.

Each rerun is held to the baseline alone, not to the member's other cuts (a later stop is the
whole of a sooner one too): a plan's figures stay those it gets compared alone, whichever
other plans and delays stand beside it. A cost-of-delay curve can then still fall somewhere
between two stops; ``compare`` says so where it does (none did in the six cases of session
38: chlorine at 50-5,000 kg/s for 3 h, classes D and F).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray


class HeldToWhole:
    """The baseline's air of the dense releases (their tags' sums and their plumes' city-disc parts),
    to which each cut rerun of the member is held (:meth:`hold`)."""

    def __init__(self, base: Any, dense_groups: Any) -> None:
        self.dense = np.asarray(sorted({int(g) for g in dense_groups}), dtype=np.int64)
        self.tag_group = np.asarray(base.tag_group)
        self._tag_bins = (np.asarray(base.tag_start_h), np.asarray(base.tag_end_h))
        # per dense release, its tags and their summed air (step, receptor): held as a sum, not tag by tag, so
        # that the figures do not depend on the emission bins the plans beside it ask for
        self.groups = [np.flatnonzero(self.tag_group == g) for g in self.dense]
        self.sums = [np.asarray(base.conc)[t].sum(axis=0) for t in self.groups]
        self.part_c = None if base.part_c is None else np.asarray(base.part_c, dtype=float)

    def hold(self, exp: Any) -> tuple[Any, int]:
        """``exp`` (a rerun with some releases cut) with its dense releases' air held to the baseline's,
        and how many receptors that lowered.

        A receptor breathes the sum of a dense release's tags in ``conc``, held step by step (its tags
        keep their shares of it). A city disc the
        plume's parts cover (``part_receptors``) holds the plume's air part by part instead (``part_c``),
        and its ``conc`` loses what its parts' people-weighted mean lost, tag by tag as
        :func:`plumecast.exposure_parts.by_part_kinds` attributes it, so that the disc's particles keep
        their own air."""
        same = (np.array_equal(exp.tag_group, self.tag_group) and np.array_equal(exp.tag_start_h, self._tag_bins[0])
                and np.array_equal(exp.tag_end_h, self._tag_bins[1])
                and all(exp.conc.shape[1:] == ref.shape for ref in self.sums))
        if not same:
            raise RuntimeError("dense cuts: a rerun's emission tags differ from the baseline's")
        conc = np.array(exp.conc, dtype=float, copy=True)
        n_steps, n_rec = conc.shape[1:]
        has_parts = not (exp.part_c is None or exp.part_tag is None or exp.part_ptr is None
                         or exp.part_weight is None or exp.part_receptors is None)
        alone = np.ones(n_rec, bool)
        if has_parts:
            alone[np.asarray(exp.part_receptors)] = False
        cols = np.flatnonzero(alone)
        lowered: set[int] = set()
        for tags, ref in zip(self.groups, self.sums, strict=True):
            at = np.ix_(tags, np.arange(n_steps), cols)
            mine = conc[at]
            total, whole = mine.sum(axis=0), ref[:, cols]
            over = total > whole * (1.0 + 1e-9)
            lowered.update(int(cols[r]) for r in np.flatnonzero(over.any(axis=0)))
            ratio = np.divide(whole, total, out=np.ones_like(total), where=over)  # below 1 where over
            conc[at] = mine * ratio[None]  # its tags in their shares
        part_c = exp.part_c
        if has_parts and self.part_c is not None:
            if self.part_c.shape != exp.part_c.shape:
                raise RuntimeError("dense cuts: a rerun's city-disc parts differ from the baseline's")
            tag = np.asarray(exp.part_tag)
            # the parts of a near-field source belong to its group whatever their tag (the tag says the bin)
            mask = np.isin(self.tag_group[tag], self.dense) & (exp.part_c > self.part_c * (1.0 + 1e-9))
            if mask.any():
                part_c = np.array(exp.part_c, dtype=float, copy=True)
                part_c[mask] = self.part_c[mask]
                early = np.zeros_like(part_c) if exp.part_early is None else np.asarray(exp.part_early)
                lowered |= _lower_disc_means(exp, conc, np.where(mask, exp.part_c - part_c, 0.0), tag, early)
        return replace(exp, conc=conc, part_c=part_c), len(lowered)


def _lower_disc_means(exp: Any, conc: NDArray[np.float64], cut: NDArray[np.float64], tag: NDArray[np.int32],
                      early: NDArray[np.float64]) -> set[int]:
    """Take from each disc's ``conc`` its parts' people-weighted loss ``cut`` (step, source, part), per
    tag (the share ``early`` to the bin before, as :func:`plumecast.exposure_parts._point_parts` adds
    the parts up); the discs it lowered."""
    ptr, weight, discs = np.asarray(exp.part_ptr), np.asarray(exp.part_weight), np.asarray(exp.part_receptors)
    n_groups = len(exp.group_names)
    n_steps = conc.shape[1]
    steps = np.arange(n_steps)[:, None]
    lowered: set[int] = set()
    for j, rec in enumerate(discs):
        sl = slice(int(ptr[j]), int(ptr[j + 1]))
        if not cut[:, :, sl].any():
            continue
        every = np.broadcast_to(steps, (n_steps, sl.stop - sl.start))
        loss = np.zeros(conc.shape[:2])
        w = weight[sl]
        for src in range(cut.shape[1]):
            t, e, d = tag[:, src, sl], early[:, src, sl], cut[:, src, sl] * w
            np.add.at(loss, (t, every), d * (1.0 - e))
            np.add.at(loss, (np.maximum(t - n_groups, 0), every), d * e)
        conc[:, :, int(rec)] = np.maximum(conc[:, :, int(rec)] - loss, 0.0)
        lowered.add(int(rec))
    return lowered
