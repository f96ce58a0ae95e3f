"""The pure-vapour note's cheap proof (session 53, densezones2: ``plume.axis_peak_below``): a dense release's
axis peak is never above its steady plume of the rate (to rounding), so where that plume stays below the cap
the ~50 twins are not read; where it does not prove it the note reads the peak itself, as before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from plumecast.nearfield.zones import compute_zones
from plumecast.nearfield.zones.footprint import pure_vapour_note
from plumecast.nearfield.zones.plume import (
    axis_peak_below,
    dense_axis_concentration,
    peak_concentration,
)
from plumecast.nearfield.zones.setup import MAX_DISTANCE_M, plume_setup
from tests.nearfield.zone_cases import release_case


def test_axis_peak_below_proves_only_what_the_peak_shows():
    xs = np.geomspace(0.1, MAX_DISTANCE_M, 700)
    for case in [("chlorine", 3000.0, 600, 1.5, "F"), ("chlorine", 55000.0, 30, 1.5, "F"),
                 ("chlorine", 5000.0, 300, 2.0, "A"), ("chlorine", 55000.0, 0, 1.5, "F")]:
        s = plume_setup(release_case(*case))
        assert s.dense is not None
        peak = peak_concentration(s, xs, np.zeros_like(xs))
        top = float(np.max(dense_axis_concentration(s, xs)))
        assert float(np.max(peak)) <= top * (1.0 + 1e-12)  # the bound the proof stands on
        assert axis_peak_below(s, xs, top * (1.0 + 2e-9))
        assert not axis_peak_below(s, xs, top)  # within the rounding allowed: not proven
        assert not axis_peak_below(s, xs, float(np.max(peak)))
    passive = plume_setup(release_case("chlorine", 3000.0, 600, 1.5, "F", dense="off"))
    assert passive.dense is None and not axis_peak_below(passive, xs, np.inf)  # never proven for a passive plume


def test_note_still_read_where_the_bound_does_not_prove_it():
    r = compute_zones(release_case("chlorine", 3000.0, 600, 1.5, "F"), consequences=False)
    assert pure_vapour_note(r) is None
    xs = np.geomspace(0.1, MAX_DISTANCE_M, 2000)
    top = float(np.max(peak_concentration(r.setup, xs, np.zeros_like(xs))))
    r.setup = replace(r.setup, pure_vapour_kg_m3=top * 0.999)  # the release's peak held near the source
    note = pure_vapour_note(r)
    assert note is not None and note.startswith("pure vapour: the concentration is held")
