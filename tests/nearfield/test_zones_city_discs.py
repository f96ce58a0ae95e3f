"""A zone holds the share of a city's people in the part of its built-up disc it covers, not
the whole city or none of it by where its centre lies."""

from __future__ import annotations

import numpy as np
import pytest
from shapely import contains_xy
from shapely.geometry import Point

from plumecast.exposure import MAX_RADIUS_M
from plumecast.nearfield.zones import compute_zones
from plumecast.nearfield.zones.assessment import _load_receptor_discs
from plumecast.nearfield.zones.scenario import LocalScenario
from plumecast.nearfield.zones.setup import to_local


def _grenoble(rate_kg_s: float) -> LocalScenario:
    # a chlorine release 5 km west of Grenoble (GeoNames 45.1787 N, 5.7148 E, 158,552 people), wind from the west
    return LocalScenario.model_validate({
        "name": "t", "source": {"lat": 45.1787, "lon": 5.65, "height_m": 2.0},
        "release": {"rate_kg_s": rate_kg_s, "duration_s": 1800}, "agent": "chlorine",
        "meteorology": {"wind_speed_m_s": 3.0, "wind_from_deg": 270.0, "stability": "D"},
        "receptors": {"cities": True}})


def _sampled_people(res, s: LocalScenario) -> list[float]:
    """Each zone's people, the cities' discs sampled on a regular grid of 600 x 600 points each
    (independent of the polygon intersections the zones use)."""
    reach = max(z.max_distance_m for z in res.zones)
    found = _load_receptor_discs(s, reach, MAX_RADIUS_M)
    assert found is not None
    rec, radius = found
    x, y = to_local(s.source.lat, s.source.lon, res.setup.downwind_bearing_deg, rec.lon, rec.lat)
    u = (np.arange(600) + 0.5) / 300.0 - 1.0  # cell centres over [-1, 1]
    gx, gy = np.meshgrid(u, u)
    disc = gx**2 + gy**2 <= 1.0
    gx, gy = gx[disc], gy[disc]
    out = []
    for z in res.zones:
        total = 0.0
        for k in range(len(rec)):
            if z.polygon_local.distance(Point(x[k], y[k])) >= radius[k]:
                continue  # the disc does not reach the zone
            inside = contains_xy(z.polygon_local, x[k] + radius[k] * gx, y[k] + radius[k] * gy)
            total += float(rec.population[k]) * float(inside.mean())
        out.append(total)
    return out


@pytest.mark.parametrize("rate", [20.0, 200.0])
def test_a_zone_holds_the_share_of_each_city_disc_it_covers(rate: float) -> None:
    s = _grenoble(rate)
    res = compute_zones(s)
    rows = res.table()
    sampled = _sampled_people(res, s)
    for row, want in zip(rows, sampled, strict=True):
        assert row["receptor_people_inside"] == pytest.approx(want, rel=0.02, abs=50.0), row["level"]
    # nested zones hold nested shares
    people = [r["receptor_people_inside"] for r in rows]
    assert people == sorted(people, reverse=True)


def test_a_city_whose_centre_lies_outside_a_zone_still_has_people_in_it() -> None:
    """The 20 kg/s AEGL-3 zone ends about 3 km from the source, 2 km short of Grenoble's centre:
    counted by centres it held nobody; the cities' discs nearest the source reach into it. The
    AEGL-2 zone (23 km) crosses Grenoble's centre but is narrower than its 6-km disc: counted by
    centres it held all 158,552 people."""
    res = compute_zones(_grenoble(20.0))
    rows = {r["level"]: r for r in res.table()}
    ds = res.receptors
    assert ds is not None
    centre_inside = {str(n): int(k) for n, k in zip(ds["receptor"].values, ds["zone_index"].values, strict=True)}
    assert not any(k >= 2 for k in centre_inside.values())  # no centre in the AEGL-3 zone
    assert rows["AEGL-3"]["receptor_people_inside"] > 1000.0 and rows["AEGL-3"]["receptors_inside"] >= 1
    assert centre_inside["Grenoble"] >= 1  # Grenoble's centre is in the AEGL-2 zone ...
    assert rows["AEGL-2"]["receptor_people_inside"] < 158_552.0  # ... which covers only part of its disc


def test_a_city_whose_disc_alone_reaches_a_zone_is_named_not_left_out() -> None:
    """20 kg/s of ammonia 0.6 km west and 1 km south of Veenendaal's centre (61,271 people, a disc of 2 km), a
    night wind from the west: the zones held about 1,700 of its people in the AEGL-3 zone, but the deaths are
    assessed at centres, and its centre lies in no zone and outside the sector: it was left out of the
    deaths' totals without a word (audit, session 38). The totals now name it, and every city they name
    has its centre outside the zones and the sector and its disc reaching one."""
    from plumecast.cli.zones import edge_note

    s = LocalScenario.model_validate({
        "name": "t", "source": {"lat": 52.02, "lon": 5.55, "height_m": 1.0},
        "release": {"rate_kg_s": 20.0, "duration_s": 1800}, "agent": "ammonia",
        "meteorology": {"wind_speed_m_s": 1.5, "wind_from_deg": 270.0, "daytime": False, "cloud_cover_octas": 2,
                        "air_temperature_c": 8.0},
        "receptors": {"cities": True, "min_population": 0}})
    res = compute_zones(s)
    edge = {name: (people, zone) for name, people, zone in res.edge_receptors}
    assert "Veenendaal" in edge and edge["Veenendaal"][0] > 60_000
    assessed = set(str(n) for n in res.receptors["receptor"].values) if res.receptors is not None else set()
    assert not assessed & set(edge)
    assert res.receptor_people is not None and res.receptor_people[2][0] > 1000  # the AEGL-3 zone's count
    note = edge_note(res)
    assert note.startswith("; not in the totals, deaths not computed: ") and "Veenendaal (61,000 people" in note
