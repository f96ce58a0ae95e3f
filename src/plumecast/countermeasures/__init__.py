"""Countermeasures: what a response plan does, one small module each.

* :mod:`~plumecast.countermeasures.termination` - stop or cut the emissions
  (acts on the emission tags of the transport, or on the scenario for a rerun);
* :mod:`~plumecast.countermeasures.shelter_order` - stay inside, then ventilate;
* :mod:`~plumecast.countermeasures.evacuation` - leave over a clearance time;
* :mod:`~plumecast.countermeasures.front` - the neutralisation front that burns
  the gas out of the air (acts on the transport);
* :func:`cohorts` - the groups of people who breathe different air under the
  shelter orders and evacuations of a plan;
* :mod:`~plumecast.countermeasures.config` - the scenario models (``plans:``).

See ``docs/countermeasures.md``. Nothing here imports :mod:`plumecast.scenario`
at import time (the scenario imports the plans, which import this package).
"""

from __future__ import annotations

from plumecast.countermeasures.combine import Cohort, cohorts
from plumecast.countermeasures.evacuation import Evacuation
from plumecast.countermeasures.front import Front, FrontSpec, agent_lfl_kg_m3, lfl_kg_m3
from plumecast.countermeasures.region import region_mask
from plumecast.countermeasures.shelter_order import ShelterOrder, sheltered_exposure
from plumecast.countermeasures.termination import Termination, combined_tag_weights

__all__ = [
    "Cohort",
    "Evacuation",
    "Front",
    "FrontSpec",
    "ShelterOrder",
    "Termination",
    "agent_lfl_kg_m3",
    "cohorts",
    "combined_tag_weights",
    "lfl_kg_m3",
    "region_mask",
    "sheltered_exposure",
]
