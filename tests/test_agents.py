"""Agents: shipped table, user-defined agents, AEGL time scaling, unit conversions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from plumecast import units
from plumecast.agents import Agent, AgentSpec, get_agent, list_agents, resolve_agent
from plumecast.errors import ScenarioError
from plumecast.toxicology import aegl_loglog_interpolate

MIN = 60.0
HOUR = 3600.0


def test_shipped_table_has_the_13_agents_of_the_shared_data():
    names = list_agents()
    assert len(names) == 13
    assert names[0] == "chlorine"
    assert {"ammonia", "phosgene", "methyl isocyanate"} <= set(names)


def test_get_agent_is_case_insensitive_and_unknown_name_lists_known_ones():
    assert get_agent("  ChLoRiNe ").name == "chlorine"
    with pytest.raises(ScenarioError, match="known agents are chlorine, ammonia"):
        get_agent("unobtainium")


def test_chlorine_row_matches_the_csv():
    cl = get_agent("chlorine")
    assert cl.molecular_weight_g_mol == 70.906
    assert cl.aegl_ppm[3] == {"10min": 50.0, "30min": 28.0, "60min": 20.0, "4h": 10.0, "8h": 7.1}
    pb, lees = cl.probits["purple_book"], cl.probits["lees"]
    assert (pb.a, pb.b, pb.n, pb.conc_unit, pb.time_unit) == (-6.35, 0.5, 2.75, "mg/m3", "min")
    assert (lees.a, lees.b, lees.n, lees.conc_unit, lees.time_unit) == (
        -8.29,
        0.92,
        2.0,
        "ppm",
        "min",
    )
    assert cl.lfl_vol_pct is None and not cl.flammable
    assert get_agent("ammonia").lfl_vol_pct == 15.0


def test_missing_values_stay_missing_and_are_flagged():
    hf = get_agent("hydrogen fluoride")
    assert hf.aegl_ppm_at(1, 30 * MIN) == 1.0
    assert hf.aegl_kg_m3(3, 30 * MIN) is None  # blank in the table: never zero
    assert set(hf.missing_aegl()) == {2, 3}
    flags = " ".join(hf.data_warnings())
    assert "AEGL-3 missing" in flags and "primary-text (AEGL-1 only)" in flags
    assert any("'secondary'" in w for w in get_agent("sulfur dioxide").data_warnings())
    eo = get_agent("ethylene oxide")
    assert eo.probit_set("lees") is None
    assert any("no probit set 'lees'" in w for w in eo.data_warnings("lees"))
    assert get_agent("chlorine").data_warnings() == []


@pytest.mark.parametrize(
    ("agent", "ppm", "mg_m3"),
    [
        # mg/m3 = ppm * MW / V_m with V_m = R T / P = 24.4654 L/mol at 25 degC, 1 atm
        ("chlorine", 1.0, 70.906 / 24.46540),
        ("ammonia", 25.0, 25.0 * 17.031 / 24.46540),
        ("hydrogen sulfide", 10.0, 10.0 * 34.081 / 24.46540),
        ("phosgene", 0.5, 0.5 * 98.916 / 24.46540),
    ],
)
def test_ppm_mg_m3_conversion_against_hand_values(agent, ppm, mg_m3):
    mw = get_agent(agent).molecular_weight_g_mol
    assert units.ppm_to_mg_m3(ppm, mw) == pytest.approx(mg_m3, rel=1e-6)
    assert units.mg_m3_to_ppm(mg_m3, mw) == pytest.approx(ppm, rel=1e-6)
    assert units.ppm_to_kg_m3(ppm, mw) == pytest.approx(mg_m3 * 1e-6, rel=1e-6)


def test_conversion_at_a_stated_temperature():
    # 0 degC, 1 atm: V_m = 22.41397 L/mol; 1 ppm chlorine = 70.906 / 22.41397 mg/m3
    mw = get_agent("chlorine").molecular_weight_g_mol
    assert units.ppm_to_mg_m3(1.0, mw, temperature_k=273.15) == pytest.approx(
        70.906 / 22.41397, rel=1e-6
    )
    assert get_agent("chlorine").aegl_kg_m3(3, 10 * MIN, temperature_k=273.15) == pytest.approx(
        50 * 70.906 / 22.41397 * 1e-6, rel=1e-6
    )


def test_aegl_interpolation_matches_hand_computation():
    cl = get_agent("chlorine")
    # 45 min between 30 min (28 ppm) and 60 min (20 ppm): ln C linear in ln t
    expected = math.exp(math.log(28) + math.log(20 / 28) * math.log(45 / 30) / math.log(60 / 30))
    assert cl.aegl_ppm_at(3, 45 * MIN) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(22.9974, abs=1e-4)
    # 2 h between 1 h (20 ppm) and 4 h (10 ppm): n = ln4/ln2 = 2, so C^2 t = 20^2 * 1 h
    assert cl.aegl_ppm_at(3, 2 * HOUR) == pytest.approx(math.sqrt(400 / 2), rel=1e-12)
    # hydrogen sulfide AEGL-3 at 2 h: 50 * (37/50)^(1/2) = 43.012
    assert get_agent("hydrogen sulfide").aegl_ppm_at(3, 2 * HOUR) == pytest.approx(
        43.0116, abs=1e-4
    )
    # tabulated points exactly, and no extrapolation outside 10 min .. 8 h
    assert cl.aegl_ppm_at(3, 30 * MIN) == pytest.approx(28.0)
    assert cl.aegl_ppm_at(3, 2 * MIN) == pytest.approx(50.0, rel=1e-12)
    assert cl.aegl_ppm_at(3, 24 * HOUR) == pytest.approx(7.1, rel=1e-12)
    assert cl.aegl_ppm_at(2, 20 * MIN) == pytest.approx(2.8)
    assert cl.aegl_kg_m3(3, 30 * MIN) == pytest.approx(28 * 70.906 / 24.46540 * 1e-6, rel=1e-6)


def test_interpolation_with_a_gap_returns_nan_only_next_to_the_gap():
    t = [600, 1800, 3600, 14400, 28800]
    c = [np.nan, 28, np.nan, 10, 7.1]
    out = aegl_loglog_interpolate(t, c, [300, 1800, 2400, 14400, 20000])
    assert np.isnan(out[0]) and np.isnan(out[2])
    assert out[1] == pytest.approx(28) and out[3] == pytest.approx(10)
    assert out[4] == pytest.approx(10 * (7.1 / 10) ** (math.log(20000 / 14400) / math.log(2)))


def test_user_defined_agent_is_validated_like_the_table():
    agent = resolve_agent(
        {
            "name": "fictional",
            "molecular_weight_g_mol": 100.0,
            "aegl_ppm": {
                "AEGL-1": {"10min": 1, "1h": 1},
                2: {"10min": 10},
                "3": {"10min": 100, "8h": 20},
            },
            "probit": {
                "a": -5,
                "b": 1,
                "n": 2,
                "conc_unit": "ppm",
                "time_unit": "min",
                "source": "demo",
            },
        }
    )
    assert agent.aegl_ppm[1]["60min"] == 1.0 and agent.aegl_ppm[2]["30min"] is None
    assert list(agent.probits) == ["user"]
    assert agent.aegl_check == "user-defined"
    with pytest.raises(ScenarioError, match="^invalid agent definition: agent: molecular_weight_g_mol: 0 is too small; "
                       "expected more than 0$"):
        resolve_agent({"name": "x", "molecular_weight_g_mol": 0})
    with pytest.raises(ScenarioError, match="exceeds AEGL-3"):
        resolve_agent(
            {
                "name": "x",
                "molecular_weight_g_mol": 1,
                "aegl_ppm": {2: {"10min": 5}, 3: {"10min": 4}},
            }
        )
    with pytest.raises(ScenarioError, match="duration"):
        resolve_agent({"name": "x", "molecular_weight_g_mol": 1, "aegl_ppm": {1: {"2h": 5}}})
    with pytest.raises(ScenarioError, match="toxicity: unknown key"):
        resolve_agent({"name": "x", "molecular_weight_g_mol": 1, "toxicity": 3})
    with pytest.raises(ValidationError):
        agent.name = "other"  # frozen


def test_agent_spec_field_accepts_a_name_a_definition_or_table_overrides():
    class Case(BaseModel):
        agent: AgentSpec

    assert Case(agent="Ammonia").agent.name == "ammonia"
    over = Case.model_validate({"agent": {"name": "chlorine", "decay_rate_s": 1e-5}}).agent
    assert over.decay_rate_s == 1e-5 and over.aegl_ppm == get_agent("chlorine").aegl_ppm
    with pytest.raises(ValidationError, match="unknown agent 'nerve'"):
        Case(agent="nerve")
    assert isinstance(Case(agent=get_agent("chlorine")).agent, Agent)


def test_agents_command_says_which_removal_each_agent_allows(capsys, monkeypatch):
    """`plumecast agents`: a deposition column, the resistance model for the agents with
    Wesely constants, wet scavenging where the table has it, a dash where nothing."""
    from tests.helpers import run_cli

    monkeypatch.setenv("COLUMNS", "250")
    rc, out = run_cli(["agents"], capsys, monkeypatch)
    assert rc == 0 and "deposition" in out
    rows = {line.split("│")[1].strip(): line.split("│")[-2].strip() for line in out.splitlines()
            if line.startswith("│")}
    assert rows["chlorine"] == "dry: resistance model"
    assert rows["ammonia"] == "dry: resistance model, wet"
    assert rows["phosgene"] == "—"


def test_the_agents_provenance_hashes_are_those_of_the_shipped_files():
    """PROVENANCE.md gave SOURCES.md a SHA-256 from before its deposition section was added
    (audit, session 24): each shipped file's hash, the table's last column, must be its own."""
    import hashlib
    import re
    from importlib import resources

    folder = resources.files("plumecast") / "data" / "agents"
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (folder / "PROVENANCE.md").read_text(), re.M)
    assert {name for name, _ in rows} >= {"agents.csv", "SOURCES.md"}
    for name, digest in rows:
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_agents_command_keeps_every_word_whole_at_80_columns(capsys, monkeypatch):
    """At 80 columns the table had folded its headers and cells mid-word ("depositio n",
    "resistanc e model"): it is printed in parts that fit, each led by the agent."""
    from plumecast.cli.common import console
    from tests.helpers import run_cli

    monkeypatch.setattr(console, "_width", 80)
    rc, out = run_cli(["agents"], capsys, monkeypatch)
    assert rc == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    cells = [c.strip() for line in out.splitlines() if line.startswith(("│", "┃")) for c in line.split("│" if
             line.startswith("│") else "┃")[1:-1]]
    assert "deposition" in cells and "dry: resistance model, wet" in cells and "hydrogen fluoride" in cells
    assert not any(c in cells for c in ("depositio", "resistanc", "secondar"))
