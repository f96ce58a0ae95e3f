"""zones and run take the near-field plume's lid by one rule (:mod:`plumecast.nearfield.lid`):
``local_weather.mixing_height_m``, else ``turbulence.mixing_height_m`` (default 1000 m), and both say
which. Until session 43 zones took no lid without ``local_weather.mixing_height_m`` while run's near
field took 1000 m: 3000 kg of chlorine over 600 s in class B at 2 m/s read 0.085 and 0.0064 ppm at 10 and
30 km in zones against run's 0.13 and 0.030 (4.7 times at 30 km), and zones said nothing of a lid (audit
D2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from plumecast.nearfield.zones import compute_zones, plume_setup, read_zones_scenario
from plumecast.run_near_field import point_plume_weather
from plumecast.scenario import load_scenario

KM = (10.0, 30.0)
KM_PER_DEG_LON_AT_52 = 68.54  # 111.32 km cos(52°)


def _data(**lw: object) -> dict:
    """The audit's class B case: 3000 kg of chlorine over 600 s from 1 m, 2 m/s from 270°, no lid given."""
    return {
        "name": "class B, no lid", "agent": "chlorine", "start": "2026-01-20T06:00:00Z", "duration_h": 6,
        "time_step_s": 120, "particles": 2000, "seed": 7, "backend": "numpy",
        "met": {"source": "uniform", "u_m_s": 2.0, "v_m_s": 0.0},
        "releases": [{"type": "point", "name": "src", "lat": 52.0, "lon": 5.0, "height_m": 1.0,
                      "amount_kg": 3000.0, "duration_s": 600.0}],
        "local_weather": {"wind_speed_m_s": 2.0, "wind_from_deg": 270, "stability": "B", "terrain": "rural", **lw},
        "receptors": {"points": [{"name": f"x{k:g}", "lat": 52.0, "lon": 5.0 + k / KM_PER_DEG_LON_AT_52,
                                  "population": 1000} for k in KM]},
        "output": {"grid": {"lon_min": 4.0, "lon_max": 6.0, "lat_min": 51.5, "lat_max": 52.5,
                            "resolution_deg": 0.05}, "interval_min": 60},
    }


def _write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_zones_and_run_agree_in_class_b_without_a_lid_given(tmp_path: Path) -> None:
    from plumecast.runner import run

    path = _write(tmp_path, _data())
    res = compute_zones(read_zones_scenario(path).scenario, consequences=False)
    assert res.points is not None
    zones = np.asarray(res.points["outdoor_ppm"].max("time").values, dtype=float)
    got = run(load_scenario(path))
    ran = np.asarray(got.consequences()["peak_concentration_ppm"].values, dtype=float)
    # both under the 1000-m lid: within 10 % at 10 and 30 km (zones had read 0.085 and 0.0064 ppm, run 0.13 and
    # 0.030: 1.5 and 4.7 times)
    np.testing.assert_allclose(zones, ran, rtol=0.10)
    assert zones[1] > 0.02  # 0.028 ppm at 30 km, as with local_weather.mixing_height_m: 1000 (0.0064 without a lid)
    assert any("lid 1000 m (turbulence.mixing_height_m, default 1000 m; local_weather gives no mixing_height_m)"
               in line for line in got.stats["met_provenance"])


@pytest.mark.parametrize(
    ("local", "turbulence", "lid", "where"),
    [
        (None, None, 1000.0, "turbulence.mixing_height_m, default 1000 m; local_weather gives no mixing_height_m"),
        (None, 500.0, 500.0, "turbulence.mixing_height_m, default 1000 m; local_weather gives no mixing_height_m"),
        (400.0, 500.0, 400.0, "local_weather.mixing_height_m"),
    ],
    ids=["default", "turbulence", "local_weather"],
)
def test_zones_and_run_take_the_lid_by_one_rule(tmp_path: Path, local: float | None, turbulence: float | None,
                                                lid: float, where: str) -> None:
    data = _data(**({} if local is None else {"mixing_height_m": local}))
    if turbulence is not None:
        data["turbulence"] = {"mixing_height_m": turbulence, "kz_m2_s": 20.0}
    path = _write(tmp_path, data)
    zin = read_zones_scenario(path)
    setup = plume_setup(zin.scenario)
    assert (setup.mixing_height_m, setup.lid_from) == (lid, where)
    assert point_plume_weather(load_scenario(path), False)[1] == lid  # run's near field: the same lid
    if turbulence is not None:  # zones reads turbulence.mixing_height_m alone, and says it ignored the rest
        assert zin.ignored["turbulence.kz_m2_s"] == "run and compare"
        assert not any(k in ("turbulence", "turbulence.mixing_height_m") for k in zin.ignored)


def test_a_zones_only_file_and_the_old_format_take_the_default_lid(tmp_path: Path) -> None:
    data = {k: v for k, v in _data().items() if k in ("name", "agent", "releases", "local_weather", "receptors")}
    setup = plume_setup(read_zones_scenario(_write(tmp_path, data)).scenario)
    assert setup.mixing_height_m == 1000.0  # it had been no lid at all (inf)
    old = {"source": {"lat": 52.0, "lon": 5.0, "height_m": 1.0},
           "release": {"amount_kg": 3000.0, "duration_s": 600.0}, "agent": "chlorine",
           "meteorology": {"wind_speed_m_s": 2.0, "wind_from_deg": 270, "stability": "B"}}
    assert plume_setup(read_zones_scenario(_write(tmp_path, old, "old.yaml")).scenario).mixing_height_m == 1000.0


def test_zones_states_its_lid_on_the_console_and_in_its_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from plumecast.cli import app

    path = _write(tmp_path, _data())
    r = CliRunner().invoke(app, ["zones", str(path), "-o", str(tmp_path / "out"), "--no-receptors"],
                           env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    assert ("mixing layer: lid 1000 m (turbulence.mixing_height_m, default 1000 m; local_weather gives no "
            "mixing_height_m)") in r.output
    geo = json.loads((tmp_path / "out" / "zones.geojson").read_text())
    assert geo["provenance"]["mixing_height_m"] == 1000.0
    assert geo["provenance"]["mixing_height_from"].startswith("turbulence.mixing_height_m")
    assert geo["provenance"]["stability_class"] == "B"
    kml = (tmp_path / "out" / "zones.kml").read_text()
    assert "mixing lid 1000 m (turbulence.mixing_height_m" in kml
