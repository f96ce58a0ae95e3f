"""The far field of many dense setups at once (session 53): the batched bisection and match give each setup
the values of the one-by-one code to the bit."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from plumecast.nearfield.gaussian import briggs_sigma_z, vertical_term
from plumecast.nearfield.zones import setup as zsetup
from plumecast.nearfield.zones.far_field import _inverse_increasing_many, far_field_matches
from tests.nearfield.zone_cases import release_case


def test_batched_bisection_is_the_scalar_one_element_by_element():
    targets = np.array([-1.0, 0.0, 1e-3, 0.5, 3.0, 7.9, 41.0, 1e6, math.nan])  # at lo, inside, never, nan

    def f(x):
        return briggs_sigma_z(x, "D", "rural")

    lo = np.array([1e-9, 1e-9, 5.0, 1e-9, 2.0, 1e-9, 1e-9, 1e-9, 1e-9])
    got = _inverse_increasing_many(lambda x, _: f(x), targets, lo, 1e4)
    for t, a, g in zip(targets, lo, got, strict=True):
        want = zsetup._inverse_increasing(lambda x: float(f(np.array([x]))[0]), float(t), float(a), 1e4)
        assert g == want or (math.isnan(g) and math.isnan(want)), (t, g, want)
    # a decreasing function's negative, the far field's depth: each element stops on its own
    v = np.array([1e-4, 2e-3, 0.05, 0.9])
    got = _inverse_increasing_many(lambda s, _: -vertical_term(0.0, 0.0, s, 800.0), -v, np.full(4, 1e-6), 1e7)
    for t, g in zip(v, got, strict=True):
        want = zsetup._inverse_increasing(lambda s: -float(vertical_term(0.0, 0.0, np.array([s]), 800.0)[0]),
                                          -float(t), 1e-6, 1e7)
        assert g == want


def test_far_fields_matched_together_are_those_matched_one_by_one():
    items = []
    for cls, lid in (("F", None), ("D", None), ("D", 300.0)):  # two groups in one call, then a lid
        s = zsetup.plume_setup(release_case("chlorine", 3000.0, 600, 2.0, cls))
        for part in (s, s.instantaneous, *(p for _, p in s.longer[::9])):
            part = part if lid is None else replace(part, mixing_height_m=lid)
            items.append((part, part.dense, 0.2 if cls == "D" else math.nan))
    together = far_field_matches(items[::-1])[::-1]
    assert any(d.far_lag_m is not None for d in together) and any(d.far_lag_m is None for d in together)
    for (part, dense, ustar), d in zip(items, together, strict=True):
        alone = zsetup.far_field_match(part, dense, ustar)
        for name in ("far_shift_y_m", "far_shift_z_m", "far_sigma_z_m", "far_richardson_c"):
            a, b = getattr(alone, name), getattr(d, name)
            assert a == b or (math.isnan(a) and math.isnan(b)), name
        assert (alone.far_lag_m is None) == (d.far_lag_m is None)
        if d.far_lag_m is not None:
            assert np.array_equal(alone.far_lag_m, d.far_lag_m) and np.array_equal(alone.far_lag_x_m, d.far_lag_x_m)


def test_puffs_transitions_bisected_together_are_those_bisected_one_by_one():
    from plumecast.nearfield.zones.far_field import puff_transitions

    s = zsetup.plume_setup(release_case("chlorine", 3000.0, 600, 2.0, "D"))
    puffs = [s.instantaneous, *(p for _, p in s.longer)]
    got = puff_transitions(s, [p.dense for p in puffs])
    assert len(got) == len(puffs)
    for p in puffs:
        assert got[(p.dense.g0p, p.dense.source_volume)] == zsetup.passive_transition_distance(p, p.dense)
