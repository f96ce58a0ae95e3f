"""Dense-gas validation: arc-maximum methane concentrations of LNG spill trials against the zones model.

Ten LNG spills on water (Burro 3/7/8/9 and Coyote 3/5/6 at China Lake,
Maplin Sands 27/34/35 on the Thames estuary) with the measured arc-wise
maximum mole fraction at 2–8 distances. The data and the trial inputs come
from the FDS validation suite (NIST SP 1018-3, LNG Dispersion chapter), which
took them from the NFPA/FPRF LNG model evaluation database (Ivings et al.
2007; Coldrick et al. 2010); files, commits and caveats are in
``plumecast/data/dense_gas/PROVENANCE.md``.

Each trial is run through the ``plumecast zones`` code path
(:func:`plumecast.nearfield.zones.plume_setup`,
:func:`plumecast.nearfield.zones.peak_concentration`) as a user would describe
it from the sourced numbers only:

* release: methane (16.04 g/mol) at the FDS source temperature (−161.55 °C),
  ground level, rate = mass flux × π r² of the source, duration = the FDS
  source ramp's full-rate-equivalent duration;
* weather: the 10-m wind from the measured profile (the 10-m reading where
  there is one, else the straight line in ln z through the two highest
  measurements — no roughness assumed), the trial's Obukhov length and
  roughness length (so zones takes the Pasquill class by Golder 1972), the
  measured air temperature; ``averaging_time_s`` left at the zones default;
* prediction: the axis peak at 1 m (the lowest sensors: 1 m at China Lake,
  0.9–1.0 m at Maplin Sands), converted to mole % at the air temperature and
  1 atm, as zones' dense-gas model does.

Nothing is fitted: the scores (Chang & Hanna 2004) are those of the model as it is.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from plumecast.errors import DataFileError
from plumecast.validation.dense_gas import METHANE_MW_G_MOL, _model, lng_zones_scenario
from plumecast.validation.metrics import Scores, scores

#: Height of the predicted concentration: the lowest gas sensors of the trials. [m]
RECEPTOR_HEIGHT_M = 1.0
_R = 8.314462618
_P = 101_325.0
_TRIAL_COLUMNS = ("trial", "site", "fds_file", "fds_commit", "mass_flux_kg_m2_s", "source_radius_m",
                  "release_duration_s", "release_temperature_c", "air_temperature_c", "air_temperature_height_m",
                  "obukhov_length_m", "roughness_length_m", "friction_velocity_m_s", "pressure_pa",
                  "wind_heights_m", "wind_speeds_m_s")
_ARC_COLUMNS = ("trial", "exp_file", "distance_m", "ch4_mole_percent")


@dataclass(frozen=True)
class LngTrial:
    """Inputs of one LNG spill trial as sourced (SI; temperatures in °C as in the file)."""

    name: str
    site: str
    fds_file: str
    fds_commit: str
    mass_flux_kg_m2_s: float
    source_radius_m: float
    release_duration_s: float
    release_temperature_c: float
    air_temperature_c: float
    air_temperature_height_m: float
    obukhov_length_m: float
    roughness_length_m: float
    friction_velocity_m_s: float
    pressure_pa: float
    wind_heights_m: tuple[float, ...]
    wind_speeds_m_s: tuple[float, ...]

    @property
    def rate_kg_s(self) -> float:
        """Vapour source rate: mass flux over the circular source. [kg s-1]"""
        return self.mass_flux_kg_m2_s * math.pi * self.source_radius_m**2

    @property
    def wind_10m_m_s(self) -> float:
        """10-m wind from the measured profile (see :func:`wind_at_10m_from_profile`). [m s-1]"""
        return wind_at_10m_from_profile(self.wind_heights_m, self.wind_speeds_m_s)


@dataclass(frozen=True)
class ArcMaximum:
    """One measured arc-wise maximum."""

    trial: str
    distance_m: float
    mole_percent: float


def trials_path() -> Path:
    """The shipped trial-input table."""
    return Path(str(resources.files("plumecast") / "data" / "dense_gas" / "lng_trials.csv"))


def arcs_path() -> Path:
    """The shipped arc-maximum table."""
    return Path(str(resources.files("plumecast") / "data" / "dense_gas" / "lng_arcmax.csv"))


def _rows(p: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Data rows with their line numbers; ``#`` lines are provenance comments."""
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{p}: cannot read ({exc})") from None
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise DataFileError(f"{p}: no header line")
    reader = csv.DictReader([line for _, line in numbered])
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise DataFileError(f"{p}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
    rows = [(numbered[k + 1][0], row) for k, row in enumerate(reader)]
    if not rows:
        raise DataFileError(f"{p}: no data rows")
    return rows


def _number(p: Path, line: int, key: str, text: str | None) -> float:
    try:
        v = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataFileError(f"{p}: line {line}: {key} = {text!r} is not a number") from None
    if not math.isfinite(v):
        raise DataFileError(f"{p}: line {line}: {key} = {text!r} is not finite")
    return v


def read_lng_trials(path: Path | str | None = None) -> list[LngTrial]:
    """Trial inputs from the CSV; a bad column or value is a :class:`DataFileError` naming it."""
    p = trials_path() if path is None else Path(path)
    out = []
    for line, row in _rows(p, _TRIAL_COLUMNS):
        def num(key: str, row: dict[str, str] = row, line: int = line) -> float:
            return _number(p, line, key, row[key])

        heights = tuple(_number(p, line, "wind_heights_m", s) for s in row["wind_heights_m"].split(";"))
        speeds = tuple(_number(p, line, "wind_speeds_m_s", s) for s in row["wind_speeds_m_s"].split(";"))
        if len(heights) != len(speeds) or len(heights) < 2:
            raise DataFileError(f"{p}: line {line}: wind_heights_m and wind_speeds_m_s need the same number "
                                f"(at least 2) of ';'-separated values")
        if any(h <= 0 for h in heights) or any(s <= 0 for s in speeds):
            raise DataFileError(f"{p}: line {line}: wind heights and speeds must be positive")
        for key in ("mass_flux_kg_m2_s", "source_radius_m", "release_duration_s", "roughness_length_m"):
            if num(key) <= 0:
                raise DataFileError(f"{p}: line {line}: {key} = {row[key]!r} must be positive")
        out.append(LngTrial(
            name=row["trial"].strip(), site=row["site"].strip(), fds_file=row["fds_file"].strip(),
            fds_commit=row["fds_commit"].strip(), mass_flux_kg_m2_s=num("mass_flux_kg_m2_s"),
            source_radius_m=num("source_radius_m"), release_duration_s=num("release_duration_s"),
            release_temperature_c=num("release_temperature_c"), air_temperature_c=num("air_temperature_c"),
            air_temperature_height_m=num("air_temperature_height_m"), obukhov_length_m=num("obukhov_length_m"),
            roughness_length_m=num("roughness_length_m"), friction_velocity_m_s=num("friction_velocity_m_s"),
            pressure_pa=num("pressure_pa"), wind_heights_m=heights, wind_speeds_m_s=speeds,
        ))
    return out


def read_arc_maxima(path: Path | str | None = None) -> list[ArcMaximum]:
    """Measured arc maxima (mole %) from the CSV; a bad value is a :class:`DataFileError` naming it."""
    p = arcs_path() if path is None else Path(path)
    out = []
    for line, row in _rows(p, _ARC_COLUMNS):
        x = _number(p, line, "distance_m", row["distance_m"])
        c = _number(p, line, "ch4_mole_percent", row["ch4_mole_percent"])
        if x <= 0 or not 0 < c <= 100:
            raise DataFileError(f"{p}: line {line}: need distance_m > 0 and 0 < ch4_mole_percent <= 100")
        out.append(ArcMaximum(row["trial"].strip(), x, c))
    return out


def wind_at_10m_from_profile(heights_m: tuple[float, ...], speeds_m_s: tuple[float, ...]) -> float:
    """10-m wind from measured speeds: the 10-m reading, else linear in ln z. [m s-1]

    Between the two measurements that bracket 10 m, or through the two highest
    when all lie below (a log-law extrapolation fitted to the trial's own
    profile, so no roughness length is assumed).
    """
    pairs = sorted(zip(heights_m, speeds_m_s, strict=True))
    for h, s in pairs:
        if math.isclose(h, 10.0):
            return s
    below = [q for q in pairs if q[0] < 10.0]
    above = [q for q in pairs if q[0] > 10.0]
    (z1, u1), (z2, u2) = (below[-1], above[0]) if below and above else (pairs[-2], pairs[-1])
    return u1 + (u2 - u1) * math.log(10.0 / z1) / math.log(z2 / z1)


def zones_scenario(trial: LngTrial) -> dict[str, object]:
    """The local scenario (YAML-like mapping) a zones user would write for the trial."""
    meteorology: dict[str, object] = {
        "wind_speed_m_s": trial.wind_10m_m_s, "wind_from_deg": 270.0,
        "obukhov_length_m": trial.obukhov_length_m, "roughness_length_m": trial.roughness_length_m,
        "air_temperature_c": trial.air_temperature_c,
    }
    return lng_zones_scenario(trial.name, trial.rate_kg_s, trial.release_duration_s, trial.release_temperature_c,
                              meteorology, RECEPTOR_HEIGHT_M)


def predicted_mole_percent(trial: LngTrial, distances_m: list[float]) -> tuple[list[float], str, str]:
    """Axis peak [mole %] at the distances, the model zones used and its Pasquill class."""
    from plumecast.nearfield.zones import LocalScenario, peak_concentration, plume_setup

    setup = plume_setup(LocalScenario.model_validate(zones_scenario(trial)))
    to_pct = 100.0 * _R * (trial.air_temperature_c + 273.15) / (_P * METHANE_MW_G_MOL / 1000.0)
    x = np.asarray(distances_m, dtype=float)
    c = peak_concentration(setup, x, np.zeros_like(x))
    return [float(v) * to_pct for v in c], _model(setup), str(setup.pg_class)


@dataclass(frozen=True)
class TrialResult:
    """Observed and predicted arc maxima of one trial and their scores."""

    trial: LngTrial
    distances_m: list[float]
    observed_pct: list[float]
    predicted_pct: list[float]
    model: str
    pg_class: str
    scores: Scores


@dataclass(frozen=True)
class ArcValidation:
    """Per-trial results, and the scores over all arcs of all trials."""

    results: list[TrialResult]
    overall: Scores


def evaluate_arcs(trials_csv: Path | str | None = None, arcs_csv: Path | str | None = None) -> ArcValidation:
    """Run every trial that has arc data and score the predicted arc maxima."""
    trials = read_lng_trials(trials_csv)
    arcs = read_arc_maxima(arcs_csv)
    names = {t.name for t in trials}
    orphans = sorted({a.trial for a in arcs} - names)
    if orphans:
        where = arcs_path() if arcs_csv is None else arcs_csv
        raise DataFileError(f"{where}: trial(s) {', '.join(orphans)} not in the trial-input table")
    results = []
    for t in trials:
        mine = sorted((a for a in arcs if a.trial == t.name), key=lambda a: a.distance_m)
        if not mine:
            continue
        xs = [a.distance_m for a in mine]
        obs = [a.mole_percent for a in mine]
        pred, model, pg = predicted_mole_percent(t, xs)
        results.append(TrialResult(t, xs, obs, pred, model, pg, scores(obs, pred)))
    if not results:
        raise DataFileError("no trial has arc-maximum data")
    all_obs = [v for r in results for v in r.observed_pct]
    all_pred = [v for r in results for v in r.predicted_pct]
    return ArcValidation(results, scores(all_obs, all_pred))
