"""The plans' figures (consequence.outdoor_outcomes) are assess's outdoor figures, value for value."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumecast.agents import get_agent
from plumecast.consequence import assess, outdoor_outcomes
from plumecast.consequence_inputs import time_axis
from plumecast.consequence_metrics import block_metrics, exposure_context, onset_floor
from plumecast.units import P_STANDARD_PA, T_STANDARD_K, ppm_to_kg_m3


def _series(agent_name: str, n_time: int = 60, n_rec: int = 40, seed: int = 0) -> np.ndarray:
    """Clouds of random size and timing, around the agent's AEGL-3 (some far below, some
    above), with zeros before and after; one column of zeros."""
    agent = get_agent(agent_name)
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None]
    arrive = rng.integers(0, n_time, n_rec)
    length = rng.integers(1, 20, n_rec)
    tables = np.concatenate([agent.aegl_table_ppm(level) for level in (1, 2, 3)])
    if np.isfinite(tables).any():
        level_ppm = float(np.nanmax(tables))
    else:  # no AEGL (phosgene): the 30-min LC50 of its first probit set
        ps = agent.probit_set("auto")
        minutes = 1800.0 / ps.seconds_per_time_unit
        c50 = (np.exp((5.0 - ps.a) / ps.b) / minutes) ** (1.0 / ps.n)
        level_ppm = float(c50 / ps.concentration_factor(agent.molecular_weight_g_mol, T_STANDARD_K, P_STANDARD_PA)
                          / ppm_to_kg_m3(1.0, agent.molecular_weight_g_mol, T_STANDARD_K, P_STANDARD_PA))
    scale = ppm_to_kg_m3(rng.lognormal(np.log(level_ppm), 2.0, n_rec),
                         agent.molecular_weight_g_mol, T_STANDARD_K, P_STANDARD_PA)
    cloud = (t >= arrive) & (t < arrive + length)
    c = np.where(cloud, scale * rng.uniform(0.2, 1.0, (n_time, n_rec)), 0.0)
    c[:, 0] = 0.0
    return c


@pytest.mark.parametrize("agent_name", ["chlorine", "phosgene", "hydrogen fluoride", "ethylene oxide"])
def test_outdoor_outcomes_are_assess_figures(agent_name: str) -> None:
    agent = get_agent(agent_name)
    c = _series(agent_name)
    start = np.datetime64("2026-01-01T00:00:00", "ns")
    time = start + np.arange(1, c.shape[0] + 1) * np.timedelta64(600, "s")
    c[5, 3] = np.nan  # an unknown receptor
    ref = assess(xr.DataArray(c, dims=("time", "receptor"), coords={"time": time}, attrs={"units": "kg m-3"}),
                 agent, np.ones(c.shape[1]), start=start, keep_timeseries=False)
    got = outdoor_outcomes(c, time, start, agent, levels=(2, 3))
    np.testing.assert_array_equal(got["lethal_fraction"], ref["lethal_fraction"].values)
    assert np.isnan(got["lethal_fraction"][3])
    assert (got["lethal_fraction"] > 0).sum() > 5  # the comparison covers deaths, not only zeros
    for level in (2, 3):
        when = ref[f"first_exceedance_aegl{level}"].values
        want = np.where(np.isnat(when), np.nan, (when - start) / np.timedelta64(1, "s"))
        np.testing.assert_array_equal(got[f"first{level}_s"], want)
        np.testing.assert_array_equal(got[f"known{level}"], ref[f"aegl{level}_known"].values.astype(float))
        assert float(got[f"available{level}"]) == ref.attrs[f"aegl{level}_available"]
    if agent_name == "phosgene":  # no AEGL at all: the times are n/a, the deaths from the probit
        assert float(got["available2"]) == float(got["available3"]) == 0.0


def test_block_metrics_outdoors_alone_are_the_same_figures() -> None:
    agent = get_agent("chlorine")
    c = _series("chlorine", n_rec=25, seed=3)
    axis = time_axis(np.arange(1, c.shape[0] + 1) * 600.0, 0.0)
    ps = agent.probit_set("auto")
    ctx = exposure_context(agent, axis, ps, onset_floor(agent), T_STANDARD_K, P_STANDARD_PA)
    both, sheltered, _ = block_metrics(c, ctx, np.ones(c.shape[0]), 0.5, False)
    alone, none, indoor = block_metrics(c, ctx, np.ones(c.shape[0]), 0.5, True, sheltered=False)
    assert none == {} and indoor is None and sheltered
    assert set(alone) == set(both)
    for key in both:
        np.testing.assert_array_equal(alone[key], both[key])


@pytest.mark.parametrize("agent_name", ["chlorine", "ammonia", "hydrogen fluoride"])
def test_outdoor_outcomes_per_probit_set_are_assess_range(agent_name: str) -> None:
    """A plan's deaths range over the agent's probit sets as run's do (DESIGN.md, "Honest numbers"; compare's
    intervals had left the sets out): each set's lethal fraction is the one assess reads for its range."""
    agent = get_agent(agent_name)
    c = _series(agent_name, seed=3)
    start = np.datetime64("2026-01-01T00:00:00", "ns")
    time = start + np.arange(1, c.shape[0] + 1) * np.timedelta64(600, "s")
    c[5, 3] = np.nan
    got = outdoor_outcomes(c, time, start, agent, probit_sets=True)
    if len(agent.probits) < 2:
        assert "lethal_fraction_sets" not in got
        return
    ref = assess(xr.DataArray(c, dims=("time", "receptor"), coords={"time": time}, attrs={"units": "kg m-3"}),
                 agent, np.ones(c.shape[1]), start=start, keep_timeseries=False)
    sets = got["lethal_fraction_sets"]
    assert sets.shape == (len(agent.probits), c.shape[1]) and np.isnan(sets[:, 3]).all()
    known = np.isfinite(sets[0])
    np.testing.assert_allclose(sets[:, known].T, ref["fatalities_by_probit_set"].values[known], rtol=1e-12)
    np.testing.assert_allclose(sets[0], got["lethal_fraction"], rtol=1e-12)  # the first set is the median's
    assert not np.allclose(sets[1][known], sets[0][known], rtol=0.1, atol=1e-12)  # the sets differ: a range
    assert "lethal_fraction_sets" not in outdoor_outcomes(c, time, start, agent)
