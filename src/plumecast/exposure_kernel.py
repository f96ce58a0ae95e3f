"""The kernel estimate of the particles' air at the receptors (:mod:`plumecast.exposure`): the smallest of
nested discs round each receptor that holds enough particles, and the largest disc each release's tags may
use where a receptor lies in its near field."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from plumecast.countermeasures.front import great_circle_m

#: Number of nested discs searched around a receptor.
N_RINGS = 8
#: Particles a disc must hold before its estimate is used.
MIN_PARTICLES = 16


def kernel_estimate(
    shell_mass: NDArray[np.float64], shell_count: NDArray[np.int64], radii: NDArray[np.float64], layer_m: float,
    max_ring: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Concentration per tag and receptor from the mass and count in each ring shell.

    ``shell_mass`` and ``shell_count`` are ``(..., ring, tag, receptor)`` (leading axes,
    e.g. steps, are kept). Every tag uses the disc of all tags' particles together (the
    smallest holding :data:`MIN_PARTICLES`, else the largest): linear in the tags' masses,
    their sum is the untagged run's estimate whatever the cuts (per-tag discs had moved a
    baseline's dose 8 % and an AEGL-3 arrival 50 min with the plans' termination times;
    plans audit, session 30). ``max_ring`` (tag, receptor): a tag's largest disc there
    (:func:`near_field_rings`). Returns (conc (..., tag, receptor) [kg m-3], radius (..., receptor) [m])."""
    cum_mass = np.cumsum(shell_mass, axis=-3)  # mass inside disc k
    cum_count = np.cumsum(shell_count, axis=-3)
    enough = cum_count.sum(axis=-2) >= MIN_PARTICLES  # (..., ring, receptor): all tags' particles
    k_all = np.where(enough.any(axis=-2), np.argmax(enough, axis=-2), N_RINGS - 1)  # (..., receptor)
    k = np.broadcast_to(k_all[..., None, :], cum_count.shape[:-3] + cum_count.shape[-2:])  # (..., tag, receptor)
    if max_ring is not None:
        k = np.minimum(k, max_ring)
    nrec = radii.shape[0]
    r = radii[np.arange(nrec), k]  # (..., tag, receptor)
    mass = np.take_along_axis(cum_mass, k[..., None, :, :], axis=-3)[..., 0, :, :]
    conc = mass / (math.pi * r * r * layer_m)
    weight = np.take_along_axis(cum_count, k[..., None, :, :], axis=-3)[..., 0, :, :].astype(float)
    wsum = weight.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        used = np.where(wsum > 0, (r * weight).sum(axis=-2) / wsum, r.max(axis=-2))
    return conc, used


def near_field_rings(radii: NDArray[np.float64], rec_lat: NDArray[np.float64], rec_lon: NDArray[np.float64],
                     nf_group: NDArray[np.bool_], nf_lat: NDArray[np.float64], nf_lon: NDArray[np.float64],
                     nf_distance_m: float, n_tags: int) -> NDArray[np.int64] | None:
    """The largest disc (ring index) each tag may use at each receptor, ``(tag, receptor)``
    (tag ``t`` belongs to group ``t % n_groups``), or None where no receptor lies in a near field.

    The young particles of a point release are left out of the discs within its near field
    (:func:`near_field_excluded`), so a receptor there keeps its disc for that release's tags
    inside the near field, at most ``nf_distance_m - d`` (d: its distance from the release;
    the smallest disc where even that is wider), instead of reaching a cloud tens of km away
    past the edge (docs/exposure.md, "Near field")."""
    n_groups = nf_group.size
    if n_groups == 0 or not nf_group.any() or n_tags == 0:
        return None
    cap = np.full((n_groups, radii.shape[0]), N_RINGS - 1, np.int64)
    inside_any = False
    for g in np.flatnonzero(nf_group):
        d = great_circle_m(float(nf_lat[g]), float(nf_lon[g]), rec_lat, rec_lon)
        room = nf_distance_m - d
        inside = room > 0.0
        if inside.any():
            inside_any = True
            fits = radii <= room[:, None]  # (receptor, ring), rings increasing
            cap[g] = np.where(inside, np.maximum(fits.sum(axis=1) - 1, 0), N_RINGS - 1)
    if not inside_any:
        return None
    return np.ascontiguousarray(cap[np.arange(n_tags) % n_groups])
