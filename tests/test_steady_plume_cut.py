"""The steady plume carries only the air that went its way (plumecast.near_field_cut, docs/exposure.md).

After a wind reversal the steady plume of the new direction had laid the air emitted before the reversal (which
went east) on its axis west of the source, and coming out of the calm of the reversal delivered the emission held
back in it at once. The reference is the physical air: 10-s Gaussian puffs (10 s of emission each, carried by the
source's wind, Briggs rural D sigma of the path run, sigma_x = sigma_y, ground reflection), as in
tests/test_countdown_turn_sweep.py. Uniform winds from records every 100 s, 3 m/s east reversing to 3 m/s west
between two records, class D.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tests.puff_reference import AMMONIA_REVERSAL as AMMONIA
from tests.puff_reference import CHLORINE_REVERSAL as CHLORINE
from tests.puff_reference import Reversal, reversal_puffs, reversal_run

KM_WEST = (1.0, 2.0, 5.0, 10.0)
PLACES = [(k, 180.0) for k in KM_WEST]


def _puffs(rel: Reversal) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """The puffs' first AEGL times [min] and doses [kg s m-3] at :data:`KM_WEST` (module docstring)."""
    first, dose = reversal_puffs(rel, PLACES)
    return {lv: t * 60.0 for lv, t in first.items()}, dose


def _run(step_s: float, rel: Reversal) -> Any:
    return reversal_run(step_s, rel, PLACES)


@pytest.fixture(scope="module")
def chlorine() -> dict[float, Any]:
    return {0.0: _puffs(CHLORINE), **{s: _run(s, CHLORINE) for s in (600.0, 300.0, 30.0)}}


def test_the_old_air_is_not_brought_back_west_at_once() -> None:
    # 2 t of ammonia over 10 min, the wind reversing at 20 min: the cloud is 2-4 km east; at 30-s steps the steady
    # plume of the west wind had laid it 1-2 km west as it came out of the reversal's calm: 16.9 and 7.8 times the
    # puffs' dose (now 2.4 and 1.0; the rest is the streak line's own, the fold of the line over the place)
    _, dose = _puffs(AMMONIA)
    ds = _run(30.0, AMMONIA)
    got = np.nansum(np.asarray(ds["concentration"].values, float), axis=0) * 30.0
    ratio = got[:2] / dose[:2]
    assert ((ratio >= 0.5) & (ratio <= 3.0)).all(), ratio


def test_five_km_west_is_warned_near_the_air_s_arrival_and_never_late(chlorine: dict[float, Any]) -> None:
    # 14.4 t of chlorine over 2 h reversing at 1 h: the puffs' AEGL-1 5 km west at 84.7 min (AEGL-2 87.5); the
    # 30-s steps read 59.5 (the steady plume's swing) and now 72.0 and 84.5. Never later than the puffs', at any
    # step; at 30-s steps AEGL-1 no more than 15 min before them
    puff, _ = chlorine[0.0]
    for step in (600.0, 300.0, 30.0):
        ds = chlorine[step]
        for lv in (1, 2, 3):
            got = np.asarray(ds[f"hours_to_aegl{lv}"].values, float) * 60.0
            reached = np.isfinite(puff[lv])
            assert (np.isfinite(got[reached]) & (got[reached] <= puff[lv][reached] + 1.0 / 60.0)).all(), (step, lv)
    first = float(np.asarray(chlorine[30.0]["hours_to_aegl1"].values, float)[2]) * 60.0
    assert puff[1][2] - 15.0 <= first <= puff[1][2] + 1.0 / 60.0


def test_no_aegl_3_west_where_the_air_never_brings_it(chlorine: dict[float, Any]) -> None:
    # 2 and 5 km west the puffs never reach AEGL-3; the 30-s steps read it at 59 min (the old air swung west)
    puff, _ = chlorine[0.0]
    assert not np.isfinite(puff[3][1:3]).any()
    got = np.asarray(chlorine[30.0]["hours_to_aegl3"].values, float)
    assert not np.isfinite(got[1:3]).any()


def test_the_cut_is_the_youngest_air_off_the_plume() -> None:
    from plumecast.near_field_cut import steady_since
    from plumecast.near_field_track import track_at

    # 30-s steps: 120 east, then 20 west (600 s): the air of the 600 s before the reversal has come back west of
    # the source, the older is still east; since session 52 the air come back is off the plume too (it lies short
    # of its run, where the steady plume lays it: near_field_fold): the cut at the reversal, 600 s before the
    # step's end (and the 60 s before it, within three sigma_y of its place; 1,200 s before)
    winds = np.array([[3.0, 0.0]] * 120 + [[-3.0, 0.0]] * 20)
    t_end = 140 * 30.0
    cut = steady_since(track_at(winds, 30.0, 30000.0), winds[-1], t_end, "D", "rural")
    assert t_end - 600.0 - 90.0 <= cut <= t_end - 600.0
    # a steady wind, and one changing its speed only: no line, or a straight one: no cut
    assert steady_since(track_at(winds[:120], 30.0, 30000.0), winds[0], 3600.0, "D", "rural") == -math.inf
    faster = np.array([[3.0, 0.0]] * 60 + [[5.0, 0.0]] * 60)
    track = track_at(faster, 30.0, 30000.0)
    assert track is not None and track.straight
    assert steady_since(track, faster[-1], 3600.0, "D", "rural") == -math.inf
