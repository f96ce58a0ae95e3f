"""Tests of the shipped city table and user receptor lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plumecast.errors import DataFileError
from plumecast.receptors import Receptors, load_cities, points, read_receptor_csv


def test_city_table_ships_inside_the_package() -> None:
    import plumecast

    shipped = Path(plumecast.__file__).parent / "data" / "cities" / "cities15000.csv.gz"
    assert shipped.is_file() and shipped.stat().st_size < 1_000_000
    everything = load_cities(min_population=None)
    assert len(everything) == 34006
    assert len(load_cities()) == 33961  # 45 GeoNames rows are below 15,000 people
    assert np.all(np.abs(everything.lat) <= 90) and np.all(np.abs(everything.lon) <= 180)


def test_largest_cities() -> None:
    top = load_cities().largest(30)
    names = top.name.tolist()
    assert names[:2] == ["Shanghai", "Beijing"]
    for city in ("Tokyo", "Delhi", "Mumbai", "São Paulo", "Mexico City", "Istanbul", "London"):
        assert city in names
    assert np.all(np.diff(top.population) <= 0)
    tokyo = top.select(["tokyo"])
    assert tokyo.country.tolist() == ["JP"]
    assert tokyo.lat[0] == pytest.approx(35.6895) and tokyo.lon[0] == pytest.approx(139.6917)


def test_filters() -> None:
    cities = load_cities()
    fr = cities.filter(countries=["fr"])
    assert len(fr) > 300 and set(fr.country.tolist()) == {"FR"}
    big = cities.filter(min_population=5_000_000)
    assert 40 < len(big) < 200 and big.population.min() >= 5_000_000
    box = cities.filter(bbox=(-10.0, 35.0, 30.0, 60.0))
    assert np.all((box.lon >= -10) & (box.lon <= 30) & (box.lat >= 35) & (box.lat <= 60))
    assert "Paris" in box.name.tolist() and "Tokyo" not in box.name.tolist()
    pacific = cities.filter(bbox=(170.0, -50.0, -170.0, 0.0))  # across the antimeridian
    assert len(pacific) > 0 and np.all((pacific.lon >= 170) | (pacific.lon <= -170))
    assert "Suva" in pacific.name.tolist()
    both = cities.filter(min_population=1_000_000, countries=["JP"])
    assert "Tokyo" in both.name.tolist() and both.population.min() >= 1_000_000


def test_select_by_name_and_country() -> None:
    cities = load_cities()
    sel = cities.select(["London", "london, ca", "PARIS"])
    assert sel.name.tolist() == ["London", "London", "Paris"]
    assert sel.country.tolist() == ["GB", "CA", "FR"]
    with pytest.raises(DataFileError, match=r"name 'Tokio' not found.*did you mean.*'Tokyo'"):
        cities.select(["Tokio"])


def test_tables_are_immutable() -> None:
    cities = load_cities()
    with pytest.raises(ValueError):
        cities.population[0] = 0
    lats = np.array([10.0, 20.0])
    r = points(["a", "b"], lats, [350.0, 5.0], [1, 2])
    lats[0] = 99.0
    assert r.lat.tolist() == [10.0, 20.0]
    assert r.lon.tolist() == [-10.0, 5.0]  # 0..360 wrapped
    assert len(load_cities()) == len(cities)


def test_points_validation() -> None:
    r = points(["x"], [1.0], [2.0])
    # no population given: unknown (NaN), never 0
    assert isinstance(r, Receptors) and np.isnan(r.population).all()
    with pytest.raises(DataFileError, match=r"lat of 'bad' is 91"):
        points(["ok", "bad"], [0.0, 91.0], [0.0, 0.0])
    with pytest.raises(DataFileError, match="expected equal lengths"):
        points(["a", "b"], [0.0], [0.0, 1.0])


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "receptors.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_receptor_csv(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Name, lat, lon, population\nPlant gate,51.5,359.9,120\nSchool,51.6,-0.2,\n\nZürich Nord,47.4,8.5,1000\n",
    )
    r = read_receptor_csv(path)
    assert r.name.tolist() == ["Plant gate", "School", "Zürich Nord"]
    np.testing.assert_allclose(r.lon, [-0.1, -0.2, 8.5], atol=1e-9)
    # an empty population cell is unknown, never 0
    assert r.population[0] == 120.0 and np.isnan(r.population[1]) and r.population[2] == 1000.0
    no_pop = read_receptor_csv(_csv(tmp_path, "name,lat,lon\nA,1,2\n"))
    assert np.isnan(no_pop.population).all()  # no population column: unknown


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("name,lat\nA,1\n", r"line 1: missing column\(s\) \['lon'\]"),
        ("name,lat,lon\nA,1,2\nB,north,2\n", r"line 3, column 'lat': 'north' is not a number"),
        ("name,lat,lon\nA,95,2\n", r"line 2, column 'lat': 95 is out of range"),
        ("name,lat,lon\nA,5,400\n", r"line 2, column 'lon': 400 is out of range"),
        ("name,lat,lon,population\nA,5,4,-3\n", r"line 2, column 'population': -3 is negative"),
        ("name,lat,lon\n,5,4\n", r"line 2, column 'name': empty"),
        ("name,lat,lon\n", r"no receptor rows"),
    ],
)
def test_receptor_csv_errors_name_line_and_column(tmp_path: Path, text: str, pattern: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(DataFileError, match=r"receptors\.csv: " + pattern):
        read_receptor_csv(path)


def test_missing_receptor_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"none\.csv: file not found"):
        read_receptor_csv(tmp_path / "none.csv")


def test_receptor_csv_as_spreadsheets_write_it(tmp_path: Path) -> None:
    # BOM, extra columns, semicolons (European Excel), trailing empty fields
    path = tmp_path / "r.csv"
    path.write_text("\ufeffName;Lat;Lon;Population;note\nA;51.5;-0.1;1200;x\nB;51.6;-0.2;;\n", encoding="utf-8")
    r = read_receptor_csv(path)
    assert r.name.tolist() == ["A", "B"] and r.population[0] == 1200.0 and np.isnan(r.population[1])
    path.write_text("name\tlat\tlon\nA\t1\t2\n", encoding="utf-8")
    assert read_receptor_csv(path).lon.tolist() == [2.0]
    path.write_text("name,lat,lon,population,,\nA,1,2,3,,\n", encoding="utf-8")
    assert read_receptor_csv(path).population.tolist() == [3.0]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        # an unquoted thousands separator splits the population: never read as 116
        ("name,lat,lon,population\nSpringfield,39.8,-89.6,116,250\n", r"line 2: 5 fields; expected 4"),
        ("name;lat;lon\nA;51,5;7,1\n", r"line 2, column 'lat': '51,5' is not a number.*decimal point"),
        ("name,lat,lon\nA,-95.2,29.8\n", r"line 2, column 'lat': -95.2 is out of range.*lat and lon swapped"),
        ("name,lat,lon,population\nA,1,2,10\nB,3,4,5\nA,1.0,2.00,10\n", r"line 4: 'A' at 1, 2 repeats line 2"),
    ],
)
def test_receptor_csv_silent_misreads_refused(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(DataFileError, match=r"receptors\.csv: " + pattern):
        read_receptor_csv(_csv(tmp_path, text))


def test_districts_inside_a_larger_citys_disc_are_named():
    """GeoNames lists Hamburg's boroughs as places of their own: a comparison over German cities
    counted Hamburg (2.0 million) and Wandsbek, Altona, ... twice in its totals (decision audit)."""
    import numpy as np

    from plumecast.exposure import receptor_radius_m
    from plumecast.receptors import Receptors, load_cities, nested_note, nested_receptors

    r = load_cities(min_population=150000, bbox=(8.0, 52.0, 12.0, 55.0))
    pairs = nested_receptors(r, receptor_radius_m(r.population))
    names = {(str(r.name[i]), str(r.name[o])) for i, o in pairs}
    assert ("Wandsbek", "Hamburg") in names and ("Altona", "Hamburg") in names
    assert not any(i == "Hamburg" for i, _ in names)  # the larger is never the inner one
    note = nested_note(r, receptor_radius_m(r.population))
    assert note is not None and "may count their people twice" in note
    # each inner receptor counted once, not each pair (e2e audit, session 30: "445" of 430 receptors)
    assert note.startswith(f"{len({i for i, _ in pairs})} receptor(s) lie inside")
    ring = Receptors(np.array(["big", "mid", "small"], dtype=object), np.array([50.0, 50.001, 50.002]),
                     np.array([8.0, 8.0, 8.0]), np.array([1e6, 1e5, 1e3]), np.array(["DE"] * 3, dtype=object))
    assert len(nested_receptors(ring, np.array([9000.0, 5000.0, 1000.0]))) == 3  # small in mid and in big
    said = nested_note(ring, np.array([9000.0, 5000.0, 1000.0]))
    assert said is not None and said.startswith("2 receptor(s)") and "small in big" in said
    # two cities far apart, or across a border, are not nested
    far = load_cities().select(["Hamburg", "Munich"])
    assert nested_receptors(far, receptor_radius_m(far.population)) == []


def test_points_without_a_disc_and_people_unknown_are_not_named_as_districts():
    """A user's point without radius_km is a point (no disc holds another), and a receptor of
    unknown people is left out of the totals, so neither is counted twice (a caravan park of
    unknown people beside a user's "houses" point had been named; honest-numbers audit); a user's
    district inside the disc its town is given is named."""
    import numpy as np

    from plumecast.receptors import Receptors, nested_receptors

    lat, lon = np.array([51.43, 51.4305, 51.431]), np.array([6.7432, 6.7434, 6.7436])
    r = Receptors(np.array(["houses", "caravans", "flats"], dtype=object), lat, lon, np.array([400.0, np.nan, 50.0]),
                  np.array(["", "", ""], dtype=object))
    assert nested_receptors(r, np.zeros(3)) == []  # points: no disc
    assert nested_receptors(r, np.array([2000.0, 0.0, 0.0])) == [(2, 0)]  # houses given a 2-km disc: flats named


def test_a_city_named_twice_is_refused_and_a_missing_one_names_the_key() -> None:
    """e2e audit, session 30: 'Le Havre' named three times was three receptors and its deaths three times
    in the totals; a name not in the table was 'not found among 6 receptors' without the key or why."""
    from plumecast.errors import ScenarioError
    from plumecast.runner import select_receptors
    from plumecast.scenario import scenario_from_dict

    def sc(names: list[str]) -> object:
        return scenario_from_dict({"name": "n", "start": "2026-03-01T00:00:00Z", "duration_h": 1, "particles": 10,
                                   "releases": [{"type": "point", "lat": 49.49, "lon": 0.11, "rate_kg_s": 1}],
                                   "receptors": {"cities": {"names": names}}})

    with pytest.raises(ScenarioError, match=r"receptors\.cities\.names: 'Le Havre' is named 2 times; expected each "
                                            r"city once"):
        sc(["Le Havre", "Paris", "le  havre"])
    with pytest.raises(ScenarioError, match=r"receptors\.cities\.names: name 'Harfleur' not found .* 15,000 people or "
                                            r"more .* receptors\.points"):
        select_receptors(sc(["Le Havre", "Harfleur"]))
    assert list(select_receptors(sc(["Le Havre", "Paris"])).name) == ["Le Havre", "Paris"]
