"""The lid (mixing height) of the near-field Gaussian plumes where the met gives none: one rule for
``plumecast zones`` and for the point releases' near-field plumes of ``run`` and ``compare``
(:func:`plumecast.run_near_field.point_plume_weather`), so that one scenario file gives both the same
concentrations.

The lid is ``local_weather.mixing_height_m`` when given, else ``turbulence.mixing_height_m`` (default
:data:`DEFAULT_MIXING_HEIGHT_M`, the lid ``run``'s particles take where the met gives no boundary layer).
Until session 43 ``zones`` took no lid at all without ``local_weather.mixing_height_m``: in class B its
plume kept thinning upwards for ever, 4.7 times below ``run``'s at 30 km (3000 kg of chlorine over
600 s, 2 m/s; audit D2).

Why one default depth for every class rather than a depth per Pasquill class: the near-field plume of
``run`` hands its air over to the particles, which mix under ``turbulence.mixing_height_m``; a
different lid in the plume would make the two disagree where they meet. And over open country the
Briggs (1973) σ_z of the neutral and stable classes stays well below 1000 m out to 100 km (class F
levels off near 50 m, E near 100 m, D reaches 490 m at 100 km), so a 1000 m lid changes little there;
it matters by day in classes A-C, whose plume is as deep as the convective boundary layer, hundreds of
metres to a few kilometres deep (Stull 1988, *An Introduction to Boundary Layer Meteorology*, ch. 1),
and beyond a few km in the urban curves. A shallower or deeper layer is the user's to give
(``local_weather.mixing_height_m``).
"""

from __future__ import annotations

#: the lid where neither ``local_weather`` nor ``turbulence`` gives one; also the default of
#: ``turbulence.mixing_height_m`` (:class:`plumecast.scenario.TurbulenceConfig`) [m]
DEFAULT_MIXING_HEIGHT_M = 1000.0


def near_field_lid(local_weather_m: float | None, turbulence_m: float | None = None) -> tuple[float, str]:
    """The near-field plume's lid [m] and where it comes from, in words, for the outputs'
    provenance (:func:`lid_text` puts them together).

    ``local_weather_m``: ``local_weather.mixing_height_m`` (None: not given); ``turbulence_m``:
    ``turbulence.mixing_height_m`` (None: not given, :data:`DEFAULT_MIXING_HEIGHT_M`).

    >>> near_field_lid(None)
    (1000.0, 'turbulence.mixing_height_m, default 1000 m; local_weather gives no mixing_height_m')
    >>> lid_text(*near_field_lid(400.0, 1000.0))
    'lid 400 m (local_weather.mixing_height_m)'
    """
    if local_weather_m is not None:
        return float(local_weather_m), "local_weather.mixing_height_m"
    h = DEFAULT_MIXING_HEIGHT_M if turbulence_m is None else float(turbulence_m)
    return h, f"turbulence.mixing_height_m, default {DEFAULT_MIXING_HEIGHT_M:g} m; local_weather gives no mixing_height_m"


def lid_text(height_m: float, where: str) -> str:
    """``lid 1000 m (where)``: a lid of :func:`near_field_lid` in words."""
    return f"lid {height_m:g} m ({where})"
