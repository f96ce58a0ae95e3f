"""Bad input whose message had spoken pydantic's or another command's language (session 31's
audit, left then): each is one line in the scenario's terms."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import DataFileError, ScenarioError
from plumecast.population import PopulationRaster
from plumecast.scenario import load_scenario
from tests.test_scenario import GOOD, write


@pytest.mark.parametrize(("value", "got"), [("5", "5"), ("true", "True")])
def test_a_met_path_that_is_no_path_says_what_is_expected_without_pydantic_internals(tmp_path, value, got):
    old = "met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}"
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, f"met: {{source: file, path: {value}}}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = str(info.value).splitlines()
    # one line for the key (pydantic gives one per branch of `path: file | list of files`)
    assert len(lines) == 2, lines
    assert lines[1].strip().endswith(f"met.path: expected a file path or a list of them (got {got})"), lines
    for internal in ("lax-or-strict", "function-after", "<class", "list["):
        assert internal not in str(info.value)


def test_a_population_file_of_several_variables_names_what_each_command_reads(tmp_path):
    lat = np.arange(50.0, 51.0, 0.25) + 0.125
    lon = np.arange(8.0, 9.0, 0.25) + 0.125
    ones = np.ones((lat.size, lon.size))
    ds = xr.Dataset({"men": (("lat", "lon"), ones), "women": (("lat", "lon"), ones)},
                    coords={"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})})
    f = tmp_path / "people.nc"
    ds.to_netcdf(f)
    with pytest.raises(DataFileError) as info:
        PopulationRaster.load(f)
    msg = str(info.value)
    assert "['men', 'women']" in msg and "zones: name it with population.variable" in msg
    assert "run and compare read a file with one such variable" in msg
    assert PopulationRaster.load(f, variable="men").values.sum() == pytest.approx(16.0)


def test_a_list_of_wrong_paths_names_each_item_and_no_class_names(tmp_path):
    old = "met: {source: uniform, u_m_s: 5.0, v_m_s: 0.0}"
    path = write(tmp_path, GOOD.replace(old, "met: {source: file, path: [a.nc, 5]}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = str(info.value).splitlines()[1:]
    # the item is named; the list itself is not called 'not a file path' (a list is allowed)
    assert len(lines) == 1 and lines[0].strip().endswith("met.path.1: expected a file path (got 5)"), lines
    path = write(tmp_path, GOOD.replace("agent: chlorine", "agent: 5"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "instance of" not in str(info.value) and "agent:" in str(info.value)
