"""The ``ensemble:`` key of a scenario: how many members and how they differ.

This module imports nothing from :mod:`plumecast.scenario` (the scenario model
imports it), so it has no import cycle.

A member is either one member of an ensemble met file (its ``number`` dimension,
``met_members: file``) or, for deterministic met, a perturbation of the scenario:

* ``grid_offset_fraction``: HYSPLIT-style offset members (Draxler 2003, J. Appl.
  Meteor. 42, 308-317; HYSPLIT user guide, "meteorological grid ensemble"): the
  meteorological grid is shifted by this fraction of a grid cell, the members
  cycling through the 3 x 3 pattern of offsets (0, +f, -f) in longitude and latitude
  (member 0 unshifted);
* distributions of the wind speed factor, the wind direction rotation (clockwise,
  degrees, "veer"), the horizontal eddy diffusivity K_h, the mixing height, the
  source rate factor and the source timing shift (hours).

Each member's random draws come from its own seed, made from (scenario seed,
member index) only.

Four perturbations have an allowed range (:data:`PERTURBATION_RANGES`, docs/plans.md):
a fixed value outside it, a uniform distribution reaching outside it, and a normal or
lognormal distribution centred outside it (most members would draw an impossible
value) are refused when the scenario is read, naming the file, line, key and range. A
normal or lognormal centred inside it may still draw outside it now and then: such a
draw is clipped to the range's edge, and ``compare`` says how many members were
clipped, to what, and how it moves the members' mean
(:func:`plumecast.ensemble.members.clip_notes`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from plumecast.config_model import NoBoolForNumbers

#: the largest wind speed factor a member may use. Ten times the met's winds is beyond
#: any observed wind (850 hPa winds of 10-30 m/s would become 100-300 m/s, above jet-stream
#: cores of about 100 m/s and near the speed of sound), so such a value means a mistaken
#: distribution (a median of 1e36 instead of 1), and running it would report a plume
#: blown off the grid as "no fatalities". Small factors are kept (from 0): near-calm air
#: is a real weather situation and the worst case of a local release.
MAX_WIND_SPEED_FACTOR = 10.0


@dataclass(frozen=True)
class Range:
    """The values a perturbation may take: ``low`` to ``high`` (``low`` itself only
    if not ``low_open``), and why, for the messages."""

    low: float
    high: float
    low_open: bool
    text: str  # the range in words, e.g. "0 to 10"
    why: str

    def holds(self, x: float) -> bool:
        return (x > self.low if self.low_open else x >= self.low) and x <= self.high

    def clip(self, x: float) -> float:
        """``x`` moved to the nearest edge if outside; below an open low edge (a factor
        that must be positive) to :data:`OPEN_EDGE_VALUE`."""
        if x > self.high:
            return self.high
        if self.holds(x):
            return x
        return OPEN_EDGE_VALUE if self.low_open else self.low


#: what a draw at or below an open lower edge (only source_rate_factor's, 0) becomes
OPEN_EDGE_VALUE = 1e-6

#: the allowed range of each bounded perturbation (wind_direction_deg and
#: source_timing_shift_h may take any finite value)
PERTURBATION_RANGES: dict[str, Range] = {
    "wind_speed_factor": Range(0.0, MAX_WIND_SPEED_FACTOR, False, f"0 to {MAX_WIND_SPEED_FACTOR:g}",
                               "0 is calm air; winds ten times the met's are beyond any observed wind"),
    "kh_m2_s": Range(0.0, math.inf, False, "0 m2/s or more", "a diffusivity cannot be negative"),
    "mixing_height_m": Range(10.0, 10_000.0, False, "10 to 10000 m",
                             "a mixed layer thinner than 10 m is not modelled; turbulence.mixing_height_m "
                             "allows at most 10000 m"),
    "source_rate_factor": Range(0.0, math.inf, True, "above 0",
                                "a factor of 0 or less emits nothing, or negative mass; to leave a release out, "
                                "remove it from the plan or the scenario"),
}


class _Model(NoBoolForNumbers):
    # allow_inf_nan=False: .nan / .inf in a distribution is refused with the key (a NaN
    # rotation would otherwise run a member on NaN winds to zero concentrations, and an
    # infinite sd fails deep inside the wind rotation); as in plumecast.scenario
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Distribution(_Model):
    """A one-dimensional distribution of a perturbation.

    ``normal``: ``mean``, ``sd``. ``lognormal``: ``median``, ``sigma`` (of the
    natural log). ``uniform``: ``low``, ``high``. ``fixed``: ``value`` (every
    member gets it; useful for tests and sensitivity runs).
    """

    dist: Literal["normal", "lognormal", "uniform", "fixed"]
    mean: float | None = None
    sd: float | None = Field(None, ge=0)
    median: float | None = Field(None, gt=0)
    sigma: float | None = Field(None, ge=0)
    low: float | None = None
    high: float | None = None
    value: float | None = None

    @model_validator(mode="after")
    def _params(self) -> Distribution:
        need = {
            "normal": ("mean", "sd"),
            "lognormal": ("median", "sigma"),
            "uniform": ("low", "high"),
            "fixed": ("value",),
        }[self.dist]
        allowed = set(need) | {"dist"}
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(need)}; missing {', '.join(missing)}")
        extra = [k for k in ("mean", "sd", "median", "sigma", "low", "high", "value")
                 if k not in allowed and getattr(self, k) is not None]
        if extra:
            raise ValueError(f"a {self.dist} distribution takes {', '.join(need)}; remove {', '.join(extra)}")
        if self.dist == "uniform" and self.high is not None and self.low is not None and self.high < self.low:
            raise ValueError(f"uniform: high ({self.high}) must be >= low ({self.low})")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        """One value. Always consumes exactly one normal or uniform variate, so the
        draws of the other perturbations do not depend on which kind this is."""
        z = float(rng.standard_normal())
        u = float(rng.random())
        if self.dist == "normal":
            assert self.mean is not None and self.sd is not None
            return self.mean + self.sd * z
        if self.dist == "lognormal":
            assert self.median is not None and self.sigma is not None
            return float(self.median * np.exp(self.sigma * z))
        if self.dist == "uniform":
            assert self.low is not None and self.high is not None
            return self.low + (self.high - self.low) * u
        assert self.value is not None
        return float(self.value)


class EnsembleConfig(_Model):
    """How the members of a comparison differ (the scenario's ``ensemble:`` key)."""

    members: int = Field(10, ge=1, le=10_000, description="number of members")
    met_members: Literal["perturb", "file"] = Field(
        "perturb",
        description="'file': member i uses member i of the met file's 'number' dimension (met.source: file); "
        "'perturb': members are perturbations of the scenario's (deterministic) met",
    )
    control: bool = Field(True, description="member 0 is the unperturbed control run")
    particles: int | None = Field(None, gt=0, description="particles per member (default: the scenario's)")
    grid_offset_fraction: float | None = Field(
        None, gt=0, le=1, description="HYSPLIT-style offset of the met grid, as a fraction of a grid cell"
    )
    wind_speed_factor: Distribution | None = Field(None, description="multiplies the wind speed [-]")
    wind_direction_deg: Distribution | None = Field(None, description="clockwise rotation of the wind [deg]")
    kh_m2_s: Distribution | None = Field(None, description="horizontal eddy diffusivity [m2 s-1]")
    mixing_height_m: Distribution | None = Field(None, description="boundary-layer height [m]")
    source_rate_factor: Distribution | None = Field(None, description="multiplies every emission rate [-]")
    source_timing_shift_h: Distribution | None = Field(None, description="shifts every release in time [h]")

    @field_validator(*PERTURBATION_RANGES, mode="after")
    @classmethod
    def _in_range(cls, d: Distribution | None, info: ValidationInfo) -> Distribution | None:
        """A value that no member could run with is refused here, with the range, instead of
        being clipped to its edge in every member (an audit found a fixed wind speed factor
        of -1 run as calm air, a kh_m2_s of -500 as 0, a mixing height of 50000 m as 10000 m,
        a source rate factor of 0 or -2 as 1e-6, none of them said)."""
        if d is None or info.field_name is None:
            return d
        problem = range_problem(d, info.field_name)
        if problem:
            raise ValueError(problem)
        return d


def range_problem(d: Distribution, key: str) -> str | None:
    """Why distribution ``d`` of perturbation ``key`` is refused, or None: a fixed value
    outside :data:`PERTURBATION_RANGES`, a uniform reaching outside it, or a normal or
    lognormal whose centre (mean, median; with sd or sigma 0, its only value) is outside
    it. The text starts with the parameter to change (``value: ...``), as the scenario's
    error messages put the key before the text (plumecast.scenario_yaml.format_errors)."""
    r = PERTURBATION_RANGES.get(key)
    if r is None:
        return None
    allowed = f"the allowed range of ensemble.{key} is {r.text} ({r.why}; docs/plans.md)"
    if d.dist == "fixed":
        assert d.value is not None
        return None if r.holds(d.value) else f"value: fixed value {d.value:g} is impossible: {allowed}"
    if d.dist == "uniform":
        assert d.low is not None and d.high is not None
        bad = [(k, v) for k, v in (("low", d.low), ("high", d.high)) if not r.holds(v)]
        if not bad:
            return None
        k = bad[0][0]
        below = d.high <= r.low if r.low_open else d.high < r.low
        whole = " (all of it: no member could run with a value in it)" if below or d.low > r.high else ""
        where = ", ".join(f"{name} {v:g}" for name, v in bad)
        return (f"{k}: a uniform from {d.low:g} to {d.high:g} reaches outside the allowed range ({where}){whole}: "
                f"{allowed}; "
                "give low and high within it")
    centre, spread, what = ((d.mean, d.sd, "mean") if d.dist == "normal" else (d.median, d.sigma, "median"))
    assert centre is not None and spread is not None
    if r.holds(centre):
        return None
    if spread == 0.0:
        return f"{what}: a {d.dist} with {what} {centre:g} and no spread gives every member {centre:g}, impossible: {allowed}"
    return (f"{what}: a {d.dist} with {what} {centre:g} is centred outside the allowed range, so most members would "
            f"draw an impossible value: {allowed}")
