"""`plumecast zones` in a planner's first hour (zones audit, session 40): a place at the source is unknown,
not "no exposure"; the default AEGLs an agent lacks are left out, not refused; a liquid at the air's
temperature is said to be one; a zone tip short of or past the model's range reads so in the table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from plumecast.errors import ScenarioError
from plumecast.nearfield.zones import compute_zones, read_zones_scenario

RELEASE = """\
name: {name}
start: 2026-03-10T14:00:00Z
agent: {agent}
releases:
  - {{type: point, lat: 49.49, lon: 8.40, height_m: {height}, {amount}, duration_s: 600}}
local_weather: {{wind_speed_m_s: 3.0, wind_from_deg: 270, stability: D, terrain: urban, air_temperature_c: 15}}
"""


def _zones(tmp_path: Path, agent: str = "chlorine", amount: str = "amount_kg: 907", extra: str = "",  # type: ignore[no-untyped-def]
           height: float = 1.0):
    path = tmp_path / "s.yaml"
    path.write_text(RELEASE.format(name="t", agent=agent, amount=amount, height=height) + extra)
    return compute_zones(read_zones_scenario(path, None).scenario, consequences=True)


def test_a_place_at_the_source_is_unknown_not_unexposed(tmp_path: Path) -> None:
    # it had read 0 ppm, probit -inf, "no exposure" inside the AEGL-3 zone
    res = _zones(tmp_path, extra="receptors:\n  points:\n    - {name: at source, lat: 49.49, lon: 8.40, population: 10}\n"
                                 "    - {name: school, lat: 49.49, lon: 8.41383, population: 500}\n")
    rec = res.receptors
    at = list(rec["receptor"].values).index("at source")
    assert math.isnan(float(rec["peak_concentration_ppm"].values[at]))
    assert not bool(rec["concentration_known"].values[at])
    school = list(rec["receptor"].values).index("school")
    assert float(rec["peak_concentration_ppm"].values[school]) > 0
    pts = res.points
    k = list(pts["point"].values).index("at source")
    assert bool(pts["too_near"].values[k]) and not bool(pts["in_range"].values[k])
    assert math.isnan(float(pts["outdoor_ppm"].values[:, k].max()))


def test_default_levels_leave_out_an_aegl_the_agent_lacks(tmp_path: Path) -> None:
    # carbon monoxide's AEGL-1 is "not recommended": 7 of the 13 shipped agents had been refused outright
    res = _zones(tmp_path, agent="carbon monoxide", amount="rate_kg_s: 1.0")
    assert [z.level.name for z in res.zones if z.level.aegl is not None] == ["AEGL-2", "AEGL-3"]
    assert any(w.startswith("AEGL-1: n/a, agent 'carbon monoxide' has no AEGL-1") for w in res.warnings)
    # a level the scenario names is still refused, with its key
    with pytest.raises(ScenarioError, match=r"levels\.0\.aegl"):
        _zones(tmp_path, agent="carbon monoxide", amount="rate_kg_s: 1.0", extra="zones:\n  levels: [{aegl: 1}]\n")


def test_a_liquid_at_the_air_temperature_is_said_to_be_one(tmp_path: Path) -> None:
    # hydrogen fluoride (boils at 19.5 °C) at 15 °C had read as a light passive gas without a word
    res = _zones(tmp_path, agent="hydrogen fluoride", amount="rate_kg_s: 1.0",
                 extra="zones:\n  levels: [{aegl: 1}]\n")
    assert any("hydrogen fluoride boils at 20 °C, above the air's 15 °C" in w for w in res.warnings), res.warnings
    chlorine = _zones(tmp_path)
    assert not any("boils above the air" in w for w in chlorine.warnings)


def test_a_dense_plume_zone_reaches_upwind_by_its_gravity_spread(tmp_path: Path) -> None:
    # 55 t of chlorine over 10 min, class F, 1.5 m/s: the AEGL-3 zone was 1.3 km wide at the source and started
    # there; the workbook's upwind extent L_U = D/2 + 2 l_b (Britter & McQuaid 1988) is about 290 m for a
    # release lasting for ever; over 10 min it reaches no farther than the whole mass at once under the
    # model's slumping, R(t) - u t at its farthest, about 110 m (session 41)
    path = tmp_path / "rail.yaml"
    path.write_text(RELEASE.format(name="rail", agent="chlorine", amount="amount_kg: 55000", height=1.0).replace(
        "wind_speed_m_s: 3.0", "wind_speed_m_s: 1.5").replace("stability: D", "stability: F")
        + "receptors:\n  points:\n    - {name: upwind 60 m, lat: 49.49, lon: 8.399172, population: 50}\n")
    res = compute_zones(read_zones_scenario(path, None).scenario, consequences=True)
    d = res.setup.dense
    assert d is not None and d.kind == "continuous"
    u = res.setup.wind_speed_m_s
    steady = 0.5 * d.length_scale_m + 2.0 * d.g0p * d.source_volume / u**3
    assert d.upwind_extent_m(u) == pytest.approx(steady) and 200.0 < steady < 400.0
    puff = res.setup.instantaneous.dense  # the whole mass at once: max_t R(t) - u t, R^2 = R0^2 + c t
    r0, c = puff.puff_slumping()
    t = np.linspace(0.0, 3600.0, 360001)
    reach = float(np.max(np.sqrt(r0**2 + c * t) - u * t))
    assert puff.upwind_extent_m(u) == pytest.approx(reach, rel=1e-6)
    up = min(steady, reach)
    assert 90.0 < up < 130.0
    assert any(f"the zones reach {round(up, -1):,.0f} m upwind" in w and "whole release at once" in w
               for w in res.warnings), res.warnings
    for z in res.zones:
        if z.level.aegl is not None:
            assert z.polygon_local.geom_type == "Polygon" and z.polygon.is_valid
            assert z.polygon_local.bounds[0] == pytest.approx(-up, rel=1e-6)
    # a place in that spread is inside the zones, its concentration unknown (the model gives none there)
    rec = res.receptors
    k = list(rec["receptor"].values).index("upwind 60 m")
    assert int(rec["zone_index"].values[k]) >= 0 and not bool(rec["concentration_known"].values[k])


def test_review_of_the_zones_changes(tmp_path: Path) -> None:
    """Review of session 40: an agent with no AEGL at all is refused with the default levels (an empty table had
    exited cleanly); an unknown concentration's arrival reads 'unknown', not '—'; a point near the source is
    not called far; an unreached level's GeoJSON feature has an empty geometry GEOS reads; the foot of a stack
    is the model's near-zero, not unknown; a release temperature below the boiling point is a liquid too."""
    import json

    import shapely

    from plumecast.cli.zones import _arrival, unknown_receptors_note
    from plumecast.nearfield.zones.export import distance_text, to_geojson

    with pytest.raises(ScenarioError, match=r"has none of the AEGL-1, 2 and 3 values"):
        _zones(tmp_path, agent="phosgene", amount="amount_kg: 900")
    res = _zones(tmp_path, extra="receptors:\n  points:\n    - {name: at source, lat: 49.49, lon: 8.40, population: 10}\n")
    rec = res.receptors
    at = list(rec["receptor"].values).index("at source")
    assert _arrival(rec, at, 2, (None, None)) == "unknown"
    note = unknown_receptors_note(None, res.points)
    assert "within 10 m of the release" in note and "beyond" not in note
    assert distance_text(7.0) == "< 0.01" and distance_text(95_400.0) == "> 10 (extrapolated: 95)"
    small = _zones(tmp_path, amount="amount_kg: 0.01")
    gj = json.dumps(to_geojson(small))
    assert '"reached": false' in gj
    assert shapely.from_geojson(gj) is not None  # GEOS had refused a null geometry
    # a release given below its boiling point is a liquid too (it had said nothing with temperature_c given)
    hf = _zones(tmp_path, agent="hydrogen fluoride", amount="rate_kg_s: 1.0, temperature_c: 15",
                extra="zones:\n  levels: [{aegl: 1}]\n")
    assert any("above the release's 15 °C" in w for w in hf.warnings), hf.warnings
    # 5 m from the foot of a 60-m stack: the model's near-zero ground air, not unknown
    stack = _zones(tmp_path, amount="rate_kg_s: 1.0, stack: {diameter_m: 2.0, exit_velocity_m_s: 10.0, "
                                     "exit_temperature_c: 100}", height=60.0,
                   extra="receptors:\n  points:\n    - {name: foot, lat: 49.49, lon: 8.40007, population: 10}\n")
    foot = list(stack.points["point"].values).index("foot")
    assert not bool(stack.points["too_near"].values[foot]) and bool(stack.points["in_range"].values[foot])
