"""Dense-gas validation: distance to the LFL of the Burro LNG spills against the zones model.

Each trial of ``plumecast/data/dense_gas/burro_lfl.csv`` (provenance in the
``PROVENANCE.md`` there) is run through the ``plumecast zones`` code path
(:func:`plumecast.nearfield.zones.plume_setup`, :func:`plumecast.nearfield.zones.peak_concentration`)
as a user would describe it: LNG vapour (methane, 16.04 g/mol) released at
−162 °C at ground level, the trial's rate, duration, Pasquill class and 10-m
wind (a wind measured lower is carried to 10 m with the neutral logarithmic
profile over the trial's water/playa surface, roughness 0.2 mm — an assumption,
stated in the output). The predicted distance is where the axis peak
mole fraction falls to the LFL (5 %). Scores (Chang & Hanna 2004) are computed
against both published sets of observed distances.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from plumecast.errors import DataFileError
from plumecast.validation.metrics import Scores, scores

#: Methane: molecular weight [g mol-1] and lower flammable limit [mole fraction].
METHANE_MW_G_MOL = 16.043
METHANE_LFL = 0.05
#: Roughness used to carry a low wind measurement to 10 m (Burro: water pond on a dry lake bed). [m]
BURRO_ROUGHNESS_M = 2e-4
_R = 8.314462618
_P = 101_325.0
_COLUMNS = ("trial", "rate_kg_s", "duration_s", "wind_speed_m_s", "wind_height_m", "stability",
            "release_temperature_c", "air_temperature_c", "lfl_distance_phmsa_m", "lfl_distance_witlox_m")


@dataclass(frozen=True)
class Trial:
    """One dense-gas field trial (SI, temperatures in °C as in the file)."""

    name: str
    rate_kg_s: float
    duration_s: float
    wind_speed_m_s: float
    wind_height_m: float
    stability: str
    release_temperature_c: float
    air_temperature_c: float
    observed_m: dict[str, float]


def data_path() -> Path:
    """The shipped trial table."""
    return Path(str(resources.files("plumecast") / "data" / "dense_gas" / "burro_lfl.csv"))


def read_trials(path: Path | str | None = None) -> list[Trial]:
    """Trials from the CSV; a missing column or a non-number is a :class:`DataFileError` naming it."""
    p = data_path() if path is None else Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise DataFileError(f"{p}: cannot read ({exc})") from None
    except UnicodeDecodeError:  # a binary or UTF-16 file had been a traceback (badinput audit)
        raise DataFileError(f"{p}: not UTF-8 text; expected a CSV table saved as UTF-8") from None
    out = []
    for line, row in enumerate(rows, start=2):
        missing = [c for c in _COLUMNS if c not in row]
        if missing:
            raise DataFileError(f"{p}: missing column(s) {', '.join(missing)}; expected {', '.join(_COLUMNS)}")

        def num(key: str, row: dict[str, str] = row, line: int = line) -> float:
            try:
                v = float(row[key])
            except (TypeError, ValueError):
                raise DataFileError(f"{p}: line {line}: {key} = {row[key]!r} is not a number") from None
            if not math.isfinite(v):
                raise DataFileError(f"{p}: line {line}: {key} = {row[key]!r} is not finite")
            return v

        trial = Trial(
            name=row["trial"], rate_kg_s=num("rate_kg_s"), duration_s=num("duration_s"),
            wind_speed_m_s=num("wind_speed_m_s"), wind_height_m=num("wind_height_m"),
            stability=row["stability"].strip(), release_temperature_c=num("release_temperature_c"),
            air_temperature_c=num("air_temperature_c"),
            observed_m={"PHMSA 2023": num("lfl_distance_phmsa_m"), "Witlox 2013": num("lfl_distance_witlox_m")},
        )
        _check_trial(p, line, trial)
        out.append(trial)
    if not out:
        raise DataFileError(f"{p}: no trials")
    return out


def _check_trial(path: Path, line: int, trial: Trial) -> None:
    """Refuse a row the zones model cannot take (a stability Z, a negative rate, no wind), naming the line and
    the value, before any trial is computed (pydantic's own error had been a traceback; badinput audit)."""
    from pydantic import ValidationError

    from plumecast.nearfield.zones import LocalScenario

    if not (trial.wind_height_m > BURRO_ROUGHNESS_M):
        raise DataFileError(f"{path}: line {line}: wind_height_m = {trial.wind_height_m:g} is not above the "
                            f"ground's roughness ({BURRO_ROUGHNESS_M:g} m); expected the height of the wind measured")
    made = zones_scenario(trial)
    try:
        LocalScenario.model_validate(made)
    except ValidationError as exc:
        from plumecast.scenario_yaml import error_lines

        # the first problem in the scenario's words, with the key of the zones scenario the row makes
        problem = error_lines(exc, "the zones scenario it makes", {}, data=made)[0]
        raise DataFileError(f"{path}: line {line} (trial {trial.name!r}): {problem}") from None


def wind_at_10m(speed_m_s: float, height_m: float, z0_m: float = BURRO_ROUGHNESS_M) -> float:
    """Neutral logarithmic profile: ``u(10) = u(z) ln(10/z0)/ln(z/z0)``. [m s-1]"""
    return speed_m_s * math.log(10.0 / z0_m) / math.log(height_m / z0_m)


def lng_zones_scenario(name: str, rate_kg_s: float, duration_s: float, release_temperature_c: float,
                       meteorology: dict[str, object], receptor_height_m: float) -> dict[str, object]:
    """The local scenario (YAML-like mapping) a zones user would write for an LNG
    spill trial: LNG as methane released at ground level at 35.7 N 117.7 W with the
    trial's ``meteorology`` section, no city receptors, no flammable levels."""
    return {
        "name": name,
        "source": {"lat": 35.7, "lon": -117.7, "height_m": 0.0},
        "release": {"rate_kg_s": rate_kg_s, "duration_s": duration_s, "temperature_c": release_temperature_c},
        "agent": {"name": "LNG (as methane)", "molecular_weight_g_mol": METHANE_MW_G_MOL},
        "meteorology": meteorology,
        "receptor_height_m": receptor_height_m,
        "receptors": {"cities": False},
        "flammable_levels": False,
    }


def zones_scenario(trial: Trial) -> dict[str, object]:
    """The local scenario (YAML-like mapping) a zones user would write for the trial."""
    meteorology: dict[str, object] = {
        "wind_speed_m_s": wind_at_10m(trial.wind_speed_m_s, trial.wind_height_m),
        "wind_from_deg": 270.0, "stability": trial.stability,
        "air_temperature_c": trial.air_temperature_c,
    }
    return lng_zones_scenario(trial.name, trial.rate_kg_s, trial.duration_s, trial.release_temperature_c,
                              meteorology, receptor_height_m=1.0)


def predicted_lfl_distance(trial: Trial) -> tuple[float, str]:
    """Distance [m] where the zones axis peak falls to 5 % methane, and the model zones used."""
    from plumecast.nearfield.zones import LocalScenario, peak_concentration, plume_setup

    setup = plume_setup(LocalScenario.model_validate(zones_scenario(trial)))
    to_frac = _R * (trial.air_temperature_c + 273.15) / (_P * METHANE_MW_G_MOL / 1000.0)

    def frac(x: float) -> float:
        return float(peak_concentration(setup, np.array([x]), np.array([0.0]))[0]) * to_frac

    xs = np.geomspace(1.0, 1e5, 400)
    above = [x for x in xs if frac(float(x)) >= METHANE_LFL]
    if not above:
        return 0.0, _model(setup)
    lo = float(above[-1])
    hi = lo * float(xs[1] / xs[0])
    for _ in range(50):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if frac(mid) >= METHANE_LFL else (lo, mid)
    return math.sqrt(lo * hi), _model(setup)


def _model(setup: object) -> str:
    """The model zones ran, in words: passive, or Britter-McQuaid with where its
    published curves end and where the passive plume takes over (if within reach)."""
    d = getattr(setup, "dense", None)
    if d is None:
        return "passive Gaussian"
    model = f"Britter-McQuaid {d.kind}, curves to {d.curves_end_m:.0f} m"
    return model + (f", passive beyond {d.handover_m:.0f} m" if math.isfinite(d.handover_m) else "")


@dataclass(frozen=True)
class DenseValidation:
    """Predicted and observed LFL distances and their scores per set of observations."""

    trials: list[Trial]
    predicted_m: list[float]
    models: list[str]
    scores: dict[str, Scores]


def evaluate(path: Path | str | None = None) -> DenseValidation:
    """Run every trial and score the predicted LFL distances against each set of observations."""
    trials = read_trials(path)
    runs = [predicted_lfl_distance(t) for t in trials]
    pred = [r[0] for r in runs]
    sets = list(trials[0].observed_m)
    sc = {s: scores([t.observed_m[s] for t in trials], pred) for s in sets}
    return DenseValidation(trials, pred, [r[1] for r in runs], sc)
