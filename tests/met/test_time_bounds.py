"""Quantities over intervals whose window each record's CF time bounds give (``time: bounds =
"time_bnds"`` with ``cell_methods = "time: sum"`` or ``"time: mean"``): read per record, through
sets of files, at the window's end where the file labels the middle or the start of the window,
and refused where the bounds contradict the records (plumecast/met/time_bounds.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from plumecast.errors import MetDataError
from plumecast.met import normalise_met_3d, open_met_3d, wind_grid_3d

from .test_audit42_met import LAT, LON, _levels, _times

H = np.timedelta64(1, "h")
#: The rain [mm h-1] of each record's window, and a pattern over latitude so that whole fields are compared.
RAIN = np.array([0.5, 1.0, 2.0, 3.5])
PATTERN = (1.0 + 0.5 * np.sin(np.radians(LAT) * 7.0))[:, None] * np.ones((1, LON.size))


def _bounded(path: Path, times: np.ndarray, lower: np.ndarray | None, upper: np.ndarray | None,
             fields: dict[str, tuple[Any, dict[str, str]]], winds: bool = True, attr: str = "bounds") -> Path:
    """A surface file of ``fields`` (name -> (a value per record, times PATTERN; attrs)) on ``time``, with the
    bounds ``time_bnds`` = (lower, upper) named by the time's ``attr`` where they are given, and, with
    ``winds``, 10 m winds and a mixing height at the same times."""
    dims = ("time", "latitude", "longitude")
    shape = (times.size, LAT.size, LON.size)
    data: dict[str, Any] = {}
    if winds:
        data.update({"u10": (dims, np.full(shape, 6.0, np.float32), {"units": "m s**-1"}),
                     "v10": (dims, np.full(shape, 3.0, np.float32), {"units": "m s**-1"}),
                     "blh": (dims, np.full(shape, 800.0, np.float32), {"units": "m"})})
    for name, (values, attrs) in fields.items():
        v = np.asarray(values, np.float64)[:, None, None] * PATTERN[None]
        data[name] = (dims, v.astype(np.float32), attrs)
    time_attrs = {}
    if lower is not None and upper is not None:
        data["time_bnds"] = (("time", "bnds"), np.stack([lower, upper], axis=1))
        time_attrs = {attr: "time_bnds"}
    ds = xr.Dataset(data, coords={"time": ("time", times, time_attrs), "latitude": LAT, "longitude": LON})
    units = "minutes since 2026-03-01 00:00:00"
    enc = {"time": {"units": units}, **({"time_bnds": {"units": units}} if "time_bnds" in data else {})}
    ds.to_netcdf(path, encoding=enc)
    return path


def _read(files: list[Path], n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The normalised precipitation field [mm h-1] (time, lat, lon), the rain of each record that a grid of
    records 0..n-1 holds at (0, 0), and the provenance's precipitation line."""
    ds = open_met_3d(files)
    g = wind_grid_3d(ds, records=(0, n), mixing_height_m=800.0)
    assert g.surface is not None
    line = next(p for p in g.provenance if p.startswith("precipitation"))
    return np.asarray(ds["precip"].values, np.float64), np.asarray(g.surface[:, 4, 0, 0], np.float64), line


def _shifted_levels(path: Path, n: int, step_h: float, by: np.timedelta64) -> Path:
    """ERA5-style winds on levels at ``n`` records ``step_h`` apart from 2026-03-01 00 UTC + ``by``."""
    tmp = _levels(path.with_name("unshifted_" + path.name), n, step_h)
    with xr.open_dataset(tmp) as d:
        d.assign_coords(valid_time=d["valid_time"] + by).to_netcdf(path)
    return path


# --------------------------------------------------------------------------- windows ending at the valid time


@pytest.mark.parametrize("step_h", [1, 3])
def test_tp_with_time_bounds_is_read_as_the_same_file_with_a_cell_methods_interval(tmp_path: Path,
                                                                                    step_h: int) -> None:
    # tp [m] over the window before each valid time, said by time_bnds and 'time: sum'. Had been read by its name as
    # ERA5's hourly amounts: right by chance on hourly records; on 3-hourly ones refused as a forecast's since its
    # start where the amounts only grow, else read 3 times too high
    t = _times(4, step_h)
    amounts = RAIN * step_h / 1000.0
    lev = _levels(tmp_path / "pl.nc", 4, step_h)
    (tmp_path / "b").mkdir()
    (tmp_path / "i").mkdir()
    by_bounds = _bounded(tmp_path / "b" / "sl.nc", t, t - step_h * H, t,
                         {"tp": (amounts, {"units": "m", "cell_methods": "time: sum"})})
    by_interval = _bounded(tmp_path / "i" / "sl.nc", t, None, None,
                           {"tp": (amounts, {"units": "m", "cell_methods": f"time: sum (interval: {step_h} hours)"})})
    field_b, rain_b, line_b = _read([lev, by_bounds], 4)
    field_i, rain_i, _ = _read([lev, by_interval], 4)
    np.testing.assert_allclose(field_b, field_i, rtol=1e-6)
    np.testing.assert_allclose(rain_b, RAIN * PATTERN[0, 0], rtol=1e-5)
    np.testing.assert_allclose(rain_i, rain_b, rtol=1e-6)
    assert f"accumulated m over its time bounds (time_bnds, {step_h} h windows)" in line_b


def test_the_time_bounds_come_before_an_interval_that_is_the_spacing_of_the_data(tmp_path: Path) -> None:
    # CF's interval is the spacing of the values the statistic was taken over: 3-h sums of hourly values say
    # 'time: sum (interval: 1 hour)'; the interval had been read as the window (3 times too much rain)
    t = _times(4, 3.0)
    lev = _levels(tmp_path / "pl.nc", 4, 3.0)
    sl = _bounded(tmp_path / "sl.nc", t, t - 3 * H, t,
                  {"precip": (RAIN * 3.0, {"units": "kg m-2", "standard_name": "precipitation_amount",
                                           "cell_methods": "time: sum (interval: 1 hour)"})})
    _, rain, _ = _read([lev, sl], 4)
    np.testing.assert_allclose(rain, RAIN * PATTERN[0, 0], rtol=1e-5)


# --------------------------------------------------------------------------- windows labelled elsewhere


@pytest.mark.parametrize(("label", "offset_min", "first"), [("middle", 90, 0), ("middle", 90, 3), ("start", 0, 3)])
def test_a_3_hourly_mean_rate_labelled_inside_its_window_is_read_at_the_window_end(
        tmp_path: Path, label: str, offset_min: int, first: int) -> None:
    # CMIP's pr: a 'time: mean' flux of 00-03 UTC labelled 01:30 (or, by some tools, 00:00), in a file of its own.
    # It had been read as an instantaneous rate at 01:30, at no record of the winds (refused for the times)
    starts = _times(4, 3.0)
    labels = starts + np.timedelta64(offset_min, "m")
    pr = _bounded(tmp_path / "pr.nc", labels, starts, starts + 3 * H,
                  {"pr": (RAIN / 3600.0, {"units": "kg m-2 s-1", "standard_name": "precipitation_flux",
                                          "cell_methods": "time: mean"})}, winds=False)
    n = 4 if first == 3 else 5  # winds at 03..12 UTC, or at 00..12 UTC: 00 UTC ends no window of the file
    lev = _shifted_levels(tmp_path / "pl.nc", n, 3.0, np.timedelta64(first, "h"))
    field, rain, line = _read([lev, pr], n)
    expected = RAIN if first == 3 else np.concatenate([RAIN[:1], RAIN])  # 00 UTC: the first interval's
    np.testing.assert_allclose(rain, expected * PATTERN[0, 0], rtol=1e-5)
    np.testing.assert_allclose(field[-1], RAIN[-1] * PATTERN, rtol=1e-5)
    shift = "1.5 h" if label == "middle" else "3 h"
    assert f"its times at the {label} of each window, read at the window's end ({shift} later)" in line


def test_a_mean_labelled_at_the_middle_beside_instantaneous_fields_is_refused(tmp_path: Path) -> None:
    # the 10 m winds and mixing height hold at 01:30, the mean rate over 00-03: no one time axis serves both
    starts = _times(4, 3.0)
    labels = starts + np.timedelta64(90, "m")
    sl = _bounded(tmp_path / "sl.nc", labels, starts, starts + 3 * H,
                  {"pr": (RAIN / 3600.0, {"units": "kg m-2 s-1", "cell_methods": "time: mean"})})
    lev = _shifted_levels(tmp_path / "pl.nc", 4, 3.0, np.timedelta64(90, "m"))
    with pytest.raises(MetDataError, match=r"sl\.nc: 'pr' \(over intervals, by the time bounds 'time_bnds'\) label "
                                           r"each value at the middle of its window \(2026-03-01T01:30:00 UTC for "
                                           r"2026-03-01T00:00:00 UTC to 2026-03-01T03:00:00 UTC\), while 'u10', "
                                           r"'v10', 'blh' of the same file hold at those times.*expected the "
                                           r"quantities over intervals in a file of their own"):
        open_met_3d([lev, sl])


# --------------------------------------------------------------------------- sets of files


def test_a_set_of_hourly_files_each_with_its_own_bounds_is_read_per_record(tmp_path: Path) -> None:
    # GFS's buckets through a netCDF converter that keeps them as time bounds: f01 0-1 h, f02 0-2 h, f03 0-3 h,
    # f04 3-4 h .. a file per hour. APCP_surface had been refused (its 6-h buckets cannot be told)
    rain = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 2.5])
    start = np.array([0, 0, 0, 3, 3, 3])
    amounts = np.array([rain[s:k + 1].sum() for k, s in enumerate(start)])
    t = _times(7)[1:]
    t0 = _times(1)[0]
    files = [_bounded(tmp_path / f"f{k + 1:02d}.nc", t[k:k + 1], np.array([t0 + int(start[k]) * H]), t[k:k + 1],
                      {"APCP_surface": (amounts[k:k + 1], {"units": "kg m-2", "cell_methods": "time: sum"})})
             for k in range(6)]
    lev = _shifted_levels(tmp_path / "pl.nc", 6, 1.0, H)
    _, got, line = _read([lev, *files], 6)
    np.testing.assert_allclose(got, rain * PATTERN[0, 0], rtol=1e-5)
    assert "of f01.nc, f04.nc (accumulated kg m-2 over its time bounds (time_bnds, 1 h windows))" in line
    assert "of f03.nc, f06.nc (accumulated kg m-2 over its time bounds (time_bnds, 3 h windows))" in line


def test_a_set_of_files_per_record_of_a_mean_alone_labelled_at_the_middle_is_read(tmp_path: Path) -> None:
    # CMIP-like pr, a file per 3 h with a scalar time at the middle of its bounds and nothing else: each file after
    # the first had also been given the earlier times as empty windows, and the set refused as overlapping
    starts = _times(4, 3.0)
    units = "minutes since 2026-03-01 00:00:00"
    files = []
    for k in range(4):
        p = tmp_path / f"pr_{k}.nc"
        xr.Dataset({"time_bnds": (("bnds",), np.array([starts[k], starts[k] + 3 * H])),
                    "pr": (("latitude", "longitude"), (RAIN[k] / 3600.0 * PATTERN).astype(np.float32),
                           {"units": "kg m-2 s-1", "cell_methods": "time: mean"})},
                   coords={"time": ((), starts[k] + np.timedelta64(90, "m"), {"bounds": "time_bnds"}),
                           "latitude": LAT, "longitude": LON}
                   ).to_netcdf(p, encoding={"time": {"units": units}, "time_bnds": {"units": units}})
        files.append(p)
    lev = _shifted_levels(tmp_path / "pl.nc", 4, 3.0, 3 * H)
    field, rain, line = _read([lev, *files], 4)
    np.testing.assert_allclose(rain, RAIN * PATTERN[0, 0], rtol=1e-5)
    np.testing.assert_allclose(field, RAIN[:, None, None] * PATTERN[None], rtol=1e-5)
    assert "its times at the middle of each window, read at the window's end (1.5 h later)" in line


def test_bounds_that_xarray_moved_to_the_encoding_are_read(tmp_path: Path) -> None:
    # xarray's decode_coords="all" takes the time's bounds attribute into its encoding (and time_bnds to a coordinate)
    t = _times(4, 3.0)
    lev = _levels(tmp_path / "pl.nc", 4, 3.0)
    sl = _bounded(tmp_path / "sl.nc", t, t - 3 * H, t, {"tp": (RAIN * 3.0 / 1000.0, {"units": "m", "cell_methods":
                                                                                    "time: sum"})})
    with xr.open_dataset(lev) as a, xr.open_dataset(sl, decode_coords="all") as b:
        assert "bounds" not in b["time"].attrs and b["time"].encoding["bounds"] == "time_bnds"
        ds = normalise_met_3d([(lev, a), (sl, b)], source="test")
        np.testing.assert_allclose(ds["precip"].values[:, 0, 0], RAIN * PATTERN[0, 0], rtol=1e-5)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(("lower_h", "upper_h", "said"), [
    ([-2, -1, 0, 1], [-1, 0, 1, 2], r"at 2026-03-01T00:00:00 UTC span 2026-02-28T22:00:00 UTC to "
                                    r"2026-02-28T23:00:00 UTC, which do not contain that time \(the window ends 1 h "
                                    r"before it\)"),
    ([1, 2, 3, 4], [2, 3, 4, 5], r"at 2026-03-01T00:00:00 UTC span .* \(the window begins 1 h after it\)"),
    ([-2, -1, 0, 1], [0, 1, 2, 3], r"at 2026-03-01T01:00:00 UTC \(2026-02-28T23:00:00 UTC to 2026-03-01T01:00:00 "
                                   r"UTC\) overlap those of the previous record .* without beginning with them"),
    ([-1, 0, 1, 2], [0, 3, 2, 3], r"at 2026-03-01T02:00:00 UTC \(2026-03-01T01:00:00 UTC to 2026-03-01T02:00:00 "
                                  r"UTC\) end no later than those of the previous record"),
    ([-1, 1, 2, 3], [0, 1, 2, 3], r"at 2026-03-01T01:00:00 UTC are an empty window .* after the first record"),
])
def test_bounds_that_contradict_the_records_are_refused_naming_the_file_and_the_variable(
        tmp_path: Path, lower_h: list[int], upper_h: list[int], said: str) -> None:
    t = _times(4)
    t0 = _times(1)[0]
    lower = t0 + np.array(lower_h) * H
    upper = t0 + np.array(upper_h) * H
    lev = _levels(tmp_path / "pl.nc", 4)
    sl = _bounded(tmp_path / "sl.nc", t, lower, upper,
                  {"tp": (RAIN / 1000.0, {"units": "m", "cell_methods": "time: sum"})})
    with pytest.raises(MetDataError, match=r"sl\.nc: 'tp' \(cell_methods 'time: sum'\): its time bounds 'time_bnds' "
                                           + f"(?:{said}).*expected time bounds that contain each record's time"):
        _read([lev, sl], 4)


@pytest.mark.parametrize(("name", "units", "method", "attr", "said"), [
    ("tp", "m", "time: mean", "bounds", r"'tp' \[m\] is an amount, but its cell_methods 'time: mean' make each "
                                        r"value the mean of amounts over its time bounds"),
    ("pr", "kg m-2 s-1", "time: sum", "bounds", r"'pr' \[kg m-2 s-1\] is a rate, but its cell_methods 'time: sum' "
                                                r"sum it"),
    ("tp", "m", "time: maximum", "bounds", r"'tp' has cell_methods 'time: maximum': the maximum over each window"),
    ("tp", "m", "time: sum within days time: mean over days", "bounds", r"'tp' has cell_methods 'time: sum within "
                                                                        r"days .* over climatological time bounds"),
    ("tp", "m", "time: sum", "climatology", r"'tp' has cell_methods 'time: sum' over climatological time bounds"),
])
def test_a_statistic_over_the_bounds_that_is_not_an_amount_or_a_mean_is_refused(
        tmp_path: Path, name: str, units: str, method: str, attr: str, said: str) -> None:
    # each had been read as if it were ERA5's hourly amount (tp, by its name) or an instantaneous rate (pr)
    t = _times(4)
    lev = _levels(tmp_path / "pl.nc", 4)
    sl = _bounded(tmp_path / "sl.nc", t, t - H, t, {name: (RAIN / 1000.0, {"units": units, "cell_methods": method})},
                  attr=attr)
    with pytest.raises(MetDataError, match=r"sl\.nc: " + said):
        _read([lev, sl], 4)
