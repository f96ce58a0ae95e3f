"""Ensemble members: who they are (:class:`MemberSpec`) and how a member changes the
scenario and its winds.

Every member's seed and random draws come from ``(scenario seed, member index)``
only (:func:`member_seed`), so a member is the same whichever worker computes it,
in whatever order, and however many members there are.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from plumecast.ensemble.config import MAX_WIND_SPEED_FACTOR, PERTURBATION_RANGES, EnsembleConfig
from plumecast.errors import ScenarioError
from plumecast.scenario import Scenario

#: HYSPLIT's 3 x 3 horizontal offset pattern (in units of the offset fraction),
#: member 0 unshifted.
OFFSET_PATTERN: tuple[tuple[int, int], ...] = (
    (0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1),
)
_MEMBER_DIMS = ("number", "member", "realization", "ensemble", "ens")


@dataclass(frozen=True)
class MemberSpec:
    """One ensemble member: everything that makes it differ from the scenario."""

    index: int
    seed: int
    met_number: int | None = None  # member of the met file's ensemble dimension
    grid_offset_cells: tuple[float, float] = (0.0, 0.0)  # (lon, lat) shift of the met grid [cells]
    wind_speed_factor: float = 1.0
    wind_direction_deg: float = 0.0  # clockwise
    kh_m2_s: float | None = None
    mixing_height_m: float | None = None
    source_rate_factor: float = 1.0
    source_timing_shift_h: float = 0.0
    #: (key, value as drawn) of the member's draws of the bounded perturbations
    #: (config.PERTURBATION_RANGES); a draw outside the range runs clipped to its edge
    #: (the field above), and describe() and clip_notes() say so
    drawn: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        # a NaN or infinite perturbation would run the member on NaN winds (zero
        # concentrations: a silent all-clear) or fail deep in the transport
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name not in ("index", "seed", "met_number", "drawn")}
        for name, v in values.items():
            for x in (v if isinstance(v, tuple) else (v,)):
                if x is not None and not math.isfinite(float(x)):
                    raise ScenarioError(f"ensemble member {self.index}: {name} is {v}; expected a finite number "
                                        "(check the ensemble: distributions of the scenario)")

    def describe(self) -> str:
        parts = [f"member {self.index}", f"seed {self.seed}"]
        defaults = MemberSpec(0, 0)
        drawn = dict(self.drawn)
        for f in dataclasses.fields(self):
            if f.name in ("index", "seed", "drawn"):
                continue
            v = getattr(self, f.name)
            if v != getattr(defaults, f.name) or (f.name in drawn and drawn[f.name] != v):
                text = f"{f.name}={v:.4g}" if isinstance(v, float) else f"{f.name}={v}"
                if f.name in drawn and drawn[f.name] != v:  # clipped to the allowed range
                    text += f" (drawn {drawn[f.name]:.4g})"
                parts.append(text)
        return ", ".join(parts)


def member_seed(scenario_seed: int, index: int) -> int:
    """The run seed of member ``index``: a function of (scenario seed, index) only.

    >>> member_seed(7, 3) == member_seed(7, 3) != member_seed(7, 4)
    True
    """
    state = np.random.SeedSequence([int(scenario_seed), int(index), 0x9E3779B9]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 62) - 1)


def member_rng(scenario_seed: int, index: int) -> np.random.Generator:
    """The generator of member ``index``'s perturbation draws."""
    return np.random.default_rng(np.random.SeedSequence([int(scenario_seed), int(index), 0x51ED]))


def member_specs(scenario: Scenario, cfg: EnsembleConfig | None, members: int | None = None,
                 source: str | None = None, lines: Mapping[tuple[str | int, ...], int] | None = None) -> list[MemberSpec]:
    """The members of a comparison (``source``, ``lines``: the scenario file and its key -> line index,
    named by what is refused of ``met_members: file``).

    ``members`` overrides ``cfg.members``. Without an ensemble config there is one
    member: the scenario itself. Member ``i`` draws its perturbations in a fixed
    order from :func:`member_rng` ``(seed, i)``; with ``cfg.control`` member 0 is
    unperturbed (its own seed still).
    """
    if cfg is None:
        n = 1 if members is None else members
        return [MemberSpec(i, member_seed(scenario.seed, i) if i else scenario.seed) for i in range(n)]
    n = cfg.members if members is None else members
    if n < 1:
        raise ScenarioError(f"ensemble: members must be >= 1, got {n}")
    if cfg.met_members == "file":
        try:
            _check_file_members(scenario, n)
        except ScenarioError as exc:
            if source is None:
                raise
            from plumecast.scenario_yaml import located_error

            raise located_error(exc, source, dict(lines or {})) from None  # "ensemble.met_members: ..."
    out = []
    for i in range(n):
        seed = member_seed(scenario.seed, i)
        rng = member_rng(scenario.seed, i)
        draws: dict[str, float] = {}
        for key in ("wind_speed_factor", "wind_direction_deg", "kh_m2_s", "mixing_height_m",
                    "source_rate_factor", "source_timing_shift_h"):
            dist = getattr(cfg, key)
            with np.errstate(over="ignore", invalid="ignore"):
                value = dist.draw(rng) if dist is not None else None  # fixed order: always the same stream use
            if value is not None:
                if not math.isfinite(value):
                    raise ScenarioError(
                        f"ensemble.{key}: member {i} drew {value} from {_dist_text(dist)}; expected a finite "
                        "number (the distribution's parameters overflow: give a smaller spread or centre)")
                if key == "wind_speed_factor" and value > MAX_WIND_SPEED_FACTOR and not (cfg.control and i == 0):
                    raise ScenarioError(
                        f"ensemble.wind_speed_factor: member {i} drew {value:.4g} from {_dist_text(dist)}; "
                        f"expected a factor of at most {MAX_WIND_SPEED_FACTOR:g} (winds {MAX_WIND_SPEED_FACTOR:g} "
                        "times the met's are beyond any observed wind; give a median near 1 and a sigma of "
                        "at most about 0.5)")
                draws[key] = value
        control = cfg.control and i == 0
        offset = (0.0, 0.0)
        if cfg.grid_offset_fraction is not None and not control:
            ox, oy = OFFSET_PATTERN[i % len(OFFSET_PATTERN)]
            offset = (ox * cfg.grid_offset_fraction, oy * cfg.grid_offset_fraction)
        if control:
            draws = {}
        # a draw outside its allowed range (a normal's tail) runs at the range's edge; the
        # draw is kept beside it (members.csv, clip_notes). The config refused the values
        # and distributions that no member, or not most members, could run with.
        bounded = {k: v for k, v in draws.items() if k in PERTURBATION_RANGES}
        used = {k: PERTURBATION_RANGES[k].clip(v) for k, v in bounded.items()}
        out.append(MemberSpec(
            index=i, seed=seed,
            met_number=i if cfg.met_members == "file" else None,
            grid_offset_cells=offset,
            wind_speed_factor=used.get("wind_speed_factor", 1.0),
            wind_direction_deg=draws.get("wind_direction_deg", 0.0),
            kh_m2_s=used.get("kh_m2_s"),
            mixing_height_m=used.get("mixing_height_m"),
            source_rate_factor=used.get("source_rate_factor", 1.0),
            source_timing_shift_h=draws.get("source_timing_shift_h", 0.0),
            drawn=tuple(bounded.items()),
        ))
    return out


def clip_notes(specs: list[MemberSpec]) -> list[str]:
    """One line per bounded perturbation some member drew outside its allowed range
    (config.PERTURBATION_RANGES), which that member ran with clipped to the range's edge:
    how many members, the extreme draw, the value used, and how the clipping moves the
    members' mean (clipping a normal K_h at 0 raises it). Empty when no draw was clipped."""
    notes = []
    for key, r in PERTURBATION_RANGES.items():
        pairs = [(d[key], float(getattr(s, key))) for s in specs for d in [dict(s.drawn)] if key in d]
        clipped = [(x, y) for x, y in pairs if x != y]
        if not clipped:
            continue
        low = [x for x, y in clipped if x < y]
        high = [x for x, y in clipped if x > y]
        sides = []
        if low:
            edge = r.clip(min(low))
            sides.append(f"{len(low)} below it (lowest draw {min(low):.4g}) with {edge:.4g}"
                         + (" (practically no release)" if r.low_open else ""))
        if high:
            sides.append(f"{len(high)} above it (highest draw {max(high):.4g}) with {r.high:.4g}")
        mean_drawn = sum(x for x, _ in pairs) / len(pairs)
        mean_used = sum(y for _, y in pairs) / len(pairs)
        fix = ("a lognormal keeps it above 0 unclipped" if low and not high and r.low == 0.0
               else "a narrower distribution (a uniform within the range) avoids it")
        notes.append(
            f"in {len(clipped)} of {len(pairs)} perturbed members ensemble.{key} drew outside its allowed range "
            f"({r.text}) and ran clipped: {' and '.join(sides)}; this moves the members' mean from "
            f"{mean_drawn:.4g} (drawn) to {mean_used:.4g} (run), so the spread is not the distribution's; {fix} "
            "(each member's draw beside the value used: members.csv; docs/plans.md)")
    return notes


def _dist_text(dist: Any) -> str:
    """``{dist: normal, mean: 0, sd: 1e308}`` for an error message."""
    parts = [f"dist: {dist.dist}"] + [f"{k}: {getattr(dist, k):g}" for k in
                                      ("mean", "sd", "median", "sigma", "low", "high", "value")
                                      if getattr(dist, k) is not None]
    return "{" + ", ".join(parts) + "}"


def timing_shift_note(scenario: Scenario, specs: list[MemberSpec]) -> str | None:
    """The notes on the members that ``compare`` shows (console and ``decision_table.md``),
    as one text, or None: the draws clipped to their allowed range (:func:`clip_notes`) and
    the releases moved before the run's start (:func:`member_notes`)."""
    notes = member_notes(scenario, specs)
    return ". ".join(n if k == 0 else n[0].upper() + n[1:] for k, n in enumerate(notes)) or None


def member_notes(scenario: Scenario, specs: list[MemberSpec]) -> list[str]:
    """The notes on the members, one line each: :func:`clip_notes` and :func:`_shift_note`."""
    shift = _shift_note(scenario, specs)
    return [*clip_notes(specs), *([shift] if shift else [])]


def _shift_note(scenario: Scenario, specs: list[MemberSpec]) -> str | None:
    """One line when ``source_timing_shift_h`` moves a release's start before the run's
    start in some members (None otherwise): the transport cannot carry air emitted
    before it starts, so those members lose that emission (:func:`_shift_release`
    keeps only what falls after the start; docs/plans.md)."""
    lost = []
    for spec in specs:
        if spec.source_timing_shift_h < 0.0:
            before = max((-(float(r.start_h) + spec.source_timing_shift_h) for r in scenario.releases), default=0.0)
            if before > 0.0:
                lost.append(before)
    if not lost:
        return None
    worst = max(lost)
    return (f"ensemble.source_timing_shift_h moves releases before the run's start in {len(lost)} of {len(specs)} "
            f"members (by up to {worst:.2g} h): the transport cannot carry air emitted before it starts, so those "
            f"members lose that emission (their figures are lower than if it were carried); to keep it, give the "
            f"scenario a start at least "
            f"{math.ceil(worst):g} h earlier, with the releases' start_h that much later (docs/plans.md)")


# --------------------------------------------------------------------------- scenario


def _shift_release(rel: Any, shift_h: float, factor: float) -> Any:
    """A release moved by ``shift_h`` hours whose emitted mass is ``factor`` times the
    scenario's: ``rate_kg_s`` (or the per-capita rate), ``amount_kg``, or, for a
    ``tank`` (whose rate its source model gives), the ``profile`` factors (a
    constant ``[[0, factor]]`` without one), which the run multiplies by the tank's
    rate and integrates exactly (:mod:`plumecast.release`)."""
    changes: dict[str, Any] = {}
    profile = rel.profile
    if factor != 1.0:
        if getattr(rel, "amount_kg", None) is not None:
            changes["amount_kg"] = rel.amount_kg * factor
        elif getattr(rel, "tank", None) is not None:
            profile = [(0.0, factor)] if profile is None else [(h, f * factor) for h, f in profile]
            changes["profile"] = profile
        else:
            key = "rate_kg_s" if hasattr(rel, "rate_kg_s") else "rate_kg_s_per_capita"
            changes[key] = getattr(rel, key) * factor
    if shift_h != 0.0:
        changes["start_h"] = max(rel.start_h + shift_h, 0.0)
        if rel.stop_h is not None:
            changes["stop_h"] = max(rel.stop_h + shift_h, changes["start_h"] + 1e-3)
        if profile is not None:
            changes["profile"] = [(h + shift_h, f) for h, f in profile]
        elif rel.start_h + shift_h < 0.0:
            pass  # a constant source that started earlier than the run: nothing more to shift
    return rel.model_copy(update=changes) if changes else rel


def member_scenario(scenario: Scenario, spec: MemberSpec, particles: int | None = None) -> Scenario:
    """The scenario of one member: its seed, particles, turbulence and sources."""
    turb = scenario.turbulence
    tchanges: dict[str, float] = {}
    if spec.kh_m2_s is not None:
        tchanges["kh_m2_s"] = spec.kh_m2_s
    if spec.mixing_height_m is not None:
        tchanges["mixing_height_m"] = spec.mixing_height_m
    update: dict[str, Any] = {"seed": spec.seed}
    if particles is not None:
        update["particles"] = particles
    if tchanges:
        update["turbulence"] = turb.model_copy(update=tchanges)
    if spec.source_rate_factor != 1.0 or spec.source_timing_shift_h != 0.0:
        update["releases"] = [_shift_release(r, spec.source_timing_shift_h, spec.source_rate_factor)
                              for r in scenario.releases]
        for k, (old, new) in enumerate(zip(scenario.releases, update["releases"], strict=True)):
            profile = getattr(new, "profile", None) or []
            bad_profile = [p for p in profile if not all(math.isfinite(float(x)) for x in p)]
            if bad_profile:
                raise ScenarioError(
                    f"ensemble member {spec.index}: source_rate_factor {spec.source_rate_factor:g} makes "
                    f"releases.{k}.profile {bad_profile[0]}; expected finite numbers")
            for key in ("amount_kg", "rate_kg_s", "rate_kg_s_per_capita", "start_h", "stop_h"):
                v = getattr(new, key, None)
                if isinstance(v, float | int) and not math.isfinite(v):
                    raise ScenarioError(
                        f"ensemble member {spec.index}: source_rate_factor {spec.source_rate_factor:g} and "
                        f"source_timing_shift_h {spec.source_timing_shift_h:g} make releases.{k}.{key} "
                        f"{v} (was {getattr(old, key)}); expected a finite number")
    return scenario.model_copy(update=update)


# --------------------------------------------------------------------------- winds


def rotate_and_scale(u: np.ndarray, v: np.ndarray, rotation_deg: float, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Wind turned clockwise by ``rotation_deg`` (a veer) and scaled by ``factor``.

    >>> [round(float(x), 6) for x in rotate_and_scale(np.array(0.0), np.array(1.0), 90.0, 2.0)]
    [2.0, 0.0]
    """
    if not (math.isfinite(rotation_deg) and math.isfinite(factor)):
        raise ScenarioError(f"ensemble: wind rotation {rotation_deg} deg and speed factor {factor}: expected "
                            "finite numbers")
    th = math.radians(rotation_deg)
    c, s = math.cos(th), math.sin(th)
    return factor * (u * c + v * s), factor * (-u * s + v * c)


def offset_grid(ds: xr.Dataset, dlon_cells: float, dlat_cells: float) -> xr.Dataset:
    """The met fields moved by a fraction of a grid cell (HYSPLIT-style offset member).

    Every variable on the ``lat``/``lon`` grid moves (winds on one level or on many,
    10-m winds, geopotential, boundary-layer fields); the others are kept. Longitude:
    the coordinates move by ``dlon_cells`` cells (an exact translation of the field
    the transport interpolates), wrapped to [-180, 180). Latitude: each field is
    resampled at ``lat - dlat_cells * dlat`` by linear interpolation (clamped at the
    first and last rows), so the grid keeps its -90..90 extent. Values are computed
    in float64 and stored in each variable's own dtype.
    """
    lat = ds["lat"].values.astype(float)
    lon = ds["lon"].values.astype(float)
    out = ds
    if dlon_cells and lon.size > 1:
        dlon = float(np.median(np.diff(lon)))
        new_lon = (lon + dlon_cells * dlon + 180.0) % 360.0 - 180.0
        order = np.argsort(new_lon, kind="stable")
        out = out.isel(lon=order).assign_coords(lon=("lon", new_lon[order], ds["lon"].attrs))
    if dlat_cells and lat.size > 1:
        dlat = float(np.median(np.diff(lat)))
        q = np.clip(lat - dlat_cells * dlat, lat[0], lat[-1])
        i = np.clip(np.searchsorted(lat, q, side="right") - 1, 0, lat.size - 2)
        a = (q - lat[i]) / (lat[i + 1] - lat[i])
        out = out.copy()
        for name, var in out.data_vars.items():
            if "lat" not in var.dims:
                continue
            axis = var.dims.index("lat")
            shape = [1] * var.ndim
            shape[axis] = lat.size
            w = a.reshape(shape)
            x = np.asarray(var.values, dtype=np.float64)
            moved = (1 - w) * np.take(x, i, axis=axis) + w * np.take(x, i + 1, axis=axis)
            out[name] = (var.dims, moved.astype(var.dtype), var.attrs)
    return out


#: horizontal wind components turned and scaled together by a member's perturbation
#: (vertical velocity and scalar fields are left as they are)
WIND_PAIRS: tuple[tuple[str, str], ...] = (("u", "v"), ("u10", "v10"))


_BASE_WIND: dict[str, xr.Dataset] = {}


def _check_file_members(scenario: Scenario, n: int) -> None:
    """Refuse, before any member runs, an ensemble of ``n`` members from the met files'
    members (``met_members: file``) that the files cannot give: no met files, no member
    dimension, or fewer members than asked for (read from the files' metadata)."""
    from plumecast.met import met_members

    if scenario.met.source != "file" or scenario.met.path is None:
        raise ScenarioError(f"ensemble.met_members: 'file' draws the members from the met files' own members, and "
                            f"met.source is {scenario.met.source!r}; expected met.source: file with the files of an "
                            "ensemble (ERA5 EDA, ECMWF ENS, GEFS), or met_members: perturb")
    numbers = met_members(scenario.met.path)
    if numbers is None:
        raise ScenarioError(f"ensemble.met_members: 'file' but the met files ({paths_text(scenario.met.path)}) have no "
                            "member dimension ('number'); expected files of an ensemble (ERA5 EDA, ECMWF ENS, GEFS), "
                            "or met_members: perturb")
    if n > numbers.size:
        raise ScenarioError(f"ensemble: {n} members asked for but the met files ({paths_text(scenario.met.path)}) hold "
                            f"{numbers.size} (dimension 'number'); ask for at most {numbers.size}")


def file_members_text(scenario: Scenario, n: int) -> str:
    """`` (files), members 0-2 of the files' 5 ...``: the met files and which of their
    members an ensemble of ``n`` members drawn from them (``met_members: file``) ran and
    how they were read; the files alone otherwise."""
    ens = getattr(scenario, "ensemble", None)
    shown = f" ({paths_text(scenario.met.path)})"
    if ens is None or ens.met_members != "file" or scenario.met.path is None:
        return shown
    from plumecast.met import met_members
    from plumecast.run_winds import scenario_winds

    numbers = met_members(scenario.met.path)
    total = 0 if numbers is None else numbers.size
    which = "member 0" if n == 1 else f"members 0-{n - 1}"
    if numbers is not None and not np.array_equal(numbers, np.arange(total)):  # the files' own numbers
        ran = numbers[:n]
        which += f" ('number' {ran[0]}" + (f"-{ran[-1]})" if n > 1 else ")")
    left = f"; the other {total - n} not run" if total > n else ""
    # how the members were read, as run says it: on the levels, or at one level and what that leaves unused
    _, levels, note = scenario_winds(scenario, member=0)
    how = "on their levels" if levels else "at one level: " + "; ".join(
        line.removeprefix("winds: ") for line in note.split("\n") if line.startswith(("winds:", "WARNING")))
    return (f"{shown}, {which} of the files' {total} (dimension 'number'), each read as plumecast run reads its "
            f"files, {how}{left}")


def paths_text(path: object) -> str:
    """A met path as a person reads it: a file, folder or pattern as given; a list as the
    met readers name one (:func:`plumecast.met.files.describe_paths`), not Python's list of PosixPath."""
    from pathlib import Path

    from plumecast.met.files import describe_paths

    return describe_paths([Path(str(p)) for p in path]) if isinstance(path, (list, tuple)) else str(path)


def _met_file_member(scenario: Scenario, number: int) -> xr.Dataset:
    """Member ``number`` of the met file(s) (file, list, glob or folder), read as a run
    reads its files (:func:`plumecast.run_winds.scenario_winds`: on their levels with
    their boundary layer where they can be, else one level, by the same rules and with
    the same refusals): lazily, only this member's records of the run's window."""
    from plumecast.run_winds import scenario_winds

    return scenario_winds(scenario, member=number)[0]


def member_wind(scenario: Scenario, spec: MemberSpec) -> xr.Dataset:
    """The normalised wind dataset of one member (base winds cached per process)."""
    from plumecast.runner import load_wind

    if spec.met_number is not None:
        ds = _met_file_member(scenario, spec.met_number)
    else:
        key = scenario.met.model_dump_json() + str(scenario.start) + str(scenario.run_hours)
        if key not in _BASE_WIND:
            _BASE_WIND.clear()
            _BASE_WIND[key] = load_wind(scenario)
        ds = _BASE_WIND[key]
    if spec.grid_offset_cells != (0.0, 0.0):
        ds = offset_grid(ds, *spec.grid_offset_cells)
    if spec.wind_direction_deg != 0.0 or spec.wind_speed_factor != 1.0:
        ds = turn_winds(ds, spec.wind_direction_deg, spec.wind_speed_factor)
    return ds


def turn_winds(ds: xr.Dataset, rotation_deg: float, factor: float) -> xr.Dataset:
    """Every horizontal wind pair of ``ds`` (:data:`WIND_PAIRS`, on any dimensions)
    turned clockwise by ``rotation_deg`` and scaled by ``factor``
    (:func:`rotate_and_scale`); the other variables are kept."""
    ds = ds.copy()
    for un, vn in WIND_PAIRS:
        if un in ds and vn in ds:
            u0, v0 = ds[un].values.astype(np.float64), ds[vn].values.astype(np.float64)
            with np.errstate(over="ignore", invalid="ignore"):
                u, v = rotate_and_scale(u0, v0, rotation_deg, factor)
                finite = np.isfinite(u0) & np.isfinite(v0)
                ok = (np.isfinite(u.astype(np.float32)) & np.isfinite(v.astype(np.float32)))[finite].all()
            if not ok:
                raise ScenarioError(f"ensemble: wind speed factor {factor:g} makes the winds ({un}, {vn}) "
                                    "infinite; expected a factor that keeps them finite numbers")
            ds[un] = (ds[un].dims, u.astype(np.float32), ds[un].attrs)
            ds[vn] = (ds[vn].dims, v.astype(np.float32), ds[vn].attrs)
    return ds
