"""Receptor selections refused when the scenario is read (planner audit, session 39): a bbox written
lat-first selected no city and the run read "< 1" deaths beside the 2,100 it reads the right way round;
a city name not found was refused only at run time, without the file or the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from plumecast.errors import ScenarioError
from plumecast.scenario import load_scenario
from tests.test_scenario import GOOD, write


def _with_receptors(tmp_path: Path, receptors: str) -> Path:
    head, sep, _ = GOOD.partition("receptors:\n")
    assert sep  # GOOD ends with its receptors
    return write(tmp_path, head + receptors)


def _refused(path: Path) -> str:
    """The message refusing the scenario at ``path``, checked to name the file and the line."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg and ", line " in msg
    return msg


def test_a_city_selection_that_holds_no_city_is_refused_with_file_and_line(tmp_path: Path) -> None:
    msg = _refused(_with_receptors(tmp_path, "receptors:\n  cities: {min_population: 15000, bbox: [50.5, 6.5, 51.5, "
                                             "7.5]}\n"))
    assert "receptors.cities:" in msg
    assert "select no city" in msg and "lon 50.5 to 51.5 and lat 6.5 to 7.5" in msg and "lon_min, lat_min" in msg
    # the same box the right way round selects Cologne's cities and loads
    ok = _with_receptors(tmp_path, "receptors:\n  cities: {min_population: 15000, bbox: [6.5, 50.5, 7.5, 51.5]}\n")
    assert load_scenario(ok).receptors.cities is not None


def test_a_city_name_not_found_is_refused_when_the_scenario_is_read(tmp_path: Path) -> None:
    msg = _refused(_with_receptors(tmp_path, "receptors:\n  cities: {names: [Koln]}\n"))
    assert "receptors.cities.names: name 'Koln' not found" in msg


def test_a_city_release_selection_that_holds_no_city_says_what_the_bbox_means(tmp_path: Path) -> None:
    from plumecast.release import select_cities
    from plumecast.scenario import CityRelease

    rel = CityRelease.model_validate({"type": "cities", "rate_kg_s_per_capita": 1e-6, "bbox": [50.5, 6.5, 51.5, 7.5]})
    with pytest.raises(ScenarioError, match=r"releases\.0: the filters select no city .*lon 50\.5 to 51\.5"):
        select_cities(rel, 0)


def test_a_receptor_csv_checked_once_is_checked_again_when_it_changes(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # a sound selection is not read again for each ensemble member's scenario (a 300,000-row CSV had cost 1 s
    # each), but a file changed since (a name now given twice) is read again and refused
    import os

    import plumecast.scenario_receptors as sr

    reads = []
    select = sr.select_receptors_with_extent
    monkeypatch.setattr(sr, "select_receptors_with_extent", lambda sc: reads.append(1) or select(sc))
    rows = tmp_path / "rec.csv"
    rows.write_text("name,lat,lon,population\nA,52.1,5.1,100\nB,52.2,5.2,200\n")
    path = _with_receptors(tmp_path, f"receptors:\n  csv: {rows}\n")
    sc = load_scenario(path)
    sc.replace(particles=2000)
    load_scenario(path)
    assert len(reads) == 1
    rows.write_text("name,lat,lon,population\nA,52.1,5.1,100\nA,52.1,5.1,100\n")
    os.utime(rows, ns=(1, 1))  # another modification time whatever the clock's resolution
    from plumecast.errors import PlumecastError

    with pytest.raises(PlumecastError, match=r"rec\.csv: line 3: 'A' at 52\.1, 5\.1 repeats line 2"):
        load_scenario(path)
