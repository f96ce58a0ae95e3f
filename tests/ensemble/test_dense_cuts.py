"""A stopped dense release never breathes more than the longer one it is the first part of
(:mod:`plumecast.ensemble.dense_cuts`)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from plumecast.ensemble import compare
from plumecast.ensemble.compare import make_setup, member_task
from plumecast.ensemble.dense_cuts import HeldToWhole
from plumecast.ensemble.members import MemberSpec, member_scenario, member_wind
from plumecast.exposure_parts import by_part_kinds
from plumecast.plans.evaluate import plan_cuts, tag_weights
from plumecast.scenario import scenario_from_dict

TOWNS_KM = (5.0, 10.0, 20.0, 40.0, 80.0)


def _east_north(km: float) -> dict:
    d = km * 1000.0 / math.sqrt(2.0) / 6371e3
    return {"lat": 40.0 + math.degrees(d), "lon": -100.0 + math.degrees(d / math.cos(math.radians(40.0)))}


def _chlorine(rate_kg_s: float = 5000.0, pg_class: str = "F") -> object:
    """Chlorine for 3 h from a tank on the ground, towns of 300,000 on discs of 3 km downwind (session 36's
    audit case, five towns): zones' cloud of the release cut at 10 min or 1 h is the more concentrated."""
    return scenario_from_dict({
        "name": "dense stop", "start": "2026-03-01T00:00:00Z", "duration_h": 9.0, "time_step_s": 300.0,
        "particles": 5000, "seed": 5, "backend": "numba", "agent": "chlorine",
        "met": {"source": "uniform", "u_m_s": 2.0, "v_m_s": 2.0},
        "releases": [{"type": "point", "name": "tank", "lat": 40.0, "lon": -100.0, "height_m": 1,
                      "rate_kg_s": rate_kg_s, "stop_h": 3.0}],
        "receptors": {"points": [{"name": f"town {k:g} km", **_east_north(k), "population": 300000, "radius_km": 3}
                                 for k in TOWNS_KM]},
        "near_field": {"stability": pg_class},
        "output": {"grid": {"lon_min": -100.3, "lon_max": -98.5, "lat_min": 39.8, "lat_max": 41.2,
                            "resolution_deg": 0.05}},
        "plans": [{"name": "stop at 1 h", "measures": [{"type": "termination", "at_h": 1.0}]},
                  {"name": "stop at 10 min", "measures": [{"type": "termination", "at_h": 1.0 / 6.0}]}]})


def test_a_stop_never_reads_more_than_doing_nothing_and_a_later_stop_never_less() -> None:
    """Before: "stop at 1 h" read 1,319,649 deaths against 1,196,653 for doing nothing, AEGL-2/3 came
    earlier at some towns, and the cost-of-delay curve fell from 1.32 M (stop at 1 h) to 1.26 M (2 h).
    Each town now reads no more than doing nothing and no less than the whole release's air of the emission
    before the stop (the emission tags' figure)."""
    sc = _chlorine()
    r = member_task(make_setup(sc, maps=False), MemberSpec(0, sc.seed))
    nothing = r.outcomes["do nothing"]
    assert nothing.total_fatalities > 1e5
    for name in ("stop at 1 h", "stop at 10 min"):
        o = r.outcomes[name]
        assert np.all(o.fatalities <= nothing.fatalities * (1 + 1e-9)), name
        for level in (2, 3):
            got, ref = getattr(o, f"arrival{level}_s"), getattr(nothing, f"arrival{level}_s")
            assert np.all(~np.isfinite(got) | (got >= ref)), (name, level)
        assert any(n.startswith(f"plans: {name!r}: the cut release's own dense cloud (zones' cloud of a shorter "
                                "release) reads above the whole release's air") for n in r.notes)
    assert r.outcomes["stop at 10 min"].total_fatalities < 0.8 * r.outcomes["stop at 1 h"].total_fatalities
    assert r.outcomes["stop at 1 h"].total_fatalities < nothing.total_fatalities
    from plumecast.plans.evaluate import evaluate_plans

    linear = evaluate_plans(compare._run(sc, member_wind(sc, MemberSpec(0, sc.seed)), make_setup(sc, maps=False)
                                         .tags_h)[1], sc.resolved_agent(),
                            [(p, None) for p in make_setup(sc, maps=False).plans[1:]], ["tank"])
    for o, lin in zip((r.outcomes["stop at 1 h"], r.outcomes["stop at 10 min"]), linear, strict=True):
        assert np.all(o.fatalities >= lin.fatalities * (1 - 1e-6))  # never below the tags' figure
    curve = r.delay_termination["stop at 1 h"]
    assert np.all(np.diff(curve) >= -1e-6 * nothing.total_fatalities), curve


def _base_and_cut(sc, plan_index: int = 1):  # type: ignore[no-untyped-def]
    setup = make_setup(sc, maps=False)
    spec = MemberSpec(0, sc.seed)
    msc = member_scenario(setup.scenario, spec)
    wind = member_wind(msc, spec)
    res, base = compare._run(msc, wind, setup.tags_h)
    cut_sc = compare._apply_cuts(msc, setup.plans[plan_index])
    cut = compare._cut_run(cut_sc, wind, setup.tags_h, res.stats.get("particle_mass_kg"))
    return msc, cut_sc, base, cut


def _linear(base, w):  # type: ignore[no-untyped-def]
    """The baseline's air weighted by the emission tags' weights ``w`` (its parts too): the whole release's air
    of the emission before a cut."""
    ng = len(base.group_names)
    e = base.part_early
    late, early = w[base.part_tag] * (1.0 - e), w[np.maximum(base.part_tag - ng, 0)] * e
    part_w = late + early
    share = np.divide(early, part_w, out=np.zeros_like(part_w), where=part_w > 0)  # from the bin before
    return replace(base, conc=w[:, None, None] * base.conc, part_c=base.part_c * part_w, part_early=share)


def test_every_column_a_town_is_assessed_by_is_held_and_the_particles_keep_their_air() -> None:
    """The towns are city discs the plume's parts cover: each part's air, and the rest of the disc's, is held
    between the whole release's and its share of the emission before the stop, and the disc's mean moves by
    what its parts moved."""
    msc, cut_sc, base, cut = _base_and_cut(_chlorine(), plan_index=2)  # stop at 10 min
    assert base.part_receptors is not None and base.part_receptors.size == len(TOWNS_KM)
    w = tag_weights(base.tag_start_h, base.tag_end_h, base.tag_group, plan_cuts(
        make_setup(msc, maps=False).plans[2], ["tank"]))
    assert 0.0 < w.sum() < w.size
    held, change = HeldToWhole(base, [0]).hold(cut, w)
    assert change > 0.1
    lin = _linear(base, w)
    cols = [by_part_kinds(e) for e in (base, held, cut, lin)]
    for e in cols[1:]:
        assert np.array_equal(cols[0][1], e[1])  # the same columns
    tb, th, tc, tl = (e[0].conc.sum(axis=0) for e in cols)
    assert np.all(th <= tb + 1e-12 * tb.max())
    # the plume's air part by part between the two (the particles are the rerun's own: fewer, other draws)
    top, bottom = base.part_c.max(), lin.part_c
    assert np.all(held.part_c <= base.part_c + 1e-12 * top) and np.all(held.part_c >= bottom - 1e-12 * top)
    assert (cut.part_c > base.part_c * 1.01).any() and (cut.part_c < bottom * 0.99).any()  # both bind here
    assert np.all(th >= tl - 1e-3 * tb.max())  # the columns with them: within the particles' draws (1.1e-4 here)
    # a disc's conc is its particles' air plus its parts' people-weighted mean: holding the parts leaves the
    # particles' share as the rerun had it
    def particles(exp):  # type: ignore[no-untyped-def]
        mean = np.stack([exp.part_c[:, :, exp.part_ptr[j]:exp.part_ptr[j + 1]].sum(axis=1)
                         @ exp.part_weight[exp.part_ptr[j]:exp.part_ptr[j + 1]] for j in range(len(TOWNS_KM))], axis=1)
        return exp.conc.sum(axis=0)[:, exp.part_receptors] - mean

    assert not np.array_equal(held.part_c, cut.part_c)
    np.testing.assert_allclose(particles(held), particles(cut), rtol=0, atol=1e-12 * float(tc.max()))


def test_a_rerun_is_held_between_the_whole_release_and_its_first_part() -> None:
    """Held place by place and step by step, for receptors without parts: a rerun between the whole release's
    air and its air of the emission before the stop is kept; above, it is scaled to the whole release's (its
    tags keep their shares); below, it is the whole release's air of that emission; other releases' tags are
    left alone."""
    _, _, base, _ = _base_and_cut(_chlorine())
    plain = replace(base, part_receptors=None, part_ptr=None, part_weight=None, part_c=None, part_tag=None,
                    part_early=None)
    w = np.where(plain.tag_start_h < 1.0 - 1e-9, 1.0, 0.0)  # a stop at 1 h: the tags' weights
    low = w[:, None, None] * plain.conc
    assert 0.0 < low.sum() < plain.conc.sum()
    middle = replace(plain, conc=0.5 * (low + plain.conc))
    kept, change = HeldToWhole(plain, [0]).hold(middle, w)
    assert change == 0.0 and np.array_equal(kept.conc, middle.conc)
    held, change = HeldToWhole(plain, [0]).hold(replace(plain, conc=plain.conc * 2.0), w)
    np.testing.assert_allclose(held.conc, plain.conc, rtol=1e-12)
    assert change == pytest.approx(0.5)
    raised, _ = HeldToWhole(plain, [0]).hold(replace(plain, conc=low * 0.5), w)
    np.testing.assert_allclose(raised.conc, low, rtol=1e-12)
    other, change = HeldToWhole(plain, [1]).hold(replace(plain, conc=plain.conc * 2.0), w)  # no tag of group 1
    assert change == 0.0 and np.array_equal(other.conc, plain.conc * 2.0)
    # the release's sum is held, its tags keep their shares: the tag that read the more keeps the more
    shifted = plain.conc.copy()
    shifted[0], shifted[1] = plain.conc[0] * 3.0, plain.conc[1] * 0.5
    kept_shares, _ = HeldToWhole(plain, [0]).hold(replace(plain, conc=shifted), np.zeros_like(w))
    assert np.all(kept_shares.conc.sum(axis=0) <= plain.conc.sum(axis=0) * (1 + 1e-12))
    both = (plain.conc[0] > 0) & (plain.conc[1] > 0)
    assert both.any()
    np.testing.assert_allclose(kept_shares.conc[0][both] / kept_shares.conc[1][both],
                               6.0 * plain.conc[0][both] / plain.conc[1][both], rtol=1e-9)
    with pytest.raises(RuntimeError, match="emission tags differ"):
        HeldToWhole(plain, [0]).hold(replace(plain, tag_start_h=plain.tag_start_h + 0.5), w)
