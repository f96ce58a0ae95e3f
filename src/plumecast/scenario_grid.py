"""The output grid of the scenario language (``output.grid``): its model and the
suggestions a refused resolution comes with."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from plumecast.config_model import StrictModel

__all__ = ["GridConfig"]


def _grid_divides(span: float, res: float) -> bool:
    """Whether ``span`` is a whole number of cells of ``res`` (to 1e-6 of a cell), as the grid needs."""
    cells = span / res
    return abs(cells - round(cells)) <= 1e-6


def _cells_text(cells: float) -> str:
    """A number of cells that is not whole, with the digits that show it is not."""
    text = f"{cells:.6g}"
    return f"{cells:.10g}" if float(text) == round(cells) else text


def _grid_resolutions_near(res: float, spans: list[float]) -> list[str]:
    """Resolutions of at most 3 significant digits that divide every span into at least 2 cells,
    the nearest below ``res`` and the nearest above (within a factor 4), as written in YAML."""
    found: dict[float, str] = {}
    top = math.floor(math.log10(res))
    for exp in range(top - 3, top + 2):
        for mant in range(1, 1000):
            text = f"{mant}e{exp}"
            v = float(text)
            if (res / 4 <= v <= min(4 * res, 10.0) and v != res
                    and all(_grid_divides(sp, v) and round(sp / v) >= 2 for sp in spans)):
                found[v] = f"{v:g}"
    below = [v for v in found if v < res]
    above = [v for v in found if v > res]
    return [found[v] for v in ([max(below)] if below else []) + ([min(above)] if above else [])]


def _grid_bound_near(axis: str, lo: float, hi: float, res: float) -> str:
    """``<axis>_max: value`` that makes ``lo .. value`` a whole number of cells of ``res``, the
    next whole number up (down where up leaves the globe), in the fewest digits that do."""
    limit = 180.0 if axis == "lon" else 90.0
    cells = (hi - lo) / res
    n = round(cells) if abs(cells - round(cells)) < 0.01 else math.ceil(cells)
    if lo + n * res > limit + 1e-9:
        n = max(2, math.floor((hi - lo) / res))
    value = lo + n * res
    for digits in range(6, 18):
        text = f"{value:.{digits}g}"
        if _grid_divides(float(text) - lo, res):
            break
    return f"{axis}_max: {text} ({n} cells)"


class GridConfig(StrictModel):
    """The output grid: bounds [deg] and resolution [deg], a whole number of cells (at
    least 2) in each direction; a resolution that does not divide the spans is refused
    with resolutions and bounds that do."""

    lon_min: float = Field(-180.0, ge=-180, le=180)
    lon_max: float = Field(180.0, ge=-180, le=180)
    lat_min: float = Field(-90.0, ge=-90, le=90)
    lat_max: float = Field(90.0, ge=-90, le=90)
    resolution_deg: float = Field(1.0, gt=0, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> GridConfig:
        if self.lon_max <= self.lon_min:
            raise ValueError(f"lon_max ({self.lon_max}) must exceed lon_min ({self.lon_min})")
        if self.lat_max <= self.lat_min:
            raise ValueError(f"lat_max ({self.lat_max}) must exceed lat_min ({self.lat_min})")
        res = self.resolution_deg
        spans = {"lon": (self.lon_min, self.lon_max), "lat": (self.lat_min, self.lat_max)}
        bad = [axis for axis, (lo, hi) in spans.items() if not _grid_divides(hi - lo, res)]
        if bad:
            said = [f"{axis}_max - {axis}_min ({spans[axis][1] - spans[axis][0]:g} deg)" for axis in bad]
            cells = [f"{_cells_text((spans[axis][1] - spans[axis][0]) / res)} cells" for axis in bad]
            what = f"{said[0]} is not a whole number of cells of resolution_deg ({res:g} deg): {cells[0]}"
            if len(bad) == 2:
                what += f"; nor is {said[1]}: {cells[1]}"
            tried = _grid_resolutions_near(res, [hi - lo for lo, hi in spans.values()])
            use = f"use a resolution that divides both spans (e.g. {' or '.join(tried)}) or " if tried else ""
            bounds = ", ".join(_grid_bound_near(axis, *spans[axis], res) for axis in bad)
            raise ValueError(f"resolution_deg: {what}; {use}move the bounds (e.g. {bounds})")
        for axis, (lo, hi) in spans.items():
            n = round((hi - lo) / res)
            if n < 2:
                raise ValueError(
                    f"resolution_deg: {res:g} deg gives {n} cell(s) between {axis}_min and {axis}_max "
                    f"({hi - lo:g} deg); expected at least 2 cells in each direction (use a finer resolution_deg)"
                )
        return self

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point (``lat``, ``lon``) [deg] lies on the grid (longitudes taken
        modulo 360 on a grid that spans the globe)."""
        span = self.lon_max - self.lon_min
        x = (float(lon) - self.lon_min) % 360.0 if span >= 360.0 else float(lon) - self.lon_min
        return bool(self.lat_min <= float(lat) <= self.lat_max and 0.0 <= x <= span)

    @property
    def n_cells(self) -> int:
        """Number of output cells (lon x lat)."""
        res = self.resolution_deg
        return round((self.lon_max - self.lon_min) / res) * round((self.lat_max - self.lat_min) / res)
