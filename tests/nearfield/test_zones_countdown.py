"""zones' countdowns are never later than the air's (session 47).

The countdown of a receptor is read from interval means on zones' geometric time axis
(1,200 intervals). The means are 4-sample means (``plume.N_SUBSAMPLES``); on a front's convex
rise they fall short of the interval's true mean, and the bound that dates the arrival from
them (``consequence_metrics._lead_s``) assumes the true mean: against the same scenarios on a
16 times finer axis, 13 of 260 arrivals came later (session 46); here 3 t of chlorine over 600 s,
class F, read AEGL-1 10 km out at 6,389.7 s, 6.5 s after the finer axis and 3.4 s after the air
itself. They are now read from each interval's exact mean where it is larger
(:mod:`plumecast.nearfield.zones.arrival`).

The two axes are not nested (each is geometric from 1 s to the scenario's end), so a sound
bound on the coarse axis can still fall a fraction of a fine interval after the fine axis's
(sound too) where the air jumps at the front: such an arrival is checked against the air's own,
the analytic series sampled every 10 ms (outdoors, and through the building for people
sheltering)."""

from __future__ import annotations

import numpy as np
import pytest

from plumecast.consequence import onset_floor
from plumecast.nearfield.zones import LocalScenario, compute_zones, to_lonlat
from plumecast.nearfield.zones import plume as zplume
from plumecast.nearfield.zones.arrival import exact_means
from plumecast.nearfield.zones.assessment import assess_receptors
from plumecast.nearfield.zones.setup import plume_setup
from plumecast.receptors import Receptors
from plumecast.shelter import indoor_concentration
from plumecast.toxicology import AEGL_DURATIONS_S, aegl_loglog_interpolate

KM = np.array([0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0])
DT = 0.01  # the air's own arrival: samples of the analytic series [s]


def _scenario(release: dict, wind: float, cls: str) -> LocalScenario:
    return LocalScenario.model_validate({
        "name": "countdown", "source": {"lat": 45.0, "lon": 5.0, "height_m": 2.0}, "release": release,
        "agent": "chlorine", "meteorology": {"wind_speed_m_s": wind, "wind_from_deg": 270.0, "stability": cls},
        "receptors": {"cities": False}})


CASES = {
    "300 kg at once, D 3 m/s": _scenario({"amount_kg": 300.0, "duration_s": 0}, 3.0, "D"),
    "3 t at once, D 3 m/s": _scenario({"amount_kg": 3000.0, "duration_s": 0}, 3.0, "D"),
    "3 t over 600 s, F 1.5 m/s": _scenario({"amount_kg": 3000.0, "duration_s": 600}, 1.5, "F"),
}


def _seconds(a: np.ndarray) -> np.ndarray:
    return a / np.timedelta64(1, "s") if a.dtype.kind == "m" else np.asarray(a, dtype=float)


def _own_arrival(sc: LocalScenario, x: float, y: float, level: int, sheltered: bool, t_end: float) -> float:
    """The air's own first reaching of AEGL-``level`` (read for the duration since its onset), to
    within DT after: the first 10-ms sample at or above it, outdoors or indoors (0.5 ACH from the start)."""
    setup = plume_setup(sc)
    t = np.arange(0.5 * DT, t_end, DT)
    c = zplume.concentration_series(setup, np.array([x]), np.array([y]), t)[:, 0]
    if sheltered:
        c = indoor_concentration(c[:, None], np.full(t.size, DT), 0.5)[0][:, 0]
    pos = c >= onset_floor(sc.agent)
    if not pos.any():
        return np.inf
    tab = zplume.level_table_kg_m3(type("Lv", (), {"aegl": level})(), sc.agent)
    thr = aegl_loglog_interpolate(list(AEGL_DURATIONS_S.values()), tab,
                                  np.maximum(t - (t[np.argmax(pos)] - 0.5 * DT), 0.5 * DT))
    hit = pos.any() & (c >= thr)
    return float(t[np.argmax(hit)] + 0.5 * DT) if hit.any() else np.inf


def test_zones_countdowns_are_never_later_than_a_finer_axis_or_the_air(monkeypatch):
    checked = late = 0
    for name, sc in CASES.items():
        res = compute_zones(sc, consequences=False)
        x = np.concatenate([KM, KM]) * 1000.0
        y = np.concatenate([0.0 * KM, 0.15 * KM]) * 1000.0  # on the axis and 0.15 km per km off it
        lon, lat = to_lonlat(45.0, 5.0, 90.0, x, -y)
        rec = Receptors(name=[str(i) for i in range(x.size)], lat=lat, lon=lon, population=np.full(x.size, 10.0))
        coarse = assess_receptors(res, rec)
        monkeypatch.setattr(zplume, "N_TIME_INTERVALS", 16 * zplume.N_TIME_INTERVALS)
        fine = assess_receptors(res, rec)
        monkeypatch.undo()
        assert coarse is not None and fine is not None
        assert list(coarse.receptor.values) == list(fine.receptor.values)
        idx = np.array([int(r) for r in coarse.receptor.values])
        on_axis = coarse["plume_axis_assumed"].values  # in the direction sector: the axis at that distance
        xe = np.where(on_axis, np.hypot(x[idx], y[idx]), x[idx])
        ye = np.where(on_axis, 0.0, y[idx])
        for level in (1, 2, 3):
            for suffix in ("", "_sheltered"):
                var = f"first_exceedance_aegl{level}{suffix}"
                a, b = _seconds(coarse[var].values), _seconds(fine[var].values)
                assert not np.any(np.isfinite(b) & ~np.isfinite(a)), (name, var)  # none missed
                both = np.isfinite(a) & np.isfinite(b)
                checked += int(both.sum())
                for i in np.flatnonzero(both & (a > b)):
                    late += 1
                    own = _own_arrival(sc, float(xe[i]), float(ye[i]), level, bool(suffix), a[i] + 2.0)
                    assert a[i] <= own, (f"{name}: {var} at x={xe[i]:.0f} m, y={ye[i]:.0f} m is {a[i]:.2f} s, "
                                         f"the finer axis's {b[i]:.2f} s and the air's own {own:.2f} s")
    assert checked > 150
    assert late <= 10  # the rest (295 of 301 here): no later than the finer axis's


@pytest.mark.parametrize("release", [{"amount_kg": 300.0, "duration_s": 0}, {"amount_kg": 3000.0, "duration_s": 600},
                                     {"amount_kg": 300.0, "duration_s": 0, "dense_gas": "off"},
                                     {"amount_kg": 200.0, "duration_s": 300, "dense_gas": "off"}])
def test_exact_means_are_the_integrals(release):
    """The closed-form interval means (puff, finite release; dense and passive) are the means of
    the analytic series (its 2,000-sample means, which differ by the front's step within an interval)."""
    sc = _scenario(release, 3.0, "D")
    setup = plume_setup(sc)
    ends = zplume.exposure_time_axis(setup)[::10]
    x = np.array([150.0, 900.0, 4000.0, 15000.0])
    y = 0.1 * x
    exact = exact_means(setup, x, y, ends)
    begins = np.concatenate([[0.0], ends[:-1]])
    n = 2000
    t = (begins[:, None] + (ends - begins)[:, None] * ((np.arange(n) + 0.5) / n)[None, :]).reshape(-1)
    sampled = zplume.concentration_series(setup, x, y, t).reshape(ends.size, n, x.size).mean(axis=1)
    scale = sampled.max(axis=0)
    assert np.all(scale > 0)
    np.testing.assert_allclose(exact / scale, sampled / scale, rtol=0, atol=2e-3)


def test_assess_reads_the_countdowns_alone_from_the_arrival_series():
    """assess's ``arrival_series`` dates the first exceedances (outdoors and sheltered) and nothing else."""
    import xarray as xr

    from plumecast.agents import get_agent
    from plumecast.consequence import assess

    t = np.arange(1, 13) * 60.0
    c = np.zeros((12, 1))
    c[4:, 0] = 1e-3  # 1 g m-3 of chlorine from the 5th minute on
    bound = c.copy()
    bound[3, 0] = 0.9e-3  # the interval before held more air than its mean said
    da = xr.DataArray(c, dims=("time", "receptor"), coords={"time": t}, attrs={"units": "kg m-3"})
    plain = assess(da, get_agent("chlorine"), [10.0], start=0.0)
    read = assess(da, get_agent("chlorine"), [10.0], start=0.0, arrival_series=da.copy(data=bound))
    for name in ("aegl1", "aegl3", "aegl1_sheltered"):
        a = float(plain[f"first_exceedance_{name}"].values[0])
        b = float(read[f"first_exceedance_{name}"].values[0])
        assert b < a, name  # the bound of the interval before dates it earlier
    assert np.isnan(plain["first_exceedance_aegl3_sheltered"].values[0])  # 8 min indoors: not reached
    assert np.isnan(read["first_exceedance_aegl3_sheltered"].values[0])
    for var in ("toxic_load", "peak_concentration", "fatalities", "fatalities_sheltered", "toxic_load_sheltered"):
        np.testing.assert_array_equal(read[var].values, plain[var].values)
    with pytest.raises(ValueError, match="arrival_series has shape"):
        assess(da, get_agent("chlorine"), [10.0], start=0.0, arrival_series=da.isel(time=slice(0, 6)))
