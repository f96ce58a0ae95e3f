"""A release from a stack in the zones: its exhaust taken as air carrying the agent
(:func:`exhaust_mixture`, which ``run``'s near-field plume takes too), the passive plume
raised by Briggs's plume rise (:func:`stack_plume`), the height of its centre line
downwind (:func:`effective_height`) and where that crosses the mixing lid
(:func:`lid_crossing_m`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from plumecast.nearfield.zones.scenario import (
    LocalScenario,
)

if TYPE_CHECKING:  # setup imports this module (plume_setup raises a stack's plume)
    from plumecast.nearfield.zones.setup import PlumeSetup


#: Molar mass of dry air. [g mol-1]
M_AIR_G_MOL = 28.97
#: Share of the agent in a stack's exhaust (by volume) from which the zones say it weighs on the rise. [-]
STACK_AGENT_NOTE_FRACTION = 0.01


def exhaust_mixture(stack: Any, molecular_weight_g_mol: float,
                    rate_kg_s: float) -> tuple[float, float, float, float]:
    """A stack's exhaust taken as air carrying the agent at ``rate_kg_s``: its virtual
    temperature ``T_v = T_s M_air / (f M + (1 - f) M_air)`` [K], the agent's volume share
    ``f`` of the stack's flow at the exit temperature (ideal gas, 1 atm), the agent's flow
    and the stack's ``π d²/4 v_s`` [m3 s-1] (:func:`stack_plume`; ``run``'s near-field
    plume takes the same)."""
    t_s = stack.exit_temperature_c + 273.15
    flow = math.pi / 4.0 * stack.diameter_m**2 * stack.exit_velocity_m_s  # [m3 s-1]
    agent_flow = rate_kg_s / (molecular_weight_g_mol / 1000.0 * 101325.0 / (8.314462618 * t_s))  # [m3 s-1]
    share = min(agent_flow / flow, 1.0)
    t_v = t_s * M_AIR_G_MOL / (share * molecular_weight_g_mol + (1.0 - share) * M_AIR_G_MOL)
    return float(t_v), float(share), float(agent_flow), float(flow)


def stack_plume(scenario: LocalScenario, setup: PlumeSetup) -> PlumeSetup:
    """The passive plume of a release from a stack, raised by Briggs's plume rise.

    ``setup`` carries the wind at the stack top
    (:func:`~plumecast.nearfield.zones.setup.passive_at_release_height`);
    the rise is :func:`plumecast.nearfield.plume_rise.briggs_plume_rise` (ISC3
    §1.1.4 constants, stack-tip downwash, transitional rise up to the final rise)
    with the air temperature of the local weather. The exhaust is taken as air
    carrying the agent: its density (ideal gas, the agent's volume share ``f`` of
    the stack's flow ``π d²/4 v_s`` at the exit temperature) enters Briggs's fluxes
    as the virtual temperature ``T_v = T_s M_air / (f M + (1 - f) M_air)`` (exact
    for ``F_b = g v_s d² (1 - ρ_s/ρ_a)/4`` and ``F_m``). The dense-gas criterion is
    not applied: a stack's gas leaves mixed in its exhaust.
    """
    from dataclasses import replace

    from plumecast.nearfield.plume_rise import briggs_plume_rise

    stack = scenario.release.stack
    assert stack is not None
    h = setup.source_height_m
    u = setup.wind_speed_m_s
    t_air = scenario.meteorology.air_temperature_c + 273.15
    t_s = stack.exit_temperature_c + 273.15
    m_agent = scenario.agent.molecular_weight_g_mol
    rate = setup.mass_kg / setup.duration_s if setup.duration_s > 0 else 0.0
    t_v, share, agent_flow, flow = exhaust_mixture(stack, m_agent, rate)
    rise = briggs_plume_rise(h, stack.diameter_m, stack.exit_velocity_m_s, t_v, t_air, u, setup.pg_class)
    kind = "buoyancy" if rise.buoyancy_dominated else "momentum"
    reach = (f"reached {rise.distance_to_final_m:.0f} m downwind (transitional rise 1.6 F^(1/3) x^(2/3)/u before)"
             if rise.buoyancy_dominated else "taken at once (momentum rise)")
    notes = [
        f"plume rise applied (Briggs 1975/1984 with the ISC3 constants, US EPA 1995 §1.1.4): stack {h:g} m, "
        f"{stack.diameter_m:g} m wide, exhaust {stack.exit_velocity_m_s:g} m/s at {stack.exit_temperature_c:g} °C, "
        f"air {scenario.meteorology.air_temperature_c:g} °C, wind at the stack top {u:.3g} m/s, class "
        f"{setup.pg_class}: {kind} dominated (F_b = {rise.buoyancy_flux:.3g} m⁴/s³, F_m = {rise.momentum_flux:.3g} "
        f"m⁴/s²), final rise {rise.final_rise_m:.0f} m {reach}; effective height "
        f"{rise.stack_height_m:.0f} m + Δh(x), {rise.stack_height_m + rise.final_rise_m:.0f} m at the final rise"
    ]
    if rise.stack_height_m < h:
        notes.append(f"plume rise: stack-tip downwash (Briggs 1974; exit velocity below 1.5 x the wind) lowers the "
                     f"stack height from {h:g} m to {rise.stack_height_m:.1f} m")
    if share >= 1.0:
        notes.append(
            f"plume rise: the agent alone ({rate:.3g} kg/s, {agent_flow:.3g} m³/s at {stack.exit_temperature_c:g} °C) "
            f"fills more than the stack's exhaust ({flow:.3g} m³/s): the exhaust is taken as pure "
            f"{scenario.agent.name}; check releases.stack and the rate")
    elif share >= STACK_AGENT_NOTE_FRACTION:
        notes.append(f"plume rise: the agent is {100 * share:.2g} % of the exhaust by volume; its molar mass "
                     f"({m_agent:g} g/mol) is counted in the exhaust's density")
    if t_v <= t_air:
        notes.append(
            "plume rise: the exhaust is not lighter than the air (" + (
                "colder" if t_s <= t_air else f"the {scenario.agent.name} in it outweighs its heat") +
            "): no buoyant rise, only the momentum rise; a plume that sinks is not modelled")
    notes.append("plume rise: the dense-gas criterion is not applied to a release from a stack (its gas leaves "
                 "mixed in the exhaust); the plume is passive")
    return replace(setup, plume_rise=rise, notes=tuple(notes))


def effective_height(setup: PlumeSetup, x_m: Any) -> Any:
    """Height of the plume's centre line at downwind distance ``x_m``. [m]

    The release height (a float, as given) when there is no stack; for a stack
    ``h' + Δh(x)``, the stack height after downwash plus Briggs's transitional
    rise up to the final rise (:meth:`plumecast.nearfield.plume_rise.PlumeRise.effective_height`),
    one value per distance.
    """
    if setup.plume_rise is None:
        return setup.source_height_m
    return setup.plume_rise.effective_height(x_m, setup.wind_speed_m_s)


def lid_crossing_m(setup: PlumeSetup) -> float | None:
    """Downwind distance beyond which the passive plume's centre is above the mixing lid. [m]

    0 when the release (after downwash) is already above it; None when the plume
    stays below (or there is no lid). Beyond it nothing reaches the ground
    (:func:`plumecast.nearfield.gaussian.vertical_term`, ISC3 §1.1.6).
    """
    lid = setup.mixing_height_m
    if not math.isfinite(lid) or setup.dense is not None:
        return None
    rise = setup.plume_rise
    if rise is None:
        return 0.0 if setup.source_height_m > lid else None
    if rise.stack_height_m > lid:
        return 0.0
    if rise.stack_height_m + rise.final_rise_m <= lid:
        return None
    if not rise.buoyancy_dominated:
        return 0.0
    # transitional rise 1.6 F^(1/3) x^(2/3) / u reaches lid - h'
    need = lid - rise.stack_height_m
    return float((need * setup.wind_speed_m_s / (1.6 * rise.buoyancy_flux ** (1.0 / 3.0))) ** 1.5)
