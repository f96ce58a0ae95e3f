"""The range of the zones' dense-gas model: a release whose own workbook cloud is larger than
the area the zones search is refused (:func:`check_dense_scale`, called by
:func:`plumecast.nearfield.zones.setup.dense_setup` on the cloud the zones draw)."""

from __future__ import annotations

import math

from plumecast.errors import ScenarioError
from plumecast.nearfield.zones.setup import MAX_DISTANCE_M, LocalScenario


def check_dense_scale(scenario: LocalScenario, kind: str, x_curves_m: float, sigma_y_m: float) -> None:
    """Refuse a dense release whose own workbook scales exceed the local model's range.

    The workbook correlates ``C_m/C_0`` with ``x/D`` (``x/V0^(1/3)``) and spreads the
    cloud crosswind to ``L_H = D + 8 l_b + 2.5 l_b^(1/3) x^(2/3)`` (puff radius ``R``;
    Britter & McQuaid 1988). When its published curves end beyond
    :data:`MAX_DISTANCE_M`, or the cloud is already wider than that where they end
    (full width ``√(2π) σ_y`` of the plume's top hat, ``2√2 σ_y`` of the puff's disc),
    the release is far outside the field trials the curves were fitted to (sources of
    metres, ``l_b`` of metres to tens of metres) and larger than the whole area the
    zones search: no local-scale answer exists, and a number would only look like one.
    """
    from plumecast.nearfield.zones.export import sig_text

    width = sigma_y_m * (math.sqrt(2.0 * math.pi) if kind == "continuous" else 2.0 * math.sqrt(2.0))
    scale = max(x_curves_m, width)
    if scale <= MAX_DISTANCE_M:
        return
    rel = scenario.release
    if rel.amount_kg is not None:
        key, value = "amount_kg", f"{rel.amount_kg:.3g} kg"
    elif rel.rate_kg_s is not None:
        key, value = "rate_kg_s", f"{rel.rate_kg_s:.3g} kg/s"
    else:
        key, value = "tank", "its source model's rate"
    what = ("its workbook curves end" if x_curves_m >= width else "its cloud is already") + \
        f" {sig_text(scale / 1000.0)} km {'downwind' if x_curves_m >= width else 'wide'}"
    raise ScenarioError(
        f"releases.{key}: {value} is beyond the range of the local dense-gas model: by the Britter & McQuaid "
        f"(1988) workbook {what}, more than the {MAX_DISTANCE_M / 1000.0:.0f} km the zones cover; expected a "
        "release whose dense cloud fits within that range (give a smaller amount or rate, or a longer duration"
        + ("; a release over seconds is released at once for anything beyond u T/0.6 of the source: give it "
           "duration_s: 0" if kind == "continuous" and rel.amount_kg is not None else "") + ")"
    )
