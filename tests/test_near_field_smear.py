"""The near field's along-wind smear (near_field_smear): each kilogram arrives x/u + s after it
left, s a Gaussian of sigma_t = sigma_x/u truncated at the cloud's front (-sqrt(2) sigma_t) and
renormalised. A top hat (s = 0) put a short release's whole dose into one short step and
overstated toxic loads 14-147 times; the smear must keep the mass, keep nothing ahead of the
front, and equal the top hat exactly where sigma_t is 0."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erf, ndtr

from plumecast import near_field_smear
from plumecast.near_field_smear import FRONT_LEAD_SIGMAS, also_before, thin_knots, window_mass

KEPT = float(ndtr(math.sqrt(2.0)))  # the truncated Gaussian's renormalisation, 1 - Phi(-sqrt 2)

#: (knots [s], cum [kg]) of three releases: a constant rate, a ramped rate (E quadratic at its
#: knots, as a profile's), and a multi-segment rate table with a pause
RELEASES = {
    "constant": (np.array([0.0, 600.0]), np.array([0.0, 1200.0])),
    "ramped": (np.linspace(0.0, 1800.0, 13), 0.5 * 0.01 * np.linspace(0.0, 1800.0, 13) ** 2),
    "segments": (np.array([0.0, 100.0, 400.0, 1000.0, 1300.0]), np.array([0.0, 50.0, 50.0, 350.0, 500.0])),
}


def _e(knots: np.ndarray, cum: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.asarray(np.interp(t, knots, cum), dtype=float)


def _g(s: float, sigma: float) -> float:
    """The truncated Gaussian density of the arrival delay [s-1]."""
    if s < -FRONT_LEAD_SIGMAS * sigma:
        return 0.0
    return math.exp(-0.5 * (s / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi) * KEPT)


def _quad_window(knots: np.ndarray, cum: np.ndarray, a: float, b: float, sigma: float,
                 since: float = -np.inf) -> float:
    """The definition by quadrature: integral of g(s) [E'(b - s) - E'(a - s)] ds, E' = max(E - E(since), 0)."""
    e0 = float(_e(knots, cum, np.array([since]))[0]) if np.isfinite(since) else 0.0

    def ep(t: float) -> float:
        return max(float(_e(knots, cum, np.array([t]))[0]) - e0, 0.0)

    s0, s1 = -FRONT_LEAD_SIGMAS * sigma, 40.0 * sigma
    corners = {y - k for y in (a, b) for k in np.append(knots, since if np.isfinite(since) else knots[0])}
    points = sorted(p for p in corners if s0 < p < s1)
    return float(quad(lambda s: _g(s, sigma) * (ep(b - s) - ep(a - s)), s0, s1, points=points, limit=800,
                      epsabs=0.0, epsrel=1e-13)[0])


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_sigma_zero_is_the_top_hat_exactly(name: str) -> None:
    knots, cum = RELEASES[name]
    rng = np.random.default_rng(1)
    a = rng.uniform(-300.0, 2000.0, 400)
    b = a + rng.choice([1.0, 60.0, 600.0], a.size)
    since = rng.uniform(-100.0, 1500.0, a.size)
    for sigma in (0.0, 1e-12):  # 0, and at most TOP_HAT_SIGMA of the window
        s = np.full(a.size, sigma)
        assert np.array_equal(window_mass(knots, cum, a, b, s), _e(knots, cum, b) - _e(knots, cum, a))
        got = window_mass(knots, cum, a, b, s, since)
        assert np.array_equal(got, _e(knots, cum, np.maximum(b, since)) - _e(knots, cum, np.maximum(a, since)))
        e0 = _e(knots, cum, since)
        np.testing.assert_allclose(got, np.maximum(_e(knots, cum, b) - e0, 0.0) - np.maximum(_e(knots, cum, a) - e0, 0.0),
                                   rtol=0.0, atol=1e-12 * cum[-1])
        edge = since + rng.uniform(-200.0, 800.0, a.size)
        lo, hi = since, np.maximum(edge, since)
        assert np.array_equal(also_before(knots, cum, a, b, s, edge, since),
                              _e(knots, cum, np.clip(b, lo, hi)) - _e(knots, cum, np.clip(a, lo, hi)))
    assert window_mass(knots, cum, a, b, np.full(a.size, 1.0)).max() > 0.0  # the smear itself is not this path


def test_sigma_zero_is_the_top_hat_of_the_whole_e_beyond_max_knots() -> None:
    """The top hat uses every knot (cheap); only the smear is thinned."""
    knots = np.linspace(0.0, 7200.0, 1001)
    cum = np.concatenate([[0.0], np.cumsum((1.5 + np.sin(knots[1:] / 500.0)) * np.diff(knots))])
    a = np.linspace(-100.0, 7300.0, 300)
    b = a + 60.0
    assert np.array_equal(window_mass(knots, cum, a, b, np.zeros(a.size)), _e(knots, cum, b) - _e(knots, cum, a))


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_window_mass_is_the_convolution_by_quadrature(name: str) -> None:
    knots, cum = RELEASES[name]
    sigma = 300.0
    a = np.array([-600.0, -430.0, -300.0, 0.0, 250.0, 550.0, 900.0, 1500.0, 2500.0, 4000.0, 6000.0])
    for width in (60.0, 900.0):
        b = a + width
        got = window_mass(knots, cum, a, b, np.full(a.size, sigma))
        want = np.array([_quad_window(knots, cum, x, y, sigma) for x, y in zip(a, b, strict=True)])
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13 * cum[-1])
        since = np.array([350.0] * a.size)
        got = window_mass(knots, cum, a, b, np.full(a.size, sigma), since)
        want = np.array([_quad_window(knots, cum, x, y, sigma, 350.0) for x, y in zip(a, b, strict=True)])
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13 * cum[-1])


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_mass_is_conserved_over_a_tiling(name: str) -> None:
    knots, cum = RELEASES[name]
    sigma = 600.0  # ten windows
    edges = np.arange(-1200.0, knots[-1] + 45.0 * sigma, 60.0)
    a, b = edges[:-1], edges[1:]
    s = np.full(a.size, sigma)
    assert abs(window_mass(knots, cum, a, b, s).sum() - cum[-1]) <= 1e-9 * cum[-1]
    since = 500.0
    total = cum[-1] - _e(knots, cum, np.array([since]))[0]
    smeared = window_mass(knots, cum, a, b, s, np.full(a.size, since))
    assert abs(smeared.sum() - total) <= 1e-9 * cum[-1]
    edge = np.full(a.size, 800.0)
    early = also_before(knots, cum, a, b, s, edge, np.full(a.size, since))
    late = window_mass(knots, cum, a, b, s, np.maximum(since, edge))
    np.testing.assert_allclose(early + late, smeared, rtol=1e-12, atol=1e-14 * cum[-1])
    assert abs(early.sum() - (_e(knots, cum, np.array([800.0])) - _e(knots, cum, np.array([since])))[0]) <= 1e-9 * cum[-1]


def test_mass_is_conserved_with_thinned_knots() -> None:
    knots = np.linspace(0.0, 7200.0, 1001)
    cum = np.concatenate([[0.0], np.cumsum((1.5 + np.sin(knots[1:] / 500.0)) * np.diff(knots))])
    edges = np.arange(-1200.0, 7200.0 + 45.0 * 300.0, 60.0)
    got = window_mass(knots, cum, edges[:-1], edges[1:], np.full(edges.size - 1, 300.0))
    assert abs(got.sum() - cum[-1]) <= 1e-9 * cum[-1]


def test_constant_rate_is_a_top_hat_convolved_with_the_truncated_gaussian() -> None:
    """Rate q over [0, T]: C(t) = q integral over [t - T, t] of g, i.e.
    q / (2 (1 - Phi(-sqrt 2))) [erf(t / (sqrt 2 sigma)) - erf(max(t - T, s0) / (sqrt 2 sigma))] for t > s0."""
    q, duration, sigma = 2.0, 900.0, 300.0
    knots, cum = np.array([0.0, duration]), np.array([0.0, q * duration])
    h = 0.02
    edges = np.arange(-600.0, 2400.0 + h / 2, h)  # a fine tiling, 150,000 windows
    conc = window_mass(knots, cum, edges[:-1], edges[1:], np.full(edges.size - 1, sigma)) / h
    mid = 0.5 * (edges[:-1] + edges[1:])
    s0 = -FRONT_LEAD_SIGMAS * sigma
    for t in (-400.0, -300.0, 0.0, 450.0, 900.0, 1200.0, 2000.0):
        i = int(np.argmin(np.abs(mid - t)))
        tm = float(mid[i])
        by_quad = q * quad(lambda s: _g(s, sigma), max(tm - duration, s0), tm, epsabs=0.0, epsrel=1e-13)[0]
        by_erf = q / (2.0 * KEPT) * (erf(tm / (math.sqrt(2.0) * sigma))
                                     - erf(max(tm - duration, s0) / (math.sqrt(2.0) * sigma)))
        assert by_quad > 0.0
        assert conc[i] == pytest.approx(by_quad, rel=1e-8)
        assert conc[i] == pytest.approx(by_erf, rel=1e-8)
    whole = window_mass(knots, cum, edges[:1], edges[-1:], np.array([sigma]))[0]
    assert conc.sum() * h == pytest.approx(whole, rel=1e-9)


def test_an_instantaneous_release_is_spread_over_the_cloud_s_passage() -> None:
    total, sigma, dt = 1000.0, 600.0, 60.0
    knots, cum = np.array([0.0, 1.0]), np.array([0.0, total])  # a 1-s ramp
    edges = np.arange(-1200.0, 30000.0, dt)
    a, b = edges[:-1], edges[1:]
    smeared = window_mass(knots, cum, a, b, np.full(a.size, sigma))
    peak = dt / (math.sqrt(2.0 * math.pi) * sigma) / KEPT  # the truncated density's peak x the window
    assert smeared.max() / total == pytest.approx(peak, rel=0.01)  # windows not centred on the peak: < 0.2 %
    assert smeared.max() < 0.05 * total
    assert window_mass(knots, cum, a, b, np.zeros(a.size)).max() == pytest.approx(total)  # the top hat: all


def test_nothing_arrives_before_the_front() -> None:
    knots, cum = np.array([0.0, 600.0]), np.array([0.0, 600.0])
    sigma = np.array([300.0, 1000.0])
    s0 = -FRONT_LEAD_SIGMAS * sigma
    for width in (60.0, 1e-3):
        before = window_mass(knots, cum, s0 - 1e-6 - width, s0 - 1e-6, sigma)
        assert np.all(before == 0.0)
        at = window_mass(knots, cum, s0 - width, s0, sigma)
        assert np.all(at == 0.0)
        after = window_mass(knots, cum, s0 + 1.0 - width, s0 + 1.0, sigma)
        assert np.all(after > 0.0)
    since = np.array([100.0, 100.0])  # the front of what is left starts at since
    assert np.all(window_mass(knots, cum, since + s0 - 60.0, since + s0 - 1e-6, sigma, since) == 0.0)
    assert np.all(window_mass(knots, cum, since + s0 - 59.0, since + s0 + 1.0, sigma, since) > 0.0)


def _random_windows(seed: int, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """300 windows of 60 s [s] round a release, and a sigma_t [s] for each."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1000.0, knots[-1] + 3000.0, 300)
    return a, a + 60.0, rng.uniform(30.0, 900.0, a.size)


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_since_leaves_out_the_older_emissions(name: str) -> None:
    knots, cum = RELEASES[name]
    since = 0.37 * knots[-1]
    e_since = _e(knots, cum, np.array([since]))[0]
    later = knots > since
    knots_late = np.concatenate([[since], knots[later]])
    cum_late = np.concatenate([[0.0], cum[later] - e_since])  # a release that starts at since
    a, b, s = _random_windows(2, knots)
    got = window_mass(knots, cum, a, b, s, np.full(a.size, since))
    np.testing.assert_allclose(got, window_mass(knots_late, cum_late, a, b, s), rtol=1e-11, atol=1e-13 * cum[-1])
    assert np.all(got <= window_mass(knots, cum, a, b, s) + 1e-12 * cum[-1])
    # since before the release: all of it; after its end: nothing
    np.testing.assert_allclose(window_mass(knots, cum, a, b, s, np.full(a.size, -50.0)), window_mass(knots, cum, a, b, s),
                               rtol=1e-13, atol=0.0)
    assert np.all(window_mass(knots, cum, a, b, s, np.full(a.size, knots[-1] + 1.0)) == 0.0)


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_also_before_is_the_release_cut_at_the_edge(name: str) -> None:
    knots, cum = RELEASES[name]
    edge = 0.61 * knots[-1]
    e_edge = _e(knots, cum, np.array([edge]))[0]
    early = knots < edge
    knots_cut = np.concatenate([knots[early], [edge]])
    cum_cut = np.concatenate([cum[early], [e_edge]])  # a release that stops at edge
    a, b, s = _random_windows(3, knots)
    got = also_before(knots, cum, a, b, s, np.full(a.size, edge))
    np.testing.assert_allclose(got, window_mass(knots_cut, cum_cut, a, b, s), rtol=1e-11, atol=1e-13 * cum[-1])
    assert np.all(also_before(knots, cum, a, b, s, np.full(a.size, 5.0), np.full(a.size, 5.0)) == 0.0)


def test_thin_knots_keeps_the_ends_and_e_at_the_kept_knots() -> None:
    knots = np.linspace(0.0, 7200.0, 1001)
    rate = 1.5 + np.sin(knots[1:] / 500.0)
    rate[400:403] = 40.0  # a short burst: its knots must stay
    cum = np.concatenate([[0.0], np.cumsum(rate * np.diff(knots))])
    t, e = thin_knots(knots, cum)
    assert t.size == near_field_smear.MAX_KNOTS
    assert t[0] == knots[0] and t[-1] == knots[-1]
    idx = np.searchsorted(knots, t)
    assert np.array_equal(knots[idx], t) and np.array_equal(cum[idx], e)
    assert {knots[400], knots[403]} <= set(t.tolist())  # the burst's start and end
    assert np.max(np.abs(_e(t, e, knots) - cum)) < 1e-3 * cum[-1]
    few_t, few_e = RELEASES["segments"]
    assert np.array_equal(thin_knots(few_t, few_e)[0], few_t)


def test_thinned_smear_is_close_to_the_full_one(monkeypatch: pytest.MonkeyPatch) -> None:
    knots = np.linspace(0.0, 7200.0, 1001)
    cum = np.concatenate([[0.0], np.cumsum((1.5 + np.sin(knots[1:] / 500.0)) * np.diff(knots))])
    edges = np.arange(-600.0, 7200.0 + 3000.0, 60.0)
    a, b, s = edges[:-1], edges[1:], np.full(edges.size - 1, 300.0)
    thinned = window_mass(knots, cum, a, b, s)
    monkeypatch.setattr(near_field_smear, "MAX_KNOTS", 2000)
    full = window_mass(knots, cum, a, b, s)
    assert not np.array_equal(thinned, full)
    assert np.max(np.abs(thinned - full)) < 3e-4 * full.max()  # 9.5e-5 seen


def test_the_front_lead_is_zones_own() -> None:
    from plumecast.nearfield.zones.windowed import FRONT_LEAD_SIGMAS as zones_lead

    assert zones_lead == FRONT_LEAD_SIGMAS


def test_bad_input_is_refused() -> None:
    knots, cum = RELEASES["constant"]
    one = np.array([0.0])
    with pytest.raises(ValueError, match="b > a"):
        window_mass(knots, cum, one, one, one)
    with pytest.raises(ValueError, match="sigma_t"):
        window_mass(knots, cum, one, one + 1.0, -one - 1.0)
    with pytest.raises(ValueError, match="increasing"):
        window_mass(knots[::-1], cum, one, one + 1.0, one)
    with pytest.raises(ValueError, match="start at 0"):
        window_mass(knots, cum + 1.0, one, one + 1.0, one)


@pytest.mark.parametrize("name", sorted(RELEASES))
@pytest.mark.parametrize("lead", [0.0, 120.0, 300.0])
def test_a_lead_capped_near_the_source_is_the_quadrature_and_keeps_the_mass(name: str, lead: float) -> None:
    """Near the source the front may lead the wind's air by at most x/u (no air arrives before it left): the
    truncation moves to -min(sqrt 2 sigma, lead), renormalised, and the mass is still all delivered."""
    knots, cum = RELEASES[name]
    sigma = 300.0
    s0 = -min(FRONT_LEAD_SIGMAS * sigma, lead)
    kept = 1.0 - 0.5 * math.erfc(-s0 / (sigma * math.sqrt(2.0)))

    def g(s: float) -> float:
        return 0.0 if s < s0 else math.exp(-0.5 * (s / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi) * kept)

    a = np.array([-200.0, -50.0, 0.0, 250.0, 900.0, 2500.0])
    b = a + 60.0
    got = window_mass(knots, cum, a, b, np.full(a.size, sigma), lead_s=np.full(a.size, lead))
    for x, y, v in zip(a, b, got, strict=True):
        want = quad(lambda s, x=x, y=y: g(s) * (float(_e(knots, cum, np.array([y - s]))[0])
                                                - float(_e(knots, cum, np.array([x - s]))[0])),
                    s0, 40.0 * sigma, points=sorted(p for p in {x - k for k in knots} | {y - k for k in knots}
                                                    if s0 < p < 40.0 * sigma), limit=800, epsabs=0.0,
                    epsrel=1e-12)[0]
        assert v == pytest.approx(want, rel=1e-9, abs=1e-12 * cum[-1])
    edges = np.arange(knots[0] - 400.0, knots[-1] + 40.0 * sigma, 60.0)
    tiles = window_mass(knots, cum, edges[:-1], edges[1:], np.full(edges.size - 1, sigma),
                        lead_s=np.full(edges.size - 1, lead))
    assert tiles.sum() == pytest.approx(cum[-1], rel=1e-9)
    assert tiles[edges[1:] <= knots[0] + s0].sum() == 0.0  # nothing before its emission, less the lead
