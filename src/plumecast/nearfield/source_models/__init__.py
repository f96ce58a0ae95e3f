"""Source strength: how fast an agent escapes from a tank, a pipe or a pool.

Pure functions, each with its reference in its docstring:

* :mod:`~plumecast.nearfield.source_models.gas` — choked/unchoked gas flow through a hole,
  tank blowdown (Crowl & Louvar 2011; CCPS 1999).
* :mod:`~plumecast.nearfield.source_models.two_phase` — flash fraction, rain-out,
  liquid and flashing two-phase flow (Fauske 1985; Fauske & Epstein 1988).
* :mod:`~plumecast.nearfield.source_models.pool` — pool spreading and evaporation
  (Mackay & Matsugu 1973; Kawamura & MacKay 1987; Yellow Book CPR 14E).
* :mod:`~plumecast.nearfield.source_models.orifice` — flow through a hole (gas, liquid,
  flashing two-phase): the :class:`Orifice` every model above lets the agent out through.
* :mod:`~plumecast.nearfield.source_models.tank` — a tank with a hole as a
  :class:`ReleaseProfile` (release rate over time); :func:`tank_release_profile` makes
  it from a scenario's ``tank`` for both ``zones`` and ``run``.
* :mod:`~plumecast.nearfield.source_models.properties` — the cited thermodynamic table
  ``plumecast/data/agents/thermo.csv``.
"""

from __future__ import annotations

from plumecast.nearfield.source_models.gas import (
    critical_pressure_ratio,
    gas_orifice_mass_rate,
    gas_tank_blowdown,
)
from plumecast.nearfield.source_models.orifice import Orifice
from plumecast.nearfield.source_models.pool import (
    evaporation_rate_volatile,
    ground_heat_flux,
    mackay_matsugu_mass_transfer,
    pool_evaporation,
)
from plumecast.nearfield.source_models.properties import AgentThermo, load_thermo
from plumecast.nearfield.source_models.tank import (
    ReleaseProfile,
    gas_tank,
    liquefied_gas_tank,
    tank_release_profile,
)
from plumecast.nearfield.source_models.two_phase import (
    airborne_fraction_twice_flash,
    erm_mass_flux,
    flash_fraction,
    flashing_mass_flux,
    liquid_orifice_mass_rate,
)

__all__ = [
    "AgentThermo", "Orifice", "ReleaseProfile", "airborne_fraction_twice_flash", "critical_pressure_ratio", "erm_mass_flux",
    "evaporation_rate_volatile", "flash_fraction", "flashing_mass_flux", "gas_orifice_mass_rate", "gas_tank",
    "gas_tank_blowdown", "ground_heat_flux", "liquefied_gas_tank", "liquid_orifice_mass_rate", "load_thermo",
    "mackay_matsugu_mass_transfer", "pool_evaporation", "tank_release_profile",
]
