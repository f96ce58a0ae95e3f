"""Evaluation of the local-scale Gaussian schemes on Project Prairie Grass (1956).

For every run with usable meteorology (wind speed, σ_θ, u* and L present) and
every sampling arc, each dispersion scheme (:data:`plumecast.validation.schemes.SCHEMES`)
predicts the arc-maximum concentration and the crosswind-integrated
concentration at the sampler height from the inputs a user of that scheme
would have, and the predictions are scored against the observations with the
statistics of Chang & Hanna (2004). The Briggs schemes run through the
``plumecast zones`` code itself (see :mod:`plumecast.validation.schemes`).

The ``similarity`` scheme (no constant is fitted to Prairie Grass):

* transport speed: measured 2-m wind extrapolated to the plume's mean height
  ``z̄ = sqrt(2/π) σ_z`` with the Monin–Obukhov profile
  (:func:`plumecast.nearfield.stability.wind_speed_at_height`), κ = 0.35, the
  value the compiled u* are consistent with (data README);
* σ_z: surface-layer similarity (Venkatram 1992 stable/neutral; AERMOD
  convective term unstable) — :func:`plumecast.nearfield.gaussian.surface_layer_sigma_z`;
* σ_y: measured σ_θ in AERMOD's lateral-spread form (Cimorelli et al. 2005),
  with the convective mixing height (unstable) or the mechanical mixing height
  ``2300 u*^1.5`` (stable) — :func:`plumecast.nearfield.gaussian.aermod_sigma_y`;
* Gaussian vertical profile with ground (and mixing-lid) reflection for the
  source at 0.46 m and receptors at 1.5 m;
  ``C_max = C_y / (sqrt(2π) σ_y)``.

The archive's SO2 loss-correction factors are not applied by default (see
``docs/validation.md``); ``apply_so2_correction=True`` multiplies the
observations by them.

Data layout (the CSVs of ``../shared/data/validation/prairie_grass``, shipped in
``plumecast/data/prairie_grass``): ``runs.csv`` and ``arcs.csv`` with the
columns described in that folder's README / PROVENANCE.md.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from plumecast.errors import DataFileError
from plumecast.fileio import write_bytes_atomic
from plumecast.nearfield.gaussian import (
    aermod_sigma_y,
    crosswind_integrated_concentration,
    surface_layer_sigma_z,
)
from plumecast.nearfield.stability import wind_speed_at_height
from plumecast.validation.metrics import Scores, scores
from plumecast.validation.schemes import (
    RELEASE_DURATION_S,
    SCHEMES,
    SITE_LAT_DEG,
    SITE_LON_DEG,
    Scheme,
    scheme,
    zones_meteorology,
    zones_predictor,
)

#: Height of the Prairie Grass wind-speed measurement used here. [m]
WIND_REFERENCE_HEIGHT_M = 2.0
#: κ with which the compiled Prairie Grass u* are consistent (data README).
PRAIRIE_GRASS_VON_KARMAN = 0.35

_RUN_COLUMNS = (
    "run_id",
    "release_rate_g_s",
    "source_height_m",
    "sampler_height_m",
    "wind_speed_2m_m_s",
    "sigma_theta_deg",
    "ustar_m_s",
    "obukhov_length_m",
    "mixing_height_m",
)
_ARC_COLUMNS = (
    "run_id",
    "distance_m",
    "release_rate_g_s",
    "obs_max_conc_g_m3",
    "cy_g_m2",
    "so2_loss_correction_factor",
)


def default_data_dir() -> Path:
    """Folder of the Prairie Grass CSVs shipped inside the package."""
    return Path(str(resources.files("plumecast") / "data" / "prairie_grass"))


@dataclass(frozen=True)
class RunMet:
    """Release and measured meteorology of one Prairie Grass run (SI)."""

    run_id: int
    release_rate_kg_s: float
    source_height_m: float
    sampler_height_m: float
    wind_speed_2m_m_s: float
    sigma_theta_rad: float
    friction_velocity_m_s: float
    obukhov_length_m: float
    mixing_height_m: float  # inf where not given
    wind_from_deg: float = math.nan
    date: str = ""
    start_time_local: str = ""


@dataclass(frozen=True)
class ArcObservation:
    """Observed arc maximum and crosswind integral (SI)."""

    run_id: int
    distance_m: float
    max_conc_kg_m3: float
    cy_kg_m2: float
    so2_correction: float


@dataclass
class ValidationResult:
    """Paired observations and predictions, with scores overall and per distance."""

    run_id: np.ndarray
    distance_m: np.ndarray
    obs_max_kg_m3: np.ndarray
    pred_max_kg_m3: np.ndarray
    obs_cy_kg_m2: np.ndarray
    pred_cy_kg_m2: np.ndarray
    runs_used: list[int]
    runs_skipped: list[int]
    so2_correction_applied: bool
    scheme: str = "similarity"
    pg_class: dict[int, str] = field(default_factory=dict)  # run -> class zones used (Briggs schemes)
    scores_max: dict[str, Scores] = field(default_factory=dict)
    scores_cy: dict[str, Scores] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """JSON-serialisable summary."""
        return {
            "scheme": self.scheme,
            "description": SCHEMES[self.scheme].description,
            "inputs": SCHEMES[self.scheme].inputs,
            "zones_can_use": SCHEMES[self.scheme].zones_usable,
            "pg_class_by_run": {str(k): v for k, v in sorted(self.pg_class.items())},
            "runs_used": self.runs_used,
            "runs_skipped_no_met": self.runs_skipped,
            "so2_correction_applied": self.so2_correction_applied,
            "arc_max": {k: v.as_dict() for k, v in self.scores_max.items()},
            "crosswind_integrated": {k: v.as_dict() for k, v in self.scores_cy.items()},
        }


def _read_csv(path: Path, required: Iterable[str]) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataFileError(f"{path}: file not found (expected a Prairie Grass {path.name})")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise DataFileError(
                    f"{path}: missing column(s) {', '.join(missing)}; "
                    f"expected at least {', '.join(required)}"
                )
            return list(reader)
    except UnicodeDecodeError:  # a binary or UTF-16 file had been a traceback (badinput audit)
        raise DataFileError(f"{path}: not UTF-8 text; expected a CSV table saved as UTF-8") from None


def _num(path: Path, line: int, row: dict[str, str], key: str) -> float:
    """Parse one cell; blank means missing (NaN)."""
    text = (row.get(key) or "").strip()
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise DataFileError(
            f"{path}: line {line}: column {key}: {text!r} is not a number"
        ) from None


def _run_id(path: Path, line: int, value: float) -> int:
    """A run number: a whole, finite number (a blank cell is refused, not skipped)."""
    if not math.isfinite(value) or value != round(value):
        shown = "blank" if math.isnan(value) else repr(value)
        raise DataFileError(f"{path}: line {line}: column run_id: {shown}; expected the run's whole number")
    return int(value)


def read_runs(data_dir: Path) -> tuple[list[RunMet], list[int]]:
    """Runs with usable meteorology, and the ids of those without.

    Usable: wind speed, σ_θ, u* and L all present and physical.
    """
    path = Path(data_dir) / "runs.csv"
    rows = _read_csv(path, _RUN_COLUMNS)
    usable: list[RunMet] = []
    skipped: list[int] = []
    for i, row in enumerate(rows, start=2):
        v = {k: _num(path, i, row, k) for k in _RUN_COLUMNS}
        run_id = _run_id(path, i, v["run_id"])
        if not all(
            np.isfinite(v[k]) for k in ("wind_speed_2m_m_s", "sigma_theta_deg", "ustar_m_s", "obukhov_length_m")
        ):
            skipped.append(run_id)
            continue
        if v["wind_speed_2m_m_s"] <= 0 or v["ustar_m_s"] <= 0 or v["obukhov_length_m"] == 0:
            raise DataFileError(
                f"{path}: line {i}: run {run_id}: wind speed and u* must be > 0 and L non-zero"
            )
        usable.append(
            RunMet(
                run_id=run_id,
                release_rate_kg_s=v["release_rate_g_s"] * 1e-3,
                source_height_m=v["source_height_m"],
                sampler_height_m=v["sampler_height_m"],
                wind_speed_2m_m_s=v["wind_speed_2m_m_s"],
                sigma_theta_rad=math.radians(v["sigma_theta_deg"]),
                friction_velocity_m_s=v["ustar_m_s"],
                obukhov_length_m=v["obukhov_length_m"],
                mixing_height_m=v["mixing_height_m"] if np.isfinite(v["mixing_height_m"]) else math.inf,
                wind_from_deg=_num(path, i, row, "wind_dir_deg") if "wind_dir_deg" in row else math.nan,
                date=(row.get("date") or "").strip(),
                start_time_local=(row.get("start_time_local") or "").strip(),
            )
        )
    return usable, skipped


def read_arcs(data_dir: Path) -> list[ArcObservation]:
    """Observed arc maxima and crosswind integrals, converted to SI."""
    path = Path(data_dir) / "arcs.csv"
    rows = _read_csv(path, _ARC_COLUMNS)
    out = []
    for i, row in enumerate(rows, start=2):
        v = {k: _num(path, i, row, k) for k in _ARC_COLUMNS}
        if not (np.isfinite(v["obs_max_conc_g_m3"]) and np.isfinite(v["cy_g_m2"])):
            continue
        corr = v["so2_loss_correction_factor"]
        out.append(
            ArcObservation(
                run_id=_run_id(path, i, v["run_id"]),
                distance_m=v["distance_m"],
                max_conc_kg_m3=v["obs_max_conc_g_m3"] * 1e-3,
                cy_kg_m2=v["cy_g_m2"] * 1e-3,
                so2_correction=corr if np.isfinite(corr) else 1.0,
            )
        )
    return out


def predict_arc(met: RunMet, distance_m: float, n_iter: int = 6) -> tuple[float, float]:
    """Model arc-maximum concentration [kg m-3] and crosswind integral [kg m-2].

    The transport speed and σ_z depend on each other (the speed is taken at the
    plume's mean height ``sqrt(2/π) σ_z``); a few fixed-point iterations settle them.
    """
    u = met.wind_speed_2m_m_s
    sigma_z = float("nan")
    for _ in range(n_iter):
        sigma_z = float(surface_layer_sigma_z(distance_m, u, met.friction_velocity_m_s, met.obukhov_length_m))
        z_mean = max(math.sqrt(2.0 / math.pi) * sigma_z, met.source_height_m)
        u = float(
            wind_speed_at_height(
                met.wind_speed_2m_m_s,
                WIND_REFERENCE_HEIGHT_M,
                z_mean,
                met.friction_velocity_m_s,
                met.obukhov_length_m,
                von_karman=PRAIRIE_GRASS_VON_KARMAN,
            )
        )
    sigma_y = float(
        aermod_sigma_y(
            distance_m,
            met.sigma_theta_rad,
            u,
            met.friction_velocity_m_s,
            met.obukhov_length_m,
            met.mixing_height_m,
            met.source_height_m,
        )
    )
    cy = float(
        crosswind_integrated_concentration(
            met.release_rate_kg_s, u, met.sampler_height_m, met.source_height_m, sigma_z, met.mixing_height_m
        )
    )
    return cy / (math.sqrt(2.0 * math.pi) * sigma_y), cy


def wind_speed_10m(met: RunMet) -> float:
    """The 10-m wind a standard anemometer would have read: the 2-m wind on the run's profile. [m s-1]"""
    return float(
        wind_speed_at_height(
            met.wind_speed_2m_m_s,
            WIND_REFERENCE_HEIGHT_M,
            10.0,
            met.friction_velocity_m_s,
            met.obukhov_length_m,
            von_karman=PRAIRIE_GRASS_VON_KARMAN,
        )
    )


def zones_scenario(met: RunMet, sch: Scheme, night_cloud_octas: float = 0.0) -> dict[str, object]:
    """The local scenario (as a YAML-like mapping) a zones user would write for this run."""
    return {
        "name": f"Prairie Grass run {met.run_id}",
        "source": {"lat": SITE_LAT_DEG, "lon": SITE_LON_DEG, "height_m": met.source_height_m},
        "release": {"rate_kg_s": met.release_rate_kg_s, "duration_s": RELEASE_DURATION_S},
        "agent": "sulfur dioxide",
        "meteorology": zones_meteorology(
            met.run_id,
            wind_speed_10m(met),
            met.wind_from_deg,
            met.obukhov_length_m,
            met.mixing_height_m,
            met.date,
            met.start_time_local,
            sch,
            night_cloud_octas,
        ),
        "receptor_height_m": met.sampler_height_m,
        "receptors": {"cities": False},
    }


def evaluate(
    data_dir: Path | str | None = None,
    apply_so2_correction: bool = False,
    scheme_name: str = "similarity",
    night_cloud_octas: float = 0.0,
) -> ValidationResult:
    """Run one scheme for every usable run and arc and score it.

    Parameters
    ----------
    data_dir : path, optional
        Folder with ``runs.csv`` and ``arcs.csv`` (default: the shipped copy).
    apply_so2_correction : bool
        Multiply observations by the archive's SO2 loss-correction factor.
    scheme_name : str
        A key of :data:`plumecast.validation.schemes.SCHEMES`.
    night_cloud_octas : float
        Cloud cover assumed at night by the Turner schemes (not in the archive). [octas]
    """
    return evaluate_schemes(data_dir, apply_so2_correction, [scheme_name], night_cloud_octas)[scheme_name]


def evaluate_schemes(
    data_dir: Path | str | None = None,
    apply_so2_correction: bool = False,
    scheme_names: Iterable[str] | None = None,
    night_cloud_octas: float = 0.0,
) -> dict[str, ValidationResult]:
    """:func:`evaluate` for several schemes (default: all) on one reading of the data."""
    names = list(SCHEMES) if scheme_names is None else list(scheme_names)
    schemes = [scheme(n) for n in names]
    data_dir = default_data_dir() if data_dir is None else Path(data_dir)
    runs, skipped = read_runs(data_dir)
    arcs = read_arcs(data_dir)
    by_id = {r.run_id: r for r in runs}
    out: dict[str, ValidationResult] = {}
    for sch in schemes:
        rows: list[tuple[float, ...]] = []
        classes: dict[int, str] = {}
        predictors: dict[int, Callable[[float], tuple[float, float]]] = {}
        for arc in arcs:
            met = by_id.get(arc.run_id)
            if met is None:
                continue
            if sch.zones_usable:
                if met.run_id not in predictors:
                    predictors[met.run_id], classes[met.run_id] = zones_predictor(
                        zones_scenario(met, sch, night_cloud_octas)
                    )
                pmax, pcy = predictors[met.run_id](arc.distance_m)
            else:
                pmax, pcy = predict_arc(met, arc.distance_m)
            f = arc.so2_correction if apply_so2_correction else 1.0
            rows.append((arc.run_id, arc.distance_m, arc.max_conc_kg_m3 * f, pmax, arc.cy_kg_m2 * f, pcy))
        if not rows:
            raise DataFileError(
                f"{data_dir}: no arc in arcs.csv belongs to a run with usable meteorology in runs.csv"
            )
        out[sch.name] = _scored(rows, skipped, apply_so2_correction, sch.name, classes)
    return out


def _scored(
    rows: list[tuple[float, ...]], skipped: list[int], so2: bool, name: str, classes: dict[int, str]
) -> ValidationResult:
    a = np.array(rows, dtype=float)
    result = ValidationResult(
        run_id=a[:, 0].astype(int),
        distance_m=a[:, 1],
        obs_max_kg_m3=a[:, 2],
        pred_max_kg_m3=a[:, 3],
        obs_cy_kg_m2=a[:, 4],
        pred_cy_kg_m2=a[:, 5],
        runs_used=sorted({int(r) for r in a[:, 0]}),
        runs_skipped=sorted(set(skipped)),
        so2_correction_applied=so2,
        scheme=name,
        pg_class=classes,
    )
    result.scores_max["all"] = scores(result.obs_max_kg_m3, result.pred_max_kg_m3)
    result.scores_cy["all"] = scores(result.obs_cy_kg_m2, result.pred_cy_kg_m2)
    for d in np.unique(result.distance_m):
        sel = result.distance_m == d
        key = f"{d:g} m"
        result.scores_max[key] = scores(result.obs_max_kg_m3[sel], result.pred_max_kg_m3[sel])
        result.scores_cy[key] = scores(result.obs_cy_kg_m2[sel], result.pred_cy_kg_m2[sel])
    return result


def criteria_met(result: ValidationResult) -> int:
    """How many of the six Chang & Hanna (2004) criteria the overall scores meet.

    FAC2 ≥ 0.5, |FB| ≤ 0.3 and NMSE ≤ 1.5, for the arc maximum and for the
    crosswind integral.
    """
    n = 0
    for s in (result.scores_max["all"], result.scores_cy["all"]):
        n += int(s.fac2 >= 0.5) + int(abs(s.fb) <= 0.3) + int(s.nmse <= 1.5)
    return n


def rank_schemes(results: dict[str, ValidationResult]) -> list[str]:
    """Scheme names, best validated first.

    Order: more Chang & Hanna criteria met (:func:`criteria_met`), then the
    larger mean FAC2 of arc maximum and crosswind integral (FAC2 is the most
    robust of the measures, Chang & Hanna 2004 §3), then the smaller mean |FB|.
    """

    def key(name: str) -> tuple[int, float, float]:
        r = results[name]
        m, c = r.scores_max["all"], r.scores_cy["all"]
        return (-criteria_met(r), -0.5 * (m.fac2 + c.fac2), 0.5 * (abs(m.fb) + abs(c.fb)))

    return sorted(results, key=key)


def write_outputs(
    result: ValidationResult | dict[str, ValidationResult], out_dir: Path | str, plots: bool = True
) -> list[Path]:
    """Write ``prairie_grass_pairs.csv``, ``prairie_grass_scores.json`` and a scatter PNG per scheme.

    ``result`` is one scheme's result or a mapping scheme -> result. The CSV has
    one row per scheme, run and arc; the JSON maps each scheme to its summary
    (with ``"ranking"``: best validated first); the PNGs are
    ``prairie_grass_scatter_<scheme>.png`` (not written when ``plots`` is false).
    """
    import io

    results = {result.scheme: result} if isinstance(result, ValidationResult) else dict(result)
    out = Path(out_dir)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["scheme", "run_id", "distance_m", "obs_max_g_m3", "pred_max_g_m3", "obs_cy_g_m2", "pred_cy_g_m2"])
    for name, res in results.items():
        for i in range(res.run_id.size):
            w.writerow(
                [
                    name,
                    int(res.run_id[i]),
                    f"{res.distance_m[i]:g}",
                    f"{res.obs_max_kg_m3[i] * 1e3:.6g}",
                    f"{res.pred_max_kg_m3[i] * 1e3:.6g}",
                    f"{res.obs_cy_kg_m2[i] * 1e3:.6g}",
                    f"{res.pred_cy_kg_m2[i] * 1e3:.6g}",
                ]
            )
    summary: dict[str, object] = {name: res.summary() for name, res in results.items()}
    summary["ranking"] = rank_schemes(results)
    paths = [out / "prairie_grass_pairs.csv", out / "prairie_grass_scores.json"]
    write_bytes_atomic(paths[0], buf.getvalue().encode())
    write_bytes_atomic(paths[1], json.dumps(summary, indent=2).encode())
    for name, res in results.items() if plots else ():
        png = out / f"prairie_grass_scatter_{name}.png"
        write_bytes_atomic(png, scatter_png(res))
        paths.append(png)
    return paths


def scatter_png(result: ValidationResult) -> bytes:
    """Observed vs predicted scatter (arc maximum and C_y), factor-of-2 lines, as PNG bytes."""
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.6), dpi=110)
    axes = fig.subplots(1, 2)
    panels = (
        (result.obs_max_kg_m3 * 1e3, result.pred_max_kg_m3 * 1e3, "arc maximum [g m$^{-3}$]", result.scores_max["all"]),
        (result.obs_cy_kg_m2 * 1e3, result.pred_cy_kg_m2 * 1e3, "crosswind integral [g m$^{-2}$]", result.scores_cy["all"]),
    )
    for ax, (obs, pred, label, s) in zip(axes, panels, strict=True):
        lo = 0.5 * min(obs.min(), pred.min())
        hi = 2.0 * max(obs.max(), pred.max())
        line = np.array([lo, hi])
        ax.plot(line, line, "k-", lw=1)
        ax.plot(line, 2 * line, "k--", lw=0.7)
        ax.plot(line, 0.5 * line, "k--", lw=0.7)
        sc = ax.scatter(obs, pred, c=np.log2(result.distance_m), cmap="viridis", s=14)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"observed {label}")
        ax.set_ylabel(f"predicted {label}")
        ax.set_title(f"FAC2 {s.fac2:.2f}  FB {s.fb:+.2f}  NMSE {s.nmse:.2f}", fontsize=9)
        cb = fig.colorbar(sc, ax=ax)
        ticks = [float(t) for t in np.log2([50, 100, 200, 400, 800])]
        cb.set_ticks(ticks)
        cb.set_ticklabels(["50", "100", "200", "400", "800"])
        cb.set_label("arc distance [m]")
    fig.suptitle(
        f"Project Prairie Grass, scheme {result.scheme}: {len(result.runs_used)} runs, "
        f"{result.run_id.size} arcs",
        fontsize=10,
    )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
