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


def _grid_bound_near(axis: str, lo: float, hi: float, res: float, wrapped: bool = False,
                     limit: float | None = None) -> str:
    """``<axis>_max: value`` that makes ``lo .. value`` a whole number of cells of ``res``, the
    next whole number up (down where up goes past ``limit``: the edge of the globe by default),
    in the fewest digits that do; ``wrapped``: ``hi`` is ``lon_max + 360`` (a box across the
    antimeridian written with lon_min > lon_max) and the value is written that way too."""
    if limit is None:
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
    if wrapped and value > 180.0:
        text = f"{float(text) - 360.0:.10g}"
    return f"{axis}_max: {text} ({n} cells)"


class GridConfig(StrictModel):
    """The output grid: bounds [deg] and resolution [deg], a whole number of cells (at
    least 2) in each direction; a resolution that does not divide the spans is refused
    with resolutions and bounds that do.

    A grid across the antimeridian is written either as a receptor or plan box is,
    ``lon_min > lon_max`` (170 .. -170: 20 degrees east from 170 E), or with ``lon_max``
    beyond 180 (170 .. 190, as ``concentration.nc`` writes its longitudes); both are the
    same grid, whose cells run east from ``lon_min`` for :attr:`lon_span` degrees."""

    lon_min: float = Field(-180.0, ge=-180, le=180)
    lon_max: float = Field(180.0, ge=-180, le=360)
    lat_min: float = Field(-90.0, ge=-90, le=90)
    lat_max: float = Field(90.0, ge=-90, le=90)
    resolution_deg: float = Field(1.0, gt=0, le=10)

    @property
    def crosses_antimeridian(self) -> bool:
        """Whether the grid runs east across 180° (``lon_min > lon_max`` or ``lon_max > 180``)."""
        return self.lon_max < self.lon_min or self.lon_max > 180.0

    @property
    def lon_span(self) -> float:
        """Width of the grid eastward from ``lon_min``. [deg]"""
        return self.lon_max - self.lon_min + (360.0 if self.lon_max < self.lon_min else 0.0)

    @property
    def lon_east(self) -> float:
        """Eastern edge, ``lon_min + lon_span``: beyond 180 on a grid across the antimeridian,
        so that ``lon_min .. lon_east`` increases. [deg]"""
        return self.lon_min + self.lon_span

    @model_validator(mode="after")
    def _ordered(self) -> GridConfig:
        if self.lon_max == self.lon_min:
            raise ValueError(f"lon_max ({self.lon_max:g}) equals lon_min; expected a grid of some width "
                             "(lon_min -180, lon_max 180 for the whole globe; lon_min > lon_max for a grid across "
                             "the antimeridian, e.g. 170 .. -170)")
        if self.lon_max > 180.0 and self.lon_span > 360.0:
            raise ValueError(f"lon_max ({self.lon_max:g}) is more than 360 deg east of lon_min ({self.lon_min:g}); "
                             "expected a grid at most 360 deg wide (lon_max beyond 180 continues east across the "
                             "antimeridian, e.g. 170 .. 190)")
        if self.lat_max <= self.lat_min:
            raise ValueError(f"lat_max ({self.lat_max}) must exceed lat_min ({self.lat_min})")
        res = self.resolution_deg
        wrapped = self.lon_max < self.lon_min
        lon_hi = self.lon_east
        spans = {"lon": (self.lon_min, lon_hi), "lat": (self.lat_min, self.lat_max)}
        bad = [axis for axis, (lo, hi) in spans.items() if not _grid_divides(hi - lo, res)]

        def said(axis: str) -> str:
            lo, hi = spans[axis]
            if axis == "lon" and wrapped:
                return f"the span lon_min..lon_max across 180 deg ({hi - lo:g} deg)"
            return f"{axis}_max - {axis}_min ({hi - lo:g} deg)"

        if bad:
            cells = [f"{_cells_text((spans[axis][1] - spans[axis][0]) / res)} cells" for axis in bad]
            what = f"{said(bad[0])} is not a whole number of cells of resolution_deg ({res:g} deg): {cells[0]}"
            if len(bad) == 2:
                what += f"; nor is {said(bad[1])}: {cells[1]}"
            tried = _grid_resolutions_near(res, [hi - lo for lo, hi in spans.values()])
            use = f"use a resolution that divides both spans (e.g. {' or '.join(tried)}) or " if tried else ""
            beyond = self.crosses_antimeridian
            bounds = ", ".join(
                _grid_bound_near(axis, *spans[axis], res, wrapped=wrapped and axis == "lon",
                                 limit=self.lon_min + 360.0 if axis == "lon" and beyond else None)
                for axis in bad)
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
        """Whether the point (``lat``, ``lon``) [deg] lies on the grid, longitudes taken
        modulo 360 (a point at -175 lies on the grid 170 .. -170, or 170 .. 190)."""
        x = (float(lon) - self.lon_min) % 360.0
        return bool(self.lat_min <= float(lat) <= self.lat_max and x <= self.lon_span)

    @property
    def n_cells(self) -> int:
        """Number of output cells (lon x lat)."""
        res = self.resolution_deg
        return round(self.lon_span / res) * round((self.lat_max - self.lat_min) / res)
