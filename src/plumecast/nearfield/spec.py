"""Scenario sections the near field reads: a release's source model and the local weather.

These models are part of the one scenario language (:mod:`plumecast.scenario`,
``docs/scenario.md``): a point release may state a ``tank`` (with its rain-out
``pool``) instead of a rate and the ``stack`` it leaves from (plume rise), the ``local_weather`` section holds the one set of
observations at the release that ``plumecast zones`` needs, and the ``zones``
section its levels of concern. ``plumecast run`` and ``plumecast compare`` read
the ``tank`` too (its source model's rate becomes their particle release) and
ignore the rest (they say so). They live here, apart from :mod:`plumecast.nearfield.zones`,
so that the scenario module can use them without importing the zone computation.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from plumecast.config_model import NoBoolForNumbers, StrictModel
from plumecast.nearfield.stability import (
    PGClass,
    pasquill_gifford_class,
    pasquill_gifford_class_from_obukhov,
)

#: Order in which ``stability_from: auto`` picks the class route among those given:
#: best validated on Project Prairie Grass first (``docs/validation.md``:
#: briggs-rural-golder before briggs-rural-turner; a given letter cannot be tested).
AUTO_STABILITY_ORDER: tuple[str, ...] = ("obukhov_length", "observations", "stability")


class PoolSpec(NoBoolForNumbers):
    """The ground a rain-out pool lies on (boiling pool: heat conducted from the ground).

    No defaults: the values depend on the surface (concrete, soil, gravel).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    min_thickness_m: float = Field(gt=0, description="thickness where spreading stops [m]")
    ground_temperature_c: float = Field(ge=-80, le=80)
    ground_conductivity_w_m_k: float = Field(gt=0)
    ground_diffusivity_m2_s: float = Field(gt=0)
    bund_area_m2: float | None = Field(default=None, gt=0)


class TankSpec(NoBoolForNumbers):
    """A tank with a hole (``plumecast.nearfield.source_models``): liquefied gas under its own
    vapour pressure, or a gas-filled tank when ``pressure_bar`` is given. Its release
    profile (:func:`~plumecast.nearfield.source_models.tank_release_profile`) drives
    ``zones``, ``run`` and ``compare`` alike.

    ``hole_height_m`` is measured from the tank bottom; ``height_m`` defaults to a
    vertical cylinder as high as wide.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    volume_m3: float = Field(gt=0)
    fill_fraction: float = Field(default=0.85, ge=0, le=1)
    temperature_c: float = Field(ge=-200, le=200)
    hole_diameter_m: float = Field(gt=0, le=5)
    hole_height_m: float = Field(default=0.0, ge=0)
    height_m: float | None = Field(default=None, gt=0)
    pipe_length_m: float = Field(default=0.0, ge=0)
    pressure_bar: float | None = Field(default=None, gt=0, description="gas tank: absolute pressure [bar]")
    liquid_heat_capacity_j_kg_k: float | None = Field(default=None, gt=0)
    pool: PoolSpec | None = None

    @model_validator(mode="after")
    def _hole_in_tank(self) -> TankSpec:
        if self.height_m is not None and self.hole_height_m > self.height_m:
            raise ValueError(f"hole_height_m: {self.hole_height_m:g} m is above the tank's height_m "
                             f"{self.height_m:g} m; expected a hole in the tank (hole_height_m <= height_m)")
        return self


class StackSpec(StrictModel):
    """A stack at the top of which a point release leaves as a hot or fast plume.

    The stack height is the release's ``height_m``. ``plumecast zones`` raises the
    passive plume by Briggs's plume rise (:mod:`plumecast.nearfield.plume_rise`:
    Briggs 1969, 1975, 1984 with the ISC3 constants, US EPA 1995 §1.1.4; stack-tip
    downwash, Briggs 1974); ``run`` and ``compare`` raise the near-field plume of the
    release alike, with each step's class and the wind at the stack top (their particles
    start at the stack top).
    Unknown keys, NaN/infinity and true/false for a number are refused.
    """

    diameter_m: float = Field(gt=0, le=30, description="inner diameter at the stack top [m]")
    exit_velocity_m_s: float = Field(gt=0, le=200, description="exit velocity of the exhaust [m s-1]")
    exit_temperature_c: float = Field(ge=-100, le=2000, description="exit temperature of the exhaust [degC]")


class MeteorologySpec(NoBoolForNumbers):
    """One set of weather observations at the release.

    Stability: give ``stability`` (PG class A–F) directly, or ``obukhov_length_m``
    (Golder 1972), or ``daytime`` with ``insolation`` and/or ``cloud_cover_octas``
    (Turner 1970). Exactly one route is used: ``stability_from`` names it, or
    ``"auto"`` (default) takes, of the routes the inputs allow, the best validated
    on Project Prairie Grass (:data:`AUTO_STABILITY_ORDER`, ``docs/validation.md``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    # a 10-m wind above 100 m/s is no weather (a wind in km/h, 250, had run and shrunk the zones tenfold;
    # zones audit)
    wind_speed_m_s: float = Field(gt=0, le=100, description="wind speed at 10 m [m s-1]")
    wind_from_deg: float = Field(ge=0, le=360, description="direction the wind blows from [deg]")
    stability: Literal["A", "B", "C", "D", "E", "F"] | None = None
    obukhov_length_m: float | None = None
    roughness_length_m: float = Field(default=0.1, gt=0)
    daytime: bool | None = None
    insolation: Literal["strong", "moderate", "slight"] | None = None
    cloud_cover_octas: float | None = Field(default=None, ge=0, le=8)
    # thinner than 10 m is not modelled (docs/plans.md; under 1 m it had divided by zero, badinput audit)
    mixing_height_m: float | None = Field(default=None, ge=10, le=10000)
    terrain: Literal["rural", "urban"] = "rural"
    averaging_time_s: float = Field(default=600.0, gt=0)
    direction_uncertainty_deg: float | None = Field(default=None, ge=0, le=180)
    stability_from: Literal["auto", "stability", "obukhov_length", "observations"] = "auto"
    air_temperature_c: float = Field(default=15.0, ge=-80, le=60, description="air temperature [°C] (dense gas)")

    @field_validator("obukhov_length_m")
    @classmethod
    def _not_zero(cls, value: float | None) -> float | None:
        # 1/L = 1/0 had been a ZeroDivisionError traceback (badinput audit)
        if value is not None and value == 0:
            raise ValueError("0 is not an Obukhov length: negative for unstable air, positive for stable, and a "
                             "large |L| (say 100000 m) for neutral air")
        return value

    @model_validator(mode="after")
    def _has_stability(self) -> MeteorologySpec:
        if self.stability is None and self.obukhov_length_m is None and self.daytime is None:
            raise ValueError(
                "give stability (A-F), obukhov_length_m, or daytime with insolation/cloud_cover_octas"
            )
        if self.stability is None and self.obukhov_length_m is None:
            if self.daytime and self.insolation is None and self.cloud_cover_octas is None:
                raise ValueError("by day give insolation or cloud_cover_octas")
            if self.daytime is False and self.cloud_cover_octas is None:
                raise ValueError("at night give cloud_cover_octas")
        if self.stability_from != "auto" and self.stability_from not in self._routes():
            raise ValueError(
                f"stability_from: {self.stability_from} needs "
                + {"stability": "stability (A-F)", "obukhov_length": "obukhov_length_m",
                   "observations": "daytime with insolation (day) or cloud_cover_octas (night)"}[self.stability_from]
            )
        return self

    def _routes(self) -> list[str]:
        out = []
        if self.stability is not None:
            out.append("stability")
        if self.obukhov_length_m is not None:
            out.append("obukhov_length")
        if self.daytime is not None and (
            (self.daytime and (self.insolation is not None or self.cloud_cover_octas is not None))
            or (not self.daytime and self.cloud_cover_octas is not None)
        ):
            out.append("observations")
        return out

    def stability_route(self) -> str:
        """Which route gives the class: ``stability``, ``obukhov_length`` or ``observations``."""
        if self.stability_from != "auto":
            return self.stability_from
        given = self._routes()
        return next(r for r in AUTO_STABILITY_ORDER if r in given)

    def unused_classes(self) -> list[str]:
        """The routes given but not used that imply another class than the one used,
        each in words (``stability F given but not used: ...``); empty when they agree."""
        used, route = self.pg_class(), self.stability_route()
        names = {"stability": "stability", "obukhov_length": "obukhov_length_m",
                 "observations": "the Turner observations"}
        out = []
        for other in self._routes():
            alt = self.model_copy(update={"stability_from": other}).pg_class()
            if other == route or alt == used:
                continue
            given = (f"stability {alt}" if other == "stability" else
                     f"obukhov_length_m {self.obukhov_length_m:g} (class {alt})" if other == "obukhov_length" else
                     f"the Turner observations (class {alt})")
            out.append(f"{given} given but not used: class {used} comes from {names[route]} "
                       f"(stability_from: {self.stability_from}); set stability_from: {other} to use it")
        return out

    def pg_class(self) -> PGClass:
        """The Pasquill–Gifford class this meteorology implies (by :meth:`stability_route`)."""
        route = self.stability_route()
        if route == "stability":
            assert self.stability is not None
            return self.stability
        if route == "obukhov_length":
            assert self.obukhov_length_m is not None
            return pasquill_gifford_class_from_obukhov(self.obukhov_length_m, self.roughness_length_m)
        return pasquill_gifford_class(
            self.wind_speed_m_s, bool(self.daytime), self.insolation, self.cloud_cover_octas
        )


class LevelSpec(NoBoolForNumbers):
    """A level of concern: an AEGL level (1–3) or a user threshold in ppm or mg/m3."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str | None = None
    aegl: Literal[1, 2, 3] | None = None
    ppm: float | None = Field(default=None, gt=0)
    mg_m3: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_of(self) -> LevelSpec:
        if sum(v is not None for v in (self.aegl, self.ppm, self.mg_m3)) != 1:
            raise ValueError("give exactly one of aegl, ppm or mg_m3")
        return self


class ZonesConfig(NoBoolForNumbers):
    """The ``zones`` section: what ``plumecast zones`` reports.

    ``levels``: the levels of concern (default AEGL-1, -2 and -3);
    ``receptor_height_m``: height of the people above ground [m];
    ``flammable_levels``: add LFL and 1/2 LFL zones for an agent with an LFL.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    levels: list[LevelSpec] = Field(
        default_factory=lambda: [LevelSpec(aegl=1), LevelSpec(aegl=2), LevelSpec(aegl=3)], min_length=1
    )
    receptor_height_m: float = Field(default=1.5, ge=0, le=1000)
    flammable_levels: bool = True


#: The local weather in the one scenario language (the ``local_weather`` section).
LocalWeather = MeteorologySpec
