"""Threat zones of a local release: how far each level of concern reaches, and who is inside.

A scenario file in the one scenario language (``docs/scenario.md``: a point release
under ``releases``, the weather at the release under ``local_weather``, the levels
of concern under ``zones``) is read by :func:`read_zones_scenario` into a
:class:`LocalScenario`: one point release in the first hour and within ~20 km,
its rate, amount or tank, the agent, one set of weather observations and the
levels of concern (AEGL-1/2/3 by default). The keys zones does not read (start,
met, output, plans, ...) are listed; the old local format (source, release,
meteorology) is still read, with a deprecation note.
:func:`compute_zones` turns it into a :class:`ThreatZones` result: one footprint
polygon per level (where the peak ground-level concentration exceeds it), the
wind-direction uncertainty lines, and the receptors (cities or a CSV list)
inside, assessed by :func:`plumecast.consequence.assess` (peak % of AEGL-3, toxic load, probit, expected fatalities outdoors and sheltered, first
AEGL exceedance times). Exporters write GeoJSON, KML and a PNG map.

Physics: Gaussian plume with Briggs (1973) σ_y, σ_z for the Pasquill–Gifford
class (:mod:`plumecast.nearfield.gaussian`), a finite-duration release after
Palazzi et al. (1982), ground and mixing-lid reflection, and an averaging-time
correction of σ_y (Turner 1970). One exposure convention for polygons and
receptors, that of :func:`plumecast.consequence.assess`: exposure at a place
begins when its concentration first reaches the onset floor
(:func:`plumecast.consequence.onset_floor`), and each interval mean is compared
with the AEGL for the duration elapsed since then (:func:`level_ratio`, on the
scenario's fixed time axis :func:`exposure_time_axis`). Receptors in the
wind-direction uncertainty sector get the plume-axis value at their distance.
People inside each zone come from a population raster
(:class:`plumecast.population.PopulationRaster`) when the scenario gives one;
otherwise only receptor points (GeoNames cities of >= 15,000, a CSV) are counted,
and the output says so. A release that is dense by the Britter & McQuaid (1988)
criterion is modelled with their workbook correlations up to the hand-over to the
passive plume (:mod:`plumecast.nearfield.dense_gas`, ``docs/dense_gas.md``).
"""

from __future__ import annotations

from plumecast.nearfield.zones.export import (
    legend_labels,
    to_geojson,
    to_kml,
    write_outputs,
    zone_map_figure,
    zone_map_png,
)
from plumecast.nearfield.zones.footprint import (
    MAX_DISTANCE_M,
    MIN_WIND_SPEED_M_S,
    Level,
    PlumeSetup,
    ThreatZones,
    Zone,
    assess_receptors,
    boundary_factor,
    compute_zones,
    concentration_series,
    default_direction_uncertainty_deg,
    exposure_duration,
    exposure_series,
    exposure_time_axis,
    footprint_halfwidth,
    level_ratio,
    level_table_kg_m3,
    level_threshold,
    peak_concentration,
    plume_setup,
    receptor_shelter,
    resolve_levels,
    to_local,
    to_lonlat,
)
from plumecast.nearfield.zones.scenario import (
    LevelSpec,
    LocalScenario,
    MeteorologySpec,
    PopulationSpec,
    ReceptorSpec,
    ReleaseSpec,
    SourceSpec,
    ZonesConfig,
    ZonesInput,
    load_local_scenario,
    read_zones_scenario,
    zones_from_dict,
)

__all__ = ['Level', 'LevelSpec', 'LocalScenario', 'MAX_DISTANCE_M', 'MIN_WIND_SPEED_M_S', 'MeteorologySpec', 'PlumeSetup', 'PopulationSpec', 'ReceptorSpec', 'ReleaseSpec', 'SourceSpec', 'ThreatZones', 'Zone', 'ZonesConfig', 'ZonesInput', 'assess_receptors', 'boundary_factor', 'compute_zones', 'concentration_series', 'default_direction_uncertainty_deg', 'exposure_duration', 'exposure_series', 'exposure_time_axis', 'legend_labels', 'footprint_halfwidth', 'level_ratio', 'level_table_kg_m3', 'level_threshold', 'load_local_scenario', 'read_zones_scenario', 'peak_concentration', 'plume_setup', 'receptor_shelter', 'resolve_levels', 'to_geojson', 'to_kml', 'to_local', 'to_lonlat', 'write_outputs', 'zone_map_figure', 'zone_map_png', 'zones_from_dict']
