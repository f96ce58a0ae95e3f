"""An ensemble from the members of 3-D met files (``ensemble.met_members: file``): each
member is read as ``plumecast run`` reads the files (on their levels, with their
boundary layer), and an ensemble larger than the files' is refused before any member
runs (met audit, session 30: members had been read at their lowest level, at every
height, with a constant boundary layer)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumecast.ensemble.members import file_members_text, member_specs, member_wind
from plumecast.errors import ScenarioError
from plumecast.met import met_members
from plumecast.run_winds import scenario_winds
from plumecast.scenario import scenario_from_dict
from tests.met.style_files import atmosphere, write_era5


@pytest.fixture(scope="module")
def ens_files(tmp_path_factory):
    """An ERA5 pressure-level and single-level pair of two members: member 1's winds are
    member 0's reversed (every level and the 10 m wind)."""
    d = tmp_path_factory.mktemp("ens3d")
    pl, sl = write_era5(atmosphere(n_times=4), d / "one_pl.nc", d / "one_sl.nc")
    out = []
    for src, winds in ((pl, ("u", "v")), (sl, ("u10", "v10"))):
        with xr.open_dataset(src) as ds:
            m0 = ds.load()
        m1 = m0.copy(deep=True)
        for name in winds:
            m1[name] = -m1[name]
        path = d / f"ens_{src.name}"
        xr.concat([m0, m1], dim=xr.DataArray([0, 1], dims="number", name="number")).to_netcdf(path)
        out.append(path)
    return out


def _scenario(paths, members=2):
    return scenario_from_dict({
        "name": "ens3d", "start": "2026-03-01T00:00:00Z", "duration_h": 2, "time_step_s": 600, "particles": 500,
        "seed": 3, "agent": "chlorine", "met": {"source": "file", "path": [str(p) for p in paths]},
        "releases": [{"type": "point", "lat": 45.0, "lon": 0.0, "height_m": 2000, "rate_kg_s": 1.0}],
        "output": {"grid": {"lon_min": -10, "lon_max": 10, "lat_min": 40, "lat_max": 50, "resolution_deg": 0.5}},
        "ensemble": {"members": members, "met_members": "file"},
    })


def test_each_file_member_is_read_on_the_levels_with_the_boundary_layer(ens_files) -> None:
    sc = _scenario(ens_files)
    assert met_members(sc.met.path).tolist() == [0, 1]
    run_ds, levels, _ = scenario_winds(sc, member=0)
    assert levels
    specs = member_specs(sc, sc.ensemble)
    assert [s.met_number for s in specs] == [0, 1]
    w0, w1 = (member_wind(sc, s) for s in specs)
    for w in (w0, w1):
        assert w.sizes["level"] > 1 and "number" not in w.dims
        assert "blh" in w and "u10" in w
    # member 0 is what a run reads; member 1 its own winds (reversed) on every level, aloft too
    np.testing.assert_array_equal(w0["u"].values, run_ds["u"].values)
    np.testing.assert_array_equal(w1["u"].values, -w0["u"].values)
    np.testing.assert_array_equal(w1["v10"].values, -w0["v10"].values)
    assert np.abs(w0["u"].isel(level=-1).values).max() > 0
    assert "members 0-1 of the files' 2" in file_members_text(sc, 2)
    assert "member 0 of the files' 2" in file_members_text(sc, 1) and "the other 1 not run" in file_members_text(sc, 1)


def test_more_members_than_the_files_hold_are_refused_before_any_runs(ens_files) -> None:
    sc = _scenario(ens_files, members=3)
    with pytest.raises(ScenarioError, match=r"3 members asked for but the met files .* hold 2"):
        member_specs(sc, sc.ensemble)


def test_files_without_members_are_refused_for_met_members_file(tmp_path) -> None:
    paths = write_era5(atmosphere(n_times=4), tmp_path / "pl.nc", tmp_path / "sl.nc")
    sc = _scenario(paths)
    with pytest.raises(ScenarioError, match="no member dimension"):
        member_specs(sc, sc.ensemble)
