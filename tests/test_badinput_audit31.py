"""User mistakes that had run wrongly or ended in a traceback (badinput audit, session 31):
each is now refused in one line naming the key (or the file and line)."""

from __future__ import annotations

import pytest

from plumecast.errors import DataFileError, ScenarioError
from plumecast.scenario import load_scenario
from tests.test_scenario import GOOD, write


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        # a number had been seconds since 1970 (start: 20260120 ran in August 1970)
        ("start: 2026-01-15T06:00:00Z", "start: 20260120", "start", "is a number, not a date"),
        # wind components had been dropped without a word on the climatology, and uniform alone ran calm
        ("met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}", "met: {u_m_s: 5.0, v_m_s: 0.0}", "met",
         "read only with source: uniform"),
        ("met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}", "met: {source: uniform}", "met",
         "neither u_m_s nor v_m_s is given"),
        # thinner than 10 m is not modelled (under 1 m it had divided by zero)
        ("agent: chlorine", "agent: chlorine\nturbulence: {mixing_height_m: 0.5}", "turbulence.mixing_height_m",
         "0.5 is too small; expected 10 or more"),
        # two releases of one name: plans and zones --release pick one by name
        ("    stop_h: 3\n", "    stop_h: 3\n    name: tank\n  - {type: point, name: tank, lat: 50.5, lon: 10.0, "
         "rate_kg_s: 1.0, stop_h: 1}\n", "releases", "is given to releases 0, 1"),
        # an unknown country selected no city, silently
        ("receptors:\n  points:\n    - {name: downwind, lat: 50.0, lon: 11.0, population: 1000}\n",
         "receptors:\n  cities: {countries: [Germany]}\n", "receptors.cities.countries",
         "not a country code of the cities table"),
    ],
)
def test_mistakes_are_refused_naming_the_key(tmp_path, old, new, key, expected):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg and key in msg and expected in msg, msg


def test_an_obukhov_length_of_zero_is_refused(tmp_path):
    text = GOOD + "local_weather: {wind_speed_m_s: 3, wind_from_deg: 270, obukhov_length_m: 0}\n"
    with pytest.raises(ScenarioError, match=r"local_weather.obukhov_length_m: 0 is not an Obukhov length"):
        load_scenario(write(tmp_path, text))


def test_a_receptor_given_twice_is_refused(tmp_path):
    from plumecast.runner import select_receptors

    twice = GOOD.replace("    - {name: downwind, lat: 50.0, lon: 11.0, population: 1000}\n",
                         "    - {name: downwind, lat: 50.0, lon: 11.0, population: 1000}\n"
                         "    - {name: Downwind, lat: 50.0, lon: 11.0, population: 1000}\n")
    with pytest.raises(ScenarioError, match=r"receptors.points.1: 'Downwind' .* is also in receptors.points.0"):
        select_receptors(load_scenario(write(tmp_path, twice)))
    csv = tmp_path / "r.csv"
    csv.write_text("name,lat,lon,population\ndownwind,50.0,11.0,1000\n")
    both = GOOD.replace("receptors:\n", f"receptors:\n  csv: {csv}\n")
    with pytest.raises(ScenarioError, match=r"receptors.csv .* is also in receptors.points.0"):
        select_receptors(load_scenario(write(tmp_path, both, "both.yaml")))


def test_validate_dense_gas_names_the_row_and_the_encoding(tmp_path):
    from plumecast.validation.dense_gas import data_path, read_trials

    lines = data_path().read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",D,", ",Z,") if ",D," in lines[1] else lines[1].replace(",F,", ",Z,")
    bad = tmp_path / "z.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"z.csv: line 2 \(trial '[^']+'\): the zones scenario it makes: "
                       r"meteorology.stability: 'Z' is not one of the choices; expected A, B, C, D, E or F$"):
        read_trials(bad)
    utf16 = tmp_path / "u.csv"
    utf16.write_bytes("\n".join(lines).encode("utf-16"))
    with pytest.raises(DataFileError, match=r"u.csv: not UTF-8 text"):
        read_trials(utf16)


def test_validate_prairie_grass_refuses_its_output_path_before_scoring(tmp_path, capsys, monkeypatch):
    from tests.helpers import run_cli

    afile = tmp_path / "a_file"
    afile.write_text("x")
    rc, out = run_cli(["validate", "prairie-grass", "-o", str(afile)], capsys, monkeypatch)
    assert rc == 2 and "is an existing file" in out
    assert "Project Prairie Grass" not in out  # refused before the scores were computed and printed


def test_run_reads_the_population_raster_before_the_transport(tmp_path, capsys, monkeypatch):
    from tests.helpers import run_cli, small_scenario

    raster = tmp_path / "people.tif"
    raster.write_text("not a raster")
    text = small_scenario("raster", 200, "backend: numpy") + f"receptors: {{population_raster: {raster}}}\n"
    path = tmp_path / "s.yaml"
    path.write_text(text)
    rc, out = run_cli(["run", str(path), "-o", str(tmp_path / "out"), "-q"], capsys, monkeypatch)
    assert rc == 2 and "people.tif" in out
    assert "run summary" not in out  # refused before the transport and its tables
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_compare_says_it_does_not_read_the_population_raster(tmp_path):
    from plumecast.scenario_modes import ignored_keys
    from tests.helpers import small_scenario

    raster = tmp_path / "people.tif"
    raster.write_text("x")
    path = tmp_path / "s.yaml"
    path.write_text(small_scenario("raster", 200) + f"receptors: {{population_raster: {raster}}}\n")
    sc = load_scenario(path)
    assert "receptors.population_raster" in ignored_keys(sc, "compare")
    assert "receptors.population_raster" not in ignored_keys(sc, "run")


def test_pressure_levels_in_units_of_something_else_are_refused():
    import numpy as np

    from plumecast.errors import MetDataError
    from plumecast.met.variables import pressure_levels_hpa

    levels = np.array([1000.0, 850.0, 500.0])
    for units in ("hPa", "millibars", "mb", ""):
        assert np.array_equal(pressure_levels_hpa(levels, units, "level", "f.nc"), levels)
    assert np.array_equal(pressure_levels_hpa(levels * 100, "Pa", "level", "f.nc"), levels)
    # kPa under its UDUNITS name had been read as hPa (100, 85, 50 'hPa')
    assert np.array_equal(pressure_levels_hpa(levels / 10, "kilopascal", "level", "f.nc"), levels)
    for units in ("K", "furlongs"):
        with pytest.raises(MetDataError, match=rf"f.nc: .*pressure levels 'level' have the units '{units}'"):
            pressure_levels_hpa(levels, units, "level", "f.nc")
