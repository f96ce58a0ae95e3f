"""A city release shorter than a step passes the places near the city within a step: its countdown must
come no later than the air's (session 46: 5 min of Utrecht's emission read AEGL-2 "never" 6.5 km from its
centre at 300-, 600- and 900-s steps, where 10-s steps reach it at 5.7 min; 10 min of it, "never" at a
2-km disc 9 km out at 600 and 900 s against 11.0 min). The area plumes' peak within each step bounds the
air at every moment of it (plumecast.area_peak); the doses stay the steps'."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumecast.receptors import load_cities
from plumecast.runner import run
from plumecast.scenario import scenario_from_dict

XS_M = (3000.0, 6500.0, 8000.0, 12000.0)  # points east (downwind) of the centre of the 6-km disc


def _scenario(step_s: float, stop_min: float, rate: float = 1.2e-3) -> object:
    cities = load_cities()
    k = [i for i, n in enumerate(cities.name) if n == "Utrecht"][0]
    lat, lon = float(cities.lat[k]), float(cities.lon[k])
    per_m = math.degrees(1.0 / (6371000.0 * math.cos(math.radians(lat))))
    pts = [{"name": f"x{x:g}", "lat": lat, "lon": lon + x * per_m, "population": 100} for x in XS_M]
    pts.append({"name": "disc 9 km", "lat": lat, "lon": lon + 9000.0 * per_m, "population": 20000, "radius_km": 2})
    return scenario_from_dict({
        "name": "short fleet", "start": "2026-03-02T00:00:00Z", "duration_h": 1.5, "time_step_s": step_s,
        "particles": 300, "seed": 11, "backend": "numba", "agent": "chlorine",
        "met": {"source": "uniform", "u_m_s": 3.0, "v_m_s": 0.0},
        "turbulence": {"kh_m2_s": 100.0, "kz_m2_s": 20.0, "mixing_height_m": 800.0},
        "releases": [{"type": "cities", "name": "fleet", "names": ["Utrecht"], "rate_kg_s_per_capita": rate,
                      "radius_km": 6, "height_m": 10, "start_h": 0.0, "stop_h": stop_min / 60.0}],
        "receptors": {"points": pts}})


def _minutes(ds: object, key: str) -> np.ndarray:
    return np.asarray(ds[key].values, float) * 60.0  # type: ignore[index]


@pytest.fixture(scope="module")
def fine() -> dict[float, object]:
    return {stop: run(_scenario(10.0, stop)).consequences() for stop in (5.0, 10.0)}


@pytest.mark.parametrize(("step_s", "stop_min"), [(300.0, 5.0), (600.0, 5.0), (600.0, 10.0), (900.0, 5.0),
                                                  (900.0, 10.0)])
def test_a_short_city_release_is_counted_down_no_later_than_its_air(fine, step_s, stop_min):
    coarse = run(_scenario(step_s, stop_min)).consequences()
    ref_ds = fine[stop_min]
    for lv in (1, 2):
        for suffix in ("", "_sheltered"):
            key = f"hours_to_aegl{lv}{suffix}"
            ref, got = _minutes(ref_ds, key), _minutes(coarse, key)
            assert np.isfinite(got[np.isfinite(ref)]).all(), (key, got, ref)  # reached at 10 s: reached here
            both = np.isfinite(ref) & np.isfinite(got)
            assert (got[both] <= ref[both] + 1.0 / 60.0).all(), (key, got, ref)  # early, never late
            if not suffix:  # outdoors: at most a step early, and nowhere the 10-s air never reaches
                assert (got[both] >= ref[both] - step_s / 60.0 - 1.0).all(), (key, got, ref)
                assert not np.isfinite(got[~np.isfinite(ref)]).any(), (key, got, ref)


def test_the_peaks_leave_the_doses_alone():
    # the countdowns alone read the peaks: the loads, peaks and fatalities are the steps' means; and a rate
    # that never changes within a step has no peak above its steps' air (no second plume is made)
    result = run(_scenario(600.0, 5.0))
    x = result.exposure
    assert x.peak_extra is not None and float(x.peak_extra.max()) > 0.0
    cons = result.consequences()
    np.testing.assert_allclose(np.asarray(cons["peak_concentration"].values[:len(XS_M)], float),
                               np.nanmax(x.total()[:, :len(XS_M)], axis=0), rtol=1e-12)
    steady = run(_scenario(600.0, 90.0)).exposure
    assert steady.peak_extra is not None and float(np.abs(steady.peak_extra).max()) == 0.0


def test_compare_counts_a_short_city_release_down_as_run_does_and_a_cut_never_before_doing_nothing():
    # compare's plans read their arrivals through plans.evaluate: doing nothing with 10 min of the city's
    # emission reaches AEGL-2 at the 2-km disc 9 km out no later than at 10-s steps (it had read "never" at
    # 600-s steps, 11.0 min at 10 s); and the same release cut at 5 min (300-s steps) reaches each level no
    # earlier than doing nothing
    from plumecast.plans.config import PlanConfig
    from plumecast.plans.evaluate import evaluate_plans

    nothing = PlanConfig(name="nothing")
    cut = PlanConfig.model_validate({"name": "stop", "measures": [{"type": "termination", "at_h": 5.0 / 60.0}]})
    out = {}
    for step_s in (600.0, 10.0):
        sc = _scenario(step_s, 10.0)
        out[step_s] = evaluate_plans(run(sc).exposure, sc.resolved_agent(), [(nothing, None)], ["fleet"])[0]
    for level in (2, 3):
        now, then = getattr(out[600.0], f"arrival{level}_s"), getattr(out[10.0], f"arrival{level}_s")
        assert np.isfinite(now[np.isfinite(then)]).all(), (level, now / 60.0, then / 60.0)
        seen = np.isfinite(now) & np.isfinite(then)
        assert (now[seen] <= then[seen] + 1.0).all(), (level, now / 60.0, then / 60.0)
    assert np.isfinite(out[10.0].arrival2_s).any()
    sc = _scenario(300.0, 10.0)
    base, stop = evaluate_plans(run(sc, exposure_tags_h=[5.0 / 60.0]).exposure, sc.resolved_agent(),
                                [(nothing, None), (cut, None)], ["fleet"])
    for level in (2, 3):
        b, c = getattr(base, f"arrival{level}_s"), getattr(stop, f"arrival{level}_s")
        assert not (np.isfinite(c) & ~np.isfinite(b)).any(), (level, b, c)
        both = np.isfinite(b) & np.isfinite(c)
        assert (c[both] >= b[both] - 1e-6).all(), (level, b / 60.0, c / 60.0)  # never before doing nothing


def test_a_checkpoint_keeps_the_area_plumes_peaks(tmp_path):
    # a run resumed after the short release has passed counts it down as the whole run does; a checkpoint
    # written before the peaks were kept is refused (its steps' countdowns would read the means: late)
    from plumecast.errors import DataFileError
    from tests.test_checkpoint import _stop_at_first_checkpoint

    sc = _scenario(600.0, 10.0)
    state = _stop_at_first_checkpoint(sc, tmp_path, 1.0)
    whole = run(sc).consequences()
    assert np.isfinite(_minutes(whole, "hours_to_aegl2")[-1])  # the disc 9 km out ("never" before)
    resumed = run(sc, resume_from=state).consequences()
    for lv in (1, 2):
        for suffix in ("", "_sheltered"):
            key = f"hours_to_aegl{lv}{suffix}"
            np.testing.assert_array_equal(resumed[key].values, whole[key].values)
    for key in ("area_peak", "area_spot_peak", "area_part_peak"):
        state.exposure.pop(key)
    with pytest.raises(DataFileError, match="area plumes' peaks within the steps"):
        run(sc, resume_from=state)


def _counting_fine_kernels(monkeypatch):
    # every read of the finer (part by part) bound, with the receptors it is read at
    from plumecast.exposure_area import AreaNearField

    calls: list[np.ndarray | None] = []
    real = AreaNearField.peak_at

    def counted(self, *args, **kwargs):
        only = kwargs.get("only", args[6] if len(args) > 6 else None)
        calls.append(None if only is None else np.asarray(only).copy())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(AreaNearField, "peak_at", counted)
    return calls


def test_the_finer_bound_is_read_only_where_a_level_is_at_stake(monkeypatch):
    # the finer bound (then 20 kernels a step on 30-s parts) had been read wherever any place's coarse bound passed
    # its air by 5 %, nearly every step of the demo's compare (its test 25 s -> 561 s). It can change a
    # countdown only where the coarse bound reaches a level the place has not reached: the same short release
    # 1e-4 as strong stays far below AEGL-1 everywhere (its peaks kept, coarse), and reads it nowhere
    from plumecast.area_peak import stake_levels

    calls = _counting_fine_kernels(monkeypatch)
    weak = _scenario(600.0, 5.0, 1.2e-7)
    result = run(weak)
    x = result.exposure
    assert x.peak_extra is not None and float(x.peak_extra.max()) > 0.0  # the coarse peaks are there
    lowest = float(np.nanmin(stake_levels(weak.resolved_agent()).tables))  # type: ignore[attr-defined, union-attr]
    assert float(np.nanmax(x.total() + x.peak_extra)) < 0.5 * lowest
    assert calls == []
    # the release as strong reads it, at the receptors at stake alone (never all of them at once)
    run(_scenario(600.0, 5.0))
    assert calls and all(c is not None for c in calls)
    assert all(int(c.sum()) < c.size for c in calls if c is not None)


def test_the_ratio_bound_holds_the_coarse_bound(monkeypatch):
    # the coarse bound without a kernel (the step's air by group times the largest ratio of the rates it
    # stands for, plumecast.area_peak.ratio_peaks) is never below the coarse plume itself, at the receptors,
    # spots and parts, on a ramping city release (the demo's emitters' kind of rate) and on its stop
    import plumecast.area_peak as ap

    seen = []
    real = ap.ratio_peaks

    def checked(area, first, step, n_groups, air, spot, parts):
        got = real(area, first, step, n_groups, air, spot, parts)
        if got is not None:
            coarse = ap.coarse_peaks(area, step, air.shape[0], area._winds_fn, None, spot.shape[1], parts.shape[1])
            for bound, exact in zip(got, coarse, strict=True):
                assert (bound >= exact * (1.0 - 1e-9) - 1e-30).all(), (step, bound, exact)
            seen.append(step)
        return got

    real_steps = ap.area_steps

    def keep_winds(sampler, step0, nsteps, wind_at):
        sampler.area._winds_fn = wind_at
        return real_steps(sampler, step0, nsteps, wind_at)

    monkeypatch.setattr(ap, "ratio_peaks", checked)
    monkeypatch.setattr("plumecast.exposure.area_steps", keep_winds)
    sc = _scenario(600.0, 60.0)
    d = sc.model_dump(mode="json")  # type: ignore[attr-defined]
    d["releases"][0]["profile"] = [[0.0, 0.2], [1.0, 1.0]]
    run(scenario_from_dict(d))
    assert len(seen) >= 3
