"""zones' sheltered countdowns are never later than the indoor air's own.

The sheltered countdowns had been read from the interval means of the building fed with each
interval's mean of the outdoor air: not a bound of the air people breathe. Where people go inside
within an interval (``shelter.start``), the interval's mix of the outdoor and the indoor means can
stay below a level the outdoor air they breathed before going in reached: 3 t of chlorine at once,
class D, 3 m/s, 1 km out, people inside 0.2 s after the outdoor air reaches AEGL-3 read AEGL-3
sheltered "never". They are now read from the building fed with each interval's most of the outdoor
air (a bound of the indoor air at every moment; :func:`plumecast.consequence_metrics.sheltered_bound`),
its most within each interval compared with the level, and dated at the moment that bound reaches it.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.signal import lfilter

from plumecast.consequence import onset_floor
from plumecast.nearfield.zones import LocalScenario, compute_zones, to_lonlat
from plumecast.nearfield.zones import plume as zplume
from plumecast.nearfield.zones.assessment import assess_receptors
from plumecast.nearfield.zones.setup import plume_setup
from plumecast.receptors import Receptors
from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate

DT = 0.01  # the air's own arrival: samples of the analytic series [s]
KM = np.array([0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0])


def _scenario(release: dict, wind: float, cls: str, shelter: dict) -> LocalScenario:
    return LocalScenario.model_validate({
        "name": "sheltered", "source": {"lat": 45.0, "lon": 5.0, "height_m": 2.0}, "release": release,
        "agent": "chlorine", "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 270.0, "stability": cls},
        "receptors": {"cities": False}, "shelter": shelter})


def _level(sc: LocalScenario, level: int) -> np.ndarray:
    return zplume.level_table_kg_m3(type("Lv", (), {"aegl": level})(), sc.agent)


def _breathed(sc: LocalScenario, x: float, y: float, t_end: float, switch_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The air people sheltering breathe, every DT (the end of each slot): outdoors before
    ``shelter.start``, then the building's (fed with the 10-ms samples from clean air, at the tight
    rate until ``switch_s``, the ventilation rate after)."""
    setup = plume_setup(sc)
    t = np.arange(0.5 * DT, t_end, DT)
    c = zplume.concentration_series(setup, np.array([x]), np.array([y]), t)[:, 0]
    sh = sc.shelter
    assert sh is not None
    a1, a2 = (np.exp(-r / 3600.0 * DT) for r in (sh.air_changes_per_hour, sh.ventilation_air_changes_per_hour))
    n1 = int(np.searchsorted(t, switch_s))
    inside = np.empty_like(c)
    inside[:n1] = lfilter([1 - a1], [1, -a1], c[:n1])
    if n1 < c.size:
        inside[n1:] = lfilter([1 - a2], [1, -a2], c[n1:], zi=[a2 * (inside[n1 - 1] if n1 else 0.0)])[0]
    start = 0.0 if sh.start is None else float(sh.start)  # type: ignore[arg-type]
    return t + 0.5 * DT, np.where(t < start, c, inside)


def _own(te: np.ndarray, air: np.ndarray, sc: LocalScenario, level: int) -> float:
    """The first slot end at which ``air`` is at or above AEGL-``level`` read for the duration since
    its onset (inf: never)."""
    pos = air >= onset_floor(sc.agent)
    if not pos.any():
        return np.inf
    on = te[np.argmax(pos)]
    thr = aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), _level(sc, level), np.maximum(te - on, DT))
    hit = pos.any() & (air >= thr)
    return float(te[np.argmax(hit)]) if hit.any() else np.inf


def _start_after_the_outdoor_air(release: dict, wind: float, cls: str, x: float, level: int) -> LocalScenario:
    """People go inside 0.2 s after the outdoor air at (x, 0) reaches the level, within that interval."""
    sc = _scenario(release, wind, cls, {"air_changes_per_hour": 0.5})
    setup = plume_setup(sc)
    t = np.arange(0.5 * DT, 3.0 * x / wind, DT)
    c = zplume.concentration_series(setup, np.array([x]), np.array([0.0]), t)[:, 0]
    reached = float(t[np.argmax(c >= _level(sc, level)[0])] + 0.5 * DT)
    ends = zplume.exposure_time_axis(setup)
    k = int(np.searchsorted(ends, reached))
    assert ends[k] - reached > 0.2  # the interval goes on after people go in
    return _scenario(release, wind, cls, {"air_changes_per_hour": 0.5, "start": reached + 0.2})


CASES = {
    "3 t at once, D 3 m/s, 6 ACH": _scenario({"amount_kg": 3000.0, "duration_s": 0}, 3.0, "D",
                                            {"air_changes_per_hour": 6.0}),
    "3 t over 600 s, F 1.5 m/s, 0.5 ACH": _scenario({"amount_kg": 3000.0, "duration_s": 600}, 1.5, "F",
                                                   {"air_changes_per_hour": 0.5}),
    "200 kg over 300 s passive, D 5 m/s, 3 ACH": _scenario({"amount_kg": 200.0, "duration_s": 300,
                                                            "dense_gas": "off"}, 5.0, "D",
                                                           {"air_changes_per_hour": 3.0}),
    "3 t at once, D 3 m/s, inside just after AEGL-3 at 1 km": _start_after_the_outdoor_air(
        {"amount_kg": 3000.0, "duration_s": 0}, 3.0, "D", 1000.0, 3),
}


def _seconds(a: np.ndarray) -> np.ndarray:
    return a / np.timedelta64(1, "s") if a.dtype.kind == "m" else np.asarray(a, dtype=float)


def test_sheltered_countdowns_are_never_later_than_the_indoor_air():
    checked = 0
    for name, sc in CASES.items():
        res = compute_zones(sc, consequences=False)
        x = np.concatenate([KM, KM]) * 1000.0
        y = np.concatenate([0.0 * KM, 0.15 * KM]) * 1000.0
        lon, lat = to_lonlat(45.0, 5.0, 90.0, x, -y)
        rec = Receptors(name=[str(i) for i in range(x.size)], lat=lat, lon=lon, population=np.full(x.size, 10.0))
        ds = assess_receptors(res, rec)
        assert ds is not None
        idx = np.array([int(r) for r in ds.receptor.values])
        on_axis = ds["plume_axis_assumed"].values
        xe = np.where(on_axis, np.hypot(x[idx], y[idx]), x[idx])
        ye = np.where(on_axis, 0.0, y[idx])
        ends = zplume.exposure_time_axis(plume_setup(sc))
        begins = np.concatenate([[0.0], ends[:-1]])
        for i in range(idx.size):
            # the building airs out from the interval whose middle is past the receptor's shelter end
            late = 0.5 * (begins + ends) >= float(ds["shelter_end_s"].values[i])
            switch = float(begins[np.argmax(late)]) if late.any() else float(ends[-1])
            te, air = _breathed(sc, float(xe[i]), float(ye[i]), min(float(ends[-1]), switch + 10.0), switch)
            for level in (1, 2, 3):
                given = _seconds(ds[f"first_exceedance_aegl{level}_sheltered"].values)[i]
                own = _own(te, air, sc, level)
                where = f"{name}: AEGL-{level} sheltered at x={xe[i]:.0f} m, y={ye[i]:.0f} m"
                if np.isfinite(own):
                    checked += 1
                    assert np.isfinite(given), f"{where}: never, the air's own at {own:.2f} s"
                    assert given <= own, f"{where}: {given:.2f} s, the air's own {own:.2f} s"
    assert checked > 60


@pytest.mark.parametrize("release", [{"amount_kg": 300.0, "duration_s": 0}, {"amount_kg": 3000.0, "duration_s": 600},
                                     {"amount_kg": 300.0, "duration_s": 0, "dense_gas": "off"},
                                     {"amount_kg": 200.0, "duration_s": 300, "dense_gas": "off"},
                                     {"amount_kg": 200.0, "duration_s": 30, "dense_gas": "off"}])
def test_interval_peaks_are_the_most_of_the_series(release):
    """The closed-form most within each interval (puff, finite release; dense and passive) is the most
    of the analytic series: at least any of its 2,000 samples per interval, and no more than the
    samples' most plus the air's change over half a sample spacing."""
    from plumecast.nearfield.zones.arrival import interval_peaks

    sc = _scenario(release, 3.0, "D", {"air_changes_per_hour": 0.5})
    setup = plume_setup(sc)
    ends = zplume.exposure_time_axis(setup)[::10]
    x = np.array([30.0, 150.0, 900.0, 4000.0, 15000.0])
    y = 0.1 * x
    peaks = interval_peaks(setup, x, y, ends)
    begins = np.concatenate([[0.0], ends[:-1]])
    n = 2000
    t = (begins[:, None] + (ends - begins)[:, None] * ((np.arange(n) + 0.5) / n)[None, :]).reshape(-1)
    sampled = zplume.concentration_series(setup, x, y, t).reshape(ends.size, n, x.size)
    most = sampled.max(axis=1)
    scale = most.max(axis=0)
    assert np.all(scale > 0)
    assert np.all(peaks >= most * (1.0 - 1e-12))
    # no more than the samples' most, but for the change of the air over half a sample spacing
    step = np.abs(np.diff(sampled, axis=1)).max(axis=1)
    assert np.all(peaks <= most + step + 1e-12 * scale)
    assert (peaks > 0).sum() == (most > 0).sum() or np.all(peaks[most > 0] > 0)


def test_the_building_fed_the_most_bounds_the_indoor_air_at_every_moment():
    """:func:`plumecast.consequence_metrics.sheltered_bound` on a front that rises within 60-s steps at
    6 ACH: its most in each step is at least the building's air under the air itself (fine steps),
    and the moment it gives for a level is no later than that air's."""
    from plumecast.agents import get_agent
    from plumecast.consequence import assess
    from plumecast.consequence_inputs import time_axis
    from plumecast.consequence_metrics import exposure_context, sheltered_bound
    from plumecast.shelter import indoor_concentration

    sub = 6000
    ends = np.arange(1, 13) * 60.0
    t = (np.arange(12 * sub) + 0.5) * (60.0 / sub)
    air = 1e-3 * np.clip((t - 130.0) / 200.0, 0.0, 1.0) ** 3  # a convex rise to 1 g m-3 of chlorine
    means = air.reshape(12, sub).mean(axis=1)[:, None]
    most = air.reshape(12, sub).max(axis=1)[:, None]
    agent = get_agent("chlorine")
    ctx = exposure_context(agent, time_axis(ends, 0.0), None, 1e-9, 298.15, 101325.0)
    bound, crossing = sheltered_bound(most, ctx, np.ones(12), 6.0)
    _, fine = indoor_concentration(air[:, None], np.full(t.size, 60.0 / sub), 6.0)
    assert np.all(bound[:, 0] >= fine[:, 0].reshape(12, sub).max(axis=1))
    level = 2e-4
    own = float(t[np.argmax(fine[:, 0] >= level)] + 30.0 / sub)
    k = int(np.argmax(bound[:, 0] >= level))
    at = ctx.begin_s[k] + crossing(np.array([k]), np.full((12, 1), level))[0]
    assert ctx.begin_s[k] <= at <= own
    # through assess: the sheltered countdown of a level the indoor air reaches is no later than its own
    da = xr.DataArray(means, dims=("time", "receptor"), coords={"time": ends}, attrs={"units": "kg m-3"})
    from plumecast.shelter import Shelter

    r = assess(da, agent, [10.0], start=0.0, shelter=Shelter(air_changes_per_hour=6.0), arrival_series=da,
               arrival_peak=da.copy(data=most))
    tab = _level(_scenario({"amount_kg": 1.0, "duration_s": 0}, 3.0, "D", {}), 1)
    own1 = float(t[np.argmax(fine[:, 0] >= tab[0])] + 30.0 / sub)
    assert float(r["first_exceedance_aegl1_sheltered"].values[0]) <= own1
    with pytest.raises(ValueError, match="arrival_peak has shape"):
        assess(da, agent, [10.0], start=0.0, arrival_peak=da.isel(time=slice(0, 6)))
