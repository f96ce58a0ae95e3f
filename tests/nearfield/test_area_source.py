"""The area-source plume of a city disc (plumecast.nearfield.area_source)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from plumecast.nearfield.area_source import area_plume_step, emission_integral, travel_integral
from plumecast.nearfield.gaussian import briggs_sigma_y, briggs_sigma_z, plume_concentration


def _one_pair(radius_m, q, u, *, t_s, dt_s, factor, bins, table, de=0.0, dn=0.0, decay_s=0.0, n_groups=1,
              v=0.0, v_dep=0.0):
    """The plume of one disc at one point (``de``, ``dn`` from its centre), per tag."""
    d, g = table
    bins = np.asarray(bins, np.int64)
    n_tags = int(bins.max() + 1) * n_groups
    conc = np.zeros((n_tags, 1))
    hit = np.zeros(1, np.bool_)
    area_plume_step(t_s, dt_s, np.array([0, 1]), np.array([0]), np.array([de]), np.array([dn]), np.array([0.0]),
                    np.array([0]), np.array([1]), np.zeros(1), np.zeros(1), np.array([0]), np.array([0]), np.zeros(1),
                    np.array([q]),
                    np.array([radius_m]), np.array([radius_m + 30e3]), np.array([0]), np.array([u]), np.array([v]),
                    1.0, d, g[None, :], d[None, :], emission_integral(np.asarray(factor, float)[None, :], dt_s), bins,
                    n_groups, decay_s, v_dep, np.full(1, np.inf), conc, hit, spot := np.zeros((n_tags, 1)),
                    np.zeros(1, np.int64), part := np.zeros((n_tags, 1)), np.zeros(1, np.int64))
    # one sample point (the centre): its most exposed point's air is the mean's, tag by tag, and so is
    # the air of its one part
    np.testing.assert_array_equal(spot, conc)
    np.testing.assert_array_equal(part, conc)
    return conc[:, 0], bool(hit[0])


def test_the_table_is_the_integral_of_the_vertical_factor():
    top, z = 20.0, 1.5
    d, g = travel_integral(60e3, top, z, "D", "urban", math.inf)

    def v(s: float) -> float:
        # the ground-reflected Gaussian averaged over release heights 0..top, in closed form:
        # [erf((top - z) / (sqrt(2) sz)) + erf((top + z) / (sqrt(2) sz))] / (2 top)
        sz = float(briggs_sigma_z(s, "D", "urban"))
        return (math.erf((top - z) / (math.sqrt(2) * sz)) + math.erf((top + z) / (math.sqrt(2) * sz))) / (2 * top)

    for x in (30.0, 300.0, 5e3, 30e3):
        ref = quad(v, 0.0, x, limit=400, points=[p for p in (1.0, 10.0, 100.0) if p < x])[0]
        assert float(np.interp(x, d, g)) == pytest.approx(ref, rel=2e-3), x


def test_well_mixed_under_a_low_lid_it_is_the_box_model():
    # sigma_z beyond 1.6 H: V = 1/H, so the air from the fetch a..b is q (b - a) / (u H),
    # the mass balance of a box of depth H (Gifford & Hanna 1973)
    d, g = travel_integral(60e3, 0.0, 1.5, "D", "urban", 50.0)
    a, b = 5e3, 40e3
    assert float(briggs_sigma_z(a, "D", "urban")) > 1.6 * 50.0
    assert float(np.interp(b, d, g) - np.interp(a, d, g)) == pytest.approx((b - a) / 50.0, rel=1e-6)


def test_the_disc_centre_gets_the_fetch_of_its_radius_and_the_narrow_plume_matches_point_sources():
    radius, q, u = 8e3, 2e-9, 4.0
    table = travel_integral(60e3, 10.0, 1.5, "D", "urban", 1000.0)
    dt = 600.0
    conc, hit = _one_pair(radius, q, u, t_s=12 * 3600.0, dt_s=dt, factor=np.ones(72), bins=np.zeros(72), table=table)
    assert hit
    expected = q / u * float(np.interp(radius, *table))
    assert conc.sum() == pytest.approx(expected, rel=1e-9)
    # the same disc as a field of point sources, each with its own lateral spread
    r = (np.arange(400) + 0.5) / 400 * radius
    th = (np.arange(720) + 0.5) / 720 * 2 * math.pi
    rr, tt = np.meshgrid(r, th, indexing="ij")
    x = -rr * np.cos(tt)  # the centre lies x downwind of each element
    y = rr * np.sin(tt)
    dA = (radius / 400) * (2 * math.pi / 720) * rr
    up = x > 0
    xs = np.where(up, x, 1.0)
    sy, sz = briggs_sigma_y(xs, "D", "urban"), briggs_sigma_z(xs, "D", "urban")
    c = np.zeros_like(xs)
    for h, w in zip(*np.polynomial.legendre.leggauss(4), strict=True):
        c += 0.5 * w * plume_concentration(1.0, u, xs, y, 1.5, 5.0 * (h + 1.0), sy, sz, 1000.0)
    brute = float(np.sum(np.where(up, c, 0.0) * q * dA))
    assert conc.sum() == pytest.approx(brute, rel=0.1)


def test_air_is_credited_to_the_step_it_was_emitted_in():
    radius, q, u, dt = 10e3, 1e-9, 2.0, 600.0
    table = travel_integral(60e3, 0.0, 1.5, "C", "urban", 1500.0)
    n = 48
    bins = np.where(np.arange(n) < 20, 0, 1)  # a tag edge at step 20 (200 min)
    t = 22 * dt  # 2 steps after the edge: the air of the last 1200 s is in the second tag
    conc, _ = _one_pair(radius, q, u, t_s=t, dt_s=dt, factor=np.ones(n), bins=bins, table=table, de=radius)
    d, g = table
    # at the downwind edge the fetch is 2R; the newer tag holds travel distances 0 .. u (t - 20 dt)
    split = u * (t - 20 * dt)
    assert conc[1] == pytest.approx(q / u * float(np.interp(split, d, g)), rel=1e-9)
    assert conc.sum() == pytest.approx(q / u * float(np.interp(2 * radius, d, g)), rel=1e-9)
    # rates per emission step: halving the rate of the older steps halves the older tag
    f = np.where(np.arange(n) < 20, 0.5, 1.0)
    half, _ = _one_pair(radius, q, u, t_s=t, dt_s=dt, factor=f, bins=bins, table=table, de=radius)
    assert half[0] == pytest.approx(0.5 * conc[0], rel=1e-9)
    assert half[1] == pytest.approx(conc[1], rel=1e-9)


def test_nothing_before_the_release_or_upwind_or_beside_the_disc():
    radius, q, u, dt = 5e3, 1e-9, 3.0, 600.0
    table = travel_integral(60e3, 0.0, 1.5, "D", "urban", 1000.0)
    ones = np.ones(24)
    early, _ = _one_pair(radius, q, u, t_s=dt, dt_s=dt, factor=ones, bins=np.zeros(24), table=table, de=radius)
    # after one step the air has travelled u dt = 1.8 km from the upwind part of the disc
    assert early.sum() == pytest.approx(q / u * float(np.interp(u * dt, *table)), rel=1e-9)
    upwind, hit = _one_pair(radius, q, u, t_s=10 * dt, dt_s=dt, factor=ones, bins=np.zeros(24), table=table,
                            de=-radius - 100.0)
    assert upwind.sum() == 0.0 and not hit
    beside, _ = _one_pair(radius, q, u, t_s=10 * dt, dt_s=dt, factor=ones, bins=np.zeros(24), table=table,
                          dn=radius + 100.0)
    assert beside.sum() == 0.0
    # the wind from the south: a point north of the disc is now downwind
    north, _ = _one_pair(radius, q, 0.0, t_s=10 * dt, dt_s=dt, factor=ones, bins=np.zeros(24), table=table,
                         dn=radius + 100.0, v=u)
    assert north.sum() > 0.0


def test_decay_over_the_travel_time():
    radius, q, u, dt = 5e3, 1e-9, 5.0, 600.0
    table = travel_integral(60e3, 0.0, 1.5, "D", "urban", 1000.0)
    kw = dict(t_s=20 * dt, dt_s=dt, factor=np.ones(24), bins=np.zeros(24), table=table)
    plain, _ = _one_pair(radius, q, u, **kw)
    decayed, _ = _one_pair(radius, q, u, decay_s=1e-3, **kw)
    # the air reaching the centre travelled 0 .. R / u = 1000 s: it lost between 0 and 63 %
    assert math.exp(-1.0) * plain.sum() < decayed.sum() < plain.sum()
    # dry deposition by source depletion: the column keeps exp(-v_d G(d) / u) of its mass after d
    d, g = kw["table"]
    deposited, _ = _one_pair(radius, q, u, v_dep=0.05, **kw)
    assert math.exp(-0.05 * float(np.interp(radius, d, g)) / u) * plain.sum() < deposited.sum() < plain.sum()


def test_a_ramped_rate_is_taken_per_piece_exactly():
    # a rate that changes every step (a ramp): the air carries the mean rate of the times it left
    # in, exactly as the steps' own rates give it (pieces no longer follow each step)
    radius, q, u, dt = 10e3, 1e-9, 2.0, 600.0
    table = travel_integral(60e3, 0.0, 1.5, "D", "urban", 1000.0)
    n = 72
    ramp = np.linspace(0.05, 1.0, n)
    conc, _ = _one_pair(radius, q, u, t_s=30 * dt, dt_s=dt, factor=ramp, bins=np.zeros(n), table=table)
    # the same from the steps one by one: each step's emission at its own rate
    total = 0.0
    for k in range(30):
        one, _ = _one_pair(radius, q, u, t_s=30 * dt, dt_s=dt, factor=np.where(np.arange(n) == k, ramp, 0.0),
                           bins=np.zeros(n), table=table)
        total += one.sum()
    assert conc.sum() == pytest.approx(total, rel=1e-9)


def test_the_layer_average_keeps_the_lid_reflections():
    from plumecast.nearfield.area_source import layer_vertical_term
    from plumecast.nearfield.gaussian import vertical_term

    sz = np.array([5.0, 40.0, 90.0, 200.0])
    heights = (np.arange(4000) + 0.5) / 4000 * 20.0
    for lid in (100.0, 1000.0):
        mean = np.mean([vertical_term(1.5, h, sz, lid) for h in heights], axis=0)
        np.testing.assert_allclose(layer_vertical_term(1.5, 20.0, sz, lid), mean, rtol=1e-5)
    # a layer reaching above the lid: only the part below it is seen under it
    half = layer_vertical_term(1.5, 200.0, np.array([400.0]), 100.0)
    assert half[0] == pytest.approx(0.5 / 100.0)


def test_a_small_receptor_beside_a_large_disc_is_sampled_at_fewer_points():
    from plumecast.exposure_area import _SAMPLES, _SET_SIZES, _SET_START, _sample_sets

    which = _sample_sets(np.array([0.0, 1e3, 3e3, 6e3, 20e3]), np.full(5, 15e3))
    k0, nk = _SET_START[which], np.asarray(_SET_SIZES)[which]
    assert nk.tolist() == [1, 1, 4, 16, 64]
    for a, n in zip(k0, nk, strict=True):
        pts = _SAMPLES[:, a:a + n]
        # each set is centred on the receptor and inside its disc
        assert np.hypot(*pts.mean(axis=1)) < 1e-12 and np.hypot(*pts).max() <= 1.0
