"""Shelter orders, evacuations and the cohorts they make."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumecast.countermeasures import Cohort, Evacuation, ShelterOrder, cohorts, sheltered_exposure
from plumecast.countermeasures.config import EvacuationConfig, ShelterOrderConfig, TerminationConfig
from plumecast.errors import ScenarioError
from plumecast.receptors import points
from plumecast.shelter import indoor_concentration

DT = 600.0
N = 144  # 24 h of 10-min steps
T_END = DT * np.arange(1, N + 1)
BEGIN = T_END - DT


def city_table() -> object:
    return points(["Tokyo", "Osaka", "Lima", "Suva"], [35.7, 34.7, -12.0, -18.1],
                  [139.7, 135.5, -77.0, 178.4], [3.7e7, 1.9e7, 1.1e7, 9.0e4])


def constant(n_rec: int = 4, c0: float = 2.0e-4) -> np.ndarray:
    return np.full((N, n_rec), c0)


def analytic_mean(a: float, b: float, c0: float, amp: float, k: float, t_ref: float) -> float:
    """Mean over [a, b] of c0 + amp exp(-k (t - t_ref))."""
    return c0 + amp * (math.exp(-k * (a - t_ref)) - math.exp(-k * (b - t_ref))) / (k * (b - a))


@pytest.mark.parametrize("end_h", [6.0, 6.0 + 250.0 / 3600.0])  # on and off a step edge
def test_shelter_end_restores_outdoor_exposure_at_the_ventilation_rate(end_h: float) -> None:
    c0, lam_h, vent_h = 3.0e-4, 0.5, 4.0
    order = ShelterOrder("all", start_h=0.0, end_h=end_h, compliance=1.0, air_changes_per_hour=lam_h,
                         ventilation_air_changes_per_hour=vent_h)
    got = order.exposure(constant(1, c0), T_END, DT)[:, 0]
    lam, vent, te = lam_h / 3600.0, vent_h / 3600.0, end_h * 3600.0
    c_end = c0 * (1.0 - math.exp(-lam * te))  # indoor air when people ventilate
    for k in range(N):
        a, b = BEGIN[k], T_END[k]
        parts = []
        if a < te:  # filling: C_in = c0 - c0 exp(-lam t)
            parts.append((min(b, te) - a) * analytic_mean(a, min(b, te), c0, -c0, lam, 0.0))
        if b > te:  # ventilating: C_in = c0 + (c_end - c0) exp(-vent (t - te))
            lo = max(a, te)
            parts.append((b - lo) * analytic_mean(lo, b, c0, c_end - c0, vent, te))
        assert got[k] == pytest.approx(sum(parts) / DT, rel=1e-10)
    # one hour after the end the indoor air is within e^-4 of outdoor ...
    k1 = int(np.searchsorted(BEGIN, te + 3600.0))
    assert abs(got[k1] - c0) < c0 * math.exp(-vent * 3600.0) * 1.01
    # ... and tends to it
    assert got[-1] == pytest.approx(c0, rel=1e-12)


def test_shelter_without_end_matches_the_single_zone_model() -> None:
    rng = np.random.default_rng(1)
    out = rng.uniform(0.0, 1.0e-3, size=(N, 3))
    order = ShelterOrder("all", start_h=0.0, air_changes_per_hour=0.8)
    ref, _ = indoor_concentration(out, np.full(N, DT), 0.8)
    np.testing.assert_allclose(order.exposure(out, T_END, DT), ref, rtol=1e-12)


def test_before_the_order_people_breathe_outdoor_air_and_buildings_fill_from_the_start() -> None:
    rng = np.random.default_rng(2)
    out = rng.uniform(0.0, 1.0e-3, size=(N, 2))
    start_h = 5.0 + 100.0 / 3600.0  # inside a step
    got = ShelterOrder("all", start_h=start_h, air_changes_per_hour=0.5).exposure(out, T_END, DT)
    k = int(start_h * 3600.0 // DT)
    np.testing.assert_array_equal(got[:k], out[:k])
    # from the step after the start: the building air that has been filling since t = 0
    ref, _ = indoor_concentration(out, np.full(N, DT), 0.5)
    np.testing.assert_allclose(got[k + 1:], ref[k + 1:], rtol=1e-12)
    assert min(out[k, 0], ref[k, 0]) <= got[k, 0] <= max(out[k, 0], ref[k, 0])


def test_evacuated_people_accumulate_no_dose_after_clearance() -> None:
    c0 = 1.0e-4
    rec = city_table()
    evac = Evacuation(["Tokyo"], order_h=3.0, clearance_h=4.0, compliance=0.7, cohorts=8)
    groups = cohorts(constant(c0=c0), T_END, DT, rec, [evac])
    evacuated = [g for g in groups if g.name.startswith("evacuated")]
    assert len(evacuated) == 8
    after = BEGIN >= evac.clear_h * 3600.0
    for k, g in enumerate(evacuated):
        assert g.weight[0] == pytest.approx(0.7 / 8)
        assert np.all(g.exposure[after, 0] == 0.0)
        # dose up to departure, nothing after: c0 x leave time
        leave_s = evac.leave_h[k] * 3600.0
        assert np.sum(g.exposure[:, 0] * DT) == pytest.approx(c0 * leave_s, rel=1e-12)
        assert np.all(g.exposure[BEGIN >= leave_s, 0] == 0.0)
    # the mean departure time is exact: order + clearance / 2
    assert np.mean(evac.leave_h) == pytest.approx(3.0 + 2.0, rel=1e-14)
    assert evac.leave_h.max() < evac.clear_h


def test_cohort_weights_sum_to_one_and_outside_receptors_are_unchanged() -> None:
    rec = city_table()
    rng = np.random.default_rng(5)
    out = rng.uniform(0.0, 1.0e-3, size=(N, 4))
    measures = [
        ShelterOrder(["Tokyo", "Osaka"], start_h=2.0, end_h=12.0, compliance=0.8),
        Evacuation((130.0, 30.0, 140.0, 40.0), order_h=4.0, clearance_h=3.0, compliance=0.5),  # Tokyo, Osaka
        ShelterOrder((170.0, -20.0, -170.0, -15.0), start_h=1.0, compliance=0.6),  # across 180: Suva
        TerminationConfig(type="termination", at_h=6.0),  # acts on tags: skipped here
    ]
    groups = cohorts(out, T_END, DT, rec, measures)
    assert all(isinstance(g, Cohort) for g in groups)
    total = np.sum([g.weight for g in groups], axis=0)
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-14)
    # Lima is in no region: all its people are outdoors, breathing the outdoor series
    outdoors = groups[0]
    assert outdoors.name == "outdoors" and outdoors.weight[2] == 1.0
    np.testing.assert_array_equal(outdoors.exposure[:, 2], out[:, 2])
    assert all(g.weight[2] == 0.0 for g in groups[1:])
    # Tokyo: 0.5 evacuate; of the others 0.8 shelter
    assert outdoors.weight[0] == pytest.approx(0.5 * 0.2)
    sheltered = next(g for g in groups if g.name == "sheltered")
    assert sheltered.weight[0] == pytest.approx(0.5 * 0.8) and sheltered.weight[3] == pytest.approx(0.6)
    # an evacuee who shelters until leaving breathes the shelter's air, then nothing
    g0 = next(g for g in groups if "sheltered until leaving" in g.name and g.weight[0] > 0)
    leave_s = 4.0 * 3600.0 + 3.0 * 3600.0 / 16.0
    before = T_END <= leave_s
    np.testing.assert_allclose(g0.exposure[before, 0], sheltered.exposure[before, 0], rtol=1e-15)
    assert np.all(g0.exposure[BEGIN >= leave_s, 0] == 0.0)


def test_unknown_outdoor_values_stay_unknown() -> None:
    rec = city_table()
    out = constant()
    out[:, 1] = np.nan  # Osaka off the grid
    groups = cohorts(out, T_END, DT, rec, [ShelterOrder("all", start_h=1.0),
                                          Evacuation("all", order_h=2.0, clearance_h=1.0)])
    for g in groups:
        assert np.all(np.isnan(g.exposure[:, 1]))
        assert np.all(np.isfinite(g.exposure[:, 0]))


def test_config_models_are_accepted_and_regions_checked() -> None:
    rec = city_table()
    out = constant()
    cfgs = [ShelterOrderConfig(type="shelter", region=["tokyo"], start_h=1.0, compliance=1.0),
            EvacuationConfig(type="evacuation", region=["Lima"], order_h=1.0, rate_per_h=0.5, cohorts=2)]
    groups = cohorts(out, T_END, DT, rec, cfgs)
    sheltered = next(g for g in groups if g.name == "sheltered")
    np.testing.assert_array_equal(sheltered.weight, [1.0, 0.0, 0.0, 0.0])
    ev = [g for g in groups if g.name.startswith("evacuated")]
    assert [round(float(g.weight[2]), 12) for g in ev] == [0.5, 0.5]
    assert "leaves 1.5 h" in ev[0].name and "leaves 2.5 h" in ev[1].name  # clearance 1 / 0.5 h-1
    with pytest.raises(ScenarioError, match="Kyoto"):
        cohorts(out, T_END, DT, rec, [ShelterOrder(["Kyoto"], start_h=0.0)])
    with pytest.raises(ScenarioError, match="two shelter orders"):
        cohorts(out, T_END, DT, rec, [ShelterOrder("all", start_h=0.0), ShelterOrder(["Lima"], start_h=3.0)])
    with pytest.raises(ScenarioError, match="lat_min"):
        ShelterOrder((0.0, 10.0, 5.0, -10.0), start_h=0.0)
    with pytest.raises(ScenarioError, match="end_h"):
        ShelterOrder("all", start_h=5.0, end_h=2.0)


def test_sheltered_exposure_doc_example_against_closed_form() -> None:
    # one hour at 1 h-1 from clean: mean = 1 - (1 - e^-1)
    got = sheltered_exposure([[1.0]], [0.0], [3600.0], 0.0, math.inf, 1.0)[0, 0]
    assert got == pytest.approx(math.exp(-1.0), rel=1e-14)
