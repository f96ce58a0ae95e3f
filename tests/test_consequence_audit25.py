"""Audit 25 of the consequence stage: what the table, the notes and the totals say.

Each test reproduces one finding (scripts of the audit: an AEGL table with a gap read
as "never", inline overrides of a shipped agent, receptors off the grid left out of
the totals, the wrong reason in a note, short exposures not flagged, a totals range
that was not a range over the probit sets, a 1e-56 lethal fraction ranked first).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from rich.console import Console

from plumecast.agents import get_agent, resolve_agent
from plumecast.consequence import assess, assess_grid, result_warnings
from plumecast.report_tables import casualty_order, print_casualty_table

CL = get_agent("chlorine")


def _series(values_ppm, step_s=600.0, names=None, datetime=True):
    v = np.asarray(values_ppm, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    t = np.arange(1, v.shape[0] + 1) * step_s
    time = np.datetime64("2026-03-02T00:00", "ns") + (t * 1e9).astype("timedelta64[ns]") if datetime else t
    coords: dict = {"time": time}
    if names is not None:
        coords["name"] = ("receptor", list(names))
    return xr.DataArray(v, dims=("time", "receptor"), coords=coords, attrs={"units": "ppm"})


def _table(res, width=250, **kw):
    console = Console(record=True, width=width)
    print_casualty_table(res, console, **kw)
    return console.export_text()


def _rows(text):
    return {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") > 5}


# 1 ----------------------------------------------------------------------------------------


def test_table_says_where_the_gas_is_still_present_at_the_end():
    """8 ppm chlorine from hour 5 of a 6-h series: AEGL-3 '—' must not read as 'never'."""
    v = np.zeros((36, 2))
    v[30:, 0] = 8.0  # Town: still there at the end
    v[5:10, 1] = 8.0  # Passed: gone before the end
    res = assess(_series(v, names=["Town", "Passed"]), CL, [50000, 50000])
    assert "still present" in str(res.note.values[0])
    text = " ".join(_table(res).split())
    assert "still present at the end" in text
    line = text[text.index("still present at the end"):]
    assert "Town" in text[text.index("Gas still present"):] and "Passed" not in line.split(".")[0]
    assert "'—' = not reached within the forecast" in text


# 2 ----------------------------------------------------------------------------------------


def _gap_agent():
    return resolve_agent({
        "name": "xgas", "molecular_weight_g_mol": 50,
        "aegl_ppm": {"AEGL-2": {"10min": 10, "1h": 5, "8h": 1},  # 30 min and 4 h missing
                     "AEGL-3": {"10min": 100, "30min": 60, "60min": 40, "4h": 20, "8h": 10}},
        "probit": {"a": -10, "b": 1, "n": 2, "conc_unit": "ppm", "time_unit": "min"}})


def test_an_aegl_that_cannot_be_read_for_the_elapsed_duration_is_na_not_never():
    """AEGL-2 given at 10 min, 1 h and 8 h only: 4 ppm for 3 h may well exceed it (between
    5 ppm at 1 h and 1 ppm at 8 h) but it cannot be read there: n/a, not '—'. A receptor
    that exceeds it at 1 min (before the gap) has its time; one never exposed is 'never'."""
    v = np.zeros((180, 3))
    v[:, 0] = 4.0  # Gap
    v[:, 1] = 20.0  # Early: above the 10-min value from the first step
    res = assess(_series(v, step_s=60.0, names=["Gap", "Early", "Clean"]), _gap_agent(), [1e5, 1e5, 1e5])
    assert res["aegl2_known"].values.tolist() == [0, 1, 1]
    assert np.isnan(float(res.hours_to_aegl2[0])) and float(res.hours_to_aegl2[1]) == 0.0
    assert np.isnan(float(res.hours_to_aegl2[2]))  # never: known
    assert "AEGL-2 n/a" in str(res.note.values[0])
    rows = _rows(_table(res))
    assert "n/a" in rows["Gap"] and "—" not in rows["Gap"].split("│")[5]
    assert rows["Clean"].split("│")[5].strip() == "—"
    warn = " ".join(result_warnings(res))
    assert "AEGL-2 missing at 30min, 4h" in warn and "n/a, not as 'never'" in warn
    # the same with irregular steps (the AEGL is read per step, not from a lag table)
    t = np.cumsum(np.r_[60.0, np.full(179, 60.0) * np.linspace(0.9, 1.1, 179)])
    da = xr.DataArray(v, dims=("time", "receptor"), coords={"time": t}, attrs={"units": "ppm"})
    assert assess(da, _gap_agent(), [1e5] * 3)["aegl2_known"].values.tolist() == [0, 1, 1]


# 3 ----------------------------------------------------------------------------------------


def test_an_inline_aegl_override_keeps_the_other_levels_and_says_where_it_came_from():
    a = resolve_agent({"name": "chlorine", "aegl_ppm": {3: {"10min": 500, "30min": 500, "60min": 500, "4h": 500,
                                                             "8h": 500}}})
    np.testing.assert_array_equal(a.aegl_table_ppm(2), CL.aegl_table_ppm(2))
    np.testing.assert_array_equal(a.aegl_table_ppm(1), CL.aegl_table_ppm(1))
    assert a.aegl_table_ppm(3).tolist() == [500.0] * 5
    assert a.aegl_check != CL.aegl_check and "AEGL-3" in a.aegl_check
    assert a.from_scenario == ("AEGL-3",)
    c = _series(np.full((6, 1), 30.0))
    res = assess(c, a, [1e5])
    warn = " ".join(result_warnings(res))
    assert "from the scenario" in warn and "AEGL-3" in warn and "AEGL-1 missing" not in warn
    assert res.attrs["agent_aegl_check"] == a.aegl_check


def test_an_inline_probit_or_molecular_weight_override_is_named_in_the_warnings():
    p = resolve_agent({"name": "chlorine", "probit": {"a": -5, "b": 1, "n": 1, "conc_unit": "ppm",
                                                      "time_unit": "min"}})
    assert list(p.probits) == ["user"] and p.from_scenario == ("probit",)
    assert p.aegl_check == CL.aegl_check  # the AEGLs are still the table's
    warn = " ".join(p.data_warnings())
    assert "probit" in warn and "from the scenario" in warn and "purple_book" in warn
    m = resolve_agent({"name": "chlorine", "molecular_weight_g_mol": 71.0})
    np.testing.assert_array_equal(m.aegl_table_ppm(3), CL.aegl_table_ppm(3))
    assert list(m.probits) == list(CL.probits) and m.molecular_weight_g_mol == 71.0
    assert "molecular_weight_g_mol" in " ".join(m.data_warnings())


def test_a_shipped_or_overridden_agent_survives_a_dump_and_reload_unchanged():
    """Scenario.replace dumps the agent and validates it again: nothing may be marked as
    'from the scenario' that was not, and nothing may be lost."""
    assert resolve_agent(CL.model_dump()) == CL
    assert resolve_agent(CL.model_dump()).data_warnings() == []
    a = resolve_agent({"name": "chlorine", "aegl_ppm": {"AEGL-3": {"8h": 5}}, "decay_rate_s": 1e-5})
    assert resolve_agent(a.model_dump()) == a
    assert resolve_agent(a.model_dump(mode="json")) == a
    with pytest.raises(Exception, match="exceeds AEGL-3"):  # AEGL-2 (shipped) above the new AEGL-3
        resolve_agent({"name": "chlorine", "aegl_ppm": {3: {"10min": 1.0}}})


# 4 ----------------------------------------------------------------------------------------


def test_assess_grid_keeps_receptors_off_the_grid_as_unknown():
    lat = np.arange(50.05, 52, 0.1)
    lon = np.arange(5.05, 8, 0.1)
    t = np.datetime64("2026-01-01T00:00", "ns") + np.arange(1, 13) * np.timedelta64(600, "s")
    lo2, la2 = np.meshgrid(lon, lat)
    f = 10 + 100 * (lo2 - 5) + 10 * (la2 - 50)
    field = xr.DataArray(np.broadcast_to(f, (12, *f.shape)).copy(), dims=("time", "lat", "lon"),
                         coords={"time": t, "lat": lat, "lon": lon}, attrs={"units": "ppm"})
    rec = SimpleNamespace(lat=np.array([51.0, 49.0, 51.5]), lon=np.array([6.0, 6.0, 4.9]),
                          name=np.array(["A", "farOff", "westOff"]), population=np.array([1e5, 1e6, 5e4]))
    res = assess_grid(field, rec, CL)
    assert res.name.values.tolist() == ["A", "farOff", "westOff"]
    assert res.concentration_known.values.tolist() == [1, 0, 0]
    assert np.isnan(res.fatalities.values[1:]).all() and res.population.values[1] == 1e6
    assert float(res.peak_concentration_ppm[0]) == pytest.approx(120.0)
    assert any("farOff" in w and "westOff" in w and "outside the concentration grid" in w
               for w in result_warnings(res))
    text = " ".join(_table(res).split())
    assert "at 1 of 3 receptors" in text and "farOff" in text[text.index("Total expected"):]


# 5 ----------------------------------------------------------------------------------------


def test_the_note_of_an_agent_without_aegl3_says_so():
    v = np.zeros((12, 1))
    v[1:4, 0] = 5.0  # phosgene 5 ppm for 30 min
    res = assess(_series(v, names=["A"]), get_agent("phosgene"), [100000])
    note = str(res.note.values[0])
    assert float(res.lethal_fraction[0]) > 1e-4
    assert "adds up over" not in note and "tabulated to 8 h" not in note
    assert "no AEGL-3" in note
    assert "no AEGL-3" in " ".join(_table(res).split())


# 6 ----------------------------------------------------------------------------------------


def test_an_exposure_shorter_than_the_fitted_range_is_flagged():
    c = xr.DataArray(np.array([[2000.0], [0.0]]), dims=("time", "receptor"),
                     coords={"time": np.array([120.0, 3600.0])}, attrs={"units": "ppm"})
    res = assess(c, CL, [1e6], start=0.0)
    assert int(res.probit_beyond_fitted_range[0]) == 1
    assert "shorter than the 10-60 min" in str(res.note.values[0])
    text = " ".join(_table(res).split())
    assert "Extrapolated" in text and "shorter" in text
    # a receptor never exposed is not flagged (nothing to extrapolate)
    c0 = xr.DataArray(np.zeros((2, 1)), dims=("time", "receptor"), coords={"time": np.array([120.0, 3600.0])},
                      attrs={"units": "ppm"})
    assert int(assess(c0, CL, [1e6], start=0.0).probit_beyond_fitted_range[0]) == 0


# 7 ----------------------------------------------------------------------------------------


def test_the_totals_range_is_the_range_of_the_totals_over_the_probit_sets():
    v = np.zeros((30, 2))
    v[:10, 0] = 100.0  # A: 100 ppm for 10 min
    v[:, 1] = 100.0  # B: 100 ppm for 30 min
    c = _series(v, step_s=60.0, names=["A", "B"], datetime=False)
    per_set = {s: float(assess(c, CL, [1e6, 1e6], probit_set=s).fatalities.sum()) for s in ("purple_book", "lees")}
    res = assess(c, CL, [1e6, 1e6])
    by_set = res["fatalities_by_probit_set"]
    assert by_set.sum("receptor").values.tolist() == pytest.approx([per_set["purple_book"], per_set["lees"]])
    text = " ".join(_table(res).split())
    assert "40,000 (40,000–49,000) without shelter-in-place" in text  # was (35,000–54,000)


# 8 ----------------------------------------------------------------------------------------


def test_a_negligible_lethal_fraction_of_unknown_people_is_not_ranked_first():
    v = np.zeros((6, 3))
    v[:, 0] = 5.0  # Tiny: population unknown, lethal fraction ~1e-8
    v[:, 1] = 100.0  # Known: deaths
    res = assess(_series(v, names=["Tiny", "Known", "Zero"]), CL, [np.nan, 1e5, 1e5])
    assert 0 < float(res.lethal_fraction[0]) < 1e-6
    assert [str(res.name.values[i]) for i in casualty_order(res)] == ["Known", "Tiny", "Zero"]
    v[:, 0] = 20.0  # a lethal fraction that may kill some of a city: first again
    res = assess(_series(v, names=["Tiny", "Known", "Zero"]), CL, [np.nan, 1e5, 1e5])
    assert [str(res.name.values[i]) for i in casualty_order(res)] == ["Tiny", "Known", "Zero"]


def test_a_toll_below_one_is_ranked_by_exposure_not_by_its_digits():
    """A city's toll far below one ranked above a more exposed city's smaller one, though both
    read "< 1" (session 35): tolls below one rank by peak % of AEGL-3, with the zeros."""
    v = np.zeros((6, 3))
    v[:, 0] = 4.0  # Faint: a toll far below one
    v[:, 1] = 9.0  # Nearer: a higher peak, still a toll below one (a town of 10 people)
    v[:, 2] = 100.0  # Known: deaths
    res = assess(_series(v, names=["Faint", "Nearer", "Known"]), CL, [1e5, 10.0, 1e5])
    fat = res["fatalities"].values
    # Faint's toll is the larger of the two below one (more people), Nearer's air the worse
    assert 0 < fat[1] < fat[0] < 1 <= fat[2] and float(res.peak_percent_aegl3[1]) > float(res.peak_percent_aegl3[0])
    assert [str(res.name.values[i]) for i in casualty_order(res)] == ["Known", "Nearer", "Faint"]


def test_the_casualty_table_fits_a_narrow_terminal_in_parts():
    """At 80 columns rich had folded the casualty table's eight columns a few characters wide, cutting city
    names and figures into pieces ("Duisbur/g", "populat/ion"; session 41): the table is split into parts whose
    columns fit, each led by the city's name."""
    v = np.zeros((36, 2))
    v[3:30, 0] = 40.0
    v[5:10, 1] = 8.0
    res = assess(_series(v, names=["Mönchengladbach-Rheydt", "Gelsenkirchen"]), CL, [260000, 270000])
    text = _table(res, width=80)
    lines = text.splitlines()
    assert max(len(ln.rstrip()) for ln in lines) <= 80
    flat = " ".join(text.split())
    parts = flat.count("the columns that fit the terminal)")
    assert parts >= 2 and "(1 of " in flat
    heads = [ln for ln in lines if ln.startswith("┃")]
    assert sum("city" in ln for ln in heads) == parts  # every part led by the city
    assert sum("Mönchengladbach-Rheydt" in ln for ln in lines) == parts and "Gelsenkirchen" in text
    assert "5,700 (5,700–23,000)" in text  # the figures whole
    wide = _table(res, width=250)
    assert "the columns that fit" not in wide and "Mönchengladbach-Rheydt" in wide
