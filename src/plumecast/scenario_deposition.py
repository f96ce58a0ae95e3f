"""The ``deposition`` key of a scenario: removal at the ground and by rain, and what
the run applies from it and from the agent (a given dry deposition velocity, or
Wesely's (1989) resistance model, :mod:`plumecast.transport.drydep`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from pydantic import Field, field_validator, model_validator

from plumecast.agents import MAX_DRY_VELOCITY_M_S, MAX_SCAVENGING_A_S, MAX_SCAVENGING_B, Agent
from plumecast.config_model import StrictModel

if TYPE_CHECKING:
    from plumecast.transport.deposition_cells import CellDeposition
    from plumecast.transport.kernels_numpy import ResistanceModel

__all__ = ["DEFAULT_SCAVENGING_B", "LAND_MASKS", "LAND_USE_FROM_MAP", "DepositionConfig", "Resistance", "deposition_values", "wesely_resistance"]


class _Model(StrictModel):
    """As plumecast.scenario's: unknown keys, NaN, inf and true/false for a number refused."""


#: choices of ``deposition.land_mask``
LAND_MASKS = ("auto", "met", "map", "off")
#: ``deposition.land_use`` taken from the shipped land cover (plumecast.transport.landuse)
LAND_USE_FROM_MAP = "map"


class DepositionConfig(_Model):
    """Removal of the gas at the ground (dry deposition) and by rain (below-cloud
    scavenging). Keys left out take the agent's values (``plumecast.agents``,
    ``data/agents/deposition.csv``); where the agent has none, that removal is off
    and the run says so. ``deposition: off`` turns both off."""

    dry_velocity_m_s: float | None = Field(
        None, ge=0, le=MAX_DRY_VELOCITY_M_S,
        description="dry deposition velocity at the lowest level [m s-1] (default: the agent's)")
    scavenging_a_s: float | None = Field(
        None, ge=0, le=MAX_SCAVENGING_A_S,
        description="below-cloud scavenging factor a of Lambda = a P^b, P in mm h-1 [s-1] (default: the agent's)")
    scavenging_b: float | None = Field(
        None, ge=0, le=MAX_SCAVENGING_B,
        description="below-cloud scavenging exponent b of Lambda = a P^b [-] (default: the agent's, else 0.62)")
    land_use: str | None = Field(
        None, description="Wesely (1989) land use of the ground (urban, agricultural, range, deciduous_forest, "
        "coniferous_forest, mixed_forest, water, barren, wetland, mixed_agricultural_range, rocky_open_shrubs, "
        "and FLEXPART's snow_ice and rainforest), or map: each met cell's own mix of land uses from the shipped "
        "IGBP-DIS land cover, as FLEXPART deposits: dry deposition by his resistance model from the met's u* "
        "and 1/L, for agents with the gas constants it needs, where no dry_velocity_m_s is given")
    season: str | None = Field(
        None, description="Wesely season (midsummer, autumn, late_autumn, winter_snow, spring); default from the "
        "start month at each particle's latitude (north of 23.5 N, the tropics, south of 23.5 S); given, everywhere")
    solar_radiation_w_m2: float = Field(
        0.0, ge=0, le=1400, description="solar radiation at the ground for the stomata [W m-2]; 0: night, stomata "
        "closed (the larger surface resistance: less deposition)")
    surface_temperature_c: float = Field(15.0, ge=-60, le=60, description="surface air temperature [degC]")
    land_mask: str = Field(
        "auto", description="where land_use applies and where water's does (the resistance model's land-water "
        "mosaic; not where land_use is water): auto (the met's land-sea mask, else the shipped Natural Earth "
        "land), met (the met's; an error without one), map (the shipped Natural Earth 1:110m land), off "
        "(land_use everywhere)")

    @field_validator("land_use", "season")
    @classmethod
    def _wesely_name(cls, value: str | None, info: Any) -> str | None:
        from plumecast.transport import drydep  # numba: not at import (zones, the web app)

        if value is None:
            return None
        names = (*drydep.LAND_USES, LAND_USE_FROM_MAP) if info.field_name == "land_use" else drydep.SEASONS
        v = value.strip().lower().replace(" ", "_").replace("-", "_")
        if v not in names:
            raise ValueError(f"{value!r} is not a Wesely (1989) {info.field_name.replace('_', ' ')}; expected one "
                             f"of {', '.join(names)}")
        return v

    @field_validator("land_mask")
    @classmethod
    def _mask_choice(cls, value: str) -> str:
        v = value.strip().lower()
        if v not in LAND_MASKS:
            raise ValueError(f"{value!r} is not a land mask; expected one of {', '.join(LAND_MASKS)}")
        return v

    @model_validator(mode="before")
    @classmethod
    def _off(cls, data: Any) -> Any:
        if data is False or (isinstance(data, str) and data.strip().lower() in ("off", "none", "false", "no")):
            return {"dry_velocity_m_s": 0.0, "scavenging_a_s": 0.0, "scavenging_b": 0.0}
        if data is True or (isinstance(data, str) and data.strip().lower() in ("on", "true", "yes", "agent")):
            return {}
        if not isinstance(data, dict):
            raise ValueError("expected off, or a mapping with dry_velocity_m_s [m s-1], scavenging_a_s [s-1] "
                             "and scavenging_b")
        return data

    @model_validator(mode="after")
    def _mask_needs_a_land_use(self) -> DepositionConfig:
        if self.land_mask in ("met", "map") and (self.land_use is None or self.land_use == "water"):
            raise ValueError(f"land_mask: {self.land_mask} splits land (land_use) from water for Wesely's resistance "
                             "model; expected a land_use other than water with it (or land_mask: auto or off)")
        return self

    @property
    def off(self) -> bool:
        """Both removals switched off explicitly."""
        return self.dry_velocity_m_s == 0.0 and self.scavenging_a_s == 0.0


#: scavenging exponent used when a scenario gives ``scavenging_a_s`` but neither it
#: nor the agent gives ``b``: FLEXPART's value for every gas it lists (Pisso et al.
#: 2019, Geosci. Model Dev. 12:4955, doi:10.5194/gmd-12-4955-2019)
DEFAULT_SCAVENGING_B = 0.62


class Resistance(NamedTuple):
    """What the run takes from Wesely's resistance model: the kernels' model (r_c per
    latitude band, land and water, ``u* r_b``; None where it does not apply), lines
    saying what was used, and the surface resistance r_c [s m-1] of the release's band
    at the declared radiation and temperature (the notes' value; 0 without the model)."""

    model: ResistanceModel | None
    notes: list[str]
    surface_resistance_s_m: float = 0.0
    #: ``land_use: map``: what the dry deposition velocity of each met node takes
    cells: CellDeposition | None = None


#: a latitude in each band of the seasons (boundary_layer.season_band), for drydep.season_for
_BAND_LATITUDES = (45.0, 0.0, -45.0)

def wesely_resistance(d: DepositionConfig, agent: Agent, month: int,
                      points: Sequence[tuple[float, float]], place: str = "the first point release") -> Resistance:
    """The resistance model for the agent, land use and season of ``d``; unless one is
    given, the season of each latitude band from ``month`` (its values at the first of
    ``points``, the releases' reference places (lon, lat) [deg], serve the notes;
    ``place`` names the first); ``land_use: map``: each met node's own mix of land uses
    (``cells``, :mod:`plumecast.transport.deposition_cells`), the notes' values those of
    the land use round the first point (:func:`plumecast.transport.landuse.release_land_use`).
    It does not apply where a ``dry_velocity_m_s`` is given, no ``land_use`` is, or the
    agent lacks the gas constants (a line says so)."""
    from plumecast.errors import ScenarioError
    from plumecast.transport import boundary_layer as bl
    from plumecast.transport import drydep, landuse
    from plumecast.transport.deposition_cells import CellDeposition
    from plumecast.transport.kernels_numpy import ResistanceModel

    if d.dry_velocity_m_s is not None or d.land_use is None:
        return Resistance(None, [])
    gas = drydep.gas_of(agent)
    if gas is None:
        return Resistance(None, [
            f"{agent.name}: no effective Henry's law constant and reactivity with a source; Wesely's resistance "
            "model cannot be used and dry deposition is off (give deposition.dry_velocity_m_s, or define the "
            "agent inline with henry_m_atm, reactivity_f0 and diffusivity_ratio)"])
    land_use = d.land_use
    map_notes = []
    if land_use == LAND_USE_FROM_MAP:
        if not points:
            raise ScenarioError("deposition.land_use: map reports the land use round the release, and this "
                                "scenario has no release; expected a release, or a land use: "
                                + ", ".join(drydep.LAND_USES))
        lon, lat = points[0]
        spot = landuse.release_land_use(lon, lat)
        land_use = spot.land_use
        lon_e = (lon + 180.0) % 360.0 - 180.0
        where = f"{abs(lat):.2f} {'N' if lat >= 0 else 'S'}, {abs(lon_e):.2f} {'E' if lon_e >= 0 else 'W'}"
        map_notes.append(f"dry deposition of {agent.name}: deposition.land_use: map: each met cell deposits by its "
                         "own mix of land uses (below); the surface resistance above is that of the land use round "
                         f"{place} ({where}): {spot.how}")
    rb_u = drydep.laminar_factor(gas.diffusivity_ratio)
    # the seasons of the latitude bands (boundary_layer.season_band): north of the tropics, the
    # tropics, south of them; a declared season everywhere
    seasons = (d.season,) * 3 if d.season is not None else tuple(
        drydep.season_for(month, lat) for lat in _BAND_LATITUDES)
    per_cell = d.land_use == LAND_USE_FROM_MAP
    mosaic = d.land_mask != "off" and land_use != "water" and not per_cell
    rows = []
    for season in seasons:
        rc = drydep.surface_resistance(gas, land_use, season, solar_w_m2=d.solar_radiation_w_m2,
                                       surface_temperature_c=d.surface_temperature_c)
        rc_w = drydep.surface_resistance(gas, "water", season, solar_w_m2=d.solar_radiation_w_m2,
                                         surface_temperature_c=d.surface_temperature_c) if mosaic else 0.0
        rows.append((rc, drydep.resistance_terms(gas, land_use, season), rc_w,
                     drydep.resistance_terms(gas, "water", season) if mosaic else (0.0,) * 6))
    # the summary values: those of the release's band (its reference place), else the northern one
    band = int(bl.season_band_array(points[0][1])) if points else 0
    if d.season is not None:
        why = f"season {d.season} (as given)"
    elif points:
        why = f"season {seasons[band]} (from the start month {month} at latitude {points[0][1]:.1f}, {place})"
    else:
        why = f"season {seasons[0]} north of the tropics (from the start month {month})"
    stomata = ("night, stomata closed" if d.solar_radiation_w_m2 == 0.0
               else f"{d.solar_radiation_w_m2:g} W m-2 at {d.surface_temperature_c:g} degC")
    rc, _terms, rc_w, _terms_w = rows[band]
    notes = [f"dry deposition of {agent.name}: Wesely (1989) resistance model, land use {land_use}, {why}, "
             f"solar radiation {stomata}: surface resistance {rc:.3g} s m-1, u* r_b {rb_u:.3g}; "
             "r_a from the met's u* and 1/L"]
    if d.season is None:
        notes.append(f"dry deposition of {agent.name}: the season by the particle's latitude, from the start month "
                     f"{month}: {seasons[0]} north of {bl.TROPICS_EDGE_DEG:g} N (surface resistance {rows[0][0]:.3g} s m-1), "
                     f"{seasons[1]} in the tropics ({rows[1][0]:.3g} s m-1), {seasons[2]} south of {bl.TROPICS_EDGE_DEG:g} S "
                     f"({rows[2][0]:.3g} s m-1)")
    if mosaic:
        notes.append(f"dry deposition of {agent.name}: {land_use} on land, water (surface resistance "
                     f"{rc_w:.3g} s m-1) on the water fraction of each cell (deposition.land_mask: {d.land_mask})")
    table = tuple(float(x) for r_c, t, r_w, t_w in rows for x in (r_c, *t, r_w, *t_w))
    cells = (CellDeposition(gas, (seasons[0], seasons[1], seasons[2]), d.solar_radiation_w_m2,
                            d.surface_temperature_c) if per_cell else None)
    return Resistance(ResistanceModel(table, rb_u, met_stomata=True, per_cell=per_cell),
                      [notes[0], *map_notes, *notes[1:]], rc, cells)


def deposition_values(d: DepositionConfig, agent: Agent, resistance: Resistance) -> tuple[float, float, float,
                                                                                          list[str]]:
    """Dry deposition velocity [m s-1], scavenging factor a [s-1] and exponent b [-]
    of the run (the scenario's ``deposition`` keys, else the agent's; unknown values
    are 0, removal off), and one line per value left at 0 for want of a source
    (``resistance``: the run's :func:`wesely_resistance`, which stands in for an
    unknown velocity)."""
    from plumecast.transport import drydep

    notes: list[str] = []
    vd = d.dry_velocity_m_s if d.dry_velocity_m_s is not None else agent.dry_velocity_m_s
    sa = d.scavenging_a_s if d.scavenging_a_s is not None else agent.scavenging_a_s
    sb = d.scavenging_b if d.scavenging_b is not None else agent.scavenging_b
    if vd is None and resistance.model is None:
        how = ("give deposition.land_use for Wesely's resistance model (a land use, or map: the shipped land "
               "cover round the release), or deposition.dry_velocity_m_s"
               if drydep.gas_of(agent) is not None else "give deposition.dry_velocity_m_s")
        notes.append(f"{agent.name}: no verified dry deposition velocity; dry deposition is off ({how} to include it)")
    if sa is None:
        notes.append(f"{agent.name}: no verified wet scavenging parameters; wet scavenging is off "
                     "(give deposition.scavenging_a_s to include it)")
    if sb is None:
        sb = DEFAULT_SCAVENGING_B if sa else 0.0
    return float(vd or 0.0), float(sa or 0.0), float(sb), notes


def deposited_off_grid(deposited: Any, grid: Any, deposited_kg: float) -> list[str]:
    """A line, and the field's attribute ``deposited_outside_grid_kg``, for the mass that
    deposited outside the output grid (``grid``), which the run's ``deposited_mass`` field (None:
    no deposition) does not hold; ``deposited_kg``: the budget's deposited mass (outputs audit,
    session 30: the cells summed to 45 t of the budget's 85 t without a word)."""
    if deposited is None:
        return []
    from plumecast.numbers import round_sig

    on_grid = float((np.asarray(deposited.values, np.float64) * grid.cell_area_m2()).sum())
    off = max(deposited_kg - on_grid, 0.0)
    deposited.attrs["deposited_outside_grid_kg"] = off
    if off <= 1e-4 * deposited_kg:  # the float32 field's rounding
        return []
    return [f"deposition outside the output grid: {round_sig(off, 2):,g} kg of the {round_sig(deposited_kg, 2):,g} "
            "kg deposited fell outside output.grid, which deposited_mass (concentration.nc) does not map; the mass "
            "budget counts it; widen output.grid to map it"]
