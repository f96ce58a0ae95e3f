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
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
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
