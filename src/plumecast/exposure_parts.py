"""A run's receptor exposure with the city discs split into the receptors their rows are made of.

A city's people are not all in the same air, and the toxic load is convex in the
concentration: averaged over a disc first, a narrow plume reads far lower than the air
its people breathe (DESIGN "Honest numbers"). :func:`by_part_kinds` turns the exposure of
a run (:class:`plumecast.exposure.ReceptorExposure`) into one whose columns are:

* each receptor as it is, where nothing more is known of its disc;
* for a city disc that a point release's plume can cross, each of its parts the plume
  reaches (:mod:`plumecast.disc_samples`, with its share of the people) and the rest of
  the disc as one;
* for a city disc that an area source's plume gives air to (:mod:`plumecast.exposure_area`)
  and whose disc no point release's plume splits, each of its sample points of that plume
  that the plume reaches (4, 16 or 64 equal-area points, an equal share of the people each)
  and the rest of the disc as one: the deaths of its people, not of its mean air (the
  demo's Lagos at 24 h: 227,000 from its 64 points, 239,000 from points 2 km apart, 2,900
  from the mean; docs/exposure.md);
* for such a disc, one more column of no people: the disc's air with the area plumes' air at the disc's
  most exposed sample point instead of their mean over the disc (its *spot*). Its
  arrivals are the city's earliest, so a countdown is the city's most exposed point's,
  not its mean's (that had been about 20 min later in a city's own emission; session 29).

:mod:`plumecast.city_parts` and :mod:`plumecast.plans.evaluate` assess the columns and
gather them back to their cities.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from plumecast.exposure import ReceptorExposure
from plumecast.receptors import Receptors
from plumecast.shelter_lag import lag_columns

#: a part of a disc is assessed on its own where the plume's air there is ever more than this share of the part's
#: air; below it, with the parts the plume does not reach (the change in its load is below 0.3 % for n <= 3); a
#: disc's spot where its area plumes' air there is ever more than this share above the disc's air
PART_TOLERANCE = 1e-3
#: ... and more than this concentration (1e-9 mg/m3, far below any agent's AEGL-1) [kg m-3]
PART_FLOOR_KG_M3 = 1e-15
#: :func:`by_part_kinds`'s kind of a column: the receptor, a part or the rest of its disc
KIND_PART = 0
#: ... the disc's most exposed point of its area plumes (no people)
KIND_SPOT = 1


def part_starts(parent: NDArray[np.int64]) -> NDArray[np.int64]:
    """Where each city's columns start in :func:`by_part_shares`'s expansion (a city's
    parts are consecutive columns, cities in order)."""
    return np.flatnonzero(np.diff(parent, prepend=-1))


def by_part(exposure: ReceptorExposure) -> tuple[ReceptorExposure, NDArray[np.int64]]:
    """:func:`by_part_shares` without the shares."""
    expanded, parent, _ = by_part_shares(exposure)
    return expanded, parent


def by_part_shares(exposure: ReceptorExposure) -> tuple[ReceptorExposure, NDArray[np.int64], NDArray[np.float64]]:
    """:func:`by_part_kinds` without the kinds."""
    expanded, parent, share, _ = by_part_kinds(exposure)
    return expanded, parent, share


def by_part_kinds(exposure: ReceptorExposure) -> tuple[ReceptorExposure, NDArray[np.int64], NDArray[np.float64],
                                                       NDArray[np.int8]]:
    """The exposure with each city disc that a point release's plume can cross split into
    its parts (:mod:`plumecast.disc_samples`), each with its share of the city's people,
    and each disc an area source's plume reaches given its spot (module docstring); each
    column's receptor index in ``exposure`` (its city), its share of the city's people
    and its kind (:data:`KIND_PART`, :data:`KIND_SPOT`).

    A part breathes the city's air from the particles (their disc estimate) and the plume's
    air at its own point; the city's ``conc`` holds the plume's mean over the parts. The
    toxic load is convex in the concentration, so the deaths of a narrow plume that
    crosses a wide city are those of the parts it crosses, not of its mean over the disc
    (DESIGN "Honest numbers"; 108 t of chlorine released inside Duisburg read '< 1' death
    from the disc mean; decision audit). The parts the plume never reaches (or reaches
    below a thousandth of their air) breathe the same air: they are one receptor, with
    their share of the people (regression audit: one column each had taken compare's
    memory from 0.8 to 22 GB on 45 Ruhr cities). A spot has no people: it adds the city's
    most exposed air, not deaths. Without a disc either reaches, ``exposure`` itself."""
    n_rec = int(exposure.conc.shape[2])
    as_is = (exposure, np.arange(n_rec, dtype=np.int64), np.ones(n_rec), np.zeros(n_rec, np.int8))
    split = exposure.part_receptors
    has_parts = not (split is None or split.size == 0 or exposure.part_c is None or exposure.part_tag is None
                     or exposure.part_ptr is None or exposure.part_weight is None)
    spots = _spot_slots(exposure)
    area_slot = _area_part_slots(exposure)
    if not has_parts and spots is None and area_slot is None:
        return as_is
    n_tags, n_steps = int(exposure.conc.shape[0]), int(exposure.conc.shape[1])
    slot = np.full(n_rec, -1, np.int64)
    if has_parts:
        assert split is not None
        slot[split] = np.arange(split.size)
    cols: list[tuple[int, int]] = []  # (receptor, part): part -1 the receptor as it is, -2 its untouched parts,
    share_l: list[float] = []  # -3 its spot
    # (tag, step) the plume's air of each column that has one, or its index in area_part_c's parts
    plume_cols: list[NDArray[np.float64] | int] = []
    mean_by_disc: dict[int, NDArray[np.float64]] = {}
    point_split: set[int] = set()  # the discs made of a point release's parts
    total = exposure.conc.sum(axis=0)  # (step, receptor)
    for rec in range(n_rec):
        j = int(slot[rec])
        made: tuple[NDArray[np.float64], list[tuple[int, float, NDArray[np.float64] | int]], float] | None = None
        if j >= 0:
            made = _point_parts(exposure, rec, j, total, n_tags, n_steps)
            if made is not None:
                point_split.add(rec)
        if made is None and area_slot is not None and area_slot[rec] >= 0:
            made = _area_parts(exposure, rec, int(area_slot[rec]), total)
        if made is None:
            cols.append((rec, -1))
            share_l.append(1.0)
        else:
            mean, parts, rest = made
            mean_by_disc[rec] = mean
            for k, w_k, one in parts:
                cols.append((rec, k))
                share_l.append(w_k)
                plume_cols.append(one)
            if rest > 1e-12:
                cols.append((rec, -2))
                share_l.append(rest)
        if spots is not None and spots[rec] >= 0:
            cols.append((rec, -3))
            share_l.append(0.0)
    if all(p == -1 for _, p in cols):
        return as_is
    parent = np.asarray([r for r, _ in cols], np.int64)
    share = np.asarray(share_l)
    kind = np.asarray([KIND_SPOT if p == -3 else KIND_PART for _, p in cols], np.int8)
    conc = np.take(exposure.conc, parent, axis=2)  # C-contiguous (the fancy index [:, :, parent] is not)
    it = iter(plume_cols)
    area: dict[int, tuple[list[int], list[int]]] = {}  # per disc: its area-plume parts' columns and parts
    for col, (rec, part) in enumerate(cols):
        if part == -3:
            assert spots is not None and exposure.spot_extra is not None
            conc[:, :, col] += exposure.spot_extra[:, :, spots[rec]]
        elif part != -1:
            air = next(it) if part >= 0 else None
            if isinstance(air, int):
                area.setdefault(rec, ([], []))[0].append(col)
                area[rec][1].append(air)
                continue
            conc[:, :, col] -= mean_by_disc[rec]
            if air is not None:
                conc[:, :, col] += air
    for rec, (at_cols, at_parts) in area.items():  # a disc's parts at once
        assert exposure.area_part_c is not None
        # its parts' columns are consecutive (made in one loop above); the points they are of need not be
        assert at_cols[-1] - at_cols[0] + 1 == len(at_cols)
        c_sl = slice(at_cols[0], at_cols[-1] + 1)
        p_sl = slice(at_parts[0], at_parts[-1] + 1) if at_parts[-1] - at_parts[0] + 1 == len(at_parts) else at_parts
        # (the disc's air) + (the point's plume - the mean), in place: (the plume - the mean) + (the disc's air),
        # the same sums, without a temporary of the disc's parts
        base = conc[:, :, at_cols[0]].copy()
        np.subtract(exposure.area_part_c[:, :, p_sl], mean_by_disc[rec][:, :, None], out=conc[:, :, c_sl])
        conc[:, :, c_sl] += base[:, :, None]
    np.maximum(conc, 0.0, out=conc)  # rounding of the mean's difference
    peak_extra = _peak_columns(exposure, cols, slot, point_split, spots, area_slot)
    edge_extra = _edge_columns(exposure, cols, slot, point_split, spots, area_slot)
    front_s, other_air = _front_columns(exposure, cols, slot, point_split)
    r = exposure.receptors.take(parent)
    receptors = Receptors(name=r.name, lat=r.lat, lon=r.lon, population=r.population * share, country=r.country)
    expanded = dataclasses.replace(
        exposure, conc=conc, on_grid=np.asarray(exposure.on_grid)[parent], receptors=receptors,
        near_field=np.asarray(exposure.near_field)[parent], kernel_radius_m=np.asarray(exposure.kernel_radius_m)[parent],
        part_receptors=None, part_ptr=None, part_weight=None, part_c=None, part_tag=None, part_early=None,
        spot_receptors=None, spot_extra=None, area_part_receptors=None, area_part_ptr=None, area_part_c=None,
        area_spot_peak=None, area_part_peak=None, area_edge=None, area_spot_edge=None, area_part_edge=None,
        peak_extra=peak_extra, part_peak=None, edge_extra=edge_extra, part_edge=None, front_s=front_s, part_front_s=None,
        other_air=other_air, particle_peak=None if exposure.particle_peak is None else exposure.particle_peak[:, parent],
        wind_changed=lag_columns(exposure, cols, slot, point_split), part_wind_changed=None)
    return expanded, parent, share, kind


def _front_columns(exposure: ReceptorExposure, cols: list[tuple[int, int]], slot: NDArray[np.int64],
                   point_split: set[int]) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """Per column of :func:`by_part_kinds`, the earliest the point releases' near-field air of each step can be
    there and the rest of its air (:attr:`ReceptorExposure.front_s`, :attr:`ReceptorExposure.other_air`),
    (n_steps, n_columns): the receptor's own; a point release's part's own front and its disc's other air (a
    part breathes the disc's air less that plume's mean, plus that plume's air there); no front in the rest
    of a disc such parts split (it breathes the disc's air less that plume's); not known (-inf: no floor) in a
    spot and in the columns of an area plume's parts, whose other air is the disc's plus a share of its area
    plumes that may be negative in some emission tags (a plan that cuts those could raise it above the disc's)."""
    if exposure.front_s is None or exposure.other_air is None:
        return None, None
    front = np.full((exposure.front_s.shape[0], len(cols)), -np.inf)
    other = np.asarray(exposure.other_air, dtype=float)[:, [rec for rec, _ in cols]]
    part_front, ptr = exposure.part_front_s, exposure.part_ptr
    for col, (rec, part) in enumerate(cols):
        if part == -1:
            front[:, col] = exposure.front_s[:, rec]
        elif rec in point_split and part >= 0 and part_front is not None and ptr is not None:
            front[:, col] = part_front[:, int(ptr[slot[rec]]) + part]
        elif rec in point_split and part == -2:
            front[:, col] = np.inf
    return front, other


def _peak_columns(exposure: ReceptorExposure, cols: list[tuple[int, int]], slot: NDArray[np.int64],
                  point_split: set[int], spots: NDArray[np.int64] | None = None,
                  area_slot: NDArray[np.int64] | None = None) -> NDArray[np.float64] | None:
    """Per column of :func:`by_part_kinds` (``cols``: (receptor, part)), the near-field air's peak within
    each step above its mean (:attr:`ReceptorExposure.peak_extra`), (n_steps, n_columns): a receptor's
    own; a point release's part's summed over the sources, with its disc's area plumes' (the disc's mean of
    them is in the part's air), and the rest of such a disc the area plumes' alone (the point releases'
    plumes reach it below a thousandth of its air, or not at all); a spot and an area plume's part the area
    plumes' there (:mod:`plumecast.area_peak`), the rest of its disc the most of its other parts'; and in
    every column the particles' air within the step above its end sample (the disc's, ``particle_peak``)."""
    if exposure.peak_extra is None:
        return None
    out = np.zeros((exposure.conc.shape[1], len(cols)))
    part_peak, ptr = exposure.part_peak, exposure.part_ptr
    at_spot, at_part, area_ptr = exposure.area_spot_peak, exposure.area_part_peak, exposure.area_part_ptr
    # the particles' air within the steps (the disc's, in each of its columns; in peak_extra at the receptors)
    own = exposure.particle_peak if exposure.particle_peak is not None else np.zeros(exposure.peak_extra.shape)
    for col, (rec, part) in enumerate(cols):
        if part == -1 or (rec in point_split and part == -2):
            out[:, col] = exposure.peak_extra[:, rec]
        elif part >= 0 and rec in point_split and part_peak is not None and ptr is not None:
            out[:, col] = part_peak[:, :, int(ptr[slot[rec]]) + part].sum(axis=1) + exposure.peak_extra[:, rec]
        elif part == -3 and spots is not None and at_spot is not None and at_spot.shape[1]:
            out[:, col] = at_spot[:, spots[rec]] + own[:, rec]
        elif area_slot is not None and area_ptr is not None and at_part is not None and at_part.shape[1]:
            out[:, col] = _area_part_column(at_part, area_ptr, int(area_slot[rec]), cols, rec, part) + own[:, rec]
    return out


def _edge_columns(exposure: ReceptorExposure, cols: list[tuple[int, int]], slot: NDArray[np.int64],
                  point_split: set[int], spots: NDArray[np.int64] | None = None,
                  area_slot: NDArray[np.int64] | None = None) -> NDArray[np.float64] | None:
    """Per column of :func:`by_part_kinds`, how much more than its peak above its mean (:func:`_peak_columns`)
    the air emitted before each step's bin edge reaches (:attr:`ReceptorExposure.edge_extra`), (n_steps,
    n_columns): a receptor's own; a point release's part's summed over the sources, with its disc's area plumes'
    (``area_edge``), as is the rest of such a disc; a spot and an area plume's part the area plumes' there
    (``area_spot_edge``, ``area_part_edge``), the rest of its disc the most of its other parts' (as the peaks)."""
    if exposure.edge_extra is None:
        return None
    out = np.zeros((exposure.conc.shape[1], len(cols)))
    part_edge, ptr = exposure.part_edge, exposure.part_ptr
    area_edge = getattr(exposure, "area_edge", None)
    area_edge = area_edge if area_edge is not None and area_edge.shape == exposure.edge_extra.shape else None
    at_spot, at_part = getattr(exposure, "area_spot_edge", None), getattr(exposure, "area_part_edge", None)
    area_ptr = exposure.area_part_ptr
    for col, (rec, part) in enumerate(cols):
        if part == -1:
            out[:, col] = exposure.edge_extra[:, rec]
        elif part >= 0 and rec in point_split and part_edge is not None and ptr is not None:
            out[:, col] = part_edge[:, :, int(ptr[slot[rec]]) + part].sum(axis=1)
            if area_edge is not None:
                out[:, col] += area_edge[:, rec]
        elif rec in point_split and part == -2:
            if area_edge is not None:
                out[:, col] = area_edge[:, rec]
        elif part == -3 and spots is not None and at_spot is not None and at_spot.shape[1]:
            out[:, col] = at_spot[:, spots[rec]]
        elif area_slot is not None and area_ptr is not None and at_part is not None and at_part.shape[1]:
            out[:, col] = _area_part_column(at_part, area_ptr, int(area_slot[rec]), cols, rec, part)
    return out


def _area_part_column(at_part: NDArray[np.float64], area_ptr: NDArray[np.int64], j: int,
                      cols: list[tuple[int, int]], rec: int, part: int) -> NDArray[np.float64] | float:
    """An area plume's part's column of ``at_part`` (steps, all discs' parts; ``area_ptr``: each disc's first part,
    ``j`` receptor ``rec``'s disc): part ``part``'s own, or for the rest of the disc (``part`` < 0; the parts its
    people are in are those not among the disc's columns ``cols``) the most of those parts' (0 where none)."""
    first = int(area_ptr[j])
    if part >= 0:
        return at_part[:, first + part]
    mine = {p for r, p in cols if r == rec and p >= 0}
    rest = [first + k for k in range(int(area_ptr[j + 1]) - first) if k not in mine]
    return at_part[:, rest].max(axis=1) if rest else 0.0


def _area_part_slots(exposure: ReceptorExposure) -> NDArray[np.int64] | None:
    """Per receptor, its index in ``exposure.area_part_receptors`` (-1: none); None where
    no receptor's disc has area-plume parts."""
    rec, ptr, c = exposure.area_part_receptors, exposure.area_part_ptr, exposure.area_part_c
    if rec is None or ptr is None or c is None or rec.size == 0:
        return None
    slots = np.full(int(exposure.conc.shape[2]), -1, np.int64)
    slots[rec] = np.arange(rec.size)
    return slots


def _area_parts(exposure: ReceptorExposure, rec: int, j: int, total: NDArray[np.float64]
                ) -> tuple[NDArray[np.float64], list[tuple[int, float, NDArray[np.float64] | int]], float] | None:
    """City ``rec`` (slot ``j`` of ``exposure.area_part_receptors``) as the sample points of
    its disc that the area sources' plumes reach, each with an equal share of its people:
    the plumes' mean over the points per tag (what ``conc`` holds), each reached point's
    index, share and the index of its plume air in ``area_part_c``'s parts, and the share of the people in the rest
    (:func:`_point_parts`' form, the rest breathing the disc's air less the plumes' mean);
    None where the plumes reach no point."""
    ptr, part_c = exposure.area_part_ptr, exposure.area_part_c
    assert ptr is not None and part_c is not None
    c = part_c[:, :, int(ptr[j]):int(ptr[j + 1])]  # (tag, step, part)
    n = c.shape[2]
    mean = c.mean(axis=2)
    plume = c.sum(axis=0)  # (step, part)
    own_air = total[:, rec][:, None] - mean.sum(axis=0)[:, None] + plume
    hit = np.flatnonzero(((plume > PART_TOLERANCE * own_air) & (plume > PART_FLOOR_KG_M3)).any(axis=0))
    if hit.size == 0:
        return None
    parts: list[tuple[int, float, NDArray[np.float64] | int]] = [(int(k), 1.0 / n, int(ptr[j]) + int(k)) for k in hit]
    return mean, parts, 1.0 - hit.size / n


def _spot_slots(exposure: ReceptorExposure) -> NDArray[np.int64] | None:
    """Per receptor, its column of ``exposure.spot_extra`` where its disc's most exposed
    point breathes more than its mean (more than :data:`PART_TOLERANCE` of the disc's air
    and :data:`PART_FLOOR_KG_M3`, at some step), else -1; None where no receptor has one."""
    rec, extra = exposure.spot_receptors, exposure.spot_extra
    if rec is None or extra is None or rec.size == 0:
        return None
    more = extra.sum(axis=0)  # (step, spot receptor)
    own = exposure.conc[:, :, rec].sum(axis=0)
    keep = ((more > PART_TOLERANCE * own) & (more > PART_FLOOR_KG_M3)).any(axis=0)
    if not keep.any():
        return None
    slots = np.full(int(exposure.conc.shape[2]), -1, np.int64)
    slots[rec[keep]] = np.flatnonzero(keep)
    return slots


def _point_parts(exposure: ReceptorExposure, rec: int, j: int, total: NDArray[np.float64], n_tags: int,
                 n_steps: int) -> tuple[NDArray[np.float64], list[tuple[int, float, NDArray[np.float64] | int]],
                                        float] | None:
    """City ``rec`` (slot ``j`` of ``exposure.part_receptors``) as the parts a point
    release's plume reaches: the plume's people-weighted mean over its parts per tag
    (what ``conc`` holds), each reached part's index, share and plume air ``(tag,
    step)``, and the share of the people in the rest; None where the plume reaches no part."""
    ptr, weight = exposure.part_ptr, exposure.part_weight
    part_c, part_tag = exposure.part_c, exposure.part_tag
    assert ptr is not None and weight is not None and part_c is not None and part_tag is not None
    if ptr[j + 1] == ptr[j]:
        return None
    part_early = exposure.part_early if exposure.part_early is not None else np.zeros_like(part_c)
    n_groups = len(exposure.group_names)
    steps = np.arange(n_steps)[:, None]
    sl = slice(int(ptr[j]), int(ptr[j + 1]))
    w = weight[sl]
    c = part_c[:, :, sl]  # (step, source, part)
    plume = c.sum(axis=1)  # (step, part)
    # the parts the plume reaches: where it is ever more than a thousandth of the part's own air (a far
    # Gaussian tail under the particles' air changes nothing) and more than PART_FLOOR_KG_M3
    own_air = total[:, rec][:, None] - (plume @ w)[:, None] + plume
    hit = np.flatnonzero(((plume > PART_TOLERANCE * own_air) & (plume > PART_FLOOR_KG_M3)).any(axis=0))
    if hit.size == 0:
        return None
    mean = np.zeros((n_tags, n_steps))  # the parts' people-weighted mean, per tag: what conc holds
    every = np.broadcast_to(steps, (n_steps, sl.stop - sl.start))
    for src in range(c.shape[1]):
        tag, early = part_tag[:, src, sl], part_early[:, src, sl]
        np.add.at(mean, (tag, every), c[:, src, :] * w * (1.0 - early))
        np.add.at(mean, (np.maximum(tag - n_groups, 0), every), c[:, src, :] * w * early)
    parts: list[tuple[int, float, NDArray[np.float64] | int]] = []
    for k in hit:
        one = np.zeros((n_tags, n_steps))
        for src in range(c.shape[1]):
            tag, early = part_tag[:, src, sl.start + k], part_early[:, src, sl.start + k]
            np.add.at(one, (tag, np.arange(n_steps)), c[:, src, k] * (1.0 - early))
            np.add.at(one, (np.maximum(tag - n_groups, 0), np.arange(n_steps)), c[:, src, k] * early)
        parts.append((int(k), float(w[k]), one))
    return mean, parts, 1.0 - float(w[hit].sum())
