"""Hostile and mistaken input: each case ends in one plumecast error naming the key,
file or path (exit status 2, no traceback) before any run, and nothing is changed
silently. Fast: no case runs the transport."""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from plumecast import scenario as scenario_mod
from plumecast import scenario_checks
from plumecast.errors import DataFileError, MetDataError, PlumecastError, ScenarioError
from plumecast.fileio import atomic_path, check_output_dir, new_file_mode
from plumecast.met import open_wind
from plumecast.nearfield.zones.scenario import load_local_scenario
from plumecast.scenario import load_scenario
from tests.helpers import SMALL_ZONES_SCENARIO, run_cli, run_until_sigterm, small_scenario

BASE = small_scenario("hostile", 1000)

LOCAL = SMALL_ZONES_SCENARIO


def _write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _refused(tmp_path: Path, text: str, *needles: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, text))
    msg = str(info.value)
    for needle in needles:
        assert needle in msg, msg
    return msg


# ---------------------------------------------------------------- silent all-clear


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("u_m_s: 5", "u_m_s: .nan", "met.u_m_s"),
        ("u_m_s: 5", "u_m_s: 1.0e30", "met.u_m_s"),
        ("v_m_s: 0", "v_m_s: -.inf", "met.v_m_s"),
        ("u_m_s: 5, v_m_s: 0", "u_m_s: 150, v_m_s: 150", "met"),  # each < 200, speed 212 m/s
        ("rate_kg_s: 1", "rate_kg_s: .inf", "releases.0.rate_kg_s"),
        ("lat: 50", "lat: .nan", "releases.0.lat"),
    ],
)
def test_non_finite_or_absurd_values_are_refused(tmp_path, old, new, key):
    msg = _refused(tmp_path, BASE.replace(old, new), key)
    assert "line" in msg


@pytest.mark.parametrize("key", ["kh_m2_s: .inf", "kz_m2_s: .nan", "mixing_height_m: .nan"])
def test_non_finite_turbulence_is_refused(tmp_path, key):
    _refused(tmp_path, BASE + f"turbulence: {{{key}}}\n", "turbulence." + key.split(":")[0], "finite")


def test_cli_nan_wind_exits_2_without_traceback(tmp_path, capsys, monkeypatch):
    p = _write(tmp_path, BASE.replace("u_m_s: 5", "u_m_s: .nan"))
    rc, out = run_cli(["run", str(p), "-o", str(tmp_path / "out"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2
    assert "Traceback" not in out
    assert "met.u_m_s" in out


def _wind_file(path: Path, lat: np.ndarray, lon: np.ndarray, u: float) -> Path:
    times = np.array(["2026-01-09T00", "2026-01-11T00"], dtype="datetime64[ns]")
    shape = (times.size, lat.size, lon.size)
    ds = xr.Dataset(
        {"u": (("time", "lat", "lon"), np.full(shape, u), {"units": "m s-1"}),
         "v": (("time", "lat", "lon"), np.zeros(shape), {"units": "m s-1"})},
        coords={"time": times, "lat": lat, "lon": lon},
    )
    ds.to_netcdf(path)
    return path


def test_met_file_with_1e30_winds_is_refused(tmp_path):
    path = _wind_file(tmp_path / "fill.nc", np.arange(40.0, 61.0), np.arange(0.0, 21.0), 1e30)
    with pytest.raises(MetDataError) as info:
        open_wind(path)
    msg = str(info.value)
    assert str(path) in msg and "'u'" in msg and "1e+30" in msg and "200 m s-1" in msg


def test_cli_met_file_with_1e30_winds_exits_2(tmp_path, capsys, monkeypatch):
    path = _wind_file(tmp_path / "fill.nc", np.arange(40.0, 61.0), np.arange(0.0, 21.0), 1e30)
    p = _write(tmp_path, BASE.replace("{source: uniform, u_m_s: 5, v_m_s: 0}", f"{{source: file, path: {path}}}"))
    rc, out = run_cli(["run", str(p), "-o", str(tmp_path / "out"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2 and "Traceback" not in out
    assert "fill.nc" in out and "'u'" in out


def test_release_outside_the_met_domain_is_refused(tmp_path):
    # winds over Australia, release in Germany
    aus = _wind_file(tmp_path / "aus.nc", np.arange(-45.0, -9.0), np.arange(110.0, 156.0), 5.0)
    text = BASE.replace("{source: uniform, u_m_s: 5, v_m_s: 0}", f"{{source: file, path: {aus}}}")
    msg = _refused(tmp_path, text, "releases.0 (tank)", "lat 50, lon 8", "aus.nc", "lat -45..-10", "lon 110..155")
    assert "line 8" in msg
    # the same file with the release inside its domain loads
    inside = text.replace("lat: 50, lon: 8", "lat: -30, lon: 140")
    assert load_scenario(_write(tmp_path, inside, "inside.yaml")).releases[0].lat == -30


def test_release_in_the_gap_of_a_regional_grid_across_the_antimeridian(tmp_path):
    # 170E..170W given in 0..360: the normalised longitudes are split round the array,
    # so 0E lies in the gap, not inside
    nc = _wind_file(tmp_path / "pacific.nc", np.arange(-10.0, 11.0), np.arange(170.0, 191.0), 5.0)
    text = BASE.replace("{source: uniform, u_m_s: 5, v_m_s: 0}", f"{{source: file, path: {nc}}}")
    _refused(tmp_path, text.replace("lat: 50, lon: 8", "lat: 0, lon: 0"), "releases.0 (tank)")
    assert load_scenario(_write(tmp_path, text.replace("lat: 50, lon: 8", "lat: 0, lon: -175"), "ok.yaml"))


@pytest.mark.parametrize(("old", "new", "key"), [
    ("amount_kg: 500", "amount_kg: .inf", "release.amount_kg"),
    ("wind_speed_m_s: 3", "wind_speed_m_s: .nan", "meteorology.wind_speed_m_s"),
    ("lat: 45", "lat: .nan", "source.lat"),
])
def test_zones_non_finite_values_are_refused(tmp_path, old, new, key):
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        load_local_scenario(_write(tmp_path, LOCAL.replace(old, new)))


# ---------------------------------------------------------------- no tracebacks


def test_impossible_date_names_start_and_line(tmp_path, capsys, monkeypatch):
    p = _write(tmp_path, BASE.replace("2026-01-10T00:00:00Z", "2026-02-30T00:00:00Z"))
    rc, out = run_cli(["run", str(p), "-o", str(tmp_path / "out"), "-q"], capsys, monkeypatch)
    assert rc == 2 and "Traceback" not in out
    assert "line 2: start" in out and "2026-02-30" in out


def test_inline_agent_with_a_list_for_a_number(tmp_path, capsys, monkeypatch):
    agent = "agent: {name: gas, molecular_weight_g_mol: [70, 71], decay_rate_s: 0}\n"
    p = _write(tmp_path, BASE + agent)
    rc, out = run_cli(["run", str(p), "-o", str(tmp_path / "out"), "-q"], capsys, monkeypatch)
    assert rc == 2 and "Traceback" not in out
    assert "agent" in out


def test_too_many_particles_for_the_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_checks, "available_memory_bytes", lambda: 8 * 2**30)
    msg = _refused(tmp_path, BASE.replace("particles: 1000", "particles: 2000000000"),
                   "line 5: particles", "120 GiB", "8 GiB")
    assert "reduce particles" in msg
    # the same count fits a machine with enough memory
    monkeypatch.setattr(scenario_checks, "available_memory_bytes", lambda: 2**40)
    assert load_scenario(_write(tmp_path, BASE.replace("particles: 1000", "particles: 2000000000"), "b.yaml"))


def test_too_fine_an_output_grid_for_the_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_checks, "available_memory_bytes", lambda: 64 * 2**30)
    _refused(tmp_path, BASE.replace("resolution_deg: 0.5", "resolution_deg: 0.000001"),
             "output.grid.resolution_deg", "400,000,000,000,000 cells", "TiB", "64 GiB")


def test_yaml_alias_bomb_is_refused_before_expanding(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    _refused(tmp_path, BASE + "\n".join(lines) + "\n", "200,000 values", "aliases")


def test_recursive_alias_is_refused(tmp_path):
    _refused(tmp_path, BASE + "loop: &l [1, *l]\n", "refers to itself")


def test_zones_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    with pytest.raises(ScenarioError, match="aliases"):
        load_local_scenario(_write(tmp_path, LOCAL + "\n".join(lines) + "\n"))


def test_empty_run_id_in_validate_inputs(tmp_path):
    from plumecast.validation.prairie_grass import read_runs

    shipped = Path(scenario_mod.__file__).parent / "data" / "prairie_grass" / "runs.csv"
    rows = shipped.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    first = rows[1].split(",")
    first[header.index("run_id")] = ""
    (tmp_path / "runs.csv").write_text("\n".join([rows[0], ",".join(first), *rows[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"runs.csv: line 2: column run_id: blank"):
        read_runs(tmp_path)


def test_output_that_is_an_existing_file(tmp_path, capsys, monkeypatch):
    target = tmp_path / "taken"
    target.write_text("x")
    p = _write(tmp_path, BASE)
    rc, out = run_cli(["run", str(p), "-o", str(target), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2 and "Traceback" not in out
    assert "-o/--output" in out and "existing file" in out
    assert "run summary" not in out  # refused before the run
    assert target.read_text() == "x"


def test_output_under_a_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "f").write_text("x")
    p = _write(tmp_path, BASE)
    rc, out = run_cli(["run", str(p), "-o", str(tmp_path / "f" / "sub"), "-q", "--no-map"], capsys, monkeypatch)
    assert rc == 2 and "Traceback" not in out
    assert "is a file, so no folder can be created under it" in out


def test_output_where_nothing_can_be_written(tmp_path):
    # /proc refuses new folders even to root; a folder without write permission
    # does so for other users
    with pytest.raises(PlumecastError, match="the folder cannot be created in /proc"):
        check_output_dir(Path("/proc/plumecast-test/out"))
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(PlumecastError, match=r"the folder cannot be created in .*ro \(Permission denied\)"):
                check_output_dir(ro / "out")
        finally:
            ro.chmod(0o700)


# ---------------------------------------------------------------- late or wrong messages


def test_empty_city_name_list_is_refused(tmp_path):
    _refused(tmp_path, BASE + "receptors: {cities: {names: []}}\n", "receptors.cities.names", "at least 1")


def test_one_cell_grid_names_resolution(tmp_path):
    text = BASE.replace("lat_max: 60, resolution_deg: 0.5", "lat_max: 50, resolution_deg: 10")
    _refused(tmp_path, text, "output.grid.resolution_deg", "1 cell(s)", "at least 2 cells")


def test_run_shorter_than_one_step_names_duration(tmp_path):
    msg = _refused(tmp_path, BASE.replace("duration_h: 2", "duration_h: 0.1"), "line 3: duration_h", "one time step")
    assert "releases" not in msg


def test_thousands_of_unknown_keys_give_a_short_message(tmp_path):
    extra = "".join(f"bogus_{i}: 1\n" for i in range(10_000))
    msg = _refused(tmp_path, BASE + extra, "bogus_0", "more problem(s) not shown")
    assert len(msg) < 5_000


def test_zones_given_a_run_scenario_suggests_plumecast_run(tmp_path):
    p = _write(tmp_path, BASE)
    with pytest.raises(ScenarioError, match="plumecast run"):
        load_local_scenario(p)


def test_run_given_a_zones_scenario_suggests_plumecast_zones(tmp_path):
    _refused(tmp_path, LOCAL, "plumecast zones")


def test_zones_errors_carry_line_numbers(tmp_path):
    with pytest.raises(ScenarioError, match=r"line 3: release.amount_kg"):
        load_local_scenario(_write(tmp_path, LOCAL.replace("amount_kg: 500", "amount_kg: -1")))


# ---------------------------------------------------------------- input silently changed


def test_duration_not_a_whole_number_of_steps(tmp_path):
    _refused(tmp_path, BASE.replace("duration_h: 2", "duration_h: 2.05"), "duration_h", "12.3 steps", "2 h or 2.16667 h")


def test_end_not_a_whole_number_of_steps(tmp_path):
    _refused(tmp_path, BASE.replace("duration_h: 2", "end: 2026-01-10T02:03:00Z"), "line 3: end", "whole number")


def test_interval_not_a_multiple_of_the_step(tmp_path):
    _refused(tmp_path, BASE.replace("output:\n", "output:\n  interval_min: 25\n"),
             "output.interval_min", "25 min", "e.g. 20 min")


@pytest.mark.parametrize(("old", "new", "key"), [
    ("2026-01-10T00:00:00Z", "2300-01-10T00:00:00Z", "start"),
    ("2026-01-10T00:00:00Z", "1600-01-10T00:00:00Z", "start"),
    ("2026-01-10T00:00:00Z", "2262-04-09T23:00:00Z", "duration_h"),  # the run ends past 2262-04-10
])
def test_times_outside_datetime64_ns_are_refused(tmp_path, old, new, key):
    _refused(tmp_path, BASE.replace(old, new).replace("duration_h: 2", "duration_h: 24"), key, "2262-04-10")


def test_duplicate_keys_are_refused(tmp_path):
    _refused(tmp_path, BASE + "particles: 5\n", "line 11: duplicate key 'particles'", "line 5")


def test_duplicate_nested_keys_are_refused(tmp_path):
    _refused(tmp_path, BASE.replace("u_m_s: 5,", "u_m_s: 5, u_m_s: 6,"), "duplicate key 'u_m_s'")


def test_seed_beyond_64_bits_is_refused(tmp_path):
    _refused(tmp_path, BASE + f"seed: {2**64}\n", "seed")
    assert load_scenario(_write(tmp_path, BASE + f"seed: {2**64 - 1}\n", "ok.yaml")).seed == 2**64 - 1


@pytest.mark.parametrize(("grid", "axis"), [
    ("{resolution_deg: 7}", "lon_max - lon_min (360 deg)"),
    ("{lon_min: 0, lon_max: 20, lat_min: 40, lat_max: 60, resolution_deg: 0.3}", "lon_max - lon_min (20 deg)"),
    ("{lon_min: 0, lon_max: 20, lat_min: 40, lat_max: 55.25, resolution_deg: 0.5}", "lat_max - lat_min (15.25 deg)"),
])
def test_grid_bounds_that_do_not_divide_by_the_resolution(tmp_path, grid, axis):
    text = BASE.replace("{lon_min: 0, lon_max: 20, lat_min: 40, lat_max: 60, resolution_deg: 0.5}", grid)
    _refused(tmp_path, text, "output.grid", axis, "not a whole number of cells")


def test_grid_that_divides_is_kept_exactly(tmp_path):
    sc = load_scenario(_write(tmp_path, BASE.replace("resolution_deg: 0.5", "resolution_deg: 0.1")))
    assert sc.output.grid.n_cells == 200 * 200


# ---------------------------------------------------------------- outputs


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_atomic_files_get_the_umask_permissions(tmp_path, mask):
    old = os.umask(mask)
    try:
        assert new_file_mode() == 0o666 & ~mask
        with atomic_path(tmp_path / "out.csv") as tmp:
            tmp.write_text("a,b\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o666 & ~mask


def test_no_part_file_left_on_keyboard_interrupt(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "x.nc") as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_no_part_file_left_on_sigterm(tmp_path):
    run_until_sigterm(f"""
        from plumecast.fileio import atomic_path
        with atomic_path({str(tmp_path / "x.nc")!r}) as tmp:
            tmp.write_bytes(b"half")
            sigterm_self()
    """)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- fuzzing the loaders (item 6)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_ODD_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["2026-02-30T00:00:00Z", "9999-12-31", "1e400", ".nan", "-.inf", "", "[]", "{}"]),
)
_ODD_VALUES = st.recursive(_ODD_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)
_KEYS = ["name", "start", "duration_h", "time_step_s", "particles", "seed", "backend", "agent", "met",
         "turbulence", "releases", "output", "receptors", "shelter", "near_field", "unknown_key"]


def _base_dict() -> dict:
    import yaml

    return yaml.safe_load(BASE)


@_FUZZ
@given(changes=st.dictionaries(st.sampled_from(_KEYS), _ODD_VALUES, min_size=1, max_size=3))
def test_fuzz_scenario_top_level(tmp_path, changes):
    import yaml

    from plumecast.scenario import scenario_from_dict

    data = {**_base_dict(), **changes}
    with suppress(PlumecastError):
        scenario_from_dict(data)
    p = tmp_path / "fuzz.yaml"
    try:
        p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    except (yaml.YAMLError, UnicodeEncodeError):
        return
    with suppress(PlumecastError):
        load_scenario(p)


_NESTED = [("met", "u_m_s"), ("met", "source"), ("met", "path"), ("turbulence", "kh_m2_s"),
           ("output", "grid"), ("output", "interval_min"), ("output", "layer_depth_m"),
           ("releases", 0), ("receptors", "cities"), ("receptors", "points"), ("receptors", "csv")]


@_FUZZ
@given(where=st.sampled_from(_NESTED), value=_ODD_VALUES)
def test_fuzz_scenario_nested(where, value):
    from plumecast.scenario import scenario_from_dict

    data = _base_dict()
    data.setdefault("receptors", {})
    outer, inner = where
    if outer == "releases":
        data["releases"][0] = value if not isinstance(value, dict) else {**data["releases"][0], **value}
    else:
        data[outer] = {**(data.get(outer) or {}), inner: value}
    with suppress(PlumecastError):
        scenario_from_dict(data)


@_FUZZ
@given(text=st.text(alphabet="abc:{}[]-,&*!|>'\" \n\t0123456789.", max_size=200))
def test_fuzz_scenario_yaml_text(tmp_path, text):
    p = tmp_path / "raw.yaml"
    p.write_text(text, encoding="utf-8")
    with suppress(PlumecastError):
        load_scenario(p)


@_FUZZ
@given(attrs=st.dictionaries(st.sampled_from(["units", "standard_name", "_FillValue", "scale_factor",
                                              "add_offset", "calendar", "long_name"]),
                             st.one_of(st.text(max_size=10), st.floats(allow_nan=True), st.integers(-5, 5)),
                             max_size=3),
       var=st.sampled_from(["u", "v", "lat", "lon", "time"]))
def test_fuzz_met_netcdf_attributes(tmp_path, attrs, var):
    # a folder of its own per example: tmp_path is shared by all of hypothesis's examples, and a file an earlier
    # example's reader still holds open (xarray's file cache, until collected) cannot be written again under HDF5's
    # file locking (a CI run failed with PermissionError writing bad.nc)
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))
    path = _wind_file(tmp_path / "w.nc", np.linspace(40, 60, 5), np.linspace(0, 20, 5), 5.0)
    with xr.open_dataset(path, decode_times=False, mask_and_scale=False) as ds:
        ds = ds.load()
    if var not in ds.variables:
        return
    enc = {}
    for k, v in attrs.items():
        if k == "_FillValue":
            enc[k] = v
        else:
            ds[var].attrs[k] = v
    bad = tmp_path / "bad.nc"
    try:
        ds.to_netcdf(bad, encoding={var: enc} if enc else None)
    except (ValueError, TypeError, OverflowError):
        return  # netCDF itself refuses the attribute
    with suppress(PlumecastError):
        open_wind(bad)


_CSV_CELLS = st.one_of(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
                       st.sampled_from(["", "nan", "inf", "-1e400", "91", "-181", "1e30", "NaN", '"']),
                       st.floats(allow_nan=True).map(repr))


@_FUZZ
@given(header=st.lists(st.sampled_from(["name", "lat", "lon", "population", "country", "extra", ""]),
                       min_size=0, max_size=6),
       rows=st.lists(st.lists(_CSV_CELLS, max_size=6), max_size=4))
def test_fuzz_receptor_csv(tmp_path, header, rows):
    import csv

    from plumecast.receptors import read_receptor_csv

    p = tmp_path / "r.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    with suppress(PlumecastError):
        read_receptor_csv(p)


def test_text_scale_factor_in_a_met_file(tmp_path):
    path = _wind_file(tmp_path / "w.nc", np.linspace(40, 60, 5), np.linspace(0, 20, 5), 5.0)
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    ds["u"].attrs["scale_factor"] = ""
    ds.to_netcdf(tmp_path / "bad.nc")
    with pytest.raises(PlumecastError, match="scale_factor"):
        open_wind(tmp_path / "bad.nc")
